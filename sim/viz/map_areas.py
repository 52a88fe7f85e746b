"""The kecamatan layer of a map: the outline of a cell around each kecamatan centre, and at the
centre a circle whose area is the kecamatan's incidents and whose colour is its simulated share of
incidents reached within the target (a run's areas.csv; the one scale of ``sim.viz.palette``).
Without results the circle counts the kecamatan's incident sites and is not coloured: nothing
was simulated.

On a map of many sites (thousands of polling stations, each with one incident or none) this is
what the map shows instead of single sites: a share resting on one incident says nothing.

The data has kecamatan centres, not boundaries, so a cell is the part of the network's bounding
box nearer to its centre than to any other (a Voronoi cell in the network's projection, metres):
the same nearest-centre rule that gives sites their area, and as approximate; maps say so.
Cells are cut from the box by the perpendicular bisectors to every other centre, which bounds the
outer cells exactly (scipy.spatial.Voronoi leaves them open to infinity). The PNG map draws
them with ``draw_area_cells`` and ``draw_area_marks``; the HTML map gets them from ``area_data``.
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.config.kecamatan import find_kecamatan, load_kecamatan, nearest_kecamatan_many
from sim.i18n import Messages
from sim.network import RoadNetwork
from sim.network.geo import project_m, unproject_deg
from sim.viz.coverage import incident_sites
from sim.viz.map_results import SiteResult, missed_lines
from sim.viz.palette import NO_SHARE_COLOUR, share_colour
from sim.viz.words import site_words

AREA_EDGE_COLOUR = "#6b6b6b"
NO_AREA_RESULT_COLOUR = NO_SHARE_COLOUR
UNSIMULATED_COLOUR = "#ffffff"   # a circle counting incident sites: no share to colour
AREA_COLUMNS = ("plan", "area", "incidents", "late", "within_target_pooled_pct", "within_target_low_pct",
                "within_target_high_pct")
#: with more incident sites than this, lists of where a plan fails name kecamatan, not sites
MAX_SITES_LISTED = 100
#: the largest circle (the kecamatan with the most incidents), points across, on the PNG map
MAX_MARK_PT = 34.0
#: kecamatan named with their figures on a map (the most late incidents first)
WORST_AREAS_LABELLED = 8


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
    """The colour of an area's share within target (sim.viz.palette; none without counted incidents)."""
    if result is None or not result.has_incidents:
        return NO_AREA_RESULT_COLOUR
    return share_colour(result.within_target_pct)


def area_label(result: AreaResult, m: Messages) -> str:
    """The words under a kecamatan's name on a map: its share and late incidents."""
    if not result.has_incidents:
        return m("map.areas.noIncidents")
    return m("map.areas.label", share=m.num(result.within_target_pct, ".0f"), late=m.num(result.late, ","),
             incidents=m.num(result.incidents, ","))


@dataclass(frozen=True)
class AreaMark:
    """A kecamatan's circle on a map: at its centre, ``size`` incidents (or incident sites without
    results), coloured by its share (nan without results), named with its figures when among the worst."""

    name: str
    lon: float
    lat: float
    size: int
    colour: str
    result: AreaResult | None
    worst: bool


def site_kecamatan(scenario) -> dict[str, str]:
    """Every site's kecamatan name: its own ``area`` (a generated site's is where it was drawn), else
    the kecamatan whose centre is nearest (as areas.csv counts them)."""
    sites = scenario.sites
    index, _ = nearest_kecamatan_many(np.array([s.lat for s in sites]), np.array([s.lon for s in sites]))
    table = load_kecamatan()
    out = {}
    for site, nearest in zip(sites, index):
        own = find_kecamatan(site.area) if site.area else None
        out[site.id] = (own or table[int(nearest)]).name
    return out


def area_marks(scenario, network: RoadNetwork, results: Mapping[str, AreaResult] | None) -> list[AreaMark]:
    """One circle per kecamatan in the network's box with incidents (with ``results``) or incident
    sites (without), largest first (so small circles are drawn on top)."""
    towns = {k.name: k for k in load_kecamatan()}
    west, south, east, north = network.bbox()
    if results is not None:
        late = sorted((r for r in results.values() if r.late > 0), key=lambda r: (-r.late, r.within_target_pct, r.area))
        worst = {r.area for r in late[:WORST_AREAS_LABELLED]}
        sizes = {name: r.incidents for name, r in results.items() if r.incidents > 0}
    else:
        worst, sizes = set(), defaultdict(int)
        where = site_kecamatan(scenario)
        for site in incident_sites(scenario):
            sizes[where[site]] += 1
    marks = []
    for name, size in sizes.items():
        kec = towns.get(name)
        if kec is None or not (west <= kec.lon <= east and south <= kec.lat <= north):
            continue
        result = results.get(name) if results is not None else None
        colour = area_colour(result) if results is not None else UNSIMULATED_COLOUR
        marks.append(AreaMark(name, kec.lon, kec.lat, size, colour, result, name in worst))
    return sorted(marks, key=lambda m: (-m.size, m.name))


def mark_diameter_pt(size: int, largest: int, max_pt: float = MAX_MARK_PT) -> float:
    """A circle's diameter: its area in proportion to ``size`` (the largest ``max_pt`` across)."""
    return max_pt * math.sqrt(max(size, 0) / max(largest, 1))


