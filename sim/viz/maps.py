"""Coverage maps: where a plan's units stand and which roads they reach in time (PNG and HTML).

Coverage is a best case of *standing* positions, not a simulation: every unit is assumed
free and at one of the places its patrol mode puts it:

- ``post``: at its post; ``base``: at its base;
- ``circuit``: at any stop of its circuit (the best stop for each road: a best case);
- ``random``: at any place of its pool (the listed sites or its road-node pool; best case too).

From those positions one forward multi-source Dijkstra per speed class gives the travel time
(minutes) to every road node; a unit type with ``speed_factor`` f drives every edge in
``travel_time_s / f``. A directed edge counts as covered when its head node is reached within
the target, so a two-way road counts once per direction, consistently for covered and total
length. The map shades each road by the band of the later of its two end times.

The PNG is drawn with matplotlib (no pyplot: no GUI, safe in workers); the HTML page is one
self-contained file with its data as JSON and a small canvas renderer (no tiles, no CDN).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.config import choose_plans, network_spec
from sim.errors import InputError
from sim.files import write_whole
from sim.network.roads import RoadNetwork
from sim.model.units import SECONDS_PER_MIN
from sim.model.world import pool_key

METRES_PER_DEG_LAT = 111_320.0
KECAMATAN_CSV = Path(__file__).parent.parent / "data" / "jember_kecamatan.csv"
SIZE_PX = (1600, 1200)           # one plan
COMPARE_SIZE_PX = (2400, 1400)   # two plans side by side
DPI = 100
SYNTHETIC_NOTE = "Synthetic road network: shows the method, not Jember's real roads"
MOVING_NOTE = "circuit and random-patrol units counted from their best stop (best case)"

# Band colours from fast (dark green) to slow (orange-red); beyond the last band: grey.
_BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#a50026")
_BEYOND_COLOUR = "#c9c9c9"
_ROAD_WIDTH = {"motorway": 2.4, "trunk": 2.2, "primary": 2.0, "secondary": 1.4, "tertiary": 1.0}
_MINOR_ROAD_WIDTH = 0.45
_UNIT_COLOUR = "#1f2d6b"
# Site kinds: (marker, colour, legend words). Unknown kinds get a plain circle.
_SITE_STYLE = {
    "police_hq": ("s", "#08306b", "police HQ"),
    "police_post": ("s", "#2171b5", "police post"),
    "military_post": ("D", "#4d6b1f", "military post"),
    "election_office": ("^", "#6a3d9a", "election office"),
    "election_warehouse": ("v", "#6a3d9a", "election warehouse"),
    "crowd_point": ("o", "#b2182b", "crowd point"),
}
_OTHER_SITE_STYLE = ("o", "#444444", "other site")


# ----------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    """Travel times from a plan's unit positions and the shares reached within the target."""

    time_min: np.ndarray        # float64 (N,) fastest time from any unit position to each node, minutes
    target_min: float
    sites_covered: int          # incident sites whose node is reached within target_min
    n_sites: int
    covered_length_m: float     # directed edges whose head is reached within target_min
    total_length_m: float       # all directed edges

    @property
    def site_share(self) -> float:
        """Share of incident sites reached within the target (0..1)."""
        return self.sites_covered / self.n_sites if self.n_sites else 0.0

    @property
    def road_share(self) -> float:
        """Share of (directed) road length reached within the target (0..1)."""
        return self.covered_length_m / self.total_length_m


def node_times_min(network: RoadNetwork, sources: Sequence[int], speed_factors: Sequence[float]) -> np.ndarray:
    """Minutes from the nearest source to every node; source i drives at speed_factors[i]."""
    if len(sources) == 0 or len(sources) != len(speed_factors):
        raise ValueError("need one speed factor per source, and at least one source")
    by_speed: dict[float, list[int]] = defaultdict(list)
    for node, factor in zip(sources, speed_factors):
        by_speed[float(factor)].append(int(node))
    graph = network.csr()
    best_min = np.full(network.n_nodes, np.inf)
    # One multi-source run per speed class: scaling all edge times by 1/f scales every path alike.
    for factor, nodes in by_speed.items():
        time_s = dijkstra(graph, directed=True, indices=sorted(set(nodes)), min_only=True)
        np.minimum(best_min, time_s / (SECONDS_PER_MIN * factor), out=best_min)
    return best_min


def coverage(
    network: RoadNetwork,
    sources: Sequence[int],
    speed_factors: Sequence[float],
    target_min: float,
    site_nodes: Sequence[int],
) -> Coverage:
    """Coverage of ``network`` from unit positions ``sources`` (node indices) within ``target_min``."""
    time_min = node_times_min(network, sources, speed_factors)
    covered_edge = time_min[network.indices] <= target_min
    return Coverage(
        time_min=time_min,
        target_min=float(target_min),
        sites_covered=int(sum(time_min[n] <= target_min for n in site_nodes)),
        n_sites=len(site_nodes),
        covered_length_m=float(network.length_m[covered_edge].sum()),
        total_length_m=float(network.length_m.sum()),
    )


# ----------------------------------------------------------------------------- plan positions


@dataclass(frozen=True)
class UnitSpot:
    """Where some of a plan's units stand (or may stand) and how fast they drive."""

    mode: str                   # post | base | circuit | random
    unit_type: str
    count: int                  # vehicles in the group
    speed_factor: float
    nodes: tuple[int, ...]      # node indices: one for post/base, the stops or pool otherwise
    sites: tuple[str, ...]      # site ids of those nodes when they are sites ("" for road nodes)


def plan_spots(scenario, world, plan_name: str) -> list[UnitSpot]:
    """The unit positions of a plan, one per unit group (see the module docstring)."""
    site_node = world.site_node
    spots = []
    for index, group in enumerate(scenario.plan(plan_name).units):
        patrol = group.patrol
        pool = world.road_pools.get(pool_key(group))
        if patrol.mode == "random" and pool:
            nodes, sites = tuple(pool), ("",) * len(pool)
        else:
            sites = {"post": (patrol.at,), "circuit": tuple(patrol.route), "random": tuple(patrol.sites),
                     "base": (group.base,)}[patrol.mode]
            nodes = tuple(site_node[s] for s in sites)
        spots.append(UnitSpot(patrol.mode, group.type, group.count,
                              scenario.unit_types[group.type].speed_factor, nodes, sites))
    return spots


