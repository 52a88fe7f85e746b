"""The coverage map as a PNG (matplotlib, no pyplot: no GUI, safe in workers).

One plan fills the page: the whole network on the left, an inset of the city centre where the
sites cluster, the legend below; two plans (``--compare``) stand side by side, each with its
own inset and legend, under a headline giving the difference in covered road length.
Drawing is in degrees (lon, lat) with an aspect of 1 / cos(latitude), so metres are equal both ways.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.model.world import World
from sim.network.geo import EARTH_RADIUS_M, project_m
from sim.network import RoadNetwork
from sim.viz.coverage import PlanLayer, difference_km, difference_line, drawn_edges, edge_bands, plan_layer
from sim.viz.map_style import (
    BEYOND_COLOUR,
    SYNTHETIC_BADGE,
    UNIT_COLOUR,
    MapResult,
    band_colours,
    map_subtitle,
    map_title,
    road_width,
    site_style,
    towns_in,
)

SIZE_PX = (1600, 1200)           # one plan
COMPARE_SIZE_PX = (2400, 1400)   # two plans side by side
DPI = 100
# Metres per degree of latitude in the network's projection (sim.network.geo), for degree arithmetic.
M_PER_DEG_LAT = math.radians(1.0) * EARTH_RADIUS_M


def _city_box(network: RoadNetwork, scenario) -> tuple[float, float, float, float] | None:
    """[west, south, east, north] around the cluster of city sites, or None if sites are spread out.

    The inset zooms there so that sites a few hundred metres apart stay readable.
    """
    lon = np.array([s.lon for s in scenario.sites])
    lat = np.array([s.lat for s in scenario.sites])
    cos_lat = math.cos(math.radians(float(np.median(lat))))
    x_m, y_m = project_m(lon, lat, (float(np.median(lon)), float(np.median(lat))))
    near = np.hypot(x_m, y_m) <= 2500.0
    pad_deg = 500.0 / M_PER_DEG_LAT
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
    palette = np.array(band_colours(n_bands) + [BEYOND_COLOUR], dtype=object)
    colours = palette[bands[drawn]]
    classes = network.road_class[drawn]
    # Minor roads first, so arterials stay visible on top.
    for k in sorted(set(classes.tolist()), reverse=True):
        name = network.road_class_names[k]
        mask = classes == k
        ax.add_collection(LineCollection(segments[mask], colors=list(colours[mask]),
                                         linewidths=road_width(name) * width_scale,
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
    span_deg = length_km * 1000 / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + span_deg], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.text(x + span_deg / 2, y + 0.012 * (y1 - y0), f"{length_km:g} km", ha="center", va="bottom",
            fontsize=10, zorder=9)
    ax.annotate("N", xy=(x1 - 0.03 * (x1 - x0), y1 - 0.04 * (y1 - y0)),
                xytext=(x1 - 0.03 * (x1 - x0), y1 - 0.12 * (y1 - y0)), ha="center", fontsize=12,
                fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black"}, zorder=9)


def _draw_sites_and_units(ax, scenario, world: World, layer: PlanLayer, box: Sequence[float] | None,
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
        ax.plot(network.lon[path], network.lat[path], color=UNIT_COLOUR, linewidth=2.2 if zoomed else 1.6,
                linestyle=(0, (4, 2)), zorder=5)
    for pool in layer.pools:
        nodes = list(pool)
        ax.scatter(network.lon[nodes], network.lat[nodes], s=14 if zoomed else 6, marker="+",
                   color=UNIT_COLOUR, linewidths=1.0, zorder=5)
    site_by_id = {s.id: s for s in scenario.sites}
    # Sites: one symbol per kind; hollow where the position is approximate or a placeholder.
    for site in scenario.sites:
        marker, colour, _ = site_style(site.kind)
        ax.scatter([site.lon], [site.lat], s=120 if zoomed else 60, marker=marker,
                   facecolors="white" if site.approximate else colour, edgecolors=colour,
                   linewidths=2.0, zorder=7)
        labels.reserve(site.lon, site.lat, 8)
    # Vehicles standing still (posts, bases): a badge with the count, up-left of the site marker.
    badge_pt = 10 if zoomed else 7
    for site_id, count in layer.standing.items():
        site = site_by_id[site_id]
        ax.annotate(str(count), (site.lon, site.lat), xytext=(-badge_pt, badge_pt), textcoords="offset points",
                    ha="center", va="center", fontsize=9 if zoomed else 7, color="white", fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": UNIT_COLOUR, "ec": "white", "lw": 1}, zorder=9)
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
    for colour, upper in zip(band_colours(len(bands_min)), bands_min):
        band_handles.append(Line2D([], [], color=colour, linewidth=5, label=f"{lower:g}-{upper:g} min"))
        lower = upper
    band_handles.append(Line2D([], [], color=BEYOND_COLOUR, linewidth=5, label=f"over {lower:g} min"))
    kinds = [k for k in dict.fromkeys(s.kind for s in scenario.sites)]
    site_handles = []
    for kind in kinds:
        marker, colour, words = site_style(kind)
        site_handles.append(Line2D([], [], marker=marker, color=colour, markerfacecolor=colour, linestyle="none",
                                   markersize=9, label=words))
    if any(s.approximate for s in scenario.sites):
        site_handles.append(Line2D([], [], marker="o", color="#444444", markerfacecolor="white", linestyle="none",
                                   markeredgewidth=2, markersize=9, label="hollow: approximate position"))
    unit_handles = [
        Line2D([], [], marker="o", color=UNIT_COLOUR, markerfacecolor=UNIT_COLOUR, markeredgecolor="white",
               linestyle="none", markersize=13, label="vehicles at a post or base (number)"),
        Line2D([], [], color=UNIT_COLOUR, linewidth=2, linestyle=(0, (4, 2)), label="circuit route"),
        Line2D([], [], marker="+", color=UNIT_COLOUR, linestyle="none", markersize=8,
               label="random-patrol road points"),
    ]
    road_handles = [Line2D([], [], color="#777777", linewidth=road_width(n) * 1.5, label=n)
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


def _panel(fig, scenario, world: World, layer: PlanLayer, bands_min: Sequence[float], rects: dict[str, list[float]],
           city_box: Sequence[float] | None, ncol: int) -> None:
    """One plan's map, inset (when ``city_box``) and legend in the given figure rectangles (fractions)."""
    from matplotlib.patches import Rectangle

    network = world.network
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    bands = edge_bands(network, layer.coverage.time_min, bands_min)
    drawn = drawn_edges(network)
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


def draw_map_png(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
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
    title = map_title(scenario, plans)
    subtitle = map_subtitle(network, bands_min)
    fig.text(0.01, 1 - 14 / h, title, ha="left", va="top", fontsize=17, fontweight="bold")
    fig.text(0.01, 1 - 46 / h, subtitle, ha="left", va="top", fontsize=11,
             color="#b2182b" if network.synthetic else "#333333")
    top = 118.0 if len(layers) == 1 else 140.0
    diff_km = None
    if len(layers) == 2:
        cov_a, cov_b = layers[0].coverage, layers[1].coverage
        diff_km = difference_km(cov_a, cov_b)
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
        fig.text(0.995, 0.005, SYNTHETIC_BADGE, ha="right", va="bottom", fontsize=10,
                 color="#b2182b", fontweight="bold")
    write_whole(out, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    return MapResult(out, title, subtitle, [line for layer in layers for line in layer.legend],
                     {layer.name: layer.coverage for layer in layers}, diff_km)