def draw_area_cells(ax, cells: list[AreaCell], zorder: float = 1.0) -> None:
    """The cells' outlines, thin and dashed (approximate boundaries), under the roads."""
    from matplotlib.collections import PolyCollection

    rings = [np.column_stack([cell.lon, cell.lat]) for cell in cells]
    ax.add_collection(PolyCollection(rings, facecolors="none", edgecolors=AREA_EDGE_COLOUR, linewidths=0.8,
                                     linestyles=(0, (5, 3)), zorder=zorder))


def draw_area_marks(ax, marks: list[AreaMark], zorder: float = 6.0) -> float:
    """The circles, area in proportion to their size; returns the radius of the largest, pixels."""
    if not marks:
        return 0.0
    largest = max(m.size for m in marks)
    diameters = [mark_diameter_pt(m.size, largest) for m in marks]
    ax.scatter([m.lon for m in marks], [m.lat for m in marks], s=[d * d for d in diameters],
               c=[m.colour for m in marks], edgecolors="#1a1a1a", linewidths=1.0, zorder=zorder)
    return max(diameters) / 2 * ax.figure.dpi / 72


def mark_size_handles(marks: list[AreaMark], what: str, m: Messages) -> list:
    """Legend circles for two or three sizes of ``marks`` (neutral), labelled with ``what``."""
    from matplotlib.lines import Line2D

    if not marks:
        return []
    largest = max(m.size for m in marks)
    steps = sorted({v for v in (largest, _round_down(largest / 4), _round_down(largest / 16)) if v >= 1}, reverse=True)
    return [Line2D([], [], marker="o", linestyle="none", markerfacecolor="white", markeredgecolor="#1a1a1a",
                   markersize=mark_diameter_pt(v, largest), label=f"{m.num(v, ',')} {what}") for v in steps]


def _round_down(value: float) -> int:
    """``value`` rounded down to one significant digit (1, 2, 5 times a power of ten)."""
    if value < 1:
        return 0
    power = 10 ** int(math.floor(math.log10(value)))
    return max(k * power for k in (1, 2, 5) if k * power <= value)


def area_data(scenario, network: RoadNetwork, plane_m, plans, results: Mapping[str, Mapping[str, AreaResult]] | None,
              many_sites: bool, m: Messages) -> dict | None:
    """The HTML map's kecamatan layer on a map of many sites (None otherwise): the cells' outlines in
    the page's metres and, per plan, a circle per kecamatan (``area_marks``): [name, x, y, size,
    colour, words, among the worst]."""
    if not many_sites:
        return None
    cells = []
    for cell in area_cells(network):
        x, y = plane_m(cell.lon, cell.lat)
        cells.append({"name": cell.name, "ring": np.column_stack([np.round(x), np.round(y)]).astype(int).tolist()})
    marks = {}
    for plan in plans:
        rows = []
        for mark in area_marks(scenario, network, results.get(plan) if results is not None else None):
            x, y = plane_m(mark.lon, mark.lat)
            words = (area_label(mark.result, m) if mark.result is not None else
                     f"{m.num(mark.size, ',')} {m('map.areas.sites')}")
            rows.append([mark.name, round(float(x)), round(float(y)), mark.size, mark.colour, words, mark.worst])
        marks[plan] = rows
    return {"cells": cells, "edge": AREA_EDGE_COLOUR, "simulated": results is not None, "marks": marks}


def worst_area_lines(plan: str, results: Mapping[str, AreaResult], target_min: float, m: Messages,
                     limit: int = 6) -> list[str]:
    """A heading and one line per kecamatan with late incidents in ``plan``, most late first (ties:
    the lower share), at most ``limit``, then how many more."""
    late = sorted((r for r in results.values() if r.late > 0), key=lambda r: (-r.late, r.within_target_pct, r.area))
    target = m.num(target_min, "g")
    if not late:
        return [m("map.worstAreas.none", plan=plan, target=target)]
    lines = [m("map.worstAreas.head", plan=plan, target=target)]
    lines += ["  " + m("map.worstAreas.item", area=r.area, late=m.num(r.late, ","), incidents=m.num(r.incidents, ","),
                       share=m.num(r.within_target_pct, ".0f")) for r in late[:limit]]
    if len(late) > limit:
        lines.append("  " + m("map.missed.more", n=len(late) - limit, file="areas.csv"))
    return lines


def worst_areas_text(plan: str, results: Mapping[str, AreaResult], target_min: float, chars: int, m: Messages,
                     limit: int = 6) -> str:
    """``worst_area_lines`` wrapped to ``chars`` characters."""
    head, *rest = worst_area_lines(plan, results, target_min, m, limit)
    return "\n".join([textwrap.fill(head, chars)]
                     + [textwrap.fill(line.strip(), chars, initial_indent="  ", subsequent_indent="    ")
                        for line in rest])


def where_missed(plan: str, sites: Mapping[str, SiteResult], areas: Mapping[str, AreaResult] | None,
                 scenario, limit: int, m: Messages) -> list[str]:
    """Where ``plan`` misses the target, in lines: its kecamatan with the most late incidents on a
    map of many sites with the kecamatan layer, else its sites that miss the target."""
    if areas is not None and len(incident_sites(scenario)) > MAX_SITES_LISTED:
        return worst_area_lines(plan, areas, scenario.target_response_min, m, limit)
    names = {s.id: site_words(s.name, m) for s in scenario.sites}
    return missed_lines(plan, sites, names, scenario.target_response_min, m, limit)