def incident_sites(scenario) -> list[str]:
    """Ids of the sites some disturbance type can strike, in scenario order."""
    struck = {site for d in scenario.disturbances for site in d.site_weights}
    return [s.id for s in scenario.sites if s.id in struck]


def plan_coverage(scenario, world, plan_name: str) -> Coverage:
    """Coverage of one plan: from its unit spots, for its incident sites, within the scenario target."""
    spots = plan_spots(scenario, world, plan_name)
    sources = [n for spot in spots for n in spot.nodes]
    factors = [spot.speed_factor for spot in spots for _ in spot.nodes]
    site_nodes = [world.site_node[s] for s in incident_sites(scenario)]
    return coverage(world.network, sources, factors, scenario.target_response_min, site_nodes)


def share_lines(cov: Coverage) -> list[str]:
    """The legend's coverage figures, in words."""
    return [
        f"Incident sites reached within {cov.target_min:g} min: {cov.sites_covered} of {cov.n_sites} "
        f"({cov.site_share:.0%})",
        f"Road length reached within {cov.target_min:g} min: {cov.road_share:.1%} "
        f"({cov.covered_length_m / 1000:,.0f} of {cov.total_length_m / 1000:,.0f} km, each direction counted)",
    ]


def difference_line(first: str, cov_a: Coverage, second: str, cov_b: Coverage) -> str:
    """The compare map's headline: covered road length of the second plan minus the first."""
    diff_km = (cov_b.covered_length_m - cov_a.covered_length_m) / 1000
    diff_points = (cov_b.road_share - cov_a.road_share) * 100
    return (f"Road length reached within {cov_a.target_min:g} min, '{second}' minus '{first}': "
            f"{diff_km:+,.1f} km ({diff_points:+.1f} percentage points)")


# ----------------------------------------------------------------------------- shared map data


def _band_colours(n_bands: int) -> list[str]:
    """Colours of n_bands bands, fast to slow; more bands than colours reuse the slowest."""
    return [_BAND_COLOURS[min(k, len(_BAND_COLOURS) - 1)] for k in range(n_bands)]


@dataclass(frozen=True)
class PlanLayer:
    """What one plan adds to the map."""

    name: str
    description: str
    spots: list[UnitSpot]
    coverage: Coverage
    circuits: list[np.ndarray]      # node paths along the roads, one per circuit group (closed)
    legend: list[str]


def _drawn_edges(network: RoadNetwork) -> np.ndarray:
    """Edge ids to draw: one per road, i.e. a two-way road once (its tail < head direction)."""
    tails, heads = network.edge_tails, network.indices.astype(np.int64)
    keys = tails * network.n_nodes + heads
    has_reverse = np.isin(heads * network.n_nodes + tails, keys)
    return np.flatnonzero((tails < heads) | ~has_reverse)


def edge_bands(network: RoadNetwork, time_min: np.ndarray, bands_min: Sequence[float]) -> np.ndarray:
    """Band index of every edge (0 = within bands_min[0], len(bands_min) = beyond the last band).

    An edge takes the band of the later of its two end times, which is the same both ways.
    """
    later_min = np.maximum(time_min[network.edge_tails], time_min[network.indices])
    return np.searchsorted(np.asarray(bands_min, float), later_min, side="left")


def _circuit_path(network: RoadNetwork, stops: Sequence[int]) -> np.ndarray:
    """The node path of a closed circuit along the fastest roads between its stops."""
    graph = network.csr()
    path = [int(stops[0])]
    for a, b in zip(stops, list(stops[1:]) + [stops[0]]):
        _, pred = dijkstra(graph, directed=True, indices=int(a), return_predecessors=True)
        leg = [int(b)]
        while leg[-1] != a:
            leg.append(int(pred[leg[-1]]))
        path.extend(reversed(leg[:-1]))
    return np.asarray(path)


def plan_layer(scenario, world, plan_name: str) -> PlanLayer:
    """Coverage, unit spots and circuit paths of one plan."""
    plan = scenario.plan(plan_name)
    spots = plan_spots(scenario, world, plan_name)
    cov = plan_coverage(scenario, world, plan_name)
    circuits = [_circuit_path(world.network, spot.nodes) for spot in spots if spot.mode == "circuit"]
    return PlanLayer(plan.name, plan.description, spots, cov, circuits, share_lines(cov))


def towns_in(network: RoadNetwork) -> list[tuple[str, float, float]]:
    """Jember's sub-district towns (name, lon, lat) inside the network's bounding box."""
    west, south, east, north = network.bbox()
    with KECAMATAN_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    towns = [(r["name"], float(r["lon"]), float(r["lat"])) for r in rows]
    return [t for t in towns if west <= t[1] <= east and south <= t[2] <= north]


def _title(scenario, network: RoadNetwork, plans: Sequence[str]) -> str:
    names = " vs ".join(f"'{p}'" for p in plans)
    return f"Coverage within {scenario.target_response_min:g} min: plan {names} ({scenario.name})"


def _subtitle(network: RoadNetwork, bands_min: Sequence[float]) -> str:
    bands = "/".join(f"{b:g}" for b in bands_min)
    first = f"Roads shaded by minutes from the nearest unit ({bands} min bands); {MOVING_NOTE}."
    second = SYNTHETIC_NOTE + "." if network.synthetic else f"Roads: {network.source_label}."
    return first + "\n" + second


# ----------------------------------------------------------------------------- PNG


@dataclass(frozen=True)
class MapResult:
    """What a drawn map says: its file, title lines and legend text, and the figures behind them."""

    path: Path
    title: str
    subtitle: str
    legend: list[str]               # the coverage lines printed in the legend(s), in order
    coverages: dict[str, Coverage]  # plan name -> coverage
    difference_km: float | None     # compare maps: covered road length of the second minus the first


def _city_box(network: RoadNetwork, scenario) -> tuple[float, float, float, float] | None:
    """[west, south, east, north] around the cluster of city sites, or None if sites are spread out.

    The inset zooms there so that sites a few hundred metres apart stay readable.
    """
    lon = np.array([s.lon for s in scenario.sites])
    lat = np.array([s.lat for s in scenario.sites])
    cos_lat = math.cos(math.radians(float(np.median(lat))))
    dist_m = np.hypot((lon - np.median(lon)) * cos_lat, lat - np.median(lat)) * METRES_PER_DEG_LAT
    near = dist_m <= 2500.0
    pad_deg = 500.0 / METRES_PER_DEG_LAT
    box = (lon[near].min() - pad_deg / cos_lat, lat[near].min() - pad_deg,
           lon[near].max() + pad_deg / cos_lat, lat[near].max() + pad_deg)
    west, south, east, north = network.bbox()
    # Worth an inset only when the cluster is a small part of the map.
    if (box[2] - box[0]) > 0.3 * (east - west) or (box[3] - box[1]) > 0.3 * (north - south):
        return None
    return box


