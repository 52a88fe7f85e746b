"""The coverage map as one self-contained HTML page: its data as JSON, drawn on a canvas by web/map.js.

No tiles, no CDN: the road network is the base map, so the page works offline from disk.
Coordinates are whole metres in the network's projection (sim.network.geo) from the south-west
corner of its bounding box; node lists are sent as differences to keep the file small. Words are
written here in the page's language, and the script's own come with the data (``map.page.*``).
"""
from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.i18n import Messages, catalogue, messages
from sim.model.world import World
from sim.network.geo import project_m
from sim.network import RoadNetwork
from sim.viz import web
from sim.viz.coverage import PlanLayer, difference_km, difference_line, drawn_edges, node_bands, plan_layer
from sim.viz.map_areas import AreaResult, area_data, where_missed
from sim.viz.map_marks import MAX_BADGES, SET_SITE_COLOUR, many_sites
from sim.viz.map_results import SiteResult, result_text, share_colour
from sim.viz.palette import NO_SHARE_COLOUR, NO_SHARE_EDGE, UNIT_COLOUR, band_colours, share_key
from sim.viz.map_style import (
    BEYOND_COLOUR,
    CHANGE_COLOURS,
    MapResult,
    map_result,
    map_subtitle,
    map_title,
    road_width,
    set_site_ids,
    simulated_line,
    site_style,
    towns_in,
)
from sim.viz.words import kind_words, site_words, synthetic_badge

def road_polylines(network: RoadNetwork, drawn: np.ndarray) -> dict[str, list[list[int]]]:
    """The drawn roads chained into polylines of node indices, per road class (shorter than segments)."""
    tails, heads = network.edge_tails[drawn], network.indices[drawn]
    classes = network.road_class[drawn]
    result: dict[str, list[list[int]]] = {}
    for k, name in enumerate(network.road_class_names):
        ends: dict[int, list[int]] = defaultdict(list)   # node -> segments touching it
        segs = np.flatnonzero(classes == k)
        for s in segs.tolist():
            ends[int(tails[s])].append(s)
            ends[int(heads[s])].append(s)
        used: set[int] = set()
        lines: list[list[int]] = []
        # Start at dead ends and junctions of odd degree first: fewer, longer lines.
        starts = sorted(ends, key=lambda n: len(ends[n]) % 2 == 0)
        for start in starts:
            while any(s not in used for s in ends[start]):
                line, node = [start], start
                while True:
                    nxt = next((s for s in ends[node] if s not in used), None)
                    if nxt is None:
                        break
                    used.add(nxt)
                    node = int(heads[nxt]) if int(tails[nxt]) == node else int(tails[nxt])
                    line.append(node)
                lines.append(line)
        result[name] = lines
    return result


def _deltas(values: Sequence[int]) -> list[int]:
    """First value, then differences: small numbers, a small file."""
    array = np.asarray(values, dtype=np.int64)
    return np.diff(array, prepend=0).tolist()


