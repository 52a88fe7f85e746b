"""What the PNG map draws over its roads: sites, units, towns, kecamatan circles and their labels.

A map of a few sites draws every site by the shape of its kind, filled with its simulated share
(``sim.viz.palette``) when results come with the map, and names them. A map of many sites
(``MANY_SITES``: thousands of polling stations) aggregates: the sites of site sets are small grey
dots, never named; each kecamatan is a circle sized by its incidents and coloured by its share
(``sim.viz.map_areas``), and only the sites listed in the scenario, the towns and the worst
kecamatan are named. Labels are placed by ``map_labels`` (no overlaps; what does not fit is counted).
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.i18n import Messages
from sim.model.world import World
from sim.viz.coverage import PlanLayer, incident_sites
from sim.viz.map_areas import (MAX_SITES_LISTED, AreaResult, area_label, area_marks, draw_area_marks,
                               mark_diameter_pt, site_kecamatan)
from sim.viz.map_labels import LabelPlacer
from sim.viz.map_results import DETERRED_COLOUR, SiteResult, deterred_alpha, has_deterrence, missed, share_colour
from sim.viz.map_style import set_site_ids, site_style, towns_in
from sim.viz.palette import NO_SHARE_EDGE, UNIT_COLOUR
from sim.viz.words import site_words

#: above this many sites a map aggregates by kecamatan (a few hundred markers still read one by one)
MANY_SITES = 300
SET_SITE_COLOUR = "#8a8a8a"   # the dots of site-set sites on a map of many sites
MAX_BADGES = 40               # posts drawn with a badge counting their vehicles; beyond, a small square each
NEAR_TOWN_DEG = 0.004         # a site this close to a town centre (about 400 m) is that town's site
LABEL_STYLE = {"color": "#111111", "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}}


@dataclass(frozen=True)
class MarksView:
    """What one axes shows: ``zoomed`` (the inset) and ``owns(lon, lat)``: whether a label there is this
    axes' to place (the inset names what lies inside it, the main map what lies outside the inset)."""

    zoomed: bool
    owns: Callable[[float, float], bool]


def many_sites(scenario) -> bool:
    """Whether the map aggregates by kecamatan: more than MANY_SITES sites, or more incident sites than
    lists of single sites name (MAX_SITES_LISTED: the lists then name kecamatan too)."""
    return len(scenario.sites) > MANY_SITES or len(incident_sites(scenario)) > MAX_SITES_LISTED


def _town_of_site(scenario, towns) -> dict[str, str]:
    """Sites that stand at a town's centre and carry its name (``Kota Tanggul`` at Tanggul) -> the town
    (the last such town in ``towns``)."""
    sites = scenario.sites
    lon = np.array([s.lon for s in sites])
    lat = np.array([s.lat for s in sites])
    near = []   # (site index, town index): the position first, of thousands of sites few are near a town
    for t, (name, town_lon, town_lat) in enumerate(towns):
        for i in np.flatnonzero((np.abs(lon - town_lon) < NEAR_TOWN_DEG) & (np.abs(lat - town_lat) < NEAR_TOWN_DEG)):
            if name.casefold() in sites[i].name.casefold():
                near.append((int(i), t))
    return {sites[i].id: towns[t][0] for i, t in sorted(near)}


def _label_order(scenario, layer: PlanLayer, results: Mapping[str, SiteResult] | None) -> list:
    """Sites in the order they get a label: those missing the target (most late first), where units
    stand, then the rest in scenario order."""
    worst = {r.site: k for k, r in enumerate(missed(results))} if results else {}
    order = {site.id: k for k, site in enumerate(scenario.sites)}
    return sorted(scenario.sites, key=lambda s: (s.id not in worst, worst.get(s.id, 0),
                                                 s.id not in layer.standing, order[s.id]))


def _draw_units(ax, world: World, layer: PlanLayer, zoomed: bool) -> None:
    """Circuits along the roads and random-patrol pools."""
    network = world.network
    for path in layer.circuits:
        ax.plot(network.lon[path], network.lat[path], color=UNIT_COLOUR, linewidth=2.2 if zoomed else 1.6,
                linestyle=(0, (4, 2)), zorder=5)
    for pool in layer.pools:
        nodes = list(pool)
        ax.scatter(network.lon[nodes], network.lat[nodes], s=14 if zoomed else 6, marker="+",
                   color=UNIT_COLOUR, linewidths=1.0, zorder=5)


