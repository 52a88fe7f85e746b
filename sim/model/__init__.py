"""The SimPy model: incidents, units, dispatch, one replication of one plan, and its records."""
from sim.model.records import INCIDENT_COLUMNS, UNIT_COLUMNS, incident_rows, unit_rows
from sim.model.simulate import CollectorPaused, RepResult, simulate, unit_ids
from sim.model.world import World, build_world, world_key

__all__ = ["INCIDENT_COLUMNS", "UNIT_COLUMNS", "CollectorPaused", "RepResult", "World", "build_world",
           "incident_rows", "simulate", "unit_ids", "unit_rows", "world_key"]
