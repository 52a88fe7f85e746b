"""The coverage map as GIS layers a planner opens in QGIS: ``map ... --out FILE.gpkg`` or ``FILE.geojson``.

EPSG:4326 (longitude, latitude). Every layer has a ``plan`` column (one row per plan and feature;
filter or style by it), and plain column names:

- ``sites`` (Point): ``plan``, ``site``, ``name``, ``kind``, ``kecamatan``, ``approximate`` (1/0),
  ``drive_min`` (minutes from the plan's nearest unit to the site's road node, every unit free: a
  best case, not simulated) and ``within_target_drive`` (1/0); with ``--results`` the simulated
  figures: ``incidents``, ``in_target``, ``late``, ``share_in_target`` (pooled %), ``share_low``,
  ``share_high`` (its 95% interval), ``response_mean_min``, ``response_p90_min``, ``misses_target``.
- ``areas`` (Polygon, the approximate kecamatan cells around their centres): ``plan``,
  ``kecamatan``, ``incident_sites``; with ``--results`` ``incidents``, ``late``,
  ``share_in_target``, ``share_low``, ``share_high``.
- ``posts`` (Point): where a plan's vehicles stand when free: ``plan``, ``site``, ``name``, ``vehicles``.
- ``bases`` (Point): where a plan's unit groups are based: ``plan``, ``site``, ``name``,
  ``vehicles``, ``modes`` (the patrol modes of the groups based there).
- ``routes`` (LineString): circuits along the roads: ``plan``, ``route`` (1, 2, ...), ``stops``
  (the sites in driving order), ``length_km``.
- ``patrol_points`` (MultiPoint): the road points random patrols draw from: ``plan``, ``pool``, ``points``.
- ``roads`` (LineString, one per road as the maps draw it, per plan): ``plan``, ``edge``,
  ``from_node``, ``to_node``, ``road_class``, ``length_m``, ``drive_min`` (the later of its two ends'
  minutes from the nearest unit, as the map shades it), ``within_target_drive`` (1/0).
- ``difference`` (LineString, compare maps only): each road's ``change`` from ``first_plan`` to
  ``second_plan`` (gained, lost, both, neither: within the target, both ends).

A GeoPackage holds one layer per name; a GeoJSON file holds one collection with them all, named by
scenario and plans, told apart by the ``layer`` column.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.i18n import messages
from sim.model.world import World
from sim.viz.coverage import PlanLayer, coverage_change, difference_km, drawn_edges, edge_within, plan_layer
from sim.viz.map_areas import AreaResult, area_cells, site_kecamatan
from sim.viz.map_results import SiteResult
from sim.viz.map_style import MapResult, map_result, map_subtitle, map_title

CRS = "EPSG:4326"
CHANGE_NAMES = ("neither", "both", "gained", "lost")   # sim.viz.coverage's codes, in order
#: every layer's geometry type and columns (besides ``layer`` and the geometry), in file order
LAYERS = {
    "sites": ("Point", ("plan", "site", "name", "kind", "kecamatan", "approximate", "drive_min",
                        "within_target_drive")),
    "areas": ("Polygon", ("plan", "kecamatan", "incident_sites")),
    "posts": ("Point", ("plan", "site", "name", "vehicles")),
    "bases": ("Point", ("plan", "site", "name", "vehicles", "modes")),
    "routes": ("LineString", ("plan", "route", "stops", "length_km")),
    "patrol_points": ("MultiPoint", ("plan", "pool", "points")),
    "roads": ("LineString", ("plan", "edge", "from_node", "to_node", "road_class", "length_m", "drive_min",
                             "within_target_drive")),
    "difference": ("LineString", ("first_plan", "second_plan", "edge", "change")),
}
#: the simulated figures ``--results`` adds to sites and areas
SITE_RESULT_COLUMNS = ("incidents", "in_target", "late", "share_in_target", "share_low", "share_high",
                       "response_mean_min", "response_p90_min", "misses_target")
AREA_RESULT_COLUMNS = ("incidents", "late", "share_in_target", "share_low", "share_high")


def _frame(rows: Mapping[str, Sequence], geometry, name: str):
    """A layer's GeoDataFrame: ``layer``, its columns (empty ones too: a layer without features keeps
    its columns), then ``rows``' other columns."""
    import geopandas

    n = len(geometry)
    columns = {"layer": [name] * n} | {key: [] for key in LAYERS[name][1]} | dict(rows)
    columns = {key: (value if len(value) == n else [value] * n if isinstance(value, str) else value)
               for key, value in columns.items()}
    return geopandas.GeoDataFrame(columns, geometry=list(geometry) if n == 0 else geometry, crs=CRS)


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else np.nan


