"""The rules between parts of a scenario: names that exist and are unique, fleets that can answer.

Each function reads validated model objects and returns problems as (YAML path, message), the path
relative to the part being validated; ``sim.config.schema`` calls them from its validators, in the one
validation pass (a section is checked against the sections validated before it).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sim.config import limits
from sim.config.calendar import ALL_TYPES, MIN_PER_DAY
from sim.config.problems import suggest
from sim.config.yaml_reader import YamlPath

Problem = tuple[YamlPath, str]
_WHEN = "%Y-%m-%dT%H:%M"


def unknown(path: YamlPath, name: str, known: Collection[str] | None, kind: str) -> list[Problem]:
    """A problem if ``name`` is not among ``known`` (None: not known, so not checked; an ordered
    dict or a set finds a name at once, where a list of thousands of sites is read through)."""
    if known is None or name in known:
        return []
    return [(path, f"unknown {kind} '{name}'" + suggest(name, list(known)))]


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


def disturbance_references(disturbance, site_ids: Collection[str] | None, agencies: Collection[str] | None,
                           has_detection: bool | None) -> list[Problem]:
    """The sites of its weights, the agencies it names, a detection block for its own report delay."""
    problems = []
    for site in disturbance.sites:
        problems += unknown(("sites", site), site, site_ids, "site")
    if agencies is not None:
        named = [(("agencies", k), a) for k, a in enumerate(disturbance.agencies or ())]
        named += [(("requires", a), a) for a in disturbance.requires or {}]
        for path, agency in named:
            if agency not in agencies:
                problems.append((path, f"no unit type has agency '{agency:.40}'" + suggest(agency, list(agencies))))
    if has_detection is False and disturbance.report_delay_min is not None:
        problems.append((("report_delay_min",), "a type's report_delay_min needs a 'detection' block "
                                                "(detection: {report_delay_min: ...})"))
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


def written_groups(units: Sequence[Any]) -> list[tuple[int, list[Any]]]:
    """The unit groups as the file wrote them: (index in the file's list, its groups), a joint group's
    member groups together (a plan holds them one per member type, ``joint_tag`` naming the entry)."""
    out: list[tuple[int, list[Any]]] = []
    for group in units:
        tag = group.joint_tag
        if tag is not None and out and out[-1][0] == tag[0]:
            out[-1][1].append(group)
        else:
            out.append((tag[0] if tag is not None else (out[-1][0] + 1 if out else 0), [group]))
    return out


def fleet_references(path: YamlPath, units: Sequence[Any], site_ids: Collection[str] | None,
                     unit_types: Collection[str] | None) -> list[Problem]:
    """Unit types, bases and patrol sites (the keys each mode lists in ``SITE_KEYS``) that exist."""
    problems = []
    for j, members in written_groups(units):
        where, group = path + ("units", j), members[0]
        if group.joint_tag is None:
            problems += unknown(where + ("type",), group.type, unit_types, "unit type")
        elif unit_types is not None:
            for k, member in enumerate(m.type for m in members):
                if member not in unit_types:
                    problems.append((where + ("joint", k), f"unknown unit type '{member:.40}'"
                                     + suggest(member, sorted(unit_types))))
        problems += unknown(where + ("base",), group.base, site_ids, "site")
        for key in group.patrol.SITE_KEYS:
            value = getattr(group.patrol, key)
            if isinstance(value, (tuple, list)):
                for k, site in enumerate(value):
                    problems += unknown(where + ("patrol", key, k), site, site_ids, "site")
            elif value is not None:
                problems += unknown(where + ("patrol", key), value, site_ids, "site")
    return problems


def plan_references(plan, phase_names: Collection[str] | None | bool, site_ids: Collection[str] | None,
                    unit_types: Collection[str] | None) -> list[Problem]:
    """A plan's fleets: its units, and each phase of ``by_phase`` a phase of the calendar (``phase_names``
    None: the scenario has no calendar; False: the calendar is unknown) with units checked as the plan's own."""
    problems = fleet_references((), plan.units, site_ids, unit_types)
    for phase, fleet in plan.by_phase.items():
        where: YamlPath = ("by_phase", phase)
        if phase_names is None:
            problems.append((where, f"phase '{phase}': the scenario has no calendar.phases"))
        elif phase_names is not False:
            problems += unknown(where, phase, phase_names, "phase")
        problems += fleet_references(where, fleet.units, site_ids, unit_types)
    return problems


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


def phase_problems(calendar, clock, types: Collection[str] | None, shortened: bool) -> list[Problem]:
    """Phases named once, in order, not overlapping, inside the clock (a clock shortened on the command
    line may end before later phases), multiplying known disturbance types. Paths from the calendar."""
    span = clock_span(clock) if clock is not None else None
    problems = duplicates(calendar.phases, "name", "phase name", "calendar.phases")
    problems = [(("phases",) + path, message) for path, message in problems]
    previous: tuple[int, datetime] | None = None
    for i, phase in enumerate(calendar.phases):
        path: YamlPath = ("phases", i)
        if types is not None:
            for key in phase.rate_multiplier:
                if key not in types and key != ALL_TYPES:
                    problems.append((path + ("rate_multiplier", key), f"unknown disturbance type '{key}'"
                                     + suggest(key, [*types, ALL_TYPES])))
        start, end = phase.start, phase.end
        if end <= start:
            problems.append((path + ("end",), f"{end:{_WHEN}} is not after the phase's start ({start:{_WHEN}})"))
            continue
        if span is not None and (start < span[0] or (end > span[1] and not shortened)):
            problems.append((path, f"phase '{phase.name}' ({start:{_WHEN}} to {end:{_WHEN}}) is outside the clock "
                                   f"({span[0]:{_WHEN}} to {span[1]:{_WHEN}})"))
        if previous is not None and start < previous[1]:
            problems.append((path + ("start",), f"phase '{phase.name}' starts before calendar.phases[{previous[0]}] "
                                                f"ends ({previous[1]:{_WHEN}}): phases must be in order and not overlap"))
        previous = (i, end)
    return problems


def event_problems(event, clock, site_ids: Collection[str] | None, types: Collection[str] | None,
                   shortened: bool) -> list[Problem]:
    """An event at known sites, of known types, inside the clock. Paths from the event."""
    problems = []
    for site in event.sites:
        problems += unknown(("sites", site), site, site_ids, "site")
    for name in event.rate_per_hour:
        problems += unknown(("rate_per_hour", name), name, types, "disturbance type")
    if clock is None:
        return problems
    start, end = clock_span(clock)
    if event.start < start or (event.start >= end and not shortened):
        problems.append((("start",), f"{event.start:{_WHEN}} is outside the clock ({start:{_WHEN}} to {end:{_WHEN}})"))
    elif event.start + timedelta(hours=event.hours) > end and not shortened:
        problems.append((("hours",), f"the event runs past the end of the clock ({end:{_WHEN}})"))
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