def _draw_sites(ax, sites: Sequence, results: Mapping[str, SiteResult] | None, size: float, width: float) -> None:
    """Sites by the shape of their kind; filled by the simulated share with results, else in the kinds'
    ink and hollow where the position is approximate. One scatter per look: thousands stay fast."""
    groups: dict[tuple[str, str, str], list] = defaultdict(list)
    for site in sites:
        marker, colour = site_style(site.kind)
        if results is not None:
            result = results.get(site.id)
            face = share_colour(result)
            edge = "#1a1a1a" if result is not None and result.has_incidents else NO_SHARE_EDGE
        else:
            face, edge = ("white" if site.approximate else colour), colour
        groups[(marker, face, edge)].append(site)
    if has_deterrence(results):  # a halo under each site, as dark as its share of candidates deterred
        from matplotlib.colors import to_rgba

        halo = [(s, deterred_alpha(results.get(s.id))) for s in sites]
        halo = [(s, a) for s, a in halo if a > 0]
        ax.scatter([s.lon for s, _ in halo], [s.lat for s, _ in halo], s=size * 5, marker="o", linewidths=0,
                   facecolors=[to_rgba(DETERRED_COLOUR, a) for _, a in halo], zorder=6.5)
    for (marker, face, edge), group in groups.items():
        ax.scatter([s.lon for s in group], [s.lat for s in group], s=size * (2.2 if marker in "P" else 1.0),
                   marker=marker, facecolors=face, edgecolors=edge, linewidths=width, zorder=7)


