"""The rules the schema cannot express: ids that exist and are unique, keys that fit together.

They read the data as run (not the validated model), defensively, so that they still report
what they can when the schema found the structure broken (the schema reports the types).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.config import limits
from sim.config.agencies import agency_checks, group_types
from sim.config.calendar import DAYS_PER_WEEK
from sim.config.presence import presence_checks
from sim.config.season_checks import season_checks
from sim.config.network_spec import resolve_network_path
from sim.config.problems import Report, suggest
from sim.config.site_sets import kind_weights, site_set_ids_and_kinds
from sim.config.yaml_reader import YamlPath
from sim.errors import shown
from sim.plugins.patrols import PATROL_MODES

#: Paths whose problems these checks report (with more to say than the schema): the schema's
#: findings there are dropped. None matches any index.
OWN_PATHS: tuple[YamlPath, ...] = (("disturbances", None, "sites"),)  # type: ignore[assignment]


def _number(value: Any) -> bool:
    """A finite int or float (YAML's true/false are bools, not numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return True  # math.isfinite cannot take an int of 400 digits; every int is finite
    return isinstance(value, float) and math.isfinite(value)


def _items(section: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in enumerate(section) if isinstance(item, dict)] \
        if isinstance(section, list) else []


class Checks:
    """The rules pydantic cannot express: ids that exist and are unique, keys that fit together."""

    def __init__(self, data: dict[str, Any], report: Report, folder: Path):
        self.data = data
        self.report = report
        self.folder = folder
        self.site_ids: list[str] | None = None
        self.dist_types: list[str] | None = None
        self.phase_names: list[str] | None = None

    def run(self) -> None:
        self.site_ids = self._unique_ids("sites", "id", "site id")
        self.site_kinds = self._site_sets()
        self.dist_types = self._unique_ids("disturbances", "type", "disturbance type")
        self._unique_ids("plans", "name", "plan name")
        self._network()
        self._clock()
        for i, dist in _items(self.data.get("disturbances")):
            self._disturbance(("disturbances", i), dist)
        unit_types = self.data.get("unit_types")
        type_names = [k for k in unit_types if isinstance(k, str)] \
            if isinstance(unit_types, dict) else None
        self.phase_names = season_checks(self.data, self.report, self.site_ids, self.dist_types)
        presence_checks(self.data, self.report, self._minutes)
        for i, plan in _items(self.data.get("plans")):
            self._plan(("plans", i), plan, type_names)
            self._by_phase(("plans", i), plan, type_names)
        agency_checks(self.data, self.report)

    def _ref(self, path: YamlPath, value: Any, known: list[str] | None, kind: str) -> None:
        """Report ``value`` if it is a name that is not among ``known``."""
        if known is not None and isinstance(value, str) and value not in known:
            self.report.at(path, f"unknown {kind} '{value}'" + suggest(value, known))

    def _unique_ids(self, section: str, key: str, kind: str) -> list[str] | None:
        if not isinstance(self.data.get(section), list):
            return None
        seen: dict[str, int] = {}
        for i, item in _items(self.data[section]):
            value = item.get(key)
            if not isinstance(value, str):
                continue
            if value in seen:
                self.report.at((section, i, key), f"duplicate {kind} '{value}' "
                                                  f"(also {section}[{seen[value]}])")
            else:
                seen[value] = i
        return list(seen)

    def _network(self) -> None:
        net = self.data.get("network")
        if not isinstance(net, dict):
            return
        source = net.get("source")
        if source == "osm" and net.get("place") is None and net.get("bbox") is None:
            self.report.at(("network", "source"), "source osm needs 'place' or 'bbox'")
        if source == "file":
            path = net.get("path")
            if path is None:
                self.report.at(("network", "source"), "source file needs 'path'")
            elif isinstance(path, str) and not resolve_network_path(path, self.folder).exists():
                self.report.at(("network", "path"),
                               f"file not found: {resolve_network_path(path, self.folder)}")
        bbox = net.get("bbox")
        if isinstance(bbox, list) and len(bbox) == 4 and all(map(_number, bbox)):
            west, south, east, north = bbox
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                self.report.at(("network", "bbox"), "expected [west, south, east, north] in "
                                                    "degrees with west < east and south < north")
            elif max(east - west, north - south) > limits.MAX_BBOX_DEG:
                self.report.at(("network", "bbox"), f"{east - west:g}° by {north - south:g}°: an OSM download "
                                                    f"area is at most {limits.MAX_BBOX_DEG:g}° on a side")

    def _clock(self) -> None:
        clock = self.data.get("clock")
        if not isinstance(clock, dict):
            return
        duration, warmup = clock.get("duration_hours"), clock.get("warmup_hours", 0)
        # a duration <= 0 is reported by pass 1 already
        if _number(duration) and _number(warmup) and 0 < duration <= warmup:
            self.report.at(("clock", "warmup_hours"), f"warmup_hours ({warmup}) must be "
                                                      f"shorter than duration_hours ({duration})")

    def _site_sets(self) -> set[str]:
        """The site sets' ids join the site ids, each unique; returns the kinds of every site."""
        by_set, kinds = site_set_ids_and_kinds(self.data, self.folder)
        if self.site_ids is not None:
            seen = set(self.site_ids)
            for i, ids in by_set:
                clash = next((site for site in ids if site in seen), None)
                if clash is not None:
                    self.report.at(("site_sets", i), f"site id '{clash}' is already used (by sites or an earlier set)")
                seen.update(ids)
                self.site_ids.extend(ids)
        return kinds

    def _disturbance(self, path: YamlPath, dist: dict[str, Any]) -> None:
        weights = dist.get("sites", "all")
        kind = kind_weights(weights)
        if kind is not None:  # sites: {kind: K}, every site of kind K alike
            if kind not in self.site_kinds:
                self.report.at(path + ("sites", "kind"), f"no site of kind '{kind}'"
                               + suggest(kind, sorted(self.site_kinds)))
        elif isinstance(weights, dict):
            if not weights:
                self.report.at(path + ("sites",), "no sites: give 'all' or site ids with weights")
            for site, weight in weights.items():
                self._ref(path + ("sites", site), site, self.site_ids, "site")
                if not _number(weight) or weight <= 0:
                    self.report.at(path + ("sites", site),
                                   f"weight must be a positive number, got {shown(weight)}")
        elif weights != "all":
            self.report.at(path + ("sites",), "expected 'all' or a mapping of site id to "
                                              f"weight such as {{alun_alun: 2}}, got {shown(weights)}")
        self._minutes(path + ("on_scene_min",), dist.get("on_scene_min"))
        profile = dist.get("hourly_profile")
        if isinstance(profile, list):
            if len(profile) != 24:
                self.report.at(path + ("hourly_profile",), "needs exactly 24 numbers (one per "
                                                           f"hour from 00:00), got {len(profile)}")
            elif all(_number(x) and x == 0 for x in profile):
                self.report.at(path + ("hourly_profile",), "all 24 values are zero")
        weekly = dist.get("weekly_profile")
        if isinstance(weekly, list):
            if len(weekly) != DAYS_PER_WEEK:
                self.report.at(path + ("weekly_profile",), "needs exactly 7 numbers (Monday to Sunday), "
                                                           f"got {len(weekly)}")
            elif all(_number(x) and x == 0 for x in weekly):
                self.report.at(path + ("weekly_profile",), "all 7 values are zero")
        escalation = dist.get("escalation")
        if isinstance(escalation, dict):
            target = escalation.get("to")
            if target is not None and target == dist.get("type"):
                self.report.at(path + ("escalation", "to"), "a disturbance type cannot "
                                                            "escalate to itself")
            else:
                self._ref(path + ("escalation", "to"), target, self.dist_types,
                          "disturbance type")

    def _by_phase(self, path: YamlPath, plan: dict[str, Any], type_names: list[str] | None) -> None:
        """Each phase fleet: a phase of the calendar, and units checked as the plan's own."""
        by_phase = plan.get("by_phase")
        if not isinstance(by_phase, dict):
            return
        for phase, fleet in by_phase.items():
            where = path + ("by_phase", phase)
            if self.phase_names is None:
                self.report.at(where, f"phase '{phase}': the scenario has no calendar.phases")
            else:
                self._ref(where, phase, self.phase_names, "phase")
            if isinstance(fleet, dict):
                self._plan(where, {**fleet, "name": f"{plan.get('name')}' in phase '{phase}"}, type_names)

    def _plan(self, path: YamlPath, plan: dict[str, Any], type_names: list[str] | None) -> None:
        total: int | None = 0
        for j, group in _items(plan.get("units")):
            where = path + ("units", j)
            self._ref(where + ("type",), group.get("type"), type_names, "unit type")
            self._ref(where + ("base",), group.get("base"), self.site_ids, "site")
            if isinstance(group.get("patrol"), dict):
                self._patrol(where + ("patrol",), group["patrol"])
            count = group.get("count")
            valid = isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= limits.MAX_UNITS
            total = total + count * len(group_types(group)) if valid and total is not None else None
        if not isinstance(plan.get("units"), list) or total is None:
            return  # the unit count is unknown: pass 1 reports why
        if total > limits.MAX_UNITS:
            self.report.at(path + ("units",), f"plan '{plan.get('name')}' has {total:,} units, more than "
                                              f"the {limits.MAX_UNITS:,} a plan may have")
        for i, dist in _items(self.data.get("disturbances")):
            needed = dist.get("units_required", 1)
            if isinstance(needed, int) and needed > total:
                self.report.at(("disturbances", i, "units_required"),
                               f"disturbance type '{dist.get('type')}' needs {needed} units "
                               f"but plan '{plan.get('name')}' has only {total}")

    def _minutes(self, path: YamlPath, values: Any) -> None:
        """Every number in a block of minutes (a distribution's parameters) is at most MAX_MINUTES."""
        if not isinstance(values, dict):
            return
        for key, value in values.items():
            self._at_most(path + (key,), value, limits.MAX_MINUTES, "min (the longest clock)")

    def _at_most(self, path: YamlPath, value: Any, bound: float, unit: str) -> None:
        if _number(value) and value > bound:
            self.report.at(path, f"{shown(value, 40)} is more than the bound of {bound:,g} {unit}")

    def _patrol(self, path: YamlPath, patrol: dict[str, Any]) -> None:
        self._at_most(path + ("dwell_min",), patrol.get("dwell_min"), limits.MAX_MINUTES, "min (the longest clock)")
        self._at_most(path + ("road_nodes",), patrol.get("road_nodes"), limits.MAX_ROAD_NODES, "road nodes")
        self._at_most(path + ("radius_km",), patrol.get("radius_km"), limits.MAX_RADIUS_KM, "km")
        mode = PATROL_MODES.get(patrol.get("mode"))  # type: ignore[arg-type]
        if mode is None:
            return  # the schema reports the unknown mode
        for key in mode.SITE_KEYS:
            value = patrol.get(key)
            if isinstance(value, list):
                for k, site in enumerate(value):
                    self._ref(path + (key, k), site, self.site_ids, "site")
            else:
                self._ref(path + (key,), value, self.site_ids, "site")
