"""The coverage map as a PNG (matplotlib, no pyplot: no GUI, safe in workers).

One plan fills the page: the whole network on the left, an inset of the town where the listed
sites cluster (titled with the kecamatan it frames), the legend below; two plans (``--compare``)
stand side by side under a headline giving the difference in covered road length, with below them
the difference map (roads that gain or lose coverage) and one legend for both. With simulated
results, sites (or, on a map of many sites, kecamatan circles) are filled by their share of
incidents reached within the target and the legend names where the plan misses it. What is drawn
over the roads is ``map_marks``'; labels never overlap and what does not fit is counted.
Drawing is in degrees (lon, lat) with an aspect of 1 / cos(latitude), so metres are equal both ways.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.i18n import Messages, messages
from sim.model.world import World
from sim.network import RoadNetwork
from sim.network.geo import EARTH_RADIUS_M, project_m
from sim.viz.coverage import (
    BOTH,
    GAINED,
    LOST,
    NEITHER,
    PlanLayer,
    coverage_change,
    difference_km,
    difference_line,
    drawn_edges,
    edge_bands,
    plan_layer,
)
from sim.viz.map_areas import AreaResult, area_cells, draw_area_cells
from sim.viz.map_labels import LabelPlacer
from sim.viz.map_legend import plan_legend, shared_legend
from sim.viz.map_marks import MarksView, city_names, cluster_centre, draw_marks, label_count, listed_sites, many_sites
from sim.viz.map_results import SiteResult
from sim.viz.palette import band_colours
from sim.viz.plots import save_png
from sim.viz.words import synthetic_badge

if TYPE_CHECKING:
    from matplotlib.text import Text
from sim.viz.map_style import (
    BEYOND_COLOUR,
    CHANGE_COLOURS,
    MapResult,
    map_result,
    map_subtitle,
    map_title,
    road_width,
    towns_in,
)

SIZE_PX = (1600, 1300)           # one plan
COMPARE_SIZE_PX = (1600, 1560)   # two plans side by side, their difference and one legend below
DPI = 100
TITLE_PT = 17.0                  # the map's title, unless it must shrink to end before the synthetic badge
MIN_TITLE_PT = 11.0
WRAPPED_TITLE_PT = 9.0           # a title too long for one line at MIN_TITLE_PT: two lines of this
TITLE_GAP_PX = 12.0              # between the title's end and the badge
LEGEND_MARGIN_PX = 8.0           # the legend ends at least this far above the picture's bottom
CITY_RADIUS_M = 2500.0           # the inset frames the listed sites within this of their densest point
# Metres per degree of latitude in the network's projection (sim.network.geo), for degree arithmetic.
M_PER_DEG_LAT = math.radians(1.0) * EARTH_RADIUS_M


def _city_box(network: RoadNetwork, scenario) -> tuple[float, float, float, float] | None:
    """[west, south, east, north] around the densest cluster of the scenario's listed sites (not those
    of site sets: thousands of polling stations spread over the regency), or None if they are spread out.

    The inset zooms there so that sites a few hundred metres apart stay readable.
    """
    sites = listed_sites(scenario)
    if not sites:
        return None
    centre = sites[cluster_centre(sites, CITY_RADIUS_M)]
    lon = np.array([s.lon for s in sites])
    lat = np.array([s.lat for s in sites])
    cos_lat = math.cos(math.radians(centre.lat))
    x_m, y_m = project_m(lon, lat, (centre.lon, centre.lat))
    near = np.hypot(x_m, y_m) <= CITY_RADIUS_M
    # Room around the outermost sites for their labels (more east-west: labels are wide).
    pad_deg, pad_x_deg = 500.0 / M_PER_DEG_LAT, 1100.0 / M_PER_DEG_LAT / cos_lat
    box = (lon[near].min() - pad_x_deg, lat[near].min() - pad_deg,
           lon[near].max() + pad_x_deg, lat[near].max() + pad_deg)
    west, south, east, north = network.bbox()
    # Worth an inset only when the cluster is a small part of the map.
    if (box[2] - box[0]) > 0.3 * (east - west) or (box[3] - box[1]) > 0.3 * (north - south):
        return None
    return box


def _draw_roads(ax, network: RoadNetwork, bands: np.ndarray, colours: Sequence[str], drawn: np.ndarray,
                width_scale: float) -> None:
    """Roads coloured by their band (``colours``: one per band, then beyond the last), minor roads first.

    Only the roads that can show in the axes' view are handed to matplotlib (an inset sees a few
    thousand of the network's edges), and colours go as RGBA rows, not names to look up per edge.
    Consecutive roads of one colour go as one polyline broken by NaN (``road_runs``), so matplotlib
    makes a few hundred paths, not one per road, and draws them in the same order."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba_array

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    tails = network.edge_tails[drawn]
    heads = network.indices[drawn]
    lon_t, lat_t, lon_h, lat_h = network.lon[tails], network.lat[tails], network.lon[heads], network.lat[heads]
    # A margin of a tenth of the view: a road's width and round cap reach a few pixels past its ends.
    mx, my = 0.1 * abs(x1 - x0), 0.1 * abs(y1 - y0)
    seen = ((np.maximum(lon_t, lon_h) >= min(x0, x1) - mx) & (np.minimum(lon_t, lon_h) <= max(x0, x1) + mx)
            & (np.maximum(lat_t, lat_h) >= min(y0, y1) - my) & (np.minimum(lat_t, lat_h) <= max(y0, y1) + my))
    segments = np.stack([np.column_stack([lon_t, lat_t]), np.column_stack([lon_h, lat_h])], axis=1)[seen]
    rgba = to_rgba_array(list(colours))
    band = bands[drawn][seen]
    classes = network.road_class[drawn][seen]
    # Minor roads first, so arterials stay visible on top.
    for k in sorted(set(classes.tolist()), reverse=True):
        name = network.road_class_names[k]
        mask = classes == k
        lines, colour = road_runs(segments[mask], band[mask], ax.transData.transform)
        # The view is set: autolim would only measure the 100,000 segments to change nothing.
        ax.add_collection(LineCollection(lines, colors=rgba[colour], linewidths=road_width(name) * width_scale,
                                         capstyle="round", zorder=2 + (len(network.road_class_names) - k) * 0.01),
                          autolim=False)


