"""The coverage map as GIS layers: roads with minutes to the nearest unit, sites with their results.

``map ... --out FILE.geojson`` or ``FILE.gpkg`` writes what the PNG and HTML maps draw, for QGIS
and the like, in EPSG:4326 (longitude, latitude):

- ``roads``: one LineString per road (a two-way road once, as the maps draw it), with
  ``minutes_<plan>`` (the later of its two ends' times from the nearest unit, which is how the
  maps shade it; a best case for moving units) and ``within_target_<plan>`` (1 or 0) per plan,
  and on a compare map ``change`` (gained, lost, both, neither).
- ``sites``: one Point per site with ``minutes_<plan>`` (from the nearest unit to the site's road
  node) and, with ``--results``, the simulated figures per plan from sites.csv.

A GeoPackage holds the two as layers ``roads`` and ``sites``; a GeoJSON file holds one collection
with both, told apart by the ``layer`` column (QGIS offers them as two sublayers, by geometry type).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.model.world import World
from sim.viz.coverage import CHANGE_WORDS, coverage_change, difference_km, drawn_edges, edge_within, plan_layer
from sim.viz.map_results import SiteResult, missed_lines
from sim.viz.map_style import MapResult, map_subtitle, map_title

CRS = "EPSG:4326"
CHANGE_NAMES = ("neither", "both", "gained", "lost")   # sim.viz.coverage's codes, in order
RESULT_COLUMNS = ("incidents", "within_target_pct", "within_target_ci95", "response_mean_min", "response_p90_min")
assert len(CHANGE_NAMES) == len(CHANGE_WORDS)


def road_frame(world: World, layers, target_min: float):
    """The roads as a GeoDataFrame (one row per drawn road)."""
    import geopandas
    import shapely

    network = world.network
    drawn = drawn_edges(network)
    tails, heads = network.edge_tails[drawn], network.indices[drawn].astype(np.int64)
    coords = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                       np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
    columns: dict[str, object] = {
        "layer": "roads",
        "edge": drawn.astype(np.int64),
        "from_node": tails.astype(np.int64),
        "to_node": heads,
        "road_class": np.asarray(network.road_class_names, dtype=object)[network.road_class[drawn]],
        "length_m": np.round(network.length_m[drawn].astype(np.float64), 1),
    }
    for layer in layers:
        time_min = layer.coverage.time_min
        columns[f"minutes_{layer.name}"] = np.round(np.maximum(time_min[tails], time_min[heads]), 2)
        columns[f"within_target_{layer.name}"] = edge_within(network, time_min, target_min)[drawn].astype(np.int8)
    if len(layers) == 2:
        change = coverage_change(network, layers[0].coverage.time_min, layers[1].coverage.time_min, target_min)
        columns["change"] = np.asarray(CHANGE_NAMES, dtype=object)[change[drawn]]
    return geopandas.GeoDataFrame(columns, geometry=shapely.linestrings(coords), crs=CRS)


def site_frame(scenario, world: World, layers, results: Mapping[str, Mapping[str, SiteResult]] | None):
    """The sites as a GeoDataFrame (one row per site), with results when given."""
    import geopandas
    import shapely

    sites = scenario.sites
    columns: dict[str, object] = {
        "layer": "sites",
        "site": [s.id for s in sites],
        "site_name": [s.name for s in sites],
        "kind": [s.kind for s in sites],
        "approximate": [int(s.approximate) for s in sites],
        "node": [int(world.site_node[s.id]) for s in sites],
    }
    for layer in layers:
        columns[f"minutes_{layer.name}"] = [round(float(layer.coverage.time_min[world.site_node[s.id]]), 2)
                                            for s in sites]
        if results is not None:
            plan_results = results[layer.name]
            for column in RESULT_COLUMNS:
                columns[f"{column}_{layer.name}"] = [
                    float(getattr(plan_results[s.id], column)) if s.id in plan_results else np.nan for s in sites]
            columns[f"misses_target_{layer.name}"] = [
                int(plan_results[s.id].misses) if s.id in plan_results else 0 for s in sites]
    geometry = shapely.points([s.lon for s in sites], [s.lat for s in sites])
    return geopandas.GeoDataFrame(columns, geometry=geometry, crs=CRS)


def write_gis(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
              results: Mapping[str, Mapping[str, SiteResult]] | None = None) -> MapResult:
    """Write the roads and sites layers of one plan (or two) to ``out`` (.geojson or .gpkg), whole."""
    import pandas

    layers = [plan_layer(scenario, world, p) for p in plans]
    target = scenario.target_response_min
    roads = road_frame(world, layers, target)
    sites = site_frame(scenario, world, layers, results)
    out = Path(out)

    def write(tmp: Path) -> None:
        if out.suffix.lower() == ".gpkg":
            tmp.unlink()   # a GeoPackage is made new, not written into an empty file
            roads.to_file(tmp, layer="roads", driver="GPKG", engine="pyogrio")
            sites.to_file(tmp, layer="sites", driver="GPKG", engine="pyogrio", append=True)
        else:
            both = pandas.concat([roads, sites], ignore_index=True)
            both.to_file(tmp, driver="GeoJSON", engine="pyogrio")

    write_whole(out, write)
    diff_km = difference_km(layers[0].coverage, layers[1].coverage) if len(layers) == 2 else None
    names = {s.id: s.name for s in scenario.sites}
    missed_all = tuple(line for plan in plans if results is not None
                       for line in missed_lines(plan, results[plan], names, target, limit=20))
    return MapResult(out, map_title(scenario, plans), map_subtitle(world.network, bands_min),
                     [line for layer in layers for line in layer.legend],
                     {layer.name: layer.coverage for layer in layers}, diff_km, missed_all)
