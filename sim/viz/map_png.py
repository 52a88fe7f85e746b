"""The coverage map as a PNG (matplotlib, no pyplot: no GUI, safe in workers).

One plan fills the page: the whole network on the left, an inset of the city centre where the
sites cluster, the legend below; two plans (``--compare``) stand side by side, each with its
own inset and legend, under a headline giving the difference in covered road length, and below
them a difference map (roads that gain or lose coverage). With simulated results, sites are
filled by their share of incidents reached within the target and the legend names those that
miss it. Labels are placed by ``map_labels`` (collision-free; what does not fit is counted).
Drawing is in degrees (lon, lat) with an aspect of 1 / cos(latitude), so metres are equal both ways.
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.model.world import World
from sim.network.geo import EARTH_RADIUS_M, project_m
from sim.network import RoadNetwork
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
from sim.viz.map_areas import AreaResult, area_cells, area_label, draw_area_cells, where_missed
from sim.viz.map_labels import LabelPlacer
from sim.viz.map_legend import difference_legend, plan_legend
from sim.viz.map_results import (DETERRED_COLOUR, SiteResult, deterred_alpha, has_deterrence, missed,
                                 share_colour)
from sim.viz.map_style import (
    BEYOND_COLOUR,
    CHANGE_COLOURS,
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

SIZE_PX = (1600, 1300)           # one plan
COMPARE_SIZE_PX = (2400, 2200)   # two plans side by side, their difference below
MANY_SITES = 200                 # beyond this, the main map draws sites small
MANY_POSTS_NAMED = 40            # among many sites, posts are named up to this many
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
    # Room around the outermost sites for their labels (more east-west: labels are wide).
    pad_deg, pad_x_deg = 500.0 / M_PER_DEG_LAT, 1100.0 / M_PER_DEG_LAT / cos_lat
    box = (lon[near].min() - pad_x_deg, lat[near].min() - pad_deg,
           lon[near].max() + pad_x_deg, lat[near].max() + pad_deg)
    west, south, east, north = network.bbox()
    # Worth an inset only when the cluster is a small part of the map.
    if (box[2] - box[0]) > 0.3 * (east - west) or (box[3] - box[1]) > 0.3 * (north - south):
        return None
    return box


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


def _label_order(scenario, layer: PlanLayer, results: Mapping[str, SiteResult] | None) -> list:
    """Sites in the order they get a label: those missing the target (worst first), where units
    stand, then the rest in scenario order; the first ones are never crowded out by the others."""
    worst = {r.site: k for k, r in enumerate(missed(results))} if results else {}
    order = {site.id: k for k, site in enumerate(scenario.sites)}
    return sorted(scenario.sites, key=lambda s: (s.id not in worst, worst.get(s.id, 0),
                                                 s.id not in layer.standing, order[s.id]))


def _draw_sites_and_units(ax, scenario, world: World, layer: PlanLayer, box: Sequence[float] | None,
                          zoomed: bool, results: Mapping[str, SiteResult] | None,
                          areas: Mapping[str, AreaResult] | None = None) -> set[str]:
    """Towns, sites and unit positions; returns the ids of the sites given a label.

    The inset (``zoomed``) labels what lies inside it; the main map labels what lies outside
    ``box`` (the inset's area), or everything when there is no inset. With ``results`` a site
    is filled with the colour of its simulated share within target; with ``areas`` a town's label
    gives its kecamatan's share and late incidents.
    """
    network = world.network
    many = len(scenario.sites) > MANY_SITES

    def in_box(lon: float, lat: float) -> bool:
        return box is not None and box[0] <= lon <= box[2] and box[1] <= lat <= box[3]

    def labelled(lon: float, lat: float) -> bool:
        return in_box(lon, lat) if zoomed else not in_box(lon, lat)

    labels = LabelPlacer(ax)
    # Circuits along the roads and random-patrol pools.
    for path in layer.circuits:
        ax.plot(network.lon[path], network.lat[path], color=UNIT_COLOUR, linewidth=2.2 if zoomed else 1.6,
                linestyle=(0, (4, 2)), zorder=5)
    for pool in layer.pools:
        nodes = list(pool)
        ax.scatter(network.lon[nodes], network.lat[nodes], s=14 if zoomed else 6, marker="+",
                   color=UNIT_COLOUR, linewidths=1.0, zorder=5)
    # Sites: a symbol per kind; filled by the simulated share with results, else by kind and
    # hollow where the position is approximate. One scatter per look: thousands of sites stay fast.
    groups: dict[tuple[str, str, str], list] = defaultdict(list)
    for site in scenario.sites:
        marker, colour, _ = site_style(site.kind)
        if results is not None:
            face, edge = share_colour(results.get(site.id)), "#222222"
        else:
            face, edge = ("white" if site.approximate else colour), colour
        groups[(marker, face, edge)].append(site)
    size = 120 if zoomed else (14 if many else 60)
    if has_deterrence(results):  # a halo under each site, as dark as its share of candidates deterred
        from matplotlib.colors import to_rgba

        halo = [(s, deterred_alpha(results.get(s.id))) for s in scenario.sites]
        halo = [(s, a) for s, a in halo if a > 0]
        ax.scatter([s.lon for s, _ in halo], [s.lat for s, _ in halo], s=size * 5, marker="o", linewidths=0,
                   facecolors=[to_rgba(DETERRED_COLOUR, a) for _, a in halo], zorder=6.5)
    for (marker, face, edge), sites in groups.items():
        ax.scatter([s.lon for s in sites], [s.lat for s in sites], s=size, marker=marker, facecolors=face,
                   edgecolors=edge, linewidths=0.6 if many and not zoomed else 1.8, zorder=7)
    radius_px = math.sqrt(size) / 2 * ax.figure.dpi / 72 + 1
    # Thousands of small markers would leave no room for any label: then only a few sites are
    # named (those missing the target) and labels may cover the small markers.
    for site in ([] if many and not zoomed else scenario.sites):
        labels.reserve(site.lon, site.lat, radius_px)
    # On a map of many sites, the kecamatan and their figures come before the hundreds of badges
    # (and over them); otherwise after the sites that must be named.
    towns_first = many and areas is not None
    if towns_first:
        _label_towns(ax, labels, network, scenario, areas, labelled, many)
    # Vehicles standing still (posts, bases): a badge with the count, up-left of the site marker.
    site_by_id = {s.id: s for s in scenario.sites}
    badge_pt = 10 if zoomed else 7
    for site_id, count in layer.standing.items():
        site = site_by_id[site_id]
        ax.annotate(str(count), (site.lon, site.lat), xytext=(-badge_pt, badge_pt), textcoords="offset points",
                    ha="center", va="center", fontsize=9 if zoomed else 7, color="white", fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": UNIT_COLOUR, "ec": "white", "lw": 1}, zorder=9)
        x, y = ax.transData.transform((site.lon, site.lat))
        px = badge_pt * ax.figure.dpi / 72
        labels.reserve_box((x - 2 * px, y, x, y + 2 * px))
    named: set[str] = set()
    ordered = _label_order(scenario, layer, results)
    # With the kecamatan layer, a map of many sites names kecamatan, not the single sites missing the target.
    name_missed = results and not (many and areas is not None)
    # Where units stand is named first, also among many sites while the posts are few enough to
    # read (a plan of 24 posts among 4,077 polling stations; not 200 posts).
    name_posts = not many or len(layer.standing) <= MANY_POSTS_NAMED
    first = [s for s in ordered if (name_missed and results.get(s.id) and results[s.id].misses)
             or (s.id in layer.standing and name_posts)]
    text_style = {"color": "#111111", "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}}

    def label_site(site) -> None:
        if labelled(site.lon, site.lat):
            text = textwrap.fill(site.name + (" (approx.)" if site.approximate else ""), 24)
            if labels.add(site.lon, site.lat, text, 9.5 if zoomed else 9, **text_style):
                named.add(site.id)

    for site in first:
        label_site(site)
    if not towns_first:
        _label_towns(ax, labels, network, scenario, areas, labelled, many)
    for site in ([] if many and not zoomed else ordered[len(first):]):
        label_site(site)
    return named


def _label_towns(ax, labels: LabelPlacer, network: RoadNetwork, scenario, areas: Mapping[str, AreaResult] | None,
                 labelled, many: bool) -> None:
    """Name the kecamatan towns (``labelled(lon, lat)``: those this axes names), with ``areas`` their
    kecamatan's share and late incidents, most late first; a town on a site is left to the site's label."""
    lon_s = np.array([s.lon for s in scenario.sites])
    lat_s = np.array([s.lat for s in scenario.sites])
    towns = towns_in(network)
    if areas is not None:
        towns.sort(key=lambda town: -areas[town[0]].late if town[0] in areas else 0)
    for name, lon, lat in towns:
        near_site = bool((np.hypot(lon_s - lon, lat_s - lat) < 0.004).any()) and not many
        if labelled(lon, lat) and not near_site:
            ax.scatter([lon], [lat], s=8, color="#555555", zorder=6)
            if areas is None:
                labels.add(lon, lat, name, 9, color="#555555", fontstyle="italic")
            else:  # on white: the cells' colours lie beneath, the badges may lie under it
                text = name if name not in areas else f"{name}\n{area_label(areas[name])}"
                labels.add(lon, lat, text, 9, color="#222222", fontstyle="italic", zorder=9.5,
                           bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _panel(fig, scenario, world: World, layer: PlanLayer, bands_min: Sequence[float], rects: dict[str, list[float]],
           city_box: Sequence[float] | None, ncols: int, results: Mapping[str, SiteResult] | None,
           with_missed: bool, areas: Mapping[str, AreaResult] | None = None) -> int:
    """One plan's map, inset (when ``city_box``) and legend in the given figure rectangles (fractions);
    returns how many sites got no label. ``areas``: the kecamatan layer under the main map's roads (not
    the inset's, which lies inside one or two cells)."""
    from matplotlib.patches import Rectangle

    network = world.network
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    bands = edge_bands(network, layer.coverage.time_min, bands_min)
    drawn = drawn_edges(network)
    cells = area_cells(network) if areas is not None else []
    inset_view = None
    named: set[str] = set()
    if city_box is not None:
        inset = fig.add_axes(rects["inset"])
        _set_view(inset, city_box, lat0)
        (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
        inset_view = (x0, y0, x1, y1)
        _draw_roads(inset, network, bands, len(bands_min), drawn, 2.0)
        named |= _draw_sites_and_units(inset, scenario, world, layer, inset_view, True, results, areas)
        _scale_bar(inset, lat0, 1.0)
        inset.set_title("City centre (black box on the map)", fontsize=11, loc="left")
    ax = fig.add_axes(rects["map"])
    pad = 0.01 * (east - west)
    _set_view(ax, (west - pad, south - pad, east + pad, north + pad), lat0)
    if areas is not None:
        draw_area_cells(ax, cells, areas)
    _draw_roads(ax, network, bands, len(bands_min), drawn, 1.0)
    named |= _draw_sites_and_units(ax, scenario, world, layer, inset_view, False, results, areas)
    _scale_bar(ax, lat0, 10.0 if east - west > 0.2 else 1.0)
    _plan_title(ax, f"plan '{layer.name}': {layer.description}")
    if inset_view is not None:
        ax.add_patch(Rectangle(inset_view[:2], inset_view[2] - inset_view[0], inset_view[3] - inset_view[1],
                               fill=False, edgecolor="black", linewidth=1.2, zorder=10))
    unlabelled = len(scenario.sites) - len(named)
    if unlabelled:
        ax.text(0.995, 0.005, f"{unlabelled:,} of {len(scenario.sites):,} site names left out (no room to name them)",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=9, color="#333333", zorder=11,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    plan_legend(fig.add_axes(rects["legend"]), scenario, network, layer, bands_min, ncols, results, with_missed,
                areas=areas)
    return unlabelled


def _plan_title(ax, text: str) -> None:
    """A plan's name and description above its map: up to two lines, never past the map's width."""
    chars = int(ax.bbox.width / (0.6 * 12 * ax.figure.dpi / 72))
    lines = textwrap.wrap(text, chars)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), chars, placeholder=" ...")]
    ax.set_title("\n".join(lines), fontsize=12, loc="left")


