"""The scenario schema (SPEC §4), and at the same time the validated scenario the package reads.

Frozen, strict pydantic models: what comes out of ``load_scenario`` is an instance of
``Scenario``, never re-validated or changed. Rules between parts of the file (ids that exist,
units required against fleet sizes) are in ``sim.config.checks``; the plug-in points (patrol
modes, distributions, dispatch policies and queues) bring their own keys from ``sim.plugins``.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from sim.config import limits
from sim.config.calendar import Calendar, Event, daily_window, iso_datetime
from sim.config.kecamatan import find_kecamatan, unknown_kecamatan
from sim.config.network_spec import NetworkSpec, resolve_network_path
from sim.config.presence import Detection, Deterrence
from sim.config.problems import located, suggest
from sim.config.site_sets import SiteSet, expand_site_sets
from sim.errors import InputError, shown
from sim.plugins.base import Spec, Tuple
from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES, policies_reading
from sim.plugins.dists import dist_union
from sim.plugins.loading import MAX_PLUGINS, load_plugin
from sim.plugins.patrols import patrol_union
from sim.plugins.registry import named_in

Id = Annotated[str, Field(min_length=1)]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # a scenario name is a folder name


class Clock(Spec):
    """Wall-clock start and length of a run, in hours."""

    start: datetime
    duration_hours: float = Field(gt=0, le=limits.MAX_DURATION_HOURS)
    warmup_hours: float = Field(default=0.0, ge=0, le=limits.MAX_DURATION_HOURS)

    @field_validator("start", mode="before")
    @classmethod
    def _iso_datetime(cls, value: Any) -> Any:
        # the reader keeps dates as text; objects come from scenarios built in code
        return iso_datetime(value)


class Site(Spec):
    """A named place on the map (degrees); ``name`` defaults to the id."""

    id: Id
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: str = ""
    approximate: bool = False
    note: str = ""
    source: str = ""  # where the position came from ("nominatim": `sites geocode`, to be confirmed)
    display_name: str = ""  # the geocoder's full name of its match, for a person to check
    # the kecamatan it counts in (name or code, kept as the name); "": the nearest kecamatan centre's
    area: str = ""

    @field_validator("area", mode="before")
    @classmethod
    def _kecamatan(cls, value: Any) -> Any:
        if value is None or value == "" or isinstance(value, bool) or not isinstance(value, (str, int)):
            return "" if value is None else value  # the type check reports anything else
        found = find_kecamatan(value)
        if found is None:
            raise ValueError(unknown_kecamatan(value))
        return found.name

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") is None and isinstance(data.get("id"), str):
            return {**data, "name": data["id"]}
        return data


class Escalation(Spec):
    """An incident unanswered for ``after_min`` minutes becomes disturbance type ``to``."""

    after_min: float = Field(gt=0, le=limits.MAX_MINUTES)
    to: str


class DisturbanceType(Spec):
    """One kind of disturbance; ``rate_per_hour`` is for all its sites together."""

    type: Id
    rate_per_hour: float = Field(ge=0, le=limits.MAX_RATE_PER_HOUR)
    # site id -> relative weight; the file may say "all" (every site, weight 1): see Scenario
    sites: dict[str, float]
    hourly_profile: Tuple[Annotated[float, Field(ge=0, le=limits.MAX_PROFILE_VALUE)]] | None = None
    # Monday..Sunday multipliers of the rate (checks: exactly 7, not all zero)
    weekly_profile: Tuple[Annotated[float, Field(ge=0, le=limits.MAX_PROFILE_VALUE)]] | None = None
    on_scene_min: dist_union()  # type: ignore[valid-type]
    units_required: int = Field(default=1, ge=1, le=limits.MAX_UNITS)
    priority: int = Field(ge=1, le=limits.MAX_PRIORITY)
    escalation: Escalation | None = None
    # who may answer (default: every agency), and the least each agency sends of units_required (sim.model.eligibility)
    agencies: Annotated[Tuple[Id], Field(min_length=1)] | None = None
    requires: Annotated[dict[str, Annotated[int, Field(ge=1, le=limits.MAX_UNITS)]], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _requires_fit(self) -> DisturbanceType:
        if self.requires is None:
            return self
        if sum(self.requires.values()) > self.units_required:
            raise ValueError(f"requires {sum(self.requires.values())} units in all but units_required is "
                             f"{self.units_required}")
        stray = [a for a in self.requires if self.agencies is not None and a not in self.agencies]
        if stray:
            raise ValueError(f"requires agency '{stray[0]:.40}', which is not among its agencies")
        return self
    report_delay_min: dist_union() | None = None  # type: ignore[valid-type]  # this type's own (detection)

    @property
    def site_weights(self) -> dict[str, float]:
        return self.sites


class UnitType(Spec):
    """A kind of vehicle: its agency and its speed relative to the road's travel time."""

    agency: str
    speed_factor: float = Field(default=1.0, ge=limits.SPEED_FACTOR_RANGE[0], le=limits.SPEED_FACTOR_RANGE[1])


