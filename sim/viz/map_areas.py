"""The kecamatan layer of a map: a cell around each kecamatan centre, coloured by the area's
simulated share of incidents reached within the target (a run's areas.csv).

The data has kecamatan centres, not boundaries, so a cell is the part of the network's bounding
box nearer to its centre than to any other (a Voronoi cell in the network's projection, metres):
the same nearest-centre rule that gives sites their area, and as approximate; maps say so.
Cells are cut from the box by the perpendicular bisectors to every other centre, which bounds the
outer cells exactly (scipy.spatial.Voronoi leaves them open to infinity). The PNG map draws
them with ``draw_area_cells``; the HTML map gets them from ``area_data``.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.config.kecamatan import load_kecamatan
from sim.network import RoadNetwork
from sim.network.geo import project_m, unproject_deg
from sim.viz.coverage import incident_sites
from sim.viz.map_results import SiteResult, missed_lines

#: sequential and colour-blind safe (matplotlib's cividis): dark blue at 0% to yellow at 100%
AREA_COLOURMAP = "cividis"
AREA_ALPHA = 0.45             # cells under the roads: the roads stay readable on top
AREA_EDGE_COLOUR = "#4d4d4d"
NO_AREA_RESULT_COLOUR = "#ffffff"
AREA_TITLE = "Kecamatan: simulated share of incidents within"
AREA_NOTE = "cells around the centres, approximate"
AREA_COLUMNS = ("plan", "area", "incidents", "late", "within_target_pooled_pct", "within_target_low_pct",
                "within_target_high_pct")
LEGEND_SHARES_PCT = (0.0, 50.0, 100.0)  # a continuous scale: its ends and middle
#: with more incident sites than this, lists of where a plan fails name kecamatan, not sites
MAX_SITES_LISTED = 100


@dataclass(frozen=True)
class AreaResult:
    """One plan's simulated figures in one kecamatan (nan shares without counted incidents)."""

    area: str
    incidents: int
    late: int
    within_target_pct: float
    low_pct: float
    high_pct: float

    @property
    def has_incidents(self) -> bool:
        return self.incidents > 0 and math.isfinite(self.within_target_pct)


@dataclass(frozen=True)
class AreaCell:
    """A kecamatan's cell: its name, centre and ring of corners (degrees, counter-clockwise)."""

    name: str
    centre: tuple[float, float]   # (lon, lat)
    lon: np.ndarray
    lat: np.ndarray


def _number(text: object) -> float:
    if text is None or (isinstance(text, str) and not text.strip()):
        return math.nan
    return float(text)  # type: ignore[arg-type]


def area_results(rows: Iterable[Mapping[str, object]], plan: str) -> dict[str, AreaResult]:
    """The rows of ``plan`` (as read from areas.csv: text or numbers) by kecamatan name;
    ValueError for a row whose numbers do not read."""
    out = {}
    for row in rows:
        if row["plan"] != plan:
            continue
        incidents, late = _number(row["incidents"]), _number(row["late"])
        out[str(row["area"])] = AreaResult(
            str(row["area"]), int(incidents) if math.isfinite(incidents) else 0,
            int(late) if math.isfinite(late) else 0, _number(row["within_target_pooled_pct"]),
            _number(row["within_target_low_pct"]), _number(row["within_target_high_pct"]))
    return out


