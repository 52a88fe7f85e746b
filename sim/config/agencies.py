"""The checks of agencies and joint patrols (issue #12) that the schema cannot make: agencies that
exist, joint members that are unit types, and every plan (and phase fleet) able to answer every
disturbance type with the agencies it needs.

They read the data as run, defensively (like ``sim.config.checks``): what is malformed there is
the schema's to report.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sim.config.problems import Report, suggest
from sim.config.yaml_reader import YamlPath


def _items(section: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in enumerate(section) if isinstance(item, dict)] if isinstance(section, list) else []


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def group_types(group: dict[str, Any]) -> list[Any]:
    """The vehicle types of one unit group: its type, or its joint patrol's members."""
    joint = group.get("joint")
    return list(joint) if isinstance(joint, list) else [group.get("type")]


def agency_checks(data: dict[str, Any], report: Report) -> None:
    """Unknown agencies and joint member types; types a plan's fleet cannot answer."""
    unit_types = data.get("unit_types")
    if not isinstance(unit_types, dict):
        return
    agency_of = {name: t.get("agency") for name, t in unit_types.items() if isinstance(t, dict)}
    known = sorted({a for a in agency_of.values() if isinstance(a, str)})
    for i, dist in _items(data.get("disturbances")):
        for key in ("agencies", "requires"):
            names = dist.get(key)
            places = enumerate(names) if isinstance(names, list) else ((a, a) for a in names) \
                if isinstance(names, dict) else ()
            for place, agency in places:
                if isinstance(agency, str) and agency not in known:
                    report.at(("disturbances", i, key, place), f"no unit type has agency '{agency:.40}'"
                              + suggest(agency, known))
    for i, plan in _items(data.get("plans")):
        fleets = [(("plans", i), plan.get("units"), f"plan '{plan.get('name')}'")]
        by_phase = plan.get("by_phase")
        for phase, fleet in by_phase.items() if isinstance(by_phase, dict) else ():
            if isinstance(fleet, dict):
                fleets.append((("plans", i, "by_phase", phase), fleet.get("units"),
                               f"plan '{plan.get('name')}' in phase '{phase}'"))
        for path, units, name in fleets:
            fleet_agencies = _fleet(path, units, agency_of, report)
            if fleet_agencies is not None:
                _answerable(data, fleet_agencies, name, report)


def _fleet(path: YamlPath, units: Any, agency_of: dict[str, Any], report: Report) -> Counter | None:
    """Vehicles per agency of one fleet (None if a count or type is unknown); reports unknown joint members."""
    per_agency: Counter = Counter()
    complete = True
    for j, group in _items(units):
        joint = group.get("joint")
        for k, member in enumerate(joint if isinstance(joint, list) else ()):
            if isinstance(member, str) and member not in agency_of:
                report.at(path + ("units", j, "joint", k), f"unknown unit type '{member:.40}'"
                          + suggest(member, sorted(agency_of)))
        count = group.get("count")
        for unit_type in group_types(group):
            agency = agency_of.get(unit_type) if isinstance(unit_type, str) else None
            if not _whole(count) or not isinstance(agency, str):
                complete = False
                continue
            per_agency[agency] += count
    return per_agency if complete else None


def _answerable(data: dict[str, Any], fleet: Counter, name: str, report: Report) -> None:
    """Each disturbance type: some vehicle of the fleet may answer it, and each agency it requires
    has as many vehicles as it requires."""
    for i, dist in _items(data.get("disturbances")):
        agencies, requires = dist.get("agencies"), dist.get("requires")
        if isinstance(agencies, list):
            eligible, needed = sum(fleet[a] for a in set(agencies) if isinstance(a, str)), dist.get("units_required", 1)
            if eligible == 0:
                report.at(("disturbances", i, "agencies"),
                          f"{name} cannot answer disturbance type '{dist.get('type')}': it has no unit of "
                          + " or ".join(str(a)[:40] for a in agencies))
                continue
            if _whole(needed) and eligible < needed:
                report.at(("disturbances", i, "agencies"),
                          f"{name} cannot answer disturbance type '{dist.get('type')}': it needs {needed} units "
                          f"of {', '.join(str(a)[:40] for a in agencies)} and the plan has {eligible}")
        for agency, n in requires.items() if isinstance(requires, dict) else ():
            if isinstance(agency, str) and _whole(n) and fleet[agency] < n:
                report.at(("disturbances", i, "requires", agency),
                          f"{name} cannot answer disturbance type '{dist.get('type')}': it requires {n} "
                          f"{agency:.40} units and the plan has {fleet[agency]}")
