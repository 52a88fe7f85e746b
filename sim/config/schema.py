"""The parts of a scenario (SPEC §4): clock, sites, disturbance types, unit types and groups, plans,
dispatch, travel periods. ``sim.config.scenario.Scenario`` holds them.

Frozen, strict pydantic models, each checking its own rules; the rules between parts (names that
exist, fleets able to answer) are ``Scenario``'s. The plug-in points (patrol modes, distributions,
dispatch policies and queues) bring their own keys from ``sim.plugins``.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from sim.config import checks, limits
from sim.config.calendar import daily_window, iso_datetime
from sim.config.kecamatan import find_kecamatan, unknown_kecamatan
from sim.config.known import NO_CALENDAR, known, unknown, unknown_keys
from sim.config.problems import located, raise_located, suggest
from sim.config.site_sets import kind_weights
from sim.errors import shown
from sim.plugins.base import Spec, Tuple
from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES, policies_reading
from sim.plugins.dists import dist_union
from sim.plugins.patrols import patrol_union
from sim.plugins.registry import named_in

Id = Annotated[str, Field(min_length=1)]


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

    @model_validator(mode="after")
    def _warmup_shorter(self) -> Clock:
        if self.duration_hours <= self.warmup_hours:
            raise located([(("warmup_hours",), f"warmup_hours ({self.warmup_hours:g}) must be shorter than "
                                               f"duration_hours ({self.duration_hours:g})")])
        return self


def _within_minutes(value: Any) -> Any:
    """A block of minutes (a distribution's parameters) with every number at most MAX_MINUTES; a number
    beyond it is reported alone (the distribution's own checks would only repeat it)."""
    if isinstance(value, Mapping):
        over = [((key,), f"{shown(number, 40)} is more than the bound of {limits.MAX_MINUTES:,g} min (the longest "
                         "clock)") for key, number in value.items()
                if isinstance(number, (int, float)) and not isinstance(number, bool) and number > limits.MAX_MINUTES]
        if over:
            raise located(over)
    return value


#: A duration in minutes: one of the registered distributions, every parameter within the bound.
Minutes = Annotated[dist_union(), BeforeValidator(_within_minutes)]

#: A patrol mode's keys that have a bound, wherever a mode has them: (bound, unit in the message).
PATROL_BOUNDS = {"dwell_min": (limits.MAX_MINUTES, "min (the longest clock)"),
                 "road_nodes": (limits.MAX_ROAD_NODES, "road nodes"), "radius_km": (limits.MAX_RADIUS_KM, "km")}


def _patrol_checks(patrol: Any, info: ValidationInfo) -> Any:
    """A patrol's keys within their bounds, and the sites of its ``SITE_KEYS`` known."""
    problems = [((key,), f"{shown(getattr(patrol, key), 40)} is more than the bound of {bound:,g} {unit}")
                for key, (bound, unit) in PATROL_BOUNDS.items()
                if isinstance(getattr(patrol, key, None), (int, float)) and getattr(patrol, key) > bound]
    sites = known(info).sites
    for key in patrol.SITE_KEYS:
        value = getattr(patrol, key)
        if isinstance(value, (tuple, list)):
            for k, site in enumerate(value):
                problems += unknown((key, k), site, sites, "site")
        elif value is not None:
            problems += unknown((key,), value, sites, "site")
    if problems:
        raise located(problems)
    return patrol


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



def _unknown_agencies(places, agencies: list[str] | None) -> list[tuple[tuple, str]]:
    """A problem for each (place, agency) whose agency no unit type has."""
    if agencies is None:
        return []
    return [((place,), f"no unit type has agency '{agency:.40}'" + suggest(agency, agencies))
            for place, agency in places if agency not in agencies]


class UnknownKind:
    """What ``sites: {kind: K}`` becomes when no site has kind K: the weights' check reports it."""

    def __init__(self, kind: str, kinds: list[str]):
        self.kind, self.kinds = kind, kinds


#: What ``sites: all`` or ``{kind: K}`` becomes while the scenario's sites are unknown (they failed
#: to validate, and say so themselves): weights not checked.
UNCHECKED_WEIGHTS: dict[str, float] = {}


def _site_weights(value: Any) -> Any:
    """Site id -> positive weight, at least one; ``sites: all`` and ``{kind: K}`` were replaced by
    their weights before (``Scenario``), unless the sites are unknown."""
    if value is UNCHECKED_WEIGHTS or value == "all" or kind_weights(value) is not None:
        return {}
    if isinstance(value, UnknownKind):
        raise located([(("kind",), f"no site of kind '{value.kind}'" + suggest(value.kind, value.kinds))])
    if not isinstance(value, Mapping):
        raise located([((), f"expected 'all' or a mapping of site id to weight such as {{alun_alun: 2}}, "
                            f"got {shown(value)}")])
    if not value:
        raise located([((), "no sites: give 'all' or site ids with weights")])
    bad = [((site,), f"weight must be a positive number, got {shown(weight)}") for site, weight in value.items()
           if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0]
    if bad:
        raise located(bad)
    return value


class DisturbanceType(Spec):
    """One kind of disturbance; ``rate_per_hour`` is for all its sites together."""

    type: Id
    rate_per_hour: float = Field(ge=0, le=limits.MAX_RATE_PER_HOUR)
    # site id -> relative weight; the file may say "all" (every site, weight 1) or {kind: K}: see Scenario
    sites: Annotated[dict[str, float], BeforeValidator(_site_weights)]
    hourly_profile: Tuple[Annotated[float, Field(ge=0, le=limits.MAX_PROFILE_VALUE)]] | None = None
    # Monday..Sunday multipliers of the rate (exactly 7, not all zero)
    weekly_profile: Tuple[Annotated[float, Field(ge=0, le=limits.MAX_PROFILE_VALUE)]] | None = None
    on_scene_min: Minutes  # type: ignore[valid-type]
    units_required: int = Field(default=1, ge=1, le=limits.MAX_UNITS)
    priority: int = Field(ge=1, le=limits.MAX_PRIORITY)
    escalation: Escalation | None = None
    # who may answer (default: every agency), and the least each agency sends of units_required (sim.model.eligibility)
    agencies: Annotated[Tuple[Id], Field(min_length=1)] | None = None
    requires: Annotated[dict[str, Annotated[int, Field(ge=1, le=limits.MAX_UNITS)]], Field(min_length=1)] | None = None
    report_delay_min: Minutes | None = None  # type: ignore[valid-type]  # this type's own (detection)

    @field_validator("hourly_profile")
    @classmethod
    def _a_day(cls, profile: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if profile is not None and len(profile) != 24:
            raise ValueError(f"needs exactly 24 numbers (one per hour from 00:00), got {len(profile)}")
        if profile is not None and not any(profile):
            raise ValueError("all 24 values are zero")
        return profile

    @field_validator("weekly_profile")
    @classmethod
    def _a_week(cls, profile: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if profile is not None and len(profile) != 7:
            raise ValueError(f"needs exactly 7 numbers (Monday to Sunday), got {len(profile)}")
        if profile is not None and not any(profile):
            raise ValueError("all 7 values are zero")
        return profile

    @field_validator("sites")
    @classmethod
    def _known_sites(cls, weights: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        raise_located(unknown_keys(weights, known(info).sites, "site"))
        return weights

    @field_validator("agencies")
    @classmethod
    def _known_agencies(cls, agencies: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        raise_located(_unknown_agencies(enumerate(agencies or ()), known(info).agencies))
        return agencies

    @field_validator("requires")
    @classmethod
    def _known_required(cls, requires: dict[str, int] | None, info: ValidationInfo) -> dict[str, int] | None:
        raise_located(_unknown_agencies(((a, a) for a in requires or {}), known(info).agencies))
        return requires

    @field_validator("report_delay_min")
    @classmethod
    def _with_detection(cls, delay: Any, info: ValidationInfo) -> Any:
        if delay is not None and known(info).has_detection is False:
            raise ValueError("a type's report_delay_min needs a 'detection' block (detection: {report_delay_min: ...})")
        return delay

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
    patrol: Annotated[patrol_union(), AfterValidator(_patrol_checks)]  # type: ignore[valid-type]
    # daily windows of the clock's local time ("07:00-15:00"); None: on duty all day (sim.model.shifts)
    on_duty: Annotated[Tuple[str], Field(min_length=1, max_length=limits.MAX_DUTY_WINDOWS)] | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            raise_located(unknown((), value, known(info).unit_types, "unit type"))
        return value

    @field_validator("joint")
    @classmethod
    def _known_members(cls, members: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        types = known(info).unit_types
        if members is not None and types is not None:
            raise_located([((k,), f"unknown unit type '{member:.40}'" + suggest(member, sorted(types)))
                    for k, member in enumerate(members) if member not in types])
        return members

    @field_validator("base")
    @classmethod
    def _known_base(cls, value: str, info: ValidationInfo) -> str:
        raise_located(unknown((), value, known(info).sites, "site"))
        return value

    @field_validator("on_duty")
    @classmethod
    def _windows(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for text in value or ():
            daily_window(text)
        return value

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
        return None

    @property
    def duty_windows(self) -> tuple[tuple[int, int], ...] | None:
        """The on-duty windows as (start, end) minutes of the day (None: all day)."""
        return None if self.on_duty is None else tuple(daily_window(text) for text in self.on_duty)


class JointMember(UnitGroup):
    """The vehicles of one type of a joint group, as a plan holds them (made from a validated
    ``UnitGroup``, never read from a file)."""

    joint_of: tuple[int, str]  # (entry of its joint group in the fleet, on_dispatch)

    @property
    def joint_tag(self) -> tuple[int, str] | None:
        return self.joint_of


def _members(units: tuple[UnitGroup, ...]) -> tuple[UnitGroup, ...]:
    """The groups with each joint group as one group per member type, tagged with the joint group."""
    out: list[UnitGroup] = []
    for entry, group in enumerate(units):
        if group.joint is None:
            out.append(group)
            continue
        fields = dict(group)
        for member in group.joint:
            out.append(JointMember.model_construct(
                group.model_fields_set | {"type", "joint_of"},
                **{**fields, "type": member, "joint": None, "joint_of": (entry, group.on_dispatch)}))
    return tuple(out)


class Fleet(Spec):
    """The units of a plan while one calendar phase lasts."""

    units: Annotated[Tuple[UnitGroup], Field(min_length=1), AfterValidator(_members)]


class Plan(Spec):
    """One deployment of units: ``units`` outside the phases named in ``by_phase``, each of those
    phases' own fleet while it lasts."""

    name: Id
    description: str = ""
    units: Annotated[Tuple[UnitGroup], Field(min_length=1), AfterValidator(_members)]
    by_phase: Annotated[dict[str, Fleet], Field(max_length=limits.MAX_PHASES)] = {}

    @field_validator("by_phase")
    @classmethod
    def _known_phases(cls, by_phase: dict[str, Fleet], info: ValidationInfo) -> dict[str, Fleet]:
        phases = known(info).phases
        if phases is NO_CALENDAR:
            raise_located([((phase,), f"phase '{phase}': the scenario has no calendar.phases") for phase in by_phase])
        raise_located(unknown_keys(by_phase, phases, "phase"))
        return by_phase

    @model_validator(mode="after")
    def _within_the_bound(self) -> Plan:
        problems = checks.too_many_units(self)
        if problems:
            raise located(problems)
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
    """Road speeds by hour of day (sim.model.periods); periods do not overlap (which speed would hold?)."""

    periods: Annotated[Tuple[TravelPeriod], Field(min_length=1, max_length=limits.MAX_TRAVEL_PERIODS)]

    @model_validator(mode="after")
    def _apart(self) -> Travel:
        problems = checks.travel_overlaps(self.periods)
        if problems:
            raise located(problems)
        return self