def _clip(ring: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """The part of the convex polygon ``ring`` (k x 2) where ``normal . p <= offset`` (Sutherland-Hodgman)."""
    if len(ring) == 0:
        return ring
    side = ring @ normal - offset
    out = []
    for i in range(len(ring)):
        j = (i + 1) % len(ring)
        if side[i] <= 0:
            out.append(ring[i])
        if (side[i] < 0 < side[j]) or (side[j] < 0 < side[i]):
            t = side[i] / (side[i] - side[j])
            out.append(ring[i] + t * (ring[j] - ring[i]))
    return np.array(out).reshape(-1, 2)


def area_cells(network: RoadNetwork) -> list[AreaCell]:
    """The cells of the kecamatan that cover some of the network's bounding box, in code order."""
    west, south, east, north = network.bbox()
    origin = ((west + east) / 2, (south + north) / 2)
    table = load_kecamatan()
    cx, cy = project_m(np.array([k.lon for k in table]), np.array([k.lat for k in table]), origin)
    centres = np.column_stack([cx, cy])
    bx, by = project_m(np.array([west, east]), np.array([south, north]), origin)
    box = np.array([[bx[0], by[0]], [bx[1], by[0]], [bx[1], by[1]], [bx[0], by[1]]])
    cells = []
    for i, kec in enumerate(table):
        ring = box
        for j in range(len(table)):
            if j != i:
                # Nearer to i than to j: (c_j - c_i) . p <= (|c_j|^2 - |c_i|^2) / 2.
                normal = centres[j] - centres[i]
                ring = _clip(ring, normal, (centres[j] @ centres[j] - centres[i] @ centres[i]) / 2)
        if len(ring) >= 3:
            lon, lat = unproject_deg(ring[:, 0], ring[:, 1], origin)
            cells.append(AreaCell(kec.name, (kec.lon, kec.lat), lon, lat))
    return cells


def area_colour(result: AreaResult | None) -> str:
    """The colour of an area's share within target (white without counted incidents)."""
    if result is None or not result.has_incidents:
        return NO_AREA_RESULT_COLOUR
    return share_colour_pct(result.within_target_pct)


def share_colour_pct(share_pct: float) -> str:
    """The colour scale's colour of a share (0..100 %)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return to_hex(colormaps[AREA_COLOURMAP](min(max(share_pct, 0.0), 100.0) / 100.0))


def area_label(result: AreaResult) -> str:
    """The words under a kecamatan's name on a map: its share and late incidents."""
    if not result.has_incidents:
        return "no incidents"
    return f"{result.within_target_pct:.0f}%, {result.late:,} late of {result.incidents:,}"


def draw_area_cells(ax, cells: list[AreaCell], results: Mapping[str, AreaResult], zorder: float = 1.0) -> None:
    """Fill each cell with its area's colour (under the roads), outlined thinly."""
    from matplotlib.collections import PolyCollection

    rings = [np.column_stack([cell.lon, cell.lat]) for cell in cells]
    colours = [area_colour(results.get(cell.name)) for cell in cells]
    ax.add_collection(PolyCollection(rings, facecolors=colours, edgecolors="none", alpha=AREA_ALPHA, zorder=zorder))
    ax.add_collection(PolyCollection(rings, facecolors="none", edgecolors=AREA_EDGE_COLOUR, linewidths=0.8,
                                     linestyles=(0, (5, 3)), zorder=zorder + 0.01))


def area_legend(target_min: float, plan: str) -> tuple[str, list]:
    """(title, handles) of the kecamatan colour key."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=share_colour_pct(pct), alpha=AREA_ALPHA, edgecolor=AREA_EDGE_COLOUR,
                     label=f"{pct:.0f}%") for pct in LEGEND_SHARES_PCT]
    handles.append(Patch(facecolor=NO_AREA_RESULT_COLOUR, edgecolor=AREA_EDGE_COLOUR, label="no incidents"))
    return f"{AREA_TITLE} {target_min:g} min, plan '{plan}' ({AREA_NOTE})", handles


def area_data(network: RoadNetwork, plane_m, results: Mapping[str, Mapping[str, AreaResult]] | None,
              many_sites: bool = False) -> dict | None:
    """The HTML map's kecamatan layer: cells in the page's metres, the key, per plan each area's
    colour and words, and whether kecamatan are named before the sites (``many_sites``); None
    without results."""
    if results is None:
        return None
    cells = []
    for cell in area_cells(network):
        x, y = plane_m(cell.lon, cell.lat)
        cells.append({"name": cell.name, "ring": np.column_stack([np.round(x), np.round(y)]).astype(int).tolist()})
    return {
        "cells": cells, "label_first": many_sites, "alpha": AREA_ALPHA, "edge": AREA_EDGE_COLOUR, "title": AREA_TITLE, "note": AREA_NOTE,
        "key": [[share_colour_pct(pct), f"{pct:.0f}%"] for pct in LEGEND_SHARES_PCT]
        + [[NO_AREA_RESULT_COLOUR, "no incidents"]],
        "plans": {plan: {name: {"colour": area_colour(r), "text": area_label(r), "late": r.late}
                         for name, r in by_area.items()}
                  for plan, by_area in results.items()},
    }


def worst_area_lines(plan: str, results: Mapping[str, AreaResult], target_min: float, limit: int = 6) -> list[str]:
    """A heading and one line per kecamatan with late incidents in ``plan``, most late first (ties:
    the lower share), at most ``limit``, then how many more."""
    late = sorted((r for r in results.values() if r.late > 0), key=lambda r: (-r.late, r.within_target_pct, r.area))
    if not late:
        return [f"plan '{plan}': no incident later than {target_min:g} min in any kecamatan (simulated)"]
    lines = [f"plan '{plan}': kecamatan with the most late incidents (simulated, all replications; "
             f"% within {target_min:g} min):"]
    lines += [f"  {r.area}: {r.late:,} late of {r.incidents:,} ({r.within_target_pct:.0f}%)" for r in late[:limit]]
    if len(late) > limit:
        lines.append(f"  ... and {len(late) - limit} more (areas.csv)")
    return lines


def worst_areas_text(plan: str, results: Mapping[str, AreaResult], target_min: float, chars: int,
                     limit: int = 6) -> str:
    """``worst_area_lines`` wrapped to ``chars`` characters."""
    head, *rest = worst_area_lines(plan, results, target_min, limit)
    return "\n".join([textwrap.fill(head, chars)]
                     + [textwrap.fill(line.strip(), chars, initial_indent="  ", subsequent_indent="    ")
                        for line in rest])


def where_missed(plan: str, sites: Mapping[str, SiteResult], areas: Mapping[str, AreaResult] | None,
                 scenario, limit: int) -> list[str]:
    """Where ``plan`` misses the target, in lines: its kecamatan with the most late incidents on a
    map of many sites with the kecamatan layer, else its sites that miss the target."""
    if areas is not None and len(incident_sites(scenario)) > MAX_SITES_LISTED:
        return worst_area_lines(plan, areas, scenario.target_response_min, limit)
    return missed_lines(plan, sites, {s.id: s.name for s in scenario.sites}, scenario.target_response_min, limit)