def _standing_badges(ax, scenario, layer: PlanLayer, labels: LabelPlacer, zoomed: bool) -> None:
    """Vehicles standing still (posts, bases): a badge with the count, up-left of the site marker; with
    more than MAX_BADGES posts, a small square at each post instead (counts would cover the map)."""
    site_by_id = {s.id: s for s in scenario.sites}
    if len(layer.standing) > MAX_BADGES:
        posts = [site_by_id[site_id] for site_id in layer.standing]
        ax.scatter([s.lon for s in posts], [s.lat for s in posts], s=30 if zoomed else 16, marker="s",
                   c=UNIT_COLOUR, edgecolors="white", linewidths=0.6, zorder=8)
        return
    badge_pt = 10 if zoomed else 7
    px = badge_pt * ax.figure.dpi / 72
    for site_id, count in layer.standing.items():
        site = site_by_id[site_id]
        ax.annotate(str(count), (site.lon, site.lat), xytext=(-badge_pt, badge_pt), textcoords="offset points",
                    ha="center", va="center", fontsize=9 if zoomed else 7, color="white", fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": UNIT_COLOUR, "ec": "white", "lw": 1}, zorder=9)
        x, y = ax.transData.transform((site.lon, site.lat))
        labels.reserve_box((x - 2 * px, y, x, y + 2 * px))


def draw_marks(ax, scenario, world: World, layer: PlanLayer, view: MarksView,
               results: Mapping[str, SiteResult] | None, areas: Mapping[str, AreaResult] | None,
               m: Messages) -> set[str]:
    """Units, sites, towns and (on a map of many sites, main map) kecamatan circles; returns the ids
    of the sites given a label."""
    zoomed, owns = view.zoomed, view.owns
    many = many_sites(scenario)
    in_sets = set_site_ids(scenario) if many else set()
    listed = [s for s in scenario.sites if s.id not in in_sets]
    labels = LabelPlacer(ax)
    _draw_units(ax, world, layer, zoomed)
    if in_sets:
        dots = [s for s in scenario.sites if s.id in in_sets]
        ax.scatter([s.lon for s in dots], [s.lat for s in dots], s=5 if zoomed else 1.2, marker="o",
                   color=SET_SITE_COLOUR, linewidths=0, alpha=0.7, zorder=4)
    size = 120 if zoomed else (40 if many else 60)
    _draw_sites(ax, listed, results, size, 1.2 if many and not zoomed else 1.8)
    radius_px = math.sqrt(size) / 2 * ax.figure.dpi / 72 + 1
    for site in listed:
        labels.reserve(site.lon, site.lat, radius_px)
    towns = towns_in(world.network)
    marks = area_marks(scenario, world.network, areas) if many and not zoomed else []
    if marks:
        draw_area_marks(ax, marks)
        largest = max(m.size for m in marks)
        for mark in marks:
            r = mark_diameter_pt(mark.size, largest) / 2 * ax.figure.dpi / 72
            labels.reserve(mark.lon, mark.lat, r)
    _standing_badges(ax, scenario, layer, labels, zoomed)
    named: set[str] = set()
    at_town = _town_of_site(scenario, towns)

    def label_site(site) -> None:
        if owns(site.lon, site.lat):
            text = textwrap.fill(site_words(site.name, m) + (m("map.approxSuffix") if site.approximate else ""), 24)
            if labels.add(site.lon, site.lat, text, 9.5 if zoomed else 9, **LABEL_STYLE):
                named.add(site.id)

    if many:
        # Where units stand first while the posts are few enough to read (an optimised plan's 24
        # posts among 4,077 polling stations; not 200), then the worst kecamatan with their figures,
        # every town's name, and the listed sites that are not a town's own site (the town's name
        # stands for it).
        if len(layer.standing) <= MAX_BADGES:
            for site in (s for s in scenario.sites if s.id in layer.standing):
                label_site(site)
        for mark in marks:
            if mark.worst and owns(mark.lon, mark.lat):
                labels.add(mark.lon, mark.lat, f"{mark.name}\n{area_label(mark.result, m)}", 9.5, color="#111111",
                           fontweight="bold", zorder=9.5, bbox=LABEL_STYLE["bbox"])
        worst_names = {m.name for m in marks if m.worst}
        _label_towns(ax, labels, towns, owns, skip=worst_names, with_dot=not marks)
        for site in listed:
            if site.id in at_town:
                named.add(site.id)   # named by its town's label
            elif site.id not in named:
                label_site(site)
        return named
    ordered = _label_order(scenario, layer, results)
    first = [s for s in ordered if (results and results.get(s.id) and results[s.id].misses) or s.id in layer.standing]
    for site in first:
        label_site(site)
    site_by_id = {s.id: s for s in scenario.sites}
    own_sites = {town for site, town in at_town.items() if owns(site_by_id[site].lon, site_by_id[site].lat)}
    _label_towns(ax, labels, towns, owns, skip=own_sites, with_dot=True)
    for site in ordered[len(first):]:
        label_site(site)
    return named


def _label_towns(ax, labels: LabelPlacer, towns, owns, skip: set[str], with_dot: bool) -> None:
    """Name the kecamatan towns this axes owns (not those in ``skip``: named otherwise), in grey italic;
    ``with_dot``: a dot at each, all in one scatter (Agg stamps a scatter's marker at each point in turn,
    as it would the towns' own scatters, at a fraction of the cost)."""
    dots = []
    for name, lon, lat in towns:
        if name in skip or not owns(lon, lat):
            continue
        dots.append((lon, lat))
        labels.add(lon, lat, name, 9, color="#444444", fontstyle="italic", zorder=8.5,
                   bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    if with_dot and dots:
        ax.scatter([lon for lon, _ in dots], [lat for _, lat in dots], s=8, color="#555555", zorder=6)


def label_count(scenario, named: set[str]) -> tuple[int, int]:
    """(sites that could be named, of them left out): on a map of many sites only the listed ones."""
    in_sets = set_site_ids(scenario) if many_sites(scenario) else set()
    nameable = [s for s in scenario.sites if s.id not in in_sets]
    return len(nameable), sum(1 for s in nameable if s.id not in named)


def city_names(scenario, box: Sequence[float]) -> list[str]:
    """The kecamatan of the listed sites inside ``box`` [west, south, east, north] (the rule of
    areas.csv), those with most sites first: what an inset of that box frames."""
    where = site_kecamatan(scenario)
    inside = [where[s.id] for s in listed_sites(scenario) if box[0] <= s.lon <= box[2] and box[1] <= s.lat <= box[3]]
    return sorted(set(inside), key=lambda name: (-inside.count(name), name))


def cluster_centre(sites: Sequence, radius_m: float) -> int:
    """Index of the site with the most others within ``radius_m`` (ties: the first): where sites
    cluster. A k-d tree counts the neighbours, so thousands of listed sites stay cheap."""
    import numpy as np
    from scipy.spatial import cKDTree

    from sim.network.geo import EARTH_RADIUS_M

    lat = np.radians([s.lat for s in sites])
    lon = np.radians([s.lon for s in sites])
    points = np.column_stack([lon * np.cos(lat.mean()) * EARTH_RADIUS_M, lat * EARTH_RADIUS_M])
    near = cKDTree(points).query_ball_point(points, radius_m, return_length=True)
    return int(np.argmax(near))


def listed_sites(scenario) -> list:
    """The sites listed in the scenario's ``sites:`` (not generated or read by a site set)."""
    in_sets = set_site_ids(scenario)
    return [s for s in scenario.sites if s.id not in in_sets]