class _LabelPlacer:
    """Greedy label placement: try a few offsets, take the first that overlaps no placed label."""

    # (dx, dy) of the label's anchor corner from the point, points; far ones get a leader line.
    _OFFSETS_PT = tuple(
        (dx, dy, "left" if dx > 0 else "right" if dx < 0 else "center", "bottom")
        for dy in (3, -14, 10, -22, 22, -34, 36, -48, 52, -64)
        for dx in (8, -8, 24, -24)
    )

    def __init__(self, ax) -> None:
        self.ax = ax
        self.placed: list[tuple[float, float, float, float]] = []

    def reserve(self, lon: float, lat: float, radius_px: float) -> None:
        """Keep labels off a marker."""
        x, y = self.ax.transData.transform((lon, lat))
        self.placed.append((x - radius_px, y - radius_px, x + radius_px, y + radius_px))

    def add(self, lon: float, lat: float, text: str, size_pt: float, **style) -> None:
        x, y = self.ax.transData.transform((lon, lat))
        px_per_pt = self.ax.figure.dpi / 72.0
        lines = text.split("\n")
        width = 0.6 * size_pt * max(len(line) for line in lines) * px_per_pt
        height = 1.3 * size_pt * len(lines) * px_per_pt
        frame = self.ax.bbox.extents
        candidates = []
        for rank, (dx_pt, dy_pt, ha, va) in enumerate(self._OFFSETS_PT):
            x0 = x + dx_pt * px_per_pt - {"left": 0, "right": width, "center": width / 2}[ha]
            y0 = y + dy_pt * px_per_pt
            box = (x0, y0, x0 + width, y0 + height)
            outside = not (frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1] and box[3] <= frame[3])
            clashes = sum(_overlap(box, other) for other in self.placed)
            # Inside the frame first, then fewest clashes, then the preferred offset.
            candidates.append((outside, clashes, rank, (dx_pt, dy_pt, ha, va, box)))
        dx_pt, dy_pt, ha, va, box = min(candidates, key=lambda c: c[:3])[3]
        self.placed.append(box)
        leader = {"arrowstyle": "-", "color": "#555555", "lw": 0.7} if abs(dy_pt) > 14 or abs(dx_pt) > 8 else None
        self.ax.annotate(text, (lon, lat), xytext=(dx_pt, dy_pt), textcoords="offset points", ha=ha, va=va,
                         fontsize=size_pt, zorder=8, arrowprops=leader, **style)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_roads(ax, network: RoadNetwork, bands: np.ndarray, n_bands: int, drawn: np.ndarray,
                width_scale: float) -> None:
    from matplotlib.collections import LineCollection

    tails = network.edge_tails[drawn]
    heads = network.indices[drawn]
    segments = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                         np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
    palette = np.array(_band_colours(n_bands) + [_BEYOND_COLOUR], dtype=object)
    colours = palette[bands[drawn]]
    classes = network.road_class[drawn]
    # Minor roads first, so arterials stay visible on top.
    for k in sorted(set(classes.tolist()), reverse=True):
        name = network.road_class_names[k]
        mask = classes == k
        ax.add_collection(LineCollection(segments[mask], colors=list(colours[mask]),
                                         linewidths=_ROAD_WIDTH.get(name, _MINOR_ROAD_WIDTH) * width_scale,
                                         capstyle="round", zorder=2 + (len(network.road_class_names) - k) * 0.01))