def _difference_panel(fig, scenario, world: World, layers: Sequence[PlanLayer], target_min: float, rect: list[float],
                      city_box: Sequence[float] | None) -> None:
    """Roads that gain or lose coverage within the target from the first plan to the second."""
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
    # The changes on top and a little wider: they are what this map is for.
    for codes, scale in (((NEITHER, BOTH), 1.0), ((GAINED, LOST), 1.8)):
        chosen = drawn[np.isin(change[drawn], codes)]
        tails, heads = network.edge_tails[chosen], network.indices[chosen]
        segments = np.stack([np.column_stack([network.lon[tails], network.lat[tails]]),
                             np.column_stack([network.lon[heads], network.lat[heads]])], axis=1)
        widths = [road_width(network.road_class_names[k]) * scale for k in network.road_class[chosen]]
        ax.add_collection(LineCollection(segments, colors=[palette[c] for c in change[chosen]],
                                         linewidths=widths, zorder=3 if scale > 1 else 2))
    labels = LabelPlacer(ax)
    ax.scatter([s.lon for s in scenario.sites], [s.lat for s in scenario.sites], s=10, color="#222222", zorder=6)
    for name, lon, lat in towns_in(network):
        labels.add(lon, lat, name, 9, color="#555555", fontstyle="italic")
    if city_box is not None:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle(city_box[:2], city_box[2] - city_box[0], city_box[3] - city_box[1], fill=False,
                               edgecolor="black", linewidth=1.0, zorder=10))
    _scale_bar(ax, lat0, 10.0 if east - west > 0.2 else 1.0)
    _plan_title(ax, f"Difference: roads that gain or lose coverage within {target_min:g} min, "
                    f"'{layers[1].name}' against '{layers[0].name}'")


