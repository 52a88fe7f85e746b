"""Cross-checks of the season keys (issue #11): phases in order and inside the clock, events at known
sites and types, rate multipliers of known types.

Like ``sim.config.checks`` they read the data as run, defensively: a part the schema found broken is
skipped here (the schema reports it).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sim.config.calendar import ALL_TYPES, MIN_PER_DAY, daily_window, iso_datetime
from sim.config.problems import Report, suggest
from sim.config.yaml_reader import YamlPath


def _when(value: Any) -> datetime | None:
    try:
        return iso_datetime(value)
    except ValueError:
        return None


def _clock(data: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The clock's [start, end) as date-times, if the clock is readable."""
    clock = data.get("clock")
    if not isinstance(clock, dict):
        return None
    start, hours = _when(clock.get("start")), clock.get("duration_hours")
    if start is None or isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours < 1e6:
        return None
    return start, start + timedelta(hours=hours)


def _names(report: Report, path: YamlPath, keys: Any, known: list[str] | None, kind: str,
           extra: tuple[str, ...] = ()) -> None:
    if known is None or not isinstance(keys, dict):
        return
    for key in keys:
        if isinstance(key, str) and key not in known and key not in extra:
            report.at(path + (key,), f"unknown {kind} '{key}'" + suggest(key, [*known, *extra]))


def season_checks(data: dict[str, Any], report: Report, site_ids: list[str] | None,
                  dist_types: list[str] | None) -> list[str] | None:
    """Report what is wrong with ``calendar`` and ``events``; returns the phase names (None if
    the calendar cannot be read)."""
    clock = _clock(data)
    # a clock shortened on the command line (--hours, --set) may end before later phases and events
    shortened = any(path[:2] in (("clock",), ("clock", "duration_hours")) for path, _ in report.overridden)
    phase_names = _phases(data.get("calendar"), report, clock, dist_types, shortened)
    _travel(data.get("travel"), report)
    events = data.get("events")
    if isinstance(events, list):
        seen: dict[str, int] = {}
        for i, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            path: YamlPath = ("events", i)
            if isinstance(event.get("id"), str):
                if event["id"] in seen:
                    report.at(path + ("id",), f"duplicate event id '{event['id']}' (also events[{seen[event['id']]}])")
                seen.setdefault(event["id"], i)
            _names(report, path + ("sites",), event.get("sites"), site_ids, "site")
            _names(report, path + ("rate_per_hour",), event.get("rate_per_hour"), dist_types, "disturbance type")
            start, hours = _when(event.get("start")), event.get("hours")
            if clock is None or start is None or isinstance(hours, bool) or not isinstance(hours, (int, float)):
                continue
            if start < clock[0] or (start >= clock[1] and not shortened):
                report.at(path + ("start",), f"{start:%Y-%m-%dT%H:%M} is outside the clock "
                                             f"({clock[0]:%Y-%m-%dT%H:%M} to {clock[1]:%Y-%m-%dT%H:%M})")
            elif 0 < hours < 1e6 and start + timedelta(hours=hours) > clock[1] and not shortened:
                report.at(path + ("hours",), f"the event runs past the end of the clock ({clock[1]:%Y-%m-%dT%H:%M})")
    return phase_names


def _phases(calendar: Any, report: Report, clock: tuple[datetime, datetime] | None,
            dist_types: list[str] | None, shortened: bool) -> list[str] | None:
    if not isinstance(calendar, dict) or not isinstance(calendar.get("phases"), list):
        return None
    names: dict[str, int] = {}
    previous: tuple[int, datetime] | None = None
    for i, phase in enumerate(calendar["phases"]):
        if not isinstance(phase, dict):
            continue
        path: YamlPath = ("calendar", "phases", i)
        name = phase.get("name")
        if isinstance(name, str):
            if name in names:
                report.at(path + ("name",), f"duplicate phase name '{name}' (also calendar.phases[{names[name]}])")
            names.setdefault(name, i)
        _names(report, path + ("rate_multiplier",), phase.get("rate_multiplier"), dist_types,
               "disturbance type", (ALL_TYPES,))
        start, end = _when(phase.get("start")), _when(phase.get("end"))
        if start is None or end is None:
            continue
        if end <= start:
            report.at(path + ("end",), f"{end:%Y-%m-%dT%H:%M} is not after the phase's start ({start:%Y-%m-%dT%H:%M})")
            continue
        if clock is not None and (start < clock[0] or (end > clock[1] and not shortened)):
            report.at(path, f"phase '{name}' ({start:%Y-%m-%dT%H:%M} to {end:%Y-%m-%dT%H:%M}) is outside the clock "
                            f"({clock[0]:%Y-%m-%dT%H:%M} to {clock[1]:%Y-%m-%dT%H:%M})")
        if previous is not None and start < previous[1]:
            report.at(path + ("start",), f"phase '{name}' starts before calendar.phases[{previous[0]}] ends "
                                         f"({previous[1]:%Y-%m-%dT%H:%M}): phases must be in order and not overlap")
        previous = (i, end)
    return list(names)


def _travel(travel: Any, report: Report) -> None:
    """Travel periods must not overlap (which speed would hold?)."""
    if not isinstance(travel, dict) or not isinstance(travel.get("periods"), list):
        return
    taken = np.full(MIN_PER_DAY, -1)
    for i, period in enumerate(travel["periods"]):
        if not isinstance(period, dict):
            continue
        try:
            start, end = daily_window(f"{period.get('from')}-{period.get('to')}")
        except ValueError:
            continue  # the schema reports it
        length = (end - start) % MIN_PER_DAY or MIN_PER_DAY  # across midnight when end < start
        minutes = np.arange(start, start + length) % MIN_PER_DAY
        clash = taken[minutes][taken[minutes] >= 0]
        if clash.size:
            report.at(("travel", "periods", i), f"overlaps travel.periods[{clash[0]}]: periods must not overlap")
        taken[minutes] = np.where(taken[minutes] >= 0, taken[minutes], i)