#: Agg snaps a path to whole pixels only when it has at most this many vertices, all its lines
#: horizontal or vertical (matplotlib's snap mode "auto"): a run is kept within it.
SNAP_VERTICES = 1024


def road_runs(segments: np.ndarray, colour: np.ndarray, to_px) -> tuple[list[np.ndarray], np.ndarray]:
    """Segments (n, 2, 2) in drawing order as polylines broken by NaN rows, one per run of
    consecutive segments of one ``colour`` (index per segment), and each polyline's colour index.

    A polyline draws as its segments drawn one by one in the same order, each its own stroke with
    its own caps (where two overlap, their antialiased edge is drawn once instead of twice). Agg
    snaps a path to whole pixels when every line in it is horizontal or vertical in pixels (``to_px``:
    data to pixels) and it has at most SNAP_VERTICES vertices; a segment alone is such a path when it
    is straight across or up, so runs also split where that changes and stay within the bound, and
    every segment is snapped as it was when drawn alone."""
    n = len(segments)
    if n == 0:
        return [], np.zeros(0, dtype=int)
    px = to_px(segments.reshape(-1, 2)).reshape(n, 2, 2)
    dx, dy = np.abs(px[:, 1] - px[:, 0]).T
    upright = (dx < 1e-4) | (dy < 1e-4)   # Agg's own test of a line it may snap
    key = colour.astype(np.int64) * 2 + upright
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    per_run = (SNAP_VERTICES + 1) // 3    # three rows a segment: its two ends and the NaN break
    starts = np.unique(np.concatenate([np.arange(a, b, per_run) for a, b in zip(starts, np.r_[starts[1:], n])]))
    rows = np.concatenate([segments, np.full((n, 1, 2), np.nan)], axis=1).reshape(-1, 2)
    ends = np.r_[starts[1:], n]
    return [rows[3 * a:3 * b - 1] for a, b in zip(starts, ends)], colour[starts]


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


