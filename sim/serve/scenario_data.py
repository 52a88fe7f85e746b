"""``GET /api/scenario``: what the page draws and offers, as JSON.

Coordinates are whole metres in the network's own plane (``RoadNetwork.x_m``/``y_m``: east and
north of its bounding box's centre), which the page maps with Leaflet's ``L.CRS.Simple``: no
tiles, the road network is the base map. Node lists go as differences to keep the answer small;
node positions in degrees go as whole 1e-7 degrees (a centimetre), so a post dropped on a node
becomes a site that snaps back to that node.
"""
from __future__ import annotations

import numpy as np

from sim.config import limits
from sim.config.kecamatan import find_kecamatan
from sim.network.geo import project_m
from sim.plugins.patrols import PATROL_MODES
from sim.viz.coverage import drawn_edges
from sim.viz.map_areas import area_cells
from sim.viz.map_html import road_polylines
from sim.viz.map_style import road_width
from sim.viz.maps import target_bands
from sim.viz.palette import BEYOND_BANDS_COLOUR, UNIT_COLOUR, band_colours

PAGE_MODES = ("post", "circuit", "base", "random")  # the modes the page edits, in its menu order
AREA_RULE = "the kecamatan whose centre is nearest (approximate: the data has no boundaries)"


def _deltas(values) -> list[int]:
    """The first value, then each one's difference from the one before (whole numbers)."""
    whole = [int(v) for v in values]
    return [b - a for a, b in zip([0] + whole[:-1], whole)]


def plane(network):
    """(lon, lat) degrees -> (x, y) metres in the network's plane (as ``x_m``/``y_m``)."""
    west, south, east, north = network.bbox()
    origin = ((west + east) / 2, (south + north) / 2)

    def to_m(lon, lat):
        return project_m(np.asarray(lon, float), np.asarray(lat, float), origin)

    return to_m


def outline(network) -> dict:
    """Nodes (metres and 1e-7 degrees, as differences) and the roads as polylines of node indices by class."""
    roads = road_polylines(network, drawn_edges(network))
    return {
        "nodes": network.n_nodes,
        "x": _deltas(np.round(network.x_m)), "y": _deltas(np.round(network.y_m)),
        "lon7": _deltas(np.round(network.lon * 1e7)), "lat7": _deltas(np.round(network.lat * 1e7)),
        "roads": [{"class": name, "width": road_width(name), "lines": [_deltas(line) for line in lines]}
                  for name, lines in reversed(list(roads.items()))],  # minor roads first, drawn under the main ones
    }


def kecamatan_cells(network) -> list[dict]:
    """Each kecamatan that covers some of the network's box as the cell of points nearest its centre
    (``sim.viz.map_areas.area_cells``, the rule areas are counted by): name, code, population,
    centre and ring in the plane."""
    to_m = plane(network)
    found = []
    for cell in area_cells(network):
        kecamatan = find_kecamatan(cell.name)
        x, y = to_m(*cell.centre)
        ring_x, ring_y = to_m(cell.lon, cell.lat)
        found.append({"code": kecamatan.code if kecamatan else None, "name": cell.name,
                      "population": kecamatan.population if kecamatan else None,
                      "x": round(float(x)), "y": round(float(y)),
                      "ring": np.round(np.column_stack([ring_x, ring_y])).astype(int).tolist()})
    return found


def scenario_data(engine) -> dict:
    """Everything ``GET /api/scenario`` answers (see docs/serve.md)."""
    study = engine.base
    scenario, network, world = study.scenario, study.network(), study.world()
    to_m = plane(network)
    sites = []
    for site in scenario.sites:
        x, y = to_m(site.lon, site.lat)
        sites.append({"id": site.id, "name": site.name, "kind": site.kind, "approximate": site.approximate,
                      "lat": site.lat, "lon": site.lon, "x": round(float(x)), "y": round(float(y)),
                      "node": int(world.site_node[site.id])})
    weights: dict[str, float] = {}
    for disturbance in scenario.disturbances:
        for site, weight in disturbance.site_weights.items():
            weights[site] = weights.get(site, 0.0) + weight
    clock = scenario.clock
    bands = target_bands(scenario.target_response_min)
    return {
        "name": scenario.name,
        "network": {"label": network.source_label, "synthetic": network.synthetic, "nodes": network.n_nodes},
        "target_min": scenario.target_response_min,
        "bands_min": list(bands),
        # the colours every figure uses (sim.viz.palette): drive-time bands, beyond the last, units
        "colours": {"bands": band_colours(bands, scenario.target_response_min), "beyond": BEYOND_BANDS_COLOUR,
                    "unit": UNIT_COLOUR},
        "clock": {"start": clock.start.isoformat(), "duration_hours": clock.duration_hours,
                  "warmup_hours": clock.warmup_hours},
        "defaults": {"reps": min(scenario.replications, limits.MAX_SERVE_REPS), "seed": scenario.seed,
                     "hours": clock.duration_hours},
        "unit_types": {name: {"agency": spec.agency, "speed_factor": spec.speed_factor}
                       for name, spec in scenario.unit_types.items()},
        "modes": [mode for mode in PAGE_MODES if mode in PATROL_MODES],
        "sites": sites,
        "incident_sites": sorted(weights),
        "plans": [plan for plan in scenario.raw["plans"]],
        "outline": outline(network),
        "areas": {"rule": AREA_RULE, "cells": kecamatan_cells(network)},
        "limits": {"reps": limits.MAX_SERVE_REPS, "units": limits.MAX_SERVE_UNITS,
                   "new_sites": limits.MAX_SERVE_NEW_SITES, "animation_hours": limits.MAX_SERVE_ANIMATION_HOURS,
                   "body_bytes": limits.MAX_SERVE_BODY_BYTES},
    }
