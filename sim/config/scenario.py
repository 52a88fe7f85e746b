"""``Scenario``: the validated scenario the package reads, checked in one pass and never changed after.

Its fields are declared in the order of what refers to what: the plug-in modules first (they bring
the modes and policies later keys name), sites before the disturbances and plans that name them,
the calendar before the plans' phase fleets. A part's references are checked by a validator that
sees the parts validated before it (``ValidationInfo.data``): a part that failed is not known, and
what refers to it is not checked (its own problem is reported). The checks between whole sections
(site sets against sites, every fleet able to answer every disturbance type) run once all is valid.

What is derived from the file beside the model (the data as run, its hash, the source path, the
warnings) is a ``Provenance`` made while validating (``load_scenario`` passes the context).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, \
    model_validator

from sim.config import checks, limits
from sim.config.calendar import Calendar, Event
from sim.config.network_spec import NetworkSpec, resolve_network_path, spec_problems
from sim.config.plausibility import scenario_warnings
from sim.config.presence import Detection, Deterrence
from sim.config.problems import Report, located, suggest
from sim.config.schema import (UNCHECKED_WEIGHTS, Clock, Dispatch, DisturbanceType, Id, Plan, Site, Travel, UnitType,
                               UnknownKind)
from sim.config.site_sets import SiteSet, kind_weights
from sim.errors import InputError, shown
from sim.plugins.base import Spec, Tuple
from sim.plugins.loading import MAX_PLUGINS, load_plugin

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # a scenario name is a folder name


def scenario_hash(raw: Mapping[str, Any]) -> str:
    """sha256 of scenario data as canonical JSON (sorted keys): equal data, equal hash."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where a validated scenario comes from, and what looks unintended in it."""

    raw: dict[str, Any] = field(default_factory=dict)  # the data as run (after overrides), as written
    sha256: str = ""
    source_path: str | None = None
    warnings: tuple[str, ...] = ()


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


def _site_ids(info: ValidationInfo) -> dict[str, None] | None:
    """The ids of every site (site sets' included), in order, if the sites validated; else None.
    Made once per validation (the context's ``memo``): every disturbance, plan and event asks."""
    if "sites" not in info.data or "site_sets" not in info.data:
        return None
    sites, memo = info.data["sites"], _context(info).get("memo")
    if memo is not None and memo.get("sites") is sites:
        return memo["site_ids"]
    ids = dict.fromkeys(site.id for site in sites)  # ordered, and a name is found at once
    if memo is not None:
        memo.update(sites=sites, site_ids=ids)
    return ids


def _type_names(info: ValidationInfo) -> dict[str, None] | None:
    return dict.fromkeys(info.data["unit_types"]) if "unit_types" in info.data else None


def _disturbance_types(info: ValidationInfo) -> dict[str, None] | None:
    return dict.fromkeys(d.type for d in info.data["disturbances"]) if "disturbances" in info.data else None


def _shortened(info: ValidationInfo) -> bool:
    """Whether the command line set the clock (``--hours``, ``--set``): later phases and events may then fall outside."""
    report = _context(info).get("report")
    return report is not None and any(path[:2] in (("clock",), ("clock", "duration_hours"))
                                      for path, _ in report.overridden)


def _raise(problems: list[checks.Problem]) -> None:
    if problems:
        raise located(problems)


# -- disturbances: weights written as "all" or {kind: K}, then references -----------------------------------


def _weights_of_sites(value: Any, info: ValidationInfo) -> Any:
    """``sites: all`` (the default): every site, weight 1, in file order; ``{kind: K}``: every site of kind K."""
    if not isinstance(value, Mapping):
        return value
    weights = value.get("sites", "all")
    kind = kind_weights(weights)
    if weights != "all" and kind is None:
        return value
    sites = info.data.get("sites") if _site_ids(info) is not None else None
    if sites is None:
        return {**value, "sites": UNCHECKED_WEIGHTS}
    if kind is None:
        return {**value, "sites": {site.id: 1.0 for site in sites}}
    of_kind = {site.id: 1.0 for site in sites if site.kind == kind}
    return {**value, "sites": of_kind or UnknownKind(kind, sorted({site.kind for site in sites}))}


