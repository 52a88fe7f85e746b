"""The rules between parts of a scenario that need a whole section: names given once, escalations
to known types, phases in order and inside the clock, travel periods apart, every fleet able to answer
every disturbance type. (A single name is checked where it is written: ``sim.config.known``.)

Each function reads validated model objects and returns problems as (YAML path, message), the path
relative to the part being validated; ``sim.config.scenario`` calls them from its validators.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sim.config import limits
from sim.config.calendar import MIN_PER_DAY, WHEN
from sim.config.known import Problem, unknown
from sim.config.yaml_reader import YamlPath


def duplicates(items: Iterable[Any], key: str, kind: str, section: str) -> list[Problem]:
    """Each item's ``key`` given once: a repeat names the item that has it first."""
    seen: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            problems.append(((i, key), f"duplicate {kind} '{value}' (also {section}[{seen[value]}])"))
        else:
            seen[value] = i
    return problems


# -- sites and disturbances --------------------------------------------------------------------------------


def site_set_clashes(file_site_ids: Sequence[str], set_ids: Sequence[Sequence[str]]) -> list[Problem]:
    """Each site set's ids unique against the sites and the sets before it (paths from the scenario)."""
    seen = set(file_site_ids)
    problems = []
    for i, ids in enumerate(set_ids):
        clash = next((site for site in ids if site in seen), None)
        if clash is not None:
            problems.append((("site_sets", i), f"site id '{clash}' is already used (by sites or an earlier set)"))
        seen.update(ids)
    return problems


def escalations(disturbances: Sequence[Any]) -> list[Problem]:
    """Each escalation goes to another known disturbance type."""
    types = [d.type for d in disturbances]
    problems = []
    for i, disturbance in enumerate(disturbances):
        if disturbance.escalation is None:
            continue
        target = disturbance.escalation.to
        if target == disturbance.type:
            problems.append(((i, "escalation", "to"), "a disturbance type cannot escalate to itself"))
        else:
            problems += unknown((i, "escalation", "to"), target, types, "disturbance type")
    return problems


# -- plans ---------------------------------------------------------------------------------------------------


def fleet_sizes(plan) -> list[tuple[YamlPath, str, Any]]:
    """(path from the plan, name in messages, groups) of each fleet of a plan: its own, then each phase's."""
    return [((), f"plan '{plan.name}'", plan.units)] + [
        (("by_phase", phase), f"plan '{plan.name}' in phase '{phase}'", fleet.units)
        for phase, fleet in plan.by_phase.items()]


def too_many_units(plan) -> list[Problem]:
    """Every fleet of a plan within the bound on units."""
    problems = []
    for path, name, units in fleet_sizes(plan):
        total = sum(group.count for group in units)
        if total > limits.MAX_UNITS:
            problems.append((path + ("units",), f"{name} has {total:,} units, more than the {limits.MAX_UNITS:,} a "
                                                "plan may have"))
    return problems


def answerable(disturbances: Sequence[Any], plans: Sequence[Any], agency_of: dict[str, str]) -> list[Problem]:
    """Every fleet of every plan has the units each disturbance type needs (``units_required``), of the
    agencies it may take (``agencies``) and requires (``requires``). Paths from the scenario."""
    problems = []
    fleets = [(f"{name}", units) for plan in plans for _, name, units in fleet_sizes(plan)]
    for name, units in fleets:
        total = sum(group.count for group in units)
        for i, disturbance in enumerate(disturbances):
            if disturbance.units_required > total:
                problems.append((("disturbances", i, "units_required"),
                                 f"disturbance type '{disturbance.type}' needs {disturbance.units_required} units "
                                 f"but {name} has only {total}"))
    for name, units in fleets:
        per_agency = Counter()
        for group in units:
            per_agency[agency_of[group.type]] += group.count
        for i, disturbance in enumerate(disturbances):
            problems += _agencies_answer(("disturbances", i), disturbance, per_agency, name)
    return problems


def _agencies_answer(path: YamlPath, disturbance, fleet: Counter, name: str) -> list[Problem]:
    problems = []
    agencies, needed = disturbance.agencies, disturbance.units_required
    if agencies is not None:
        eligible = sum(fleet[a] for a in set(agencies))
        listed = ", ".join(a[:40] for a in agencies)
        if eligible == 0:
            return [(path + ("agencies",), f"{name} cannot answer disturbance type '{disturbance.type}': it has no "
                                           "unit of " + " or ".join(a[:40] for a in agencies))]
        if eligible < needed:
            problems.append((path + ("agencies",), f"{name} cannot answer disturbance type '{disturbance.type}': it "
                                                   f"needs {needed} units of {listed} and the plan has {eligible}"))
    for agency, n in (disturbance.requires or {}).items():
        if fleet[agency] < n:
            problems.append((path + ("requires", agency),
                             f"{name} cannot answer disturbance type '{disturbance.type}': it requires {n} "
                             f"{agency:.40} units and the plan has {fleet[agency]}"))
    return problems


# -- the season ----------------------------------------------------------------------------------------------


def clock_span(clock) -> tuple[datetime, datetime]:
    return clock.start, clock.start + timedelta(hours=clock.duration_hours)


def phase_problems(calendar, clock, shortened: bool) -> list[Problem]:
    """Phases named once, in order, not overlapping, inside the clock (a clock shortened on the command
    line may end before later phases). Paths from the calendar."""
    span = clock_span(clock) if clock is not None else None
    problems = duplicates(calendar.phases, "name", "phase name", "calendar.phases")
    problems = [(("phases",) + path, message) for path, message in problems]
    previous: tuple[int, datetime] | None = None
    for i, phase in enumerate(calendar.phases):
        path: YamlPath = ("phases", i)
        start, end = phase.start, phase.end
        if end <= start:
            problems.append((path + ("end",), f"{end:{WHEN}} is not after the phase's start ({start:{WHEN}})"))
            continue
        if span is not None and (start < span[0] or (end > span[1] and not shortened)):
            problems.append((path, f"phase '{phase.name}' ({start:{WHEN}} to {end:{WHEN}}) is outside the clock "
                                   f"({span[0]:{WHEN}} to {span[1]:{WHEN}})"))
        if previous is not None and start < previous[1]:
            problems.append((path + ("start",), f"phase '{phase.name}' starts before calendar.phases[{previous[0]}] "
                                                f"ends ({previous[1]:{WHEN}}): phases must be in order and not overlap"))
        previous = (i, end)
    return problems


def travel_overlaps(periods: Sequence[Any]) -> list[Problem]:
    """Travel periods that share a minute of the day (which speed would hold?). Paths from ``travel``."""
    taken = np.full(MIN_PER_DAY, -1)
    problems = []
    for i, period in enumerate(periods):
        start, end = period.window
        length = (end - start) % MIN_PER_DAY or MIN_PER_DAY  # across midnight when end < start
        minutes = np.arange(start, start + length) % MIN_PER_DAY
        clash = taken[minutes][taken[minutes] >= 0]
        if clash.size:
            problems.append((("periods", i), f"overlaps travel.periods[{clash[0]}]: periods must not overlap"))
        taken[minutes] = np.where(taken[minutes] >= 0, taken[minutes], i)
    return problems