def _plane(network: RoadNetwork) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(lon, lat) -> metres east and north of the network's south-west corner, in its projection."""
    west, south, east, north = network.bbox()
    origin = ((west + east) / 2, (south + north) / 2)   # the projection's origin, as for network.x_m
    corner_x, corner_y = project_m(np.array(west), np.array(south), origin)

    def plane_m(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x_m, y_m = project_m(np.asarray(lon, float), np.asarray(lat, float), origin)
        return x_m - corner_x, y_m - corner_y

    return plane_m


def _results_data(plan: str, results: Mapping[str, SiteResult], areas: Mapping[str, AreaResult] | None,
                  scenario, m: Messages) -> dict:
    """One plan's simulated figures per site for the page: colour, words for the tooltip, the missed list."""
    by_site = {}
    for site, result in results.items():
        text = (result_text(result, scenario.target_response_min, m) if result.has_incidents
                else m("common.share.none"))
        by_site[site] = {"colour": share_colour(result), "text": m("map.page.simulated", text=text),
                         "misses": result.misses}
    return {"sites": by_site, "missed": where_missed(plan, results, areas, scenario, 15, m)}


def _simulated(summary: Mapping[str, Mapping] | None, plan: str, target_min: float, m: Messages) -> str:
    return simulated_line(summary.get(plan) if summary is not None else None, target_min, m)


def page_messages(m: Messages) -> dict[str, str]:
    """The words web/map.js says itself (``map.page.*``) and how it writes numbers, in the page's language."""
    return {**catalogue(m.lang, "map.page."), **catalogue(m.lang, "number.")}


def map_data(scenario, world: World, layers: Sequence[PlanLayer], bands_min: Sequence[float],
             results: Mapping[str, Mapping[str, SiteResult]] | None = None,
             areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
             summary: Mapping[str, Mapping] | None = None, m: Messages | None = None) -> dict:
    """Everything the HTML page draws, as JSON-ready data (coordinates in whole metres), its words in
    the language of ``m`` (English by default). On a map of many sites (``map_marks.many_sites``) the
    sites of site sets are flagged ``set`` (drawn as dots, named only when zoomed in) and the kecamatan
    layer is there (``map_areas.area_data``)."""
    m = m or messages()
    network = world.network
    plans = [layer.name for layer in layers]
    many = many_sites(scenario)
    in_sets = set_site_ids(scenario) if many else set()

    plane_m = _plane(network)

    def metres(lon: float, lat: float) -> tuple[int, int]:
        x, y = plane_m(lon, lat)
        return round(float(x)), round(float(y))

    x_m, y_m = plane_m(network.lon, network.lat)
    xs, ys = np.round(x_m).astype(np.int64), np.round(y_m).astype(np.int64)
    plan_data = []
    for layer in layers:
        time_min = layer.coverage.time_min
        plan_data.append({
            "name": layer.name,
            "description": layer.description,
            "simulated": _simulated(summary, layer.name, scenario.target_response_min, m),
            "legend": layer.legend(m),
            "band": "".join(map(str, node_bands(time_min, bands_min).tolist())),
            # Tenths of a minute; unreachable nodes (none in a strongly connected network) as -1.
            "time_dmin": np.where(np.isfinite(time_min), np.round(time_min * 10), -1).astype(np.int64).tolist(),
            "standing": [[site, count] for site, count in layer.standing.items()],
            "circuits": [_deltas(path) for path in layer.circuits],
            "pools": [list(pool) for pool in layer.pools],
            # Nodes reached within the target ("1"), for the difference view: a road counts when both ends do.
            "within": "".join("1" if t <= scenario.target_response_min else "0" for t in time_min.tolist()),
            "results": (_results_data(layer.name, results[layer.name], areas and areas.get(layer.name), scenario, m)
                        if results is not None else None),
        })
    extra = []
    if len(layers) == 2:
        extra = [difference_line(plans[0], layers[0].coverage, plans[1], layers[1].coverage, m)]
    sites = []
    for site in scenario.sites:
        x, y = metres(site.lon, site.lat)
        marker, colour = site_style(site.kind)
        sites.append({"id": site.id, "name": site_words(site.name, m), "kind": kind_words(site.kind, m), "marker": marker,
                      "colour": colour,
                      "approx": site.approximate, "node": world.site_node[site.id], "x": x, "y": y,
                      "set": site.id in in_sets})
    towns = [{"name": name, "xy": metres(lon, lat)} for name, lon, lat in towns_in(network)]
    _, _, east, north = network.bbox()
    width_m, height_m = metres(east, north)   # the north-east corner
    return {
        "lang": m.lang,
        "messages": page_messages(m),
        "title": map_title(scenario, plans, m),
        "subtitle": map_subtitle(network, bands_min, m),
        "synthetic": network.synthetic,
        "target_min": scenario.target_response_min,
        "bands_min": list(bands_min),
        "band_colours": band_colours(bands_min, scenario.target_response_min) + [BEYOND_COLOUR],
        "unit_colour": UNIT_COLOUR,
        "many": many,
        "max_badges": MAX_BADGES,
        "set_colour": SET_SITE_COLOUR,
        "no_share": {"colour": NO_SHARE_COLOUR, "edge": NO_SHARE_EDGE},
        "change_colours": CHANGE_COLOURS,
        "share_classes": [list(row) for row in share_key(m)],
        "size_m": [width_m, height_m],
        "x_m": _deltas(xs), "y_m": _deltas(ys),
        "roads": [{"name": name, "width": road_width(name), "lines": [_deltas(line) for line in lines]}
                  for name, lines in reversed(list(road_polylines(network, drawn_edges(network)).items()))],  # minor first
        "sites": sites,
        "towns": towns,
        "areas": area_data(scenario, network, plane_m, plans, areas, many, m),
        "plans": plan_data,
        "difference": extra,
    }


def html_page(data: dict) -> str:
    """A self-contained page: the data as JSON and a canvas renderer, no external resources."""
    return web.fill(
        "map.html",
        lang=data["lang"],
        title=web.page_title(data["title"]),
        style=web.asset("map.css"),
        corner=html.escape(synthetic_badge(messages(data["lang"]))) if data["synthetic"] else "",
        data=web.script_json(data),
        script=web.inline_scripts("panzoom.js", "map.js"),
    )


def draw_map_html(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
                  results: Mapping[str, Mapping[str, SiteResult]] | None = None,
                  areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
                  summary: Mapping[str, Mapping] | None = None, m: Messages | None = None) -> MapResult:
    """Write the interactive page for one plan, or two to switch between (and their difference), to ``out``;
    ``areas`` adds the kecamatan layer; ``m``: the page's language (English by default)."""
    m = m or messages()
    layers = [plan_layer(scenario, world, p) for p in plans]
    data = map_data(scenario, world, layers, bands_min, results, areas, summary, m)
    page = html_page(data)
    write_whole(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    diff_km = difference_km(layers[0].coverage, layers[1].coverage) if len(layers) == 2 else None
    return map_result(scenario, layers, out, data["title"], data["subtitle"],
                      [results.get(p) if results is not None else None for p in plans],
                      [areas.get(p) if areas is not None else None for p in plans],
                      [summary.get(p) if summary is not None else None for p in plans], diff_km, m)
