"""What an animation's map holds that does not move: its panels, roads, sites and towns.

Sites are named unless their kind has more than ``MANY_OF_A_KIND`` sites (the polling stations of
the voting day): those are drawn small and unnamed, and the legend counts them. An incident site
farther than the scenario's target from every post, base and patrol stop of the plan (units free,
the best case the coverage map shades) is **beyond reach**: its name says the minutes, in its own
colour, with a ring around its marker (one of many unnamed sites: its dot in that colour). Towns
are Jember's kecamatan towns in the regency panel, left out where a named site already carries the
town's name or where the city panel shows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.config.kecamatan import load_kecamatan
from sim.i18n import Messages
from sim.network.geo import project_m
from sim.viz.animate_views import CITY, REGENCY, REGENCY_MARGIN, Panel, arrange, box_around, city_box
from sim.viz.coverage import incident_sites, plan_coverage
from sim.viz.words import kind_words, site_words

if TYPE_CHECKING:
    from sim.model import World
    from sim.network import RoadNetwork

MANY_OF_A_KIND = 60      # a kind with more sites than this is drawn small and unnamed
TOWN_SITE_M = 1500.0     # a town's name is left out when a named site this close carries it


@dataclass(frozen=True)
class SiteMark:
    """A site as the animation draws it; position in metres of the network's plane."""

    name: str
    x_m: float
    y_m: float
    is_base: bool
    named: bool = True          # False: one of many sites of its kind, drawn small without a name (bases are named)
    beyond: bool = False        # an incident site beyond the target's drive from the plan's units
    drive_min: float = 0.0      # minutes from the plan's nearest post, base or patrol stop (units free)
    beyond_label: str = ""      # its name with its drive time, in the animation's language (beyond reach)

    @property
    def label(self) -> str:
        """The site's name on the map: with its drive time when beyond reach."""
        return self.beyond_label if self.beyond and self.beyond_label else self.name


def beyond_words(target_min: float, m: Messages) -> str:
    """The legend's words for a site beyond reach."""
    return m("anim.beyond", target=m.num(target_min, "g"))


def unnamed_words(kind: str, count: int, beyond: int, target_min: float, m: Messages) -> str:
    """The legend's words for the sites of a kind drawn unnamed, and those of them beyond reach."""
    if beyond:
        return m("anim.unnamed.beyond", kind=kind, n=m.num(count, ","), beyond=m.num(beyond, ","),
                 target=m.num(target_min, "g"))
    return m("anim.unnamed", kind=kind, n=m.num(count, ","))


def short_name(name: str) -> str:
    """A site name without its parenthesised detail, to keep map labels short."""
    return name.split(" (")[0]


def site_marks(scenario, world: World, plan: str, bases: set[int], m: Messages) -> tuple[list[SiteMark], list[str]]:
    """Every site as drawn, and the legend's words for the kinds drawn unnamed (in the language of ``m``)."""
    network = world.network
    drive_min = plan_coverage(scenario, world, plan).time_min
    struck = set(incident_sites(scenario))
    kinds: dict[str, int] = {}
    for site in scenario.sites:
        kinds[site.kind] = kinds.get(site.kind, 0) + 1
    many = {kind for kind, n in kinds.items() if n > MANY_OF_A_KIND}
    marks = []
    for site in scenario.sites:
        node = world.site_node[site.id]
        minutes = float(drive_min[node])
        is_base = node in bases
        beyond = site.id in struck and not is_base and minutes > scenario.target_response_min
        name = short_name(site_words(site.name, m))
        marks.append(SiteMark(name, float(network.x_m[node]), float(network.y_m[node]), is_base,
                              named=is_base or site.kind not in many, beyond=beyond, drive_min=minutes,
                              beyond_label=m("anim.site.beyond", name=name, minutes=m.num(minutes, ".0f"))))
    return marks, [unnamed_words(kind_words(kind, m), kinds[kind],
                                 sum(mark.beyond for mark, site in zip(marks, scenario.sites) if site.kind == kind),
                                 scenario.target_response_min, m) for kind in sorted(many)]


def towns_in_view(network: RoadNetwork, panels: tuple[Panel, ...], sites: list[SiteMark]) -> list[tuple[str, float, float]]:
    """Kecamatan towns (name, x_m, y_m) inside the regency panel, outside the city panel, not named by a site."""
    regency = [p for p in panels if p.role == REGENCY]
    if not regency:
        return []
    city = [p for p in panels if p.role == CITY]
    table = load_kecamatan()
    xs, ys = project_m(np.array([k.lon for k in table]), np.array([k.lat for k in table]), network.origin)
    named = [s for s in sites if s.named]
    towns = []
    for k, x, y in zip(table, xs.tolist(), ys.tolist()):
        if not regency[0].contains(np.array(x), np.array(y)) or any(p.contains(np.array(x), np.array(y)) for p in city):
            continue
        if any(k.name.lower() in s.name.lower() and np.hypot(s.x_m - x, s.y_m - y) <= TOWN_SITE_M for s in named):
            continue
        towns.append((k.name, x, y))
    return towns


def segments_in_view(network: RoadNetwork, view_m: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Road segments (one per node pair, either direction) touching the view, and a class 0..2."""
    tails = network.edge_tails
    heads = network.indices.astype(np.int64)
    low, high = np.minimum(tails, heads), np.maximum(tails, heads)
    _, first = np.unique(low * network.n_nodes + high, return_index=True)
    a, b = low[first], high[first]
    x0, y0, x1, y1 = view_m
    xa, ya, xb, yb = network.x_m[a], network.y_m[a], network.x_m[b], network.y_m[b]
    inside = ~((np.maximum(xa, xb) < x0) | (np.minimum(xa, xb) > x1) | (np.maximum(ya, yb) < y0) | (np.minimum(ya, yb) > y1))
    names = network.road_class_names
    rank = np.array([0 if n in ("motorway", "trunk", "primary") else 1 if n in ("secondary", "tertiary") else 2
                     for n in names], dtype=np.int8)
    segment_class = rank[network.road_class[first][inside]] if len(names) else np.full(inside.sum(), 2, np.int8)
    return np.column_stack([xa, ya, xb, yb])[inside], segment_class


def map_panels(view: str, sites: list[SiteMark], moving_x_m: np.ndarray, moving_y_m: np.ndarray,
               map_aspect: float) -> tuple[Panel, ...]:
    """The panels of ``view``: the regency around every site and everything that moves or appears."""
    site_x, site_y = np.array([s.x_m for s in sites]), np.array([s.y_m for s in sites])
    xs, ys = np.concatenate([site_x, np.ravel(moving_x_m)]), np.concatenate([site_y, np.ravel(moving_y_m)])
    named = np.array([s.named for s in sites])   # the many unnamed sites (polling stations) do not make a city
    named = named if named.any() else np.ones(len(sites), dtype=bool)
    return arrange(view, box_around(xs, ys, margin=REGENCY_MARGIN), city_box(site_x[named], site_y[named]), map_aspect)
