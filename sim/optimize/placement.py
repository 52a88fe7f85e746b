"""From posts to a plan: which unit stands where, from which base.

The programs place anonymous units at speed factor 1. A fleet has types of different speeds, so
the faster types go where travel is longest: posts are ranked by the demand-weighted mean travel
minutes of the sites they are nearest to (the sites they would serve), units by speed factor,
and the fastest unit takes the top post (ties keep plan order). Within a type, each unit keeps
one of the bases that type has in the plan, the nearest to its post first. With N units
every unit is of the scenario's first unit type, based where that type is based first in the
scenario's plans (else at its post). Or (``based_at_nearest_post``) each unit is based at the
police post of the scenario it reaches its post from soonest. ``post_label`` names a post for a
commander: its nearest named site, its kecamatan (of the nearest centre), its coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.kecamatan import nearest_kecamatan
from sim.network.geo import project_m
from sim.optimize.candidates import Candidate
from sim.optimize.metrics import Instance
from sim.optimize.travel import SECONDS_PER_MIN, times_s_to



@dataclass(frozen=True)
class FleetUnit:
    """One vehicle to place: its type, speed factor and home base (None: based at its post)."""

    type: str
    speed_factor: float
    base: str | None


@dataclass(frozen=True)
class PlacedUnit:
    """A vehicle at a post (index into the candidates)."""

    unit: FleetUnit
    post: int


def fleet_of_plan(scenario, plan_name: str, phase: str | None = None) -> list[FleetUnit]:
    """The plan's vehicles (types, counts and bases), in plan order; in ``phase``, the plan's fleet
    for that phase when it has one. InputError for an unknown plan."""
    plan = scenario.plan(plan_name)
    groups = plan.by_phase[phase].units if phase is not None and phase in plan.by_phase else plan.units
    return [FleetUnit(group.type, scenario.unit_types[group.type].speed_factor, group.base)
            for group in groups for _ in range(group.count)]


def fleet_of_units(scenario, units: int) -> list[FleetUnit]:
    """``units`` vehicles of the scenario's first unit type."""
    unit_type = next(iter(scenario.unit_types))
    base = next((group.base for plan in scenario.plans for group in plan.units if group.type == unit_type), None)
    return [FleetUnit(unit_type, scenario.unit_types[unit_type].speed_factor, base)] * units


def post_travel_min(instance: Instance, posts: list[int]) -> np.ndarray:
    """Per post (in ``posts`` order, repeats alike): the demand-weighted mean travel minutes to the
    sites it is nearest to (0 for a post nearest to none)."""
    unique = sorted(set(posts))
    travel = instance.travel_min[:, unique]
    nearest = np.argmin(travel, axis=1)
    mean_min = {}
    for k, post in enumerate(unique):
        mine = nearest == k
        weight = instance.weight[mine]
        mean_min[post] = float(weight @ travel[mine, k] / weight.sum()) if weight.sum() > 0 else 0.0
    return np.array([mean_min[post] for post in posts])


def assign_units(instance: Instance, posts: list[int], fleet: list[FleetUnit], candidates: list[Candidate],
                 world) -> list[PlacedUnit]:
    """Each vehicle of ``fleet`` at one of ``posts`` (as many posts as vehicles): fastest types to
    the posts with the longest travel, then bases by nearness within each type."""
    if len(posts) != len(fleet):
        raise ValueError(f"{len(posts)} posts for {len(fleet)} vehicles")
    longest_first = np.argsort(-post_travel_min(instance, posts), kind="stable")
    fastest_first = sorted(range(len(fleet)), key=lambda i: -fleet[i].speed_factor)
    typed = [(posts[p], fleet[u].type) for p, u in zip(longest_first, fastest_first)]
    placed = []
    for unit_type in dict.fromkeys(t for _, t in typed):
        bases = [unit.base for unit in fleet if unit.type == unit_type]
        speed = next(unit.speed_factor for unit in fleet if unit.type == unit_type)
        for post, _ in ((p, t) for p, t in typed if t == unit_type):
            base = _nearest_base(world, candidates[post].node, bases)
            bases.remove(base)
            placed.append(PlacedUnit(FleetUnit(unit_type, speed, base), post))
    return placed


def _nearest_base(world, post_node: int, bases: list[str | None]) -> str | None:
    def minutes(base: str | None) -> float:
        if base is None:
            return 0.0
        return world.tables.time_s_to(world.site_node[base], post_node) / SECONDS_PER_MIN

    return min(bases, key=minutes)


def plan_dict(name: str, description: str, placed: list[PlacedUnit], candidates: list[Candidate]) -> dict:
    """The plan as scenario data: one group per (post, type, base), posts in id order."""
    groups: dict[tuple[str, str, str], int] = {}
    for item in placed:
        post = candidates[item.post].id
        key = (post, item.unit.type, item.unit.base or post)
        groups[key] = groups.get(key, 0) + 1
    units = [{"type": unit_type, "count": count, "base": base, "patrol": {"mode": "post", "at": post}}
             for (post, unit_type, base), count in sorted(groups.items())]
    return {"name": name, "description": description, "units": units}


POLICE_KINDS = ("police_hq", "police_post", "polsek")


def police_posts(scenario) -> list[str]:
    """The scenario's police posts: sites of kind police_hq, police_post or polsek, or whose name
    or note says Polsek (the voting day's kecamatan centres stand in for their Polsek)."""
    return [site.id for site in scenario.sites
            if site.kind in POLICE_KINDS or "polsek" in f"{site.name} {site.note}".casefold()]


def based_at_nearest_post(placed: list[PlacedUnit], candidates: list[Candidate], world, posts: list[str]
                          ) -> list[PlacedUnit]:
    """Each unit based at the police post it reaches its post from soonest (ties: the first)."""
    if not posts:
        return placed
    nodes = np.array([world.site_node[post] for post in posts])
    out = []
    for item in placed:
        base = posts[int(np.argmin(times_s_to(world.tables, candidates[item.post].node, nodes)))]
        out.append(PlacedUnit(FleetUnit(item.unit.type, item.unit.speed_factor, base), item.post))
    return out


@dataclass(frozen=True)
class PostLabel:
    """How a commander finds a post: its name, the nearest named site, its kecamatan, coordinates."""

    id: str
    name: str
    near: str            # the nearest named site of the scenario ("" when the post is one)
    kecamatan: str
    kecamatan_km: float  # to that kecamatan's centre (the kecamatan is the one of the nearest centre)
    lat: float
    lon: float


def post_label(candidate: Candidate, named: list) -> PostLabel:
    """The label of one post; ``named`` the scenario's hand-written sites (id, name, lat, lon)."""
    kecamatan, distance_m = nearest_kecamatan(candidate.lat, candidate.lon)
    near = ""
    if candidate.new and named:
        x, y = project_m(np.array([s.lon for s in named]), np.array([s.lat for s in named]),
                         (candidate.lon, candidate.lat))
        metres = np.hypot(x, y)
        nearest = int(np.argmin(metres))
        near = f"{named[nearest].name} ({metres[nearest] / 1000:.1f} km)"
    return PostLabel(candidate.id, candidate.name, near, kecamatan.name, distance_m / 1000, candidate.lat,
                     candidate.lon)