def road_frame(world: World, layers: Sequence[PlanLayer], target_min: float):
    """The roads, one row per plan and drawn road."""
    import shapely

    network = world.network
    drawn = drawn_edges(network)
    tails, heads = network.edge_tails[drawn], network.indices[drawn].astype(np.int64)
    coords = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                       np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
    lines = shapely.linestrings(coords)
    n = len(drawn)
    rows: dict[str, list] = defaultdict(list)
    for layer in layers:
        time_min = layer.coverage.time_min
        rows["plan"] += [layer.name] * n
        rows["edge"].append(drawn.astype(np.int64))
        rows["from_node"].append(tails.astype(np.int64))
        rows["to_node"].append(heads)
        rows["road_class"].append(np.asarray(network.road_class_names, dtype=object)[network.road_class[drawn]])
        rows["length_m"].append(np.round(network.length_m[drawn].astype(np.float64), 1))
        rows["drive_min"].append(np.round(np.maximum(time_min[tails], time_min[heads]), 2))
        rows["within_target_drive"].append(edge_within(network, time_min, target_min)[drawn].astype(np.int8))
    columns = {key: (values if key == "plan" else np.concatenate(values)) for key, values in rows.items()}
    return _frame(columns, np.tile(lines, len(layers)), "roads")


def difference_frame(world: World, layers: Sequence[PlanLayer], target_min: float):
    """Compare maps: each drawn road's change of coverage within the target from the first plan to the second."""
    import shapely

    network = world.network
    drawn = drawn_edges(network)
    tails, heads = network.edge_tails[drawn], network.indices[drawn]
    coords = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                       np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
    change = coverage_change(network, layers[0].coverage.time_min, layers[1].coverage.time_min, target_min)
    return _frame({"first_plan": layers[0].name, "second_plan": layers[1].name, "edge": drawn.astype(np.int64),
                   "change": np.asarray(CHANGE_NAMES, dtype=object)[change[drawn]]},
                  shapely.linestrings(coords), "difference")


def site_frame(scenario, world: World, layers: Sequence[PlanLayer],
               results: Mapping[str, Mapping[str, SiteResult]] | None):
    """The sites, one row per plan and site, with the simulated figures when given."""
    import shapely

    sites = scenario.sites
    where = site_kecamatan(scenario)
    target = scenario.target_response_min
    rows: dict[str, list] = defaultdict(list)
    for layer in layers:
        plan_results = results[layer.name] if results is not None else None
        for site in sites:
            drive = float(layer.coverage.time_min[world.site_node[site.id]])
            rows["plan"].append(layer.name)
            rows["site"].append(site.id)
            rows["name"].append(site.name)
            rows["kind"].append(site.kind)
            rows["kecamatan"].append(where[site.id])
            rows["approximate"].append(int(site.approximate))
            rows["drive_min"].append(round(drive, 2))
            rows["within_target_drive"].append(int(drive <= target))
            if plan_results is None:
                continue
            r = plan_results.get(site.id)
            has = r is not None and r.has_incidents
            rows["incidents"].append(r.incidents if r is not None else 0)
            rows["in_target"].append(r.incidents - r.late if has and r.pooled else np.nan)
            rows["late"].append(r.late if has and r.pooled else np.nan)
            rows["share_in_target"].append(_finite(r.within_target_pct) if has else np.nan)
            rows["share_low"].append(_finite(r.low_pct) if has else np.nan)
            rows["share_high"].append(_finite(r.high_pct) if has else np.nan)
            rows["response_mean_min"].append(_finite(r.response_mean_min) if r is not None else np.nan)
            rows["response_p90_min"].append(_finite(r.response_p90_min) if r is not None else np.nan)
            rows["misses_target"].append(int(r.misses) if r is not None else 0)
    points = shapely.points([s.lon for s in sites], [s.lat for s in sites])
    return _frame(rows, np.tile(points, len(layers)), "sites")


def area_frame(scenario, world: World, layers: Sequence[PlanLayer],
               areas: Mapping[str, Mapping[str, AreaResult]] | None):
    """The kecamatan cells, one row per plan and kecamatan in the network's box."""
    import shapely

    from sim.viz.coverage import incident_sites

    where = site_kecamatan(scenario)
    counts: dict[str, int] = defaultdict(int)
    for site in incident_sites(scenario):
        counts[where[site]] += 1
    cells = area_cells(world.network)
    rows: dict[str, list] = defaultdict(list)
    for layer in layers:
        plan_areas = areas.get(layer.name, {}) if areas is not None else None
        for cell in cells:
            rows["plan"].append(layer.name)
            rows["kecamatan"].append(cell.name)
            rows["incident_sites"].append(counts.get(cell.name, 0))
            if plan_areas is None:
                continue
            r = plan_areas.get(cell.name)
            has = r is not None and r.has_incidents
            rows["incidents"].append(r.incidents if r is not None else 0)
            rows["late"].append(r.late if r is not None else 0)
            rows["share_in_target"].append(_finite(r.within_target_pct) if has else np.nan)
            rows["share_low"].append(_finite(r.low_pct) if has else np.nan)
            rows["share_high"].append(_finite(r.high_pct) if has else np.nan)
    polygons = [shapely.Polygon(np.column_stack([cell.lon, cell.lat])) for cell in cells]
    return _frame(rows, polygons * len(layers), "areas")