class UnitGroup(Spec):
    """``count`` units of one type, based at site ``base``, patrolling alike; or, with ``joint``,
    ``count`` joint patrols of one vehicle of each listed type (sim.model.joint). A plan holds a
    joint group as one group per member type (``joint_tag`` says which patrol they make up)."""

    type: str | None = None
    joint: Annotated[Tuple[Id], Field(min_length=2, max_length=limits.MAX_JOINT_VEHICLES)] | None = None
    on_dispatch: Literal["split", "together"] = "split"
    count: int = Field(ge=1, le=limits.MAX_UNITS)
    base: str
    patrol: patrol_union()  # type: ignore[valid-type]
    # daily windows of the clock's local time ("07:00-15:00"); None: on duty all day (sim.model.shifts)
    on_duty: Annotated[Tuple[str], Field(min_length=1, max_length=limits.MAX_DUTY_WINDOWS)] | None = None

    @field_validator("on_duty")
    @classmethod
    def _windows(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for text in value or ():
            daily_window(text)
        return value

    _joint_tag: tuple[int, str] | None = PrivateAttr(default=None)  # (entry in its fleet, on_dispatch)

    @model_validator(mode="after")
    def _type_or_joint(self) -> UnitGroup:
        if (self.type is None) == (self.joint is None):
            raise ValueError("give either 'type' (one vehicle type) or 'joint' (the vehicle types of a joint patrol)")
        if "on_dispatch" in self.model_fields_set and self.joint is None:
            raise ValueError("'on_dispatch' only applies to a joint patrol")
        return self

    @property
    def joint_tag(self) -> tuple[int, str] | None:
        """(index of its joint group in the fleet, on_dispatch) for a member of a joint patrol, else None."""
        return self._joint_tag

    @property
    def duty_windows(self) -> tuple[tuple[int, int], ...] | None:
        """The on-duty windows as (start, end) minutes of the day (None: all day)."""
        return None if self.on_duty is None else tuple(daily_window(text) for text in self.on_duty)


def _members(units: tuple[UnitGroup, ...]) -> tuple[UnitGroup, ...]:
    """The groups with each joint group as one group per member type, tagged with the joint group."""
    out: list[UnitGroup] = []
    for entry, group in enumerate(units):
        if group.joint is None:
            out.append(group)
            continue
        for member in group.joint:
            part = group.model_copy(update={"type": member, "joint": None})
            part._joint_tag = (entry, group.on_dispatch)
            out.append(part)
    return tuple(out)


class Fleet(Spec):
    """The units of a plan while one calendar phase lasts."""

    units: Annotated[Tuple[UnitGroup], Field(min_length=1)]

    @model_validator(mode="after")
    def _joint_members(self) -> Fleet:
        object.__setattr__(self, "units", _members(self.units))  # frozen: set once, while validating
        return self


class Plan(Spec):
    """One deployment of units: ``units`` outside the phases named in ``by_phase``, each of those
    phases' own fleet while it lasts."""

    name: Id
    description: str = ""
    units: Annotated[Tuple[UnitGroup], Field(min_length=1)]
    by_phase: Annotated[dict[str, Fleet], Field(max_length=limits.MAX_PHASES)] = {}

    @model_validator(mode="after")
    def _joint_members(self) -> Plan:
        object.__setattr__(self, "units", _members(self.units))  # frozen: set once, while validating
        return self

    @property
    def shifts(self) -> bool:
        """Whether units come and go (duty windows or phase fleets): then units.csv has on_duty_h."""
        return bool(self.by_phase) or any(g.on_duty is not None for g in self.units)  # by_phase covers its own

    @property
    def fleets(self) -> dict[str, tuple[UnitGroup, ...]]:
        """Every fleet: "" (outside the phases of by_phase) first, then each phase's."""
        return {"": self.units} | {phase: fleet.units for phase, fleet in self.by_phase.items()}

    @property
    def n_units(self) -> int:
        return sum(group.count for group in self.units)


class Preempt(Spec):
    """An incident of priority ``for_priority`` or more urgent, with no free unit that may answer it,
    takes one from an incident of priority ``from_priority_at_least`` or less urgent: en route to it
    (``en_route``), or also on scene (``any``)."""

    for_priority: int = Field(default=1, ge=1, le=limits.MAX_PRIORITY)
    from_priority_at_least: int = Field(ge=1, le=limits.MAX_PRIORITY)
    when: Literal["en_route", "any"] = "en_route"

    @model_validator(mode="after")
    def _less_urgent(self) -> Preempt:
        if self.from_priority_at_least <= self.for_priority:
            raise ValueError(f"from_priority_at_least ({self.from_priority_at_least}) must be a less urgent "
                             f"(larger) priority than for_priority ({self.for_priority})")
        return self


class Dispatch(Spec):
    """Who goes (policy), in which order waiting incidents are served (queue), what units do after."""

    policy: named_in(POLICIES) = "nearest"  # type: ignore[valid-type]
    queue: named_in(QUEUE_DISCIPLINES) = "priority"  # type: ignore[valid-type]
    after_service: Literal["resume", "return_to_base"] = "resume"
    # policy coverage: candidates within this many minutes of the nearest are weighed by the coverage they leave
    coverage_slack_min: float = Field(default=2.0, ge=0, le=limits.MAX_COVERAGE_SLACK_MIN)
    preempt: Preempt | None = None

    @model_validator(mode="after")
    def _keys_of_the_policy(self) -> Dispatch:
        """A key that only some policies read (``DISPATCH_KEYS``) is an error with another policy."""
        for key in sorted(self.model_fields_set):
            readers = policies_reading(key)
            if readers and self.policy not in readers:
                raise ValueError(f"'{key}' only applies with policy: {' or '.join(readers)}")
        return self


class TravelPeriod(Spec):
    """Daily hours (clock local time, ``from``-``to``) when roads are slower or faster: travel times
    on the ``road_classes`` (default every road) divided by ``speed_factor``."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    speed_factor: float = Field(ge=limits.SPEED_FACTOR_RANGE[0], le=limits.SPEED_FACTOR_RANGE[1])
    road_classes: Annotated[Tuple[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _window(self) -> TravelPeriod:
        try:
            daily_window(f"{self.start}-{self.end}")
        except ValueError:
            raise ValueError(f"from {self.start!r:.20} to {self.end!r:.20}: give two different times HH:MM between "
                             "00:00 and 24:00, e.g. from: \"06:30\", to: \"08:30\"") from None
        return self

    @property
    def window(self) -> tuple[int, int]:
        """(start, end) minutes of the day; the end may come before the start (across midnight)."""
        return daily_window(f"{self.start}-{self.end}")


class Travel(Spec):
    """Road speeds by hour of day (sim.model.periods)."""

    periods: Annotated[Tuple[TravelPeriod], Field(min_length=1, max_length=limits.MAX_TRAVEL_PERIODS)]


class Scenario(Spec):
    """A validated scenario. ``raw`` is the data as run (after overrides); do not mutate it."""

    # first: its modules are imported before the keys that name their plug-ins are validated
    plugins: Annotated[Tuple[str], Field(max_length=MAX_PLUGINS)] = ()
    name: Id
    description: str = ""
    network: NetworkSpec
    clock: Clock
    replications: int = Field(ge=1, le=limits.MAX_REPLICATIONS)
    seed: int = Field(ge=0, le=limits.MAX_SEED)
    target_response_min: float = Field(gt=0, le=limits.MAX_TARGET_MIN)
    max_snap_m: float = Field(default=500.0, gt=0, le=limits.MAX_SNAP_M)
    sites: Annotated[Tuple[Site], Field(min_length=1)]
    disturbances: Annotated[Tuple[DisturbanceType], Field(min_length=1)]
    unit_types: Annotated[dict[str, UnitType], Field(min_length=1)]
    plans: Annotated[Tuple[Plan], Field(min_length=1)]
    dispatch: Dispatch = Dispatch()
    site_sets: Tuple[SiteSet] = ()  # many sites at once (sim.config.site_sets), appended to sites
    calendar: Calendar | None = None  # dated phases (sim.config.calendar)
    travel: Travel | None = None  # road speeds by hour of day
    events: Annotated[Tuple[Event], Field(max_length=limits.MAX_EVENTS)] = ()
    detection: Detection | None = None  # reports by the public and by patrols (sim.model.presence)
    deterrence: Deterrence | None = None  # candidates thinned by units standing near
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _sha256: str = PrivateAttr(default="")
    _source_path: str | None = PrivateAttr(default=None)
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _every_site(cls, data: Any) -> Any:
        """``sites: all`` (the default) in a disturbance means every site, weight 1, in file order."""
        if not isinstance(data, dict) or not isinstance(data.get("disturbances"), list):
            return data
        site_ids = [s["id"] for s in data.get("sites") or [] if isinstance(s, dict) and isinstance(s.get("id"), str)]
        every = {site: 1.0 for site in site_ids}
        disturbances = [{**d, "sites": every} if isinstance(d, dict) and d.get("sites", "all") == "all" else d
                        for d in data["disturbances"]]
        return {**data, "disturbances": disturbances}

    @model_validator(mode="before")
    @classmethod
    def _site_sets(cls, data: Any, info: ValidationInfo) -> Any:
        """Site sets become sites, ``sites: {kind: K}`` weights; defined after ``_every_site`` so that
        it runs before it (pydantic runs "before" validators last-defined first)."""
        return expand_site_sets(data, (info.context or {}).get("folder"))

    @field_validator("plugins")
    @classmethod
    def _import_plugins(cls, plugins: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """Import each plug-in module (a ``.py`` path: relative to the scenario's folder)."""
        problems = []
        for i, text in enumerate(plugins):
            try:
                load_plugin(text, (info.context or {}).get("folder"))
            except ValueError as error:
                problems.append(((i,), str(error)))
        if problems:
            raise located(problems)
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
        """A network file path as given, relative to the scenario file's folder."""
        folder = (info.context or {}).get("folder")
        if network.path is None or folder is None:
            return network
        return network.model_copy(update={"path": str(resolve_network_path(network.path, folder))})

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw

    @property
    def sha256(self) -> str:
        return self._sha256

    @property
    def source_path(self) -> str | None:
        return self._source_path

    @property
    def warnings(self) -> tuple[str, ...]:
        """What looks unintended in this scenario (escalation cycles, overload, absurd values)."""
        return self._warnings

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

