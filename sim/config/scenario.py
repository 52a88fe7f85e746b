"""``Scenario``: the validated scenario the package reads, checked in one pass and never changed after.

Its fields are declared in the order of what refers to what: the plug-in modules first (they bring
the modes and policies later keys name), sites before the disturbances and plans that name them,
the calendar before the plans' phase fleets. When a section has validated, its names are recorded
(``sim.config.known``), and each later part checks the names it gives in its own field's validator:
a part that failed is not known, and what refers to it is not checked (its own problem is reported).
The checks between whole sections (site sets against sites, every fleet able to answer every
disturbance type) run once all is valid.

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

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, \
    model_validator

from sim.config import checks, limits
from sim.config.calendar import Calendar, Event
from sim.config.known import NO_CALENDAR, known
from sim.config.network_spec import NetworkSpec, resolve_network_path, spec_problems
from sim.config.plausibility import scenario_warnings
from sim.config.presence import Detection, Deterrence
from sim.config.problems import Report, located, raise_located, suggest
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



def _weights_of_sites(value: Any, info: ValidationInfo) -> Any:
    """``sites: all`` (the default): every site, weight 1, in file order; ``{kind: K}``: every site of kind K."""
    if not isinstance(value, Mapping):
        return value
    weights = value.get("sites", "all")
    kind = kind_weights(weights)
    if weights != "all" and kind is None:
        return value
    sites = known(info).sites
    if sites is None:
        return {**value, "sites": UNCHECKED_WEIGHTS}
    if kind is None:
        return {**value, "sites": dict.fromkeys(sites, 1.0)}
    of_kind = {site: 1.0 for site, site_kind in sites.items() if site_kind == kind}
    return {**value, "sites": of_kind or UnknownKind(kind, sorted(set(sites.values())))}


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
    # reports by the public and by patrols (sim.model.presence); validated when not given too, as the
    # calendar is: that there is none is known after it
    detection: Detection | None = Field(default=None, validate_default=True)
    deterrence: Deterrence | None = None  # candidates thinned by units standing near
    disturbances: Annotated[Tuple[Annotated[DisturbanceType, BeforeValidator(_weights_of_sites)]], Field(min_length=1)]
    calendar: Calendar | None = Field(default=None, validate_default=True)  # dated phases (sim.config.calendar)
    travel: Travel | None = None  # road speeds by hour of day
    events: Annotated[Tuple[Event], Field(max_length=limits.MAX_EVENTS)] = ()
    plans: Annotated[Tuple[Plan], Field(min_length=1)]
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
        raise_located(problems)
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
        raise_located(spec_problems(network))
        folder = _context(info).get("folder")
        if network.path is None or folder is None:
            return network
        path = resolve_network_path(network.path, folder)
        if network.source == "file" and not path.exists():
            raise located([(("path",), f"file not found: {path}")])
        return network.model_copy(update={"path": str(path)})

    @field_validator("clock")
    @classmethod
    def _declare_clock(cls, clock: Clock, info: ValidationInfo) -> Clock:
        known(info).clock = clock
        return clock

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
        """The file's own site ids are unique (a site set's against them: ``_between_sections``); the
        sites are known from here on if the site sets validated too."""
        from_sets = sum(len(one.ids(_context(info).get("folder"))) for one in info.data.get("site_sets", ()))
        raise_located(checks.duplicates(sites[:len(sites) - from_sets], "id", "site id", "sites"))
        if "site_sets" in info.data:
            known(info).sites = {site.id: site.kind for site in sites}
        return sites

    @field_validator("unit_types")
    @classmethod
    def _declare_unit_types(cls, unit_types: dict[str, UnitType], info: ValidationInfo) -> dict[str, UnitType]:
        known(info).unit_types = {name: unit_type.agency for name, unit_type in unit_types.items()}
        return unit_types

    @field_validator("detection")
    @classmethod
    def _declare_detection(cls, detection: Detection | None, info: ValidationInfo) -> Detection | None:
        known(info).has_detection = detection is not None
        return detection

    @field_validator("disturbances")
    @classmethod
    def _types_and_escalations(cls, disturbances: tuple[DisturbanceType, ...],
                               info: ValidationInfo) -> tuple[DisturbanceType, ...]:
        raise_located(checks.duplicates(disturbances, "type", "disturbance type", "disturbances")
               + checks.escalations(disturbances))
        known(info).types = dict.fromkeys(d.type for d in disturbances)
        return disturbances

    @field_validator("calendar")
    @classmethod
    def _phases(cls, calendar: Calendar | None, info: ValidationInfo) -> Calendar | None:
        names = known(info)
        if calendar is None:
            names.phases = NO_CALENDAR
            return calendar
        raise_located(checks.phase_problems(calendar, names.clock, names.clock_set_on_command_line))
        names.phases = dict.fromkeys(phase.name for phase in calendar.phases)
        return calendar

    @field_validator("events")
    @classmethod
    def _unique_events(cls, events: tuple[Event, ...]) -> tuple[Event, ...]:
        raise_located(checks.duplicates(events, "id", "event id", "events"))
        return events

    @field_validator("plans")
    @classmethod
    def _unique_plans(cls, plans: tuple[Plan, ...]) -> tuple[Plan, ...]:
        raise_located(checks.duplicates(plans, "name", "plan name", "plans"))
        return plans

    @model_validator(mode="after")
    def _between_sections(self, info: ValidationInfo) -> Scenario:
        """Site sets against the sites; every fleet able to answer every disturbance type."""
        folder = _context(info).get("folder")
        set_ids = [one.ids(folder) for one in self.site_sets]
        file_ids = self.site_ids[:len(self.sites) - sum(map(len, set_ids))]
        agency_of = {name: unit_type.agency for name, unit_type in self.unit_types.items()}
        raise_located(checks.site_set_clashes(file_ids, set_ids) + checks.answerable(self.disturbances, self.plans, agency_of))
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