def unit_frames(scenario, world: World, layers: Sequence[PlanLayer]) -> list:
    """The posts, bases, circuit routes and random-patrol points of each plan."""
    import shapely

    network = world.network
    site_by_id = {s.id: s for s in scenario.sites}
    names = {s.id: s.name for s in scenario.sites}
    posts: dict[str, list] = defaultdict(list)
    bases: dict[str, list] = defaultdict(list)
    routes: dict[str, list] = defaultdict(list)
    pools: dict[str, list] = defaultdict(list)
    post_xy, base_xy, route_lines, pool_points = [], [], [], []
    for layer in layers:
        for site_id, count in layer.standing.items():
            posts["plan"].append(layer.name)
            posts["site"].append(site_id)
            posts["name"].append(names[site_id])
            posts["vehicles"].append(count)
            post_xy.append((site_by_id[site_id].lon, site_by_id[site_id].lat))
        based: dict[str, tuple[int, list[str]]] = {}
        for group in scenario.plan(layer.name).units:
            count, modes = based.get(group.base, (0, []))
            based[group.base] = (count + group.count, modes + [group.patrol.mode])
        for site_id, (count, modes) in based.items():
            bases["plan"].append(layer.name)
            bases["site"].append(site_id)
            bases["name"].append(names[site_id])
            bases["vehicles"].append(count)
            bases["modes"].append(", ".join(dict.fromkeys(modes)))
            base_xy.append((site_by_id[site_id].lon, site_by_id[site_id].lat))
        stops_of = {spot.nodes: spot.sites for spot in layer.spots if spot.ordered}
        for k, (path, stops) in enumerate(zip(layer.circuits, stops_of.values()), start=1):
            routes["plan"].append(layer.name)
            routes["route"].append(k)
            routes["stops"].append(" > ".join(names.get(s, s) for s in stops if s))
            routes["length_km"].append(round(_path_length_m(network, path) / 1000, 2))
            route_lines.append(shapely.linestrings(np.column_stack([network.lon[path], network.lat[path]])))
        for k, pool in enumerate(layer.pools, start=1):
            pools["plan"].append(layer.name)
            pools["pool"].append(k)
            pools["points"].append(len(pool))
            nodes = list(pool)
            pool_points.append(shapely.multipoints(np.column_stack([network.lon[nodes], network.lat[nodes]])))

    def points(xy):
        return shapely.points([p[0] for p in xy], [p[1] for p in xy])

    return [_frame(posts, points(post_xy), "posts"), _frame(bases, points(base_xy), "bases"),
            _frame(routes, route_lines, "routes"), _frame(pools, pool_points, "patrol_points")]


def _path_length_m(network, path: np.ndarray) -> float:
    """Length (m) of a node path, edge by edge."""
    return float(sum(network.length_m[network.edge_id(int(a), int(b))] for a, b in zip(path[:-1], path[1:])))


def gis_frames(scenario, world: World, layers: Sequence[PlanLayer],
               results: Mapping[str, Mapping[str, SiteResult]] | None = None,
               areas: Mapping[str, Mapping[str, AreaResult]] | None = None) -> dict:
    """Every layer as a GeoDataFrame, by name (LAYERS order; ``difference`` only with two plans)."""
    target = scenario.target_response_min
    frames = {"sites": site_frame(scenario, world, layers, results),
              "areas": area_frame(scenario, world, layers, areas)}
    frames.update(zip(("posts", "bases", "routes", "patrol_points"), unit_frames(scenario, world, layers)))
    frames["roads"] = road_frame(world, layers, target)
    if len(layers) == 2:
        frames["difference"] = difference_frame(world, layers, target)
    return frames


def collection_name(scenario, plans: Sequence[str]) -> str:
    """The GeoJSON collection's name: ``jember-pilkada-2024: mixed`` (``mixed vs fixed-posts`` for two)."""
    return f"{scenario.name}: {' vs '.join(plans)}"


def write_gis(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
              results: Mapping[str, Mapping[str, SiteResult]] | None = None,
              areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
              summary: Mapping[str, Mapping] | None = None) -> MapResult:
    """Write the layers of one plan (or two) to ``out`` (.geojson or .gpkg), whole or not at all."""
    import pandas

    layers = [plan_layer(scenario, world, p) for p in plans]
    frames = gis_frames(scenario, world, layers, results, areas)
    out = Path(out)

    def write(tmp: Path) -> None:
        if out.suffix.lower() == ".gpkg":
            tmp.unlink()   # a GeoPackage is made new, not written into an empty file
            for k, (name, frame) in enumerate(frames.items()):
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", append=k > 0,
                              geometry_type=LAYERS[name][0])
        else:
            both = pandas.concat([frame for frame in frames.values() if len(frame)], ignore_index=True)
            both.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer=collection_name(scenario, plans))

    write_whole(out, write)
    diff_km = difference_km(layers[0].coverage, layers[1].coverage) if len(layers) == 2 else None
    english = messages("en")   # GIS layers are data: their words, as their columns, in English
    return map_result(scenario, layers, out, map_title(scenario, plans, english),
                      map_subtitle(world.network, bands_min, english),
                      [results.get(p) if results is not None else None for p in plans],
                      [areas.get(p) if areas is not None else None for p in plans],
                      [summary.get(p) if summary is not None else None for p in plans], diff_km, english)
