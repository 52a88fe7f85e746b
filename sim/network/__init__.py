"""Road networks: where they come from (demo, OSM, files), compact arrays with a cache, travel tables."""
from sim.config.network_spec import NetworkSpec, network_spec_from_arg
from sim.network.road_network import SYNTHETIC_NOTE, RoadNetwork, network_from_graph, snap_sites
from sim.network.roads import load_network, network_cache_key
from sim.network.routing import TravelTables, travel_tables_for

__all__ = ["SYNTHETIC_NOTE", "NetworkSpec", "RoadNetwork", "TravelTables", "load_network", "network_cache_key",
           "network_from_graph", "network_spec_from_arg", "snap_sites", "travel_tables_for"]