def _frac(fig_px: tuple[int, int], left_px: float, top_px: float, width_px: float, height_px: float) -> list[float]:
    """A figure rectangle in fractions from pixels measured from the top-left corner."""
    w, h = fig_px
    return [left_px / w, 1 - (top_px + height_px) / h, width_px / w, height_px / h]


def draw_map_png(scenario, world: World, plans: Sequence[str], out: Path, bands_min: Sequence[float],
                 size_px: tuple[int, int] | None = None,
                 results: Mapping[str, Mapping[str, SiteResult]] | None = None,
                 areas: Mapping[str, Mapping[str, AreaResult]] | None = None) -> MapResult:
    """Draw one plan, or two side by side with their difference, to a PNG of ``size_px`` (width, height).

    ``results`` (plan -> site id -> SiteResult, from sites.csv) colours the sites by their
    simulated share within target and lists those that miss it; ``areas`` (plan -> kecamatan ->
    AreaResult, from areas.csv) adds the kecamatan layer.
    """
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
    top = 140.0 if len(layers) == 1 else 170.0
    diff_km = None
    west, south, east, north = network.bbox()
    lat0 = (south + north) / 2
    network_ratio = (east - west) * math.cos(math.radians(lat0)) / (north - south)   # width / height
    plan_results = [results[p] if results is not None else None for p in plans]
    plan_areas = [areas.get(p) if areas is not None else None for p in plans]
    if len(layers) == 1:
        map_w = 0.69 * w
        map_h = min(h - top - 420, map_w / network_ratio)
        if city_box is None:
            rects = {"map": _frac(size_px, 10, top, map_w, h - top - 20),
                     "legend": _frac(size_px, map_w + 30, top + 20, w - map_w - 45, h - top - 40)}
        else:
            rects = {"map": _frac(size_px, 10, top, map_w, map_h),
                     "inset": _frac(size_px, map_w + 25, top, w - map_w - 35, map_h),
                     "legend": _frac(size_px, 20, top + map_h + 15, w - 40, h - top - map_h - 25)}
        ncols = (5 if results is not None else 4) if city_box else 2
        unlabelled = _panel(fig, scenario, world, layers[0], bands_min, rects, city_box, ncols, plan_results[0], True,
                            plan_areas[0])
    else:
        cov_a, cov_b = layers[0].coverage, layers[1].coverage
        diff_km = difference_km(cov_a, cov_b)
        fig.text(0.01, 1 - 96 / h, difference_line(plans[0], cov_a, plans[1], cov_b), ha="left", va="top",
                 fontsize=13, fontweight="bold")
        col_w = w / 2
        map_h = min(0.36 * (h - top), (col_w - 20) / network_ratio)
        low_top, low_h = top + map_h + 30, 0.25 * (h - top)
        diff_top = low_top + low_h + 60
        unlabelled = 0
        for i, layer in enumerate(layers):
            left = i * col_w
            rects = {"map": _frac(size_px, left + 10, top, col_w - 20, map_h),
                     "inset": _frac(size_px, left + 10, low_top, 0.36 * col_w, low_h),
                     "legend": _frac(size_px, left + 0.36 * col_w + 30, low_top, 0.62 * col_w - 40, low_h)}
            if city_box is None:
                rects["legend"] = _frac(size_px, left + 20, low_top, col_w - 40, low_h)
            unlabelled = max(unlabelled, _panel(fig, scenario, world, layer, bands_min, rects, city_box,
                                                3 if city_box else 4, plan_results[i], False, plan_areas[i]))
        diff_h = min(h - diff_top - 30, (col_w - 20) / network_ratio)
        _difference_panel(fig, scenario, world, layers, scenario.target_response_min,
                          _frac(size_px, 10, diff_top, col_w - 20, diff_h), city_box)
        difference_legend(fig.add_axes(_frac(size_px, col_w + 20, diff_top, col_w - 40, h - diff_top - 30)),
                          scenario, plans, difference_line(plans[0], cov_a, plans[1], cov_b), results,
                          areas=areas)
    if network.synthetic:
        fig.text(0.995, 0.005, SYNTHETIC_BADGE, ha="right", va="bottom", fontsize=10,
                 color="#b2182b", fontweight="bold")
    write_whole(out, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    missed_all = tuple(line for plan, r, a in zip(plans, plan_results, plan_areas) if r is not None
                       for line in where_missed(plan, r, a, scenario, limit=20))
    return MapResult(out, title, subtitle, [line for layer in layers for line in layer.legend],
                     {layer.name: layer.coverage for layer in layers}, diff_km, missed_all, unlabelled)