def _scale_bar(ax, lat0: float, length_km: float, m: Messages) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span_deg = length_km * 1000 / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + span_deg], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.text(x + span_deg / 2, y + 0.012 * (y1 - y0), m("map.km", n=m.num(length_km, "g")), ha="center",
            va="bottom", fontsize=10, zorder=9)
    ax.annotate(m("map.north"), xy=(x1 - 0.03 * (x1 - x0), y1 - 0.04 * (y1 - y0)),
                xytext=(x1 - 0.03 * (x1 - x0), y1 - 0.12 * (y1 - y0)), ha="center", fontsize=12,
                fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black"}, zorder=9)


def _inset_title(scenario, view: Sequence[float], chars: int, m: Messages) -> str:
    """What the inset frames (the kecamatan of the sites inside it), in at most two lines of ``chars``."""
    names = city_names(scenario, view)
    where = m("map.inset.sites", names=", ".join(names)) if names else m("map.inset.none")
    lines = textwrap.wrap(m("map.inset", where=where), chars)
    return "\n".join(lines[:1] + [textwrap.shorten(" ".join(lines[1:]), chars, placeholder=" ...")][:len(lines) - 1])


def _panel(fig, scenario, world: World, layer: PlanLayer, bands_min: Sequence[float], rects: dict[str, list[float]],
           city_box: Sequence[float] | None, results: Mapping[str, SiteResult] | None,
           areas: Mapping[str, AreaResult] | None, m: Messages) -> tuple[int, int, object]:
    """One plan's map (and its inset, when ``city_box``) in the given figure rectangles (fractions);
    returns (sites that could be named, of them left out, the main axes). On a map of many sites the
    kecamatan cells are outlined and each kecamatan is a circle (``map_marks``)."""
    from matplotlib.patches import Rectangle

    network = world.network
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    bands = edge_bands(network, layer.coverage.time_min, bands_min)
    colours = band_colours(bands_min, scenario.target_response_min) + [BEYOND_COLOUR]
    drawn = drawn_edges(network)
    inset_view = None
    named: set[str] = set()
    if city_box is not None:
        inset = fig.add_axes(rects["inset"])
        _set_view(inset, city_box, lat0)
        (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
        inset_view = (x0, y0, x1, y1)

        def inside(lon: float, lat: float) -> bool:
            return x0 <= lon <= x1 and y0 <= lat <= y1

        _draw_roads(inset, network, bands, colours, drawn, 2.0)
        named |= draw_marks(inset, scenario, world, layer, MarksView(True, inside), results, areas, m)
        _scale_bar(inset, lat0, 1.0, m)
        chars = int(inset.bbox.width / (0.6 * 11 * fig.dpi / 72))
        inset.set_title(_inset_title(scenario, inset_view, chars, m), fontsize=11, loc="left")
    else:
        def inside(lon: float, lat: float) -> bool:
            return False
    ax = fig.add_axes(rects["map"])
    pad = 0.01 * (east - west)
    _set_view(ax, (west - pad, south - pad, east + pad, north + pad), lat0)
    if many_sites(scenario):
        draw_area_cells(ax, area_cells(network))
    _draw_roads(ax, network, bands, colours, drawn, 1.0)
    named |= draw_marks(ax, scenario, world, layer, MarksView(False, lambda lon, lat: not inside(lon, lat)),
                        results, areas, m)
    _scale_bar(ax, lat0, 10.0 if east - west > 0.2 else 1.0, m)
    _plan_title(ax, m("map.panel.title", plan=layer.name, description=layer.description))
    if inset_view is not None:
        ax.add_patch(Rectangle(inset_view[:2], inset_view[2] - inset_view[0], inset_view[3] - inset_view[1],
                               fill=False, edgecolor="black", linewidth=1.2, zorder=10))
    nameable, unlabelled = label_count(scenario, named)
    if unlabelled:
        ax.text(0.995, 0.005, m("map.leftOut", n=m.num(unlabelled, ","), of=m.num(nameable, ",")),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=9, color="#333333", zorder=11,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    return nameable, unlabelled, ax


def _plan_title(ax, text: str) -> None:
    """A plan's name and description above its map: up to two lines, never past the map's width."""
    chars = int(ax.bbox.width / (0.6 * 12 * ax.figure.dpi / 72))
    lines = textwrap.wrap(text, chars, break_on_hyphens=False)  # a hyphenated plan name kept whole
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), chars, placeholder=" ...")]
    ax.set_title("\n".join(lines), fontsize=12, loc="left")