def _disturbance_references(disturbance: DisturbanceType, info: ValidationInfo) -> DisturbanceType:
    unit_types = info.data.get("unit_types")
    agencies = sorted({t.agency for t in unit_types.values()}) if unit_types is not None else None
    has_detection = info.data["detection"] is not None if "detection" in info.data else None
    _raise(checks.disturbance_references(disturbance, _site_ids(info), agencies, has_detection))
    return disturbance


def _plan_references(plan: Plan, info: ValidationInfo) -> Plan:
    if "calendar" in info.data:
        calendar = info.data["calendar"]
        phases = [phase.name for phase in calendar.phases] if calendar is not None else None
    else:
        phases = False  # the calendar failed: its phases are unknown
    _raise(checks.plan_references(plan, phases, _site_ids(info), _type_names(info)))
    return plan


def _event_references(event: Event, info: ValidationInfo) -> Event:
    _raise(checks.event_problems(event, info.data.get("clock"), _site_ids(info), _disturbance_types(info),
                                 _shortened(info)))
    return event


class Scenario(Spec):
    """A validated scenario; ``raw``, ``sha256``, ``source_path`` and ``warnings`` are its provenance."""

    # first: their modules are imported before the keys that name their plug-ins are validated
    plugins: Annotated[Tuple[str], Field(max_length=MAX_PLUGINS)] = ()
    name: Id
    description: str = ""
    network: NetworkSpec
    clock: Clock
    replications: int = Field(ge=1, le=limits.MAX_REPLICATIONS)
    seed: int = Field(ge=0, le=limits.MAX_SEED)
    target_response_min: float = Field(gt=0, le=limits.MAX_TARGET_MIN)
    max_snap_m: float = Field(default=500.0, gt=0, le=limits.MAX_SNAP_M)
    site_sets: Tuple[SiteSet] = ()  # many sites at once (sim.config.site_sets), appended to sites
    sites: Annotated[Tuple[Site], Field(min_length=1)]
    unit_types: Annotated[dict[str, UnitType], Field(min_length=1)]
    detection: Detection | None = None  # reports by the public and by patrols (sim.model.presence)
    deterrence: Deterrence | None = None  # candidates thinned by units standing near
    disturbances: Annotated[Tuple[Annotated[DisturbanceType, BeforeValidator(_weights_of_sites),
                                            AfterValidator(_disturbance_references)]], Field(min_length=1)]
    calendar: Calendar | None = None  # dated phases (sim.config.calendar)
    travel: Travel | None = None  # road speeds by hour of day
    events: Annotated[Tuple[Annotated[Event, AfterValidator(_event_references)]],
                      Field(max_length=limits.MAX_EVENTS)] = ()
    plans: Annotated[Tuple[Annotated[Plan, AfterValidator(_plan_references)]], Field(min_length=1)]
    dispatch: Dispatch = Dispatch()
    _provenance: Provenance = PrivateAttr(default_factory=Provenance)

    @field_validator("plugins")
    @classmethod
    def _import_plugins(cls, plugins: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """Import each plug-in module (a ``.py`` path: relative to the scenario's folder)."""
        problems = []
        for i, text in enumerate(plugins):
            try:
                load_plugin(text, _context(info).get("folder"))
            except ValueError as error:
                problems.append(((i,), str(error)))
        _raise(problems)
        return plugins

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        # results go to results/<name>/: no slashes, no leading dot, nothing a shell would mangle
        if not _NAME.match(value):
            raise ValueError(f"{shown(value)} cannot name the results folder: use letters, digits, '.', '_' "
                             "and '-', starting with a letter or digit, e.g. jember-pilkada-2024")
        return value

    @field_validator("network")
    @classmethod
    def _resolve_file(cls, network: NetworkSpec, info: ValidationInfo) -> NetworkSpec:
        """Where the network comes from, said in full; a file path as given, relative to the scenario
        file's folder, and there."""
        _raise(spec_problems(network))
        folder = _context(info).get("folder")
        if network.path is None or folder is None:
            return network
        path = resolve_network_path(network.path, folder)
        if network.source == "file" and not path.exists():
            raise located([(("path",), f"file not found: {path}")])
        return network.model_copy(update={"path": str(path)})

    @field_validator("sites", mode="before")
    @classmethod
    def _with_site_sets(cls, sites: Any, info: ValidationInfo) -> Any:
        """The sites of the site sets follow the file's own."""
        sets = info.data.get("site_sets")
        if not sets or not isinstance(sites, (list, tuple)):
            return sites
        folder = _context(info).get("folder")
        return [*sites, *(site for one in sets for site in one.sites(folder))]

    @field_validator("sites")
    @classmethod
    def _unique_sites(cls, sites: tuple[Site, ...], info: ValidationInfo) -> tuple[Site, ...]:
        """The file's own site ids are unique (a site set's against them: ``_between_sections``)."""
        from_sets = sum(len(one.ids(_context(info).get("folder"))) for one in info.data.get("site_sets", ()))
        _raise(checks.duplicates(sites[:len(sites) - from_sets], "id", "site id", "sites"))
        return sites

    @field_validator("disturbances")
    @classmethod
    def _types_and_escalations(cls, disturbances: tuple[DisturbanceType, ...]) -> tuple[DisturbanceType, ...]:
        _raise(checks.duplicates(disturbances, "type", "disturbance type", "disturbances")
               + checks.escalations(disturbances))
        return disturbances

    @field_validator("calendar")
    @classmethod
    def _phases(cls, calendar: Calendar | None, info: ValidationInfo) -> Calendar | None:
        if calendar is not None:
            _raise(checks.phase_problems(calendar, info.data.get("clock"), _disturbance_types(info), _shortened(info)))
        return calendar

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: tuple[Event, ...]) -> tuple[Event, ...]:
        _raise(checks.duplicates(events, "id", "event id", "events"))
        return events

    @field_validator("plans")
    @classmethod
    def _unique_plans(cls, plans: tuple[Plan, ...]) -> tuple[Plan, ...]:
        _raise(checks.duplicates(plans, "name", "plan name", "plans"))
        return plans

    @model_validator(mode="after")
    def _between_sections(self, info: ValidationInfo) -> Scenario:
        """Site sets against the sites; every fleet able to answer every disturbance type."""
        folder = _context(info).get("folder")
        set_ids = [one.ids(folder) for one in self.site_sets]
        file_ids = self.site_ids[:len(self.sites) - sum(map(len, set_ids))]
        agency_of = {name: unit_type.agency for name, unit_type in self.unit_types.items()}
        _raise(checks.site_set_clashes(file_ids, set_ids) + checks.answerable(self.disturbances, self.plans, agency_of))
        return self

    @model_validator(mode="after")
    def _made_from(self, info: ValidationInfo) -> Scenario:
        """The provenance, from the context ``load_scenario`` gives: set here, while the scenario is made."""
        context = _context(info)
        if "raw" in context:
            raw = copy.deepcopy(context["raw"])
            self._provenance = Provenance(raw, scenario_hash(raw), context.get("source_path"),
                                          tuple(scenario_warnings(self, context.get("report") or Report("scenario", {}))))
        return self

    @property
    def raw(self) -> dict[str, Any]:
        """The data as run (after overrides), as written: do not change it."""
        return self._provenance.raw

    @property
    def sha256(self) -> str:
        return self._provenance.sha256

    @property
    def source_path(self) -> str | None:
        return self._provenance.source_path

    @property
    def warnings(self) -> tuple[str, ...]:
        """What looks unintended in this scenario (escalation cycles, overload, absurd values)."""
        return self._provenance.warnings

    @property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(site.id for site in self.sites)

    def plan(self, name: str) -> Plan:
        """The plan called ``name`` (InputError with a suggestion if there is none)."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise InputError(f"no plan '{name}' in scenario '{self.name}'"
                         + suggest(name, [p.name for p in self.plans]))