def _set_view(ax, box: Sequence[float], lat0: float) -> None:
    """Show at least ``box`` [west, south, east, north] at equal metres both ways, filling the axes."""
    cos_lat = math.cos(math.radians(lat0))
    position = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    axes_ratio = (position.width * fig_w) / (position.height * fig_h)    # width / height on paper
    west, south, east, north = box
    half_w, half_h = (east - west) / 2 * cos_lat, (north - south) / 2    # in degrees of latitude
    half_w, half_h = max(half_w, half_h * axes_ratio), max(half_h, half_w / axes_ratio)
    cx, cy = (west + east) / 2, (south + north) / 2
    ax.set_xlim(cx - half_w / cos_lat, cx + half_w / cos_lat)
    ax.set_ylim(cy - half_h, cy + half_h)
    # One degree of longitude is cos(lat) degrees of latitude long.
    ax.set_aspect(1.0 / cos_lat, adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.apply_aspect()


def _scale_bar(ax, lat0: float, length_km: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span_deg = length_km * 1000 / (METRES_PER_DEG_LAT * math.cos(math.radians(lat0)))
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + span_deg], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.text(x + span_deg / 2, y + 0.012 * (y1 - y0), f"{length_km:g} km", ha="center", va="bottom",
            fontsize=10, zorder=9)
    ax.annotate("N", xy=(x1 - 0.03 * (x1 - x0), y1 - 0.04 * (y1 - y0)),
                xytext=(x1 - 0.03 * (x1 - x0), y1 - 0.12 * (y1 - y0)), ha="center", fontsize=12,
                fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black"}, zorder=9)


def _draw_sites_and_units(ax, scenario, world, layer: PlanLayer, box: Sequence[float] | None,
                          zoomed: bool) -> None:
    """Towns, sites and unit positions.

    The inset (``zoomed``) labels what lies inside it; the main map labels what lies outside
    ``box`` (the inset's area), or everything when there is no inset.
    """
    network = world.network

    def in_box(lon: float, lat: float) -> bool:
        return box is not None and box[0] <= lon <= box[2] and box[1] <= lat <= box[3]

    def labelled(lon: float, lat: float) -> bool:
        return in_box(lon, lat) if zoomed else not in_box(lon, lat)

    labels = _LabelPlacer(ax)
    # Circuits along the roads and random-patrol pools.
    for path in layer.circuits:
        ax.plot(network.lon[path], network.lat[path], color=_UNIT_COLOUR, linewidth=2.2 if zoomed else 1.6,
                linestyle=(0, (4, 2)), zorder=5)
    for spot in layer.spots:
        if spot.mode == "random" and spot.sites[0] == "":
            nodes = list(spot.nodes)
            ax.scatter(network.lon[nodes], network.lat[nodes], s=14 if zoomed else 6, marker="+",
                       color=_UNIT_COLOUR, linewidths=1.0, zorder=5)
    site_by_id = {s.id: s for s in scenario.sites}
    # Sites: one symbol per kind; hollow where the position is approximate or a placeholder.
    for site in scenario.sites:
        marker, colour, _ = _SITE_STYLE.get(site.kind, _OTHER_SITE_STYLE)
        ax.scatter([site.lon], [site.lat], s=120 if zoomed else 60, marker=marker,
                   facecolors="white" if site.approximate else colour, edgecolors=colour,
                   linewidths=2.0, zorder=7)
        labels.reserve(site.lon, site.lat, 8)
    # Vehicles standing still (posts, bases): a badge with the count, up-left of the site marker.
    standing: dict[str, int] = defaultdict(int)
    for spot in layer.spots:
        if spot.mode in ("post", "base"):
            standing[spot.sites[0]] += spot.count
    badge_pt = 10 if zoomed else 7
    for site_id, count in standing.items():
        site = site_by_id[site_id]
        ax.annotate(str(count), (site.lon, site.lat), xytext=(-badge_pt, badge_pt), textcoords="offset points",
                    ha="center", va="center", fontsize=9 if zoomed else 7, color="white", fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": _UNIT_COLOUR, "ec": "white", "lw": 1}, zorder=9)
        x, y = ax.transData.transform((site.lon, site.lat))
        px = badge_pt * ax.figure.dpi / 72
        labels.placed.append((x - 2 * px, y, x, y + 2 * px))
    for name, lon, lat in towns_in(network):
        near_site = any(math.hypot(lon - s.lon, lat - s.lat) < 0.004 for s in scenario.sites)
        if labelled(lon, lat) and not near_site:
            ax.scatter([lon], [lat], s=8, color="#555555", zorder=6)
            labels.add(lon, lat, name, 9, color="#555555", fontstyle="italic")
    for site in scenario.sites:
        if labelled(site.lon, site.lat):
            text = textwrap.fill(site.name + (" (approx.)" if site.approximate else ""), 26)
            labels.add(site.lon, site.lat, text, 10 if zoomed else 9, color="#111111",
                       bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})


def _legend(ax, scenario, network: RoadNetwork, layer: PlanLayer, bands_min: Sequence[float], ncol: int) -> None:
    """Coverage figures on top, then the keys: bands, sites, units, roads."""
    from matplotlib.lines import Line2D

    ax.set_axis_off()
    chars_per_line = int(ax.bbox.width / (0.62 * 13 * ax.figure.dpi / 72))
    share_text = "\n".join(textwrap.fill(line, chars_per_line, subsequent_indent="   ") for line in layer.legend)
    ax.text(0.0, 1.0, share_text, transform=ax.transAxes, ha="left", va="top", fontsize=13,
            fontweight="bold", color="#111111")
    band_handles, lower = [], 0.0
    for colour, upper in zip(_band_colours(len(bands_min)), bands_min):
        band_handles.append(Line2D([], [], color=colour, linewidth=5, label=f"{lower:g}-{upper:g} min"))
        lower = upper
    band_handles.append(Line2D([], [], color=_BEYOND_COLOUR, linewidth=5, label=f"over {lower:g} min"))
    kinds = [k for k in dict.fromkeys(s.kind for s in scenario.sites)]
    site_handles = []
    for kind in kinds:
        marker, colour, words = _SITE_STYLE.get(kind, _OTHER_SITE_STYLE)
        site_handles.append(Line2D([], [], marker=marker, color=colour, markerfacecolor=colour, linestyle="none",
                                   markersize=9, label=words))
    if any(s.approximate for s in scenario.sites):
        site_handles.append(Line2D([], [], marker="o", color="#444444", markerfacecolor="white", linestyle="none",
                                   markeredgewidth=2, markersize=9, label="hollow: approximate position"))
    unit_handles = [
        Line2D([], [], marker="o", color=_UNIT_COLOUR, markerfacecolor=_UNIT_COLOUR, markeredgecolor="white",
               linestyle="none", markersize=13, label="vehicles at a post or base (number)"),
        Line2D([], [], color=_UNIT_COLOUR, linewidth=2, linestyle=(0, (4, 2)), label="circuit route"),
        Line2D([], [], marker="+", color=_UNIT_COLOUR, linestyle="none", markersize=8,
               label="random-patrol road points"),
    ]
    road_handles = [Line2D([], [], color="#777777", linewidth=_ROAD_WIDTH.get(n, _MINOR_ROAD_WIDTH) * 1.5, label=n)
                    for n in network.road_class_names]
    sections = [
        (f"Minutes to the nearest unit\n(target {scenario.target_response_min:g} min)", band_handles),
        ("Sites", site_handles),
        ("Units", unit_handles),
        ("Roads", road_handles),
    ]
    # Wide legend: four columns. Narrow: three, units under the bands.
    columns = [[0], [1], [2], [3]] if ncol >= 4 else [[0, 2], [1], [3]]
    size_pt = 11 if ncol >= 4 else 10
    entry_frac = size_pt * 1.75 * ax.figure.dpi / 72 / ax.bbox.height    # one legend row, axes fraction
    top = 1.0 - (len(share_text.splitlines()) + 0.8) * entry_frac * 1.2
    for col, members in enumerate(columns):
        y = top
        for i in members:
            title, handles = sections[i]
            legend = ax.legend(handles=handles, title=title, loc="upper left", fontsize=size_pt,
                               title_fontsize=size_pt, bbox_to_anchor=(col / len(columns), y), frameon=False,
                               alignment="left", borderaxespad=0.0)
            ax.add_artist(legend)
            y -= (len(handles) + 1.6) * entry_frac


def _panel(fig, scenario, world, layer: PlanLayer, bands_min: Sequence[float], rects: dict[str, list[float]],
           city_box: Sequence[float] | None, ncol: int) -> None:
    """One plan's map, inset (when ``city_box``) and legend in the given figure rectangles (fractions)."""
    from matplotlib.patches import Rectangle

    network = world.network
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    bands = edge_bands(network, layer.coverage.time_min, bands_min)
    drawn = _drawn_edges(network)
    inset_view = None
    if city_box is not None:
        inset = fig.add_axes(rects["inset"])
        _set_view(inset, city_box, lat0)
        (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
        inset_view = (x0, y0, x1, y1)
        _draw_roads(inset, network, bands, len(bands_min), drawn, 2.0)
        _draw_sites_and_units(inset, scenario, world, layer, inset_view, zoomed=True)
        _scale_bar(inset, lat0, 1.0)
        inset.set_title("Jember city centre (black box on the map)", fontsize=11, loc="left")
    ax = fig.add_axes(rects["map"])
    pad = 0.01 * (east - west)
    _set_view(ax, (west - pad, south - pad, east + pad, north + pad), lat0)
    _draw_roads(ax, network, bands, len(bands_min), drawn, 1.0)
    _draw_sites_and_units(ax, scenario, world, layer, inset_view, zoomed=False)
    _scale_bar(ax, lat0, 10.0 if east - west > 0.2 else 1.0)
    chars = int(ax.bbox.width / (0.6 * 12 * fig.dpi / 72))
    ax.set_title(textwrap.shorten(f"plan '{layer.name}': {layer.description}", chars, placeholder=" ..."),
                 fontsize=12, loc="left")
    if inset_view is not None:
        ax.add_patch(Rectangle(inset_view[:2], inset_view[2] - inset_view[0], inset_view[3] - inset_view[1],
                               fill=False, edgecolor="black", linewidth=1.2, zorder=10))
    _legend(fig.add_axes(rects["legend"]), scenario, network, layer, bands_min, ncol)


def _frac(fig_px: tuple[int, int], left_px: float, top_px: float, width_px: float, height_px: float) -> list[float]:
    """A figure rectangle in fractions from pixels measured from the top-left corner."""
    w, h = fig_px
    return [left_px / w, 1 - (top_px + height_px) / h, width_px / w, height_px / h]


def draw_map_png(scenario, world, plans: Sequence[str], out: Path, bands_min: Sequence[float],
                 size_px: tuple[int, int] | None = None) -> MapResult:
    """Draw one plan, or two side by side, to a PNG of ``size_px`` (width, height) pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    network = world.network
    layers = [plan_layer(scenario, world, p) for p in plans]
    size_px = size_px or (SIZE_PX if len(layers) == 1 else COMPARE_SIZE_PX)
    w, h = size_px
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    city_box = _city_box(network, scenario)
    title = _title(scenario, network, plans)
    subtitle = _subtitle(network, bands_min)
    fig.text(0.01, 1 - 14 / h, title, ha="left", va="top", fontsize=17, fontweight="bold")
    fig.text(0.01, 1 - 46 / h, subtitle, ha="left", va="top", fontsize=11,
             color="#b2182b" if network.synthetic else "#333333")
    top = 118.0 if len(layers) == 1 else 140.0
    difference_km = None
    if len(layers) == 2:
        cov_a, cov_b = layers[0].coverage, layers[1].coverage
        difference_km = (cov_b.covered_length_m - cov_a.covered_length_m) / 1000
        fig.text(0.01, 1 - 92 / h, difference_line(plans[0], cov_a, plans[1], cov_b), ha="left", va="top",
                 fontsize=13, fontweight="bold")
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    network_ratio = (east - west) * math.cos(math.radians(lat0)) / (north - south)   # width / height
    if len(layers) == 1:
        map_w = 0.69 * w
        map_h = min(h - top - 300, map_w / network_ratio)
        if city_box is None:
            rects = {"map": _frac(size_px, 10, top, map_w, h - top - 20),
                     "legend": _frac(size_px, map_w + 30, top + 20, w - map_w - 45, h - top - 40)}
        else:
            rects = {"map": _frac(size_px, 10, top, map_w, map_h),
                     "inset": _frac(size_px, map_w + 25, top, w - map_w - 35, map_h),
                     "legend": _frac(size_px, 20, top + map_h + 15, w - 40, h - top - map_h - 25)}
        _panel(fig, scenario, world, layers[0], bands_min, rects, city_box, ncol=4 if city_box else 2)
    else:
        col_w = w / 2
        map_h = min(0.62 * (h - top), (col_w - 20) / network_ratio)
        for i, layer in enumerate(layers):
            left = i * col_w
            low_top, low_h = top + map_h + 30, h - top - map_h - 50
            rects = {"map": _frac(size_px, left + 10, top, col_w - 20, map_h),
                     "inset": _frac(size_px, left + 10, low_top, 0.36 * col_w, low_h),
                     "legend": _frac(size_px, left + 0.36 * col_w + 30, low_top, 0.62 * col_w - 40, low_h)}
            if city_box is None:
                rects["legend"] = _frac(size_px, left + 20, low_top, col_w - 40, low_h)
            _panel(fig, scenario, world, layer, bands_min, rects, city_box, ncol=2)
    if network.synthetic:
        fig.text(0.995, 0.005, "synthetic road network, not real roads", ha="right", va="bottom", fontsize=10,
                 color="#b2182b", fontweight="bold")
    write_whole(out, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    return MapResult(out, title, subtitle, [line for layer in layers for line in layer.legend],
                     {layer.name: layer.coverage for layer in layers}, difference_km)



# ----------------------------------------------------------------------------- HTML


def _polylines(network: RoadNetwork, drawn: np.ndarray) -> dict[str, list[list[int]]]:
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


def map_data(scenario, world, plans: Sequence[str], bands_min: Sequence[float]) -> dict:
    """Everything the HTML page draws, as JSON-ready data (coordinates in whole metres)."""
    network = world.network
    west, south, east, north = network.bbox()
    cos_lat = math.cos(math.radians((south + north) / 2))

    def metres(lon: float, lat: float) -> tuple[int, int]:
        return round((lon - west) * cos_lat * METRES_PER_DEG_LAT), round((lat - south) * METRES_PER_DEG_LAT)

    xs = np.round((network.lon - west) * cos_lat * METRES_PER_DEG_LAT).astype(np.int64)
    ys = np.round((network.lat - south) * METRES_PER_DEG_LAT).astype(np.int64)
    drawn = _drawn_edges(network)
    layers = [plan_layer(scenario, world, p) for p in plans]
    plan_data = []
    for layer in layers:
        time_min = layer.coverage.time_min
        node_band = np.searchsorted(np.asarray(bands_min, float), time_min, side="left")
        standing: dict[str, int] = defaultdict(int)
        for spot in layer.spots:
            if spot.mode in ("post", "base"):
                standing[spot.sites[0]] += spot.count
        plan_data.append({
            "name": layer.name,
            "description": layer.description,
            "legend": layer.legend,
            "band": "".join(map(str, node_band.tolist())),
            # Tenths of a minute; unreachable nodes (none in a strongly connected network) as -1.
            "time_dmin": np.where(np.isfinite(time_min), np.round(time_min * 10), -1).astype(np.int64).tolist(),
            "standing": [[site, count] for site, count in standing.items()],
            "circuits": [_deltas(path) for path in layer.circuits],
            "pools": [list(spot.nodes) for spot in layer.spots if spot.mode == "random" and spot.sites[0] == ""],
        })
    extra = []
    if len(layers) == 2:
        extra = [difference_line(plans[0], layers[0].coverage, plans[1], layers[1].coverage)]
    sites = []
    for site in scenario.sites:
        x, y = metres(site.lon, site.lat)
        marker, colour, words = _SITE_STYLE.get(site.kind, _OTHER_SITE_STYLE)
        sites.append({"id": site.id, "name": site.name, "kind": words, "marker": marker, "colour": colour,
                      "approx": site.approximate, "node": world.site_node[site.id], "x": x, "y": y})
    towns = [{"name": name, "xy": metres(lon, lat)} for name, lon, lat in towns_in(network)]
    width_m, height_m = metres(east, north)
    return {
        "title": _title(scenario, network, plans),
        "subtitle": _subtitle(network, bands_min),
        "synthetic": network.synthetic,
        "target_min": scenario.target_response_min,
        "bands_min": list(bands_min),
        "band_colours": _band_colours(len(bands_min)) + [_BEYOND_COLOUR],
        "unit_colour": _UNIT_COLOUR,
        "size_m": [width_m, height_m],
        "x_m": _deltas(xs), "y_m": _deltas(ys),
        "roads": [{"name": name, "width": _ROAD_WIDTH.get(name, _MINOR_ROAD_WIDTH),
                   "lines": [_deltas(line) for line in lines]}
                  for name, lines in reversed(list(_polylines(network, drawn).items()))],   # minor first
        "sites": sites,
        "towns": towns,
        "plans": plan_data,
        "difference": extra,
    }


def html_page(data: dict) -> str:
    """A self-contained page: the data as JSON and a canvas renderer, no external resources."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (_HTML_TEMPLATE.replace("__TITLE__", _html_escape(data["title"]))
            .replace("__DATA__", payload).replace("__SCRIPT__", _HTML_SCRIPT))


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_map_html(scenario, world, plans: Sequence[str], out: Path, bands_min: Sequence[float]) -> MapResult:
    """Write the interactive page for one plan, or two to switch between, to ``out``."""
    data = map_data(scenario, world, plans, bands_min)
    page = html_page(data)
    write_whole(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    network = world.network
    coverages = {p: plan_coverage(scenario, world, p) for p in plans}
    difference_km = None
    if len(plans) == 2:
        difference_km = (coverages[plans[1]].covered_length_m - coverages[plans[0]].covered_length_m) / 1000
    return MapResult(out, data["title"], _subtitle(network, bands_min),
                     [line for plan in data["plans"] for line in plan["legend"]], coverages, difference_km)


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
html,body{margin:0;height:100%;overflow:hidden;font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111}
#map{position:absolute;inset:0;width:100%;height:100%;cursor:grab;background:#fff}
#map.dragging{cursor:grabbing}
#head{position:absolute;left:10px;top:8px;right:10px;pointer-events:none}
#head h1{font-size:19px;margin:0 0 2px}
#head .sub{color:#b2182b;font-size:13px;white-space:pre-line}
#legend{position:absolute;left:10px;bottom:10px;background:rgba(255,255,255,.93);border:1px solid #bbb;
 border-radius:6px;padding:8px 10px;max-width:560px;font-size:13px}
#legend .shares{font-weight:600;margin-bottom:6px}
#legend .row{display:inline-block;margin:0 12px 2px 0;white-space:nowrap}
#legend .sw{display:inline-block;width:22px;height:6px;margin-right:5px;vertical-align:middle;border-radius:2px}
#legend button{font:inherit;margin:0 6px 6px 0}
#legend button.on{font-weight:700}
#tooltip{position:absolute;display:none;pointer-events:none;background:#222;color:#fff;padding:5px 8px;
 border-radius:4px;font-size:13px;white-space:pre-line;max-width:320px}
#corner{position:absolute;right:10px;bottom:10px;color:#b2182b;font-weight:700;font-size:13px;
 background:rgba(255,255,255,.85);padding:2px 6px;border-radius:4px}