def _difference_panel(fig, scenario, world: World, layers: Sequence[PlanLayer], target_min: float,
                      rect: list[float], m: Messages) -> None:
    """Roads that gain or lose coverage within the target from the first plan to the second; town
    names on top of the roads, on white, so no coloured road hides them."""
    from matplotlib.collections import LineCollection

    network = world.network
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    change = coverage_change(network, layers[0].coverage.time_min, layers[1].coverage.time_min, target_min)
    drawn = drawn_edges(network)
    ax = fig.add_axes(rect)
    pad = 0.01 * (east - west)
    _set_view(ax, (west - pad, south - pad, east + pad, north + pad), lat0)
    palette = [CHANGE_COLOURS[k] for k in ("neither", "both", "gained", "lost")]   # coverage's codes
    names = network.road_class_names
    # The changes on top and a little wider: they are what this map is for.
    for codes, scale in (((NEITHER, BOTH), 1.0), ((GAINED, LOST), 1.8)):
        chosen = drawn[np.isin(change[drawn], codes)]
        tails, heads = network.edge_tails[chosen], network.indices[chosen]
        segments = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                             np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
        # A run shares its colour and its width: one style per (change, road class).
        style = change[chosen].astype(np.int64) * len(names) + network.road_class[chosen]
        lines, style = road_runs(segments, style, ax.transData.transform)
        ax.add_collection(LineCollection(lines, colors=[palette[k // len(names)] for k in style],
                                         linewidths=[road_width(names[k % len(names)]) * scale for k in style],
                                         zorder=3 if scale > 1 else 2), autolim=False)
    labels = LabelPlacer(ax)
    sites = listed_sites(scenario)
    ax.scatter([s.lon for s in sites], [s.lat for s in sites], s=10, color="#222222", zorder=6)
    for name, lon, lat in towns_in(network):
        labels.add(lon, lat, name, 10, color="#222222", fontstyle="italic", zorder=9,
                   bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85})
    _scale_bar(ax, lat0, 10.0 if east - west > 0.2 else 1.0, m)
    _plan_title(ax, m("map.difference.title", target=m.num(target_min, "g"), second=layers[1].name,
                      first=layers[0].name))


def fit_before(title: Text, badge: Text, gap_px: float = TITLE_GAP_PX) -> None:
    """Make the left-aligned ``title`` end ``gap_px`` before ``badge`` on its line begins: smaller
    (down to MIN_TITLE_PT), else in two lines of WRAPPED_TITLE_PT (still above the subtitle); a
    title that fits keeps its size."""
    renderer = title.figure.canvas.get_renderer()
    room = badge.get_window_extent(renderer).x0 - gap_px - title.get_window_extent(renderer).x0
    for _ in range(3):  # text does not scale exactly with its size (hinting): measure again
        width = title.get_window_extent(renderer).width
        if width <= room:
            return
        if title.get_fontsize() * room / width < MIN_TITLE_PT:
            break
        title.set_fontsize(title.get_fontsize() * room / width * 0.995)
    text = title.get_text()
    spaces = [k for k, char in enumerate(text) if char == " "] or [len(text)]
    middle = min(spaces, key=lambda k: abs(2 * k - len(text)))  # the most even split
    title.set_text(f"{text[:middle]}\n{text[middle + 1:]}")
    title.set_fontsize(WRAPPED_TITLE_PT)


def _frac(fig_px: tuple[int, int], left_px: float, top_px: float, width_px: float, height_px: float) -> list[float]:
    """A figure rectangle in fractions from pixels measured from the top-left corner."""
    w, h = fig_px
    return [left_px / w, 1 - (top_px + height_px) / h, width_px / w, height_px / h]


def draw_map_png(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
                 size_px: tuple[int, int] | None = None,
                 results: Mapping[str, Mapping[str, SiteResult]] | None = None,
                 areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
                 summary: Mapping[str, Mapping] | None = None, m: Messages | None = None) -> MapResult:
    """Draw one plan, or two side by side with their difference, to a PNG of ``size_px`` (width, height;
    taller when the legend needs it), in the language of ``m`` (English by default).

    ``results`` (plan -> site id -> SiteResult, from sites.csv) colours the sites by their
    simulated share within target and lists those that miss it; ``areas`` (plan -> kecamatan ->
    AreaResult, from areas.csv) colours the kecamatan circles of a map of many sites; ``summary``
    (plan -> its summary.csv row) puts the simulated share beside the drive-time figures.
    """
    m = m or messages()
    fig, (layers, title, subtitle, plan_results, plan_areas, plan_summary, diff_km, unlabelled, nameable) = \
        _map_figure(scenario, world, plans, bands_min, size_px, results, areas, summary, m)
    save_png(fig, out)
    return map_result(scenario, layers, out, title, subtitle, plan_results, plan_areas, plan_summary, diff_km, m,
                      unlabelled, nameable)


def map_figure(scenario, world: World, plans: Sequence[str], bands_min: Sequence[float],
               size_px: tuple[int, int] | None = None,
               results: Mapping[str, Mapping[str, SiteResult]] | None = None,
               areas: Mapping[str, Mapping[str, AreaResult]] | None = None,
               summary: Mapping[str, Mapping] | None = None, m: Messages | None = None):
    """The PNG map of ``draw_map_png`` as a matplotlib Figure (not written)."""
    return _map_figure(scenario, world, plans, bands_min, size_px, results, areas, summary, m or messages())[0]


def _map_figure(scenario, world: World, plans: Sequence[str], bands_min: Sequence[float],
                size_px: tuple[int, int] | None, results: Mapping[str, Mapping[str, SiteResult]] | None,
                areas: Mapping[str, Mapping[str, AreaResult]] | None, summary: Mapping[str, Mapping] | None,
                m: Messages) -> tuple:
    """The figure, and what its MapResult is made of. A legend that runs below the picture (longer
    words, more keys) makes it again taller by as much: the maps keep their size, the legend gains."""
    layers = [plan_layer(scenario, world, p) for p in plans]
    size_px = size_px or (SIZE_PX if len(layers) == 1 else COMPARE_SIZE_PX)
    extra_px = 0.0
    for _ in range(3):
        fig, made, below_px = _drawn_map(scenario, world, layers, plans, bands_min, size_px, extra_px, results,
                                         areas, summary, m)
        if below_px <= 0:
            break
        extra_px += below_px
    return fig, made


def _below_px(fig, axes: Sequence) -> float:
    """How far (px) the texts and legends of ``axes`` reach below the picture's bottom margin."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    lowest = min((child.get_window_extent(renderer).y0 for ax in axes for child in ax.get_children()
                  if isinstance(child, Legend) or (isinstance(child, Text) and child.get_text().strip())),
                 default=LEGEND_MARGIN_PX)
    return max(0.0, LEGEND_MARGIN_PX - lowest)


def _drawn_map(scenario, world: World, layers: Sequence[PlanLayer], plans: Sequence[str],
               bands_min: Sequence[float], size_px: tuple[int, int], extra_px: float,
               results: Mapping[str, Mapping[str, SiteResult]] | None, areas: Mapping[str, Mapping[str, AreaResult]] | None,
               summary: Mapping[str, Mapping] | None, m: Messages) -> tuple:
    """The figure at ``size_px`` laid out, ``extra_px`` taller for its legend; what its MapResult is
    made of; how far its legend runs below the picture (px)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    network = world.network
    w, h0 = size_px
    h = h0 + math.ceil(extra_px)   # the layout's heights are h0's: only the legend's space grows
    size_px = (w, h)
    fig = Figure(figsize=(w / DPI, h / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    title = map_title(scenario, plans, m)
    subtitle = map_subtitle(network, bands_min, m)
    title_text = fig.text(0.01, 1 - 14 / h, title, ha="left", va="top", fontsize=TITLE_PT, fontweight="bold")
    fig.text(0.01, 1 - 46 / h, subtitle, ha="left", va="top", fontsize=11,
             color="#b2182b" if network.synthetic else "#333333")
    diff_km = None
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    network_ratio = (east - west) * math.cos(math.radians(lat0)) / (north - south)   # width / height
    plan_results = [results[p] if results is not None else None for p in plans]
    plan_areas = [areas.get(p) if areas is not None else None for p in plans]
    plan_summary = [summary.get(p) if summary is not None else None for p in plans]
    if len(layers) == 1:
        city_box = _city_box(network, scenario)
        top = 140.0
        map_w = 0.69 * w
        map_h = min(h0 - top - 420, map_w / network_ratio)
        if city_box is None:
            rects = {"map": _frac(size_px, 10, top, map_w, h0 - top - 20),
                     "legend": _frac(size_px, map_w + 30, top + 20, w - map_w - 45, h - top - 40)}
        else:
            rects = {"map": _frac(size_px, 10, top, map_w, map_h),
                     "inset": _frac(size_px, map_w + 25, top, w - map_w - 35, map_h),
                     "legend": _frac(size_px, 20, top + map_h + 15, w - 40, h - top - map_h - 25)}
        nameable, unlabelled, _ = _panel(fig, scenario, world, layers[0], bands_min, rects, city_box,
                                         plan_results[0], plan_areas[0], m)
        ncols = (5 if results is not None else 4) if city_box else 2
        legend_axes = [fig.add_axes(rects["legend"])]
        plan_legend(legend_axes[0], scenario, network, layers[0], bands_min, ncols, plan_results[0],
                    True, m, areas=plan_areas[0], summary=plan_summary[0])
    else:
        cov_a, cov_b = layers[0].coverage, layers[1].coverage
        diff_km = difference_km(cov_a, cov_b)
        headline = difference_line(plans[0], cov_a, plans[1], cov_b, m)
        fig.text(0.01, 1 - 96 / h, headline, ha="left", va="top", fontsize=13, fontweight="bold")
        top = 175.0
        col_w = w / 2
        map_h = min(0.42 * (h0 - top), (col_w - 20) / network_ratio)
        low_top = top + map_h + 50
        diff_h = min(h0 - low_top - 30, (col_w - 20) / network_ratio)
        missed_top = low_top + diff_h + 15
        nameable = unlabelled = 0
        for i, layer in enumerate(layers):
            rects = {"map": _frac(size_px, i * col_w + 10, top, col_w - 20, map_h)}
            count, left_out, _ = _panel(fig, scenario, world, layer, bands_min, rects, None, plan_results[i],
                                        plan_areas[i], m)
            nameable, unlabelled = max(nameable, count), max(unlabelled, left_out)
        _difference_panel(fig, scenario, world, layers, scenario.target_response_min,
                          _frac(size_px, 10, low_top, col_w - 20, diff_h), m)
        legend_ax = fig.add_axes(_frac(size_px, col_w + 10, low_top - 20, col_w - 20, h - low_top + 10))
        missed_ax = fig.add_axes(_frac(size_px, 20, missed_top, col_w - 30, max(h - missed_top - 10, 10)))
        shared_legend(legend_ax, missed_ax, scenario, network, layers, bands_min, plan_results, plan_areas,
                      plan_summary, m)
        legend_axes = [legend_ax, missed_ax]
    if network.synthetic:   # top right, clear of the legend's columns
        badge = fig.text(0.995, 1 - 14 / h, synthetic_badge(m), ha="right", va="top", fontsize=10,
                         color="#b2182b", fontweight="bold")
        fit_before(title_text, badge)
    return (fig, (layers, title, subtitle, plan_results, plan_areas, plan_summary, diff_km, unlabelled, nameable),
            _below_px(fig, legend_axes))