#help{position:absolute;right:10px;top:10px;color:#555;font-size:12px;background:rgba(255,255,255,.85);padding:2px 6px}
</style></head>
<body>
<canvas id="map"></canvas>
<div id="head"><h1 id="title"></h1><div class="sub" id="subtitle"></div></div>
<div id="help">wheel: zoom &middot; drag: pan &middot; hover: names and minutes &middot; double-click: reset</div>
<div id="legend"></div>
<div id="tooltip"></div>
<div id="corner"></div>
<script id="map-data" type="application/json">__DATA__</script>
<script>__SCRIPT__</script>
</body></html>
"""

_HTML_SCRIPT = r"""
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("map-data").textContent);
  function undelta(a) { var out = new Array(a.length), s = 0; for (var i = 0; i < a.length; i++) { s += a[i]; out[i] = s; } return out; }
  var X = undelta(D.x_m), Y = undelta(D.y_m), N = X.length;
  var roads = D.roads.map(function (r) { return {name: r.name, width: r.width, lines: r.lines.map(undelta)}; });
  var plans = D.plans.map(function (p) {
    return {name: p.name, description: p.description, legend: p.legend, band: p.band, time: p.time_dmin,
            standing: p.standing, circuits: p.circuits.map(undelta), pools: p.pools, paths: null};
  });
  var siteById = {}; D.sites.forEach(function (s) { siteById[s.id] = s; });
  var canvas = document.getElementById("map"), ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip");
  var state = {plan: 0, scale: 1, tx: 0, ty: 0, hover: "", draws: 0};
  window.patrolMap = state;   // inspected by tests and handy in the console

  // Road paths per (class, band) for the current plan, built once per plan.
  function buildPaths(p) {
    var nb = D.band_colours.length, paths = [];
    roads.forEach(function (r) {
      var byBand = []; for (var b = 0; b < nb; b++) byBand.push(new Path2D());
      r.lines.forEach(function (line) {
        for (var i = 1; i < line.length; i++) {
          var a = line[i - 1], c = line[i];
          var band = Math.max(+p.band[a], +p.band[c]);
          var path = byBand[band];
          path.moveTo(X[a], -Y[a]); path.lineTo(X[c], -Y[c]);
        }
      });
      paths.push({width: r.width, byBand: byBand});
    });
    return paths;
  }

  function fit() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    var s = Math.min(w / (D.size_m[0] * 1.04), (h - 90) / (D.size_m[1] * 1.04));
    state.scale = s; state.tx = (w - D.size_m[0] * s) / 2; state.ty = 90 + (h - 90 + D.size_m[1] * s) / 2;
  }
  function resize() {
    var r = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * r); canvas.height = Math.round(canvas.clientHeight * r);
    draw();
  }
  function toScreen(x, y) { return [state.tx + x * state.scale, state.ty - y * state.scale]; }
  function toData(px, py) { return [(px - state.tx) / state.scale, (state.ty - py) / state.scale]; }
  state.siteScreen = function (id) { return toScreen(siteById[id].x, siteById[id].y); };

  function marker(shape, x, y, r, colour, hollow) {
    ctx.beginPath();
    if (shape === "s") ctx.rect(x - r, y - r, 2 * r, 2 * r);
    else if (shape === "D") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y); ctx.closePath(); }
    else if (shape === "^") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r); ctx.lineTo(x - r * 1.2, y + r); ctx.closePath(); }
    else if (shape === "v") { ctx.moveTo(x, y + r * 1.3); ctx.lineTo(x + r * 1.2, y - r); ctx.lineTo(x - r * 1.2, y - r); ctx.closePath(); }
    else ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = hollow ? "#fff" : colour; ctx.fill();
    ctx.lineWidth = 2.2; ctx.strokeStyle = colour; ctx.stroke();
  }

  function draw() {
    var p = plans[state.plan], r = window.devicePixelRatio || 1;
    if (!p.paths) p.paths = buildPaths(p);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    // Roads in metres: one transform, widths in screen pixels (growing a little with zoom).
    ctx.setTransform(r * state.scale, 0, 0, r * state.scale, r * state.tx, r * state.ty);
    ctx.lineCap = "round";
    var zoomWidth = Math.max(1, Math.min(3, Math.sqrt(state.scale * 40)));
    p.paths.forEach(function (road) {
      ctx.lineWidth = road.width * zoomWidth / state.scale;
      road.byBand.forEach(function (path, band) { ctx.strokeStyle = D.band_colours[band]; ctx.stroke(path); });
    });
    ctx.setTransform(r, 0, 0, r, 0, 0);
    // Circuits and random-patrol points.
    ctx.strokeStyle = D.unit_colour; ctx.lineWidth = 2; ctx.setLineDash([7, 4]);
    p.circuits.forEach(function (path) {
      ctx.beginPath();
      path.forEach(function (n, i) { var q = toScreen(X[n], Y[n]); if (i) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]); });
      ctx.stroke();
    });
    ctx.setLineDash([]); ctx.lineWidth = 1.5;
    p.pools.forEach(function (pool) {
      pool.forEach(function (n) {
        var q = toScreen(X[n], Y[n]);
        ctx.beginPath(); ctx.moveTo(q[0] - 4, q[1]); ctx.lineTo(q[0] + 4, q[1]); ctx.moveTo(q[0], q[1] - 4); ctx.lineTo(q[0], q[1] + 4); ctx.stroke();
      });
    });
    // Towns, then sites with names when zoomed in enough to read them.
    ctx.font = "italic 12px system-ui, sans-serif"; ctx.fillStyle = "#555";
    D.towns.forEach(function (t) { var q = toScreen(t.xy[0], t.xy[1]); ctx.fillRect(q[0] - 2, q[1] - 2, 4, 4); ctx.fillText(t.name, q[0] + 5, q[1] - 4); });
    var showNames = state.scale > 0.03;
    D.sites.forEach(function (s) {
      var q = toScreen(s.x, s.y);
      marker(s.marker, q[0], q[1], 6, s.colour, s.approx);
      if (showNames) {
        var label = s.name + (s.approx ? " (approx.)" : "");
        ctx.font = "13px system-ui, sans-serif"; ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.85)";
        ctx.strokeText(label, q[0] + 10, q[1] + 4); ctx.fillStyle = "#111"; ctx.fillText(label, q[0] + 10, q[1] + 4);
      }
    });
    p.standing.forEach(function (pair) {
      var s = siteById[pair[0]], q = toScreen(s.x, s.y);
      ctx.beginPath(); ctx.arc(q[0] - 10, q[1] - 10, 8, 0, 2 * Math.PI);
      ctx.fillStyle = D.unit_colour; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
      ctx.fillStyle = "#fff"; ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText(String(pair[1]), q[0] - 10, q[1] - 6); ctx.textAlign = "start";
    });
    // Scale bar: a round number of metres about 120 px long.
    var target = 120 / state.scale, unit = Math.pow(10, Math.floor(Math.log10(target)));
    var len = [1, 2, 5, 10].map(function (k) { return k * unit; }).filter(function (m) { return m <= target; }).pop();
    var h = canvas.clientHeight, x0 = canvas.clientWidth - 30 - len * state.scale, y0 = h - 44;
    ctx.fillStyle = "#111"; ctx.fillRect(x0, y0, len * state.scale, 4);
    ctx.font = "12px system-ui, sans-serif"; ctx.fillText(len >= 1000 ? (len / 1000) + " km" : len + " m", x0, y0 - 5);
    state.draws += 1;
  }

  function legend() {
    var el = document.getElementById("legend"), html = "";
    if (plans.length > 1) {
      plans.forEach(function (p, i) { html += '<button data-plan="' + i + '" class="' + (i === state.plan ? "on" : "") + '">' + esc(p.name) + "</button>"; });
      html += '<div class="shares">' + D.difference.map(esc).join("<br>") + "</div>";
    }
    var p = plans[state.plan];
    html += "<div><b>plan '" + esc(p.name) + "'</b>: " + esc(p.description) + "</div>";
    html += '<div class="shares">' + p.legend.map(esc).join("<br>") + "</div>";
    html += "<div>Minutes from the nearest unit (target " + D.target_min + "):</div>";
    var lower = 0;
    D.bands_min.forEach(function (b, i) { html += '<span class="row"><span class="sw" style="background:' + D.band_colours[i] + '"></span>' + lower + "&ndash;" + b + " min</span>"; lower = b; });
    html += '<span class="row"><span class="sw" style="background:' + D.band_colours[D.band_colours.length - 1] + '"></span>over ' + lower + " min</span>";
    var kinds = {};
    D.sites.forEach(function (s) { kinds[s.kind] = s; });
    html += "<div>";
    var glyph = {s: "&#9632;", D: "&#9670;", "^": "&#9650;", v: "&#9660;", o: "&#9679;"};
    Object.keys(kinds).forEach(function (k) { html += '<span class="row"><span style="color:' + kinds[k].colour + '">' + (glyph[kinds[k].marker] || "&#9679;") + "</span> " + esc(k) + "</span>"; });
    if (D.sites.some(function (s) { return s.approx; })) html += '<span class="row">&#9675; hollow: approximate position</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">&#11044;</span> vehicles at a post or base (number)</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">- - -</span> circuit route</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">+</span> random-patrol road points</span></div>';
    el.innerHTML = html;
    Array.prototype.forEach.call(el.querySelectorAll("button"), function (b) {
      b.addEventListener("click", function () { state.plan = +b.getAttribute("data-plan"); legend(); draw(); });
    });
  }
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  // Nearest node under the pointer: a grid of 500 m cells.
  var CELL = 500, grid = {};
  for (var i = 0; i < N; i++) { var key = Math.floor(X[i] / CELL) + "," + Math.floor(Y[i] / CELL); (grid[key] = grid[key] || []).push(i); }
  function nearestNode(x, y, maxM) {
    var best = -1, bestD = maxM * maxM, cx = Math.floor(x / CELL), cy = Math.floor(y / CELL), reach = Math.ceil(maxM / CELL);
    for (var gx = cx - reach; gx <= cx + reach; gx++) for (var gy = cy - reach; gy <= cy + reach; gy++) {
      (grid[gx + "," + gy] || []).forEach(function (n) { var d = (X[n] - x) * (X[n] - x) + (Y[n] - y) * (Y[n] - y); if (d < bestD) { bestD = d; best = n; } });
    }
    return best;
  }
  function minutes(n) { var t = plans[state.plan].time[n]; return t < 0 ? "not reachable" : (t / 10).toFixed(1) + " min from the nearest unit"; }
  function hover(px, py) {
    var text = "";
    D.sites.forEach(function (s) {
      var q = toScreen(s.x, s.y);
      if (!text && Math.abs(q[0] - px) < 10 && Math.abs(q[1] - py) < 10)
        text = s.name + (s.approx ? " (approximate position)" : "") + "\n" + s.kind + ": " + minutes(s.node);
    });
    if (!text) {
      var d = toData(px, py), n = nearestNode(d[0], d[1], 15 / state.scale);
      if (n >= 0) text = "road: " + minutes(n);
    }
    state.hover = text;
    tooltip.textContent = text;
    tooltip.style.display = text ? "block" : "none";
    tooltip.style.left = (px + 14) + "px"; tooltip.style.top = (py + 14) + "px";
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = [e.clientX, e.clientY, state.tx, state.ty]; canvas.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { drag = null; canvas.classList.remove("dragging"); });
  canvas.addEventListener("mousemove", function (e) {
    if (drag) { state.tx = drag[2] + e.clientX - drag[0]; state.ty = drag[3] + e.clientY - drag[1]; draw(); }
    else hover(e.offsetX, e.offsetY);
  });
  canvas.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var k = Math.exp(-e.deltaY * 0.0015), d = toData(e.offsetX, e.offsetY);
    state.scale = Math.max(1e-4, Math.min(20, state.scale * k));
    state.tx = e.offsetX - d[0] * state.scale; state.ty = e.offsetY + d[1] * state.scale;
    draw();
  }, {passive: false});
  canvas.addEventListener("dblclick", function () { fit(); draw(); });
  window.addEventListener("resize", resize);

  document.getElementById("title").textContent = D.title;
  document.getElementById("subtitle").textContent = D.subtitle;
  document.getElementById("corner").textContent = D.synthetic ? "synthetic road network, not real roads" : "";
  if (!D.synthetic) document.getElementById("corner").style.display = "none";
  legend(); fit(); resize();
})();
"""


# ----------------------------------------------------------------------------- command line


def parse_bands(text: str) -> tuple[float, ...]:
    """``"5,10,15,20"`` -> (5.0, 10.0, 15.0, 20.0); InputError unless positive and increasing."""
    try:
        bands = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--bands {text!r}: give minutes separated by commas, e.g. 5,10,15,20") from None
    if not bands or any(not math.isfinite(b) or b <= 0 for b in bands) or list(bands) != sorted(set(bands)):
        raise InputError(f"--bands {text!r}: minutes must be positive and increasing, e.g. 5,10,15,20")
    return bands


def map_command(args: argparse.Namespace) -> MapResult:
    """``map SCENARIO --plan P [--compare P2] --out FILE.png|FILE.html [--bands ...] [--network ...]``."""
    from sim.config import load_scenario
    from sim.model import build_world
    from sim.network.roads import load_network

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html"):
        raise InputError(f"--out {str(out)!r}: the map is written as .png or .html, not {suffix or 'no extension'!r}")
    bands_min = parse_bands(args.bands)
    scenario = load_scenario(args.scenario)
    plans = [args.plan] + ([args.compare] if args.compare else [])
    for name in plans:
        choose_plans(scenario, [name])   # InputError with a suggestion for an unknown name
    if len(set(plans)) != len(plans):
        raise InputError(f"--compare: '{args.compare}' is the plan itself; name another plan")
    network = load_network(network_spec(scenario, args.network))
    world = build_world(scenario, network)
    if suffix == ".png":
        result = draw_map_png(scenario, world, plans, out, bands_min)
    else:
        result = draw_map_html(scenario, world, plans, out, bands_min)
    for line in result.legend:
        print(line)
    if result.difference_km is not None:
        print(f"difference in covered road length: {result.difference_km:+,.1f} km")
    if network.synthetic:
        print(f"Road network: {network.source_label}.")
    print(f"map written to {out}")
    return result
