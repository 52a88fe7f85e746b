"""Disturbances: when and where incidents arise, drawn before the simulation runs.

Every random draw about incidents happens here, from streams that depend only on the
scenario seed and the replication, never on the plan: replication k of every plan sees the
same incidents (common random numbers).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.config.calendar import PhaseTimes, minutes_after
from sim.config.clock import minute_of_day, minute_of_week
from sim.streams import STREAM_EVENTS, stream

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.config.calendar import Calendar, Event
    from sim.config.schema import DisturbanceType

MIN_PER_HOUR = 60.0
MIN_PER_DAY = 24 * MIN_PER_HOUR
# Candidate arrivals are drawn this many at a time. A fixed size makes the arrivals of a shorter
# clock exactly the first part of a longer one's: replication k of a 6-hour animation is the
# first 6 hours of replication k of a week.
ARRIVAL_CHUNK = 256


# Stage and IncidentSpec are named tuples, not frozen dataclasses: a replication makes one of each
# per incident (hundreds of thousands in a long run), and a tuple is made in a third of the time.
class Stage(NamedTuple):
    """What an incident is while it has one type: before or after an escalation."""

    type: str
    priority: int
    units_required: int
    on_scene_min: float
    escalate_after_min: float | None  # unanswered this long after becoming this type -> next stage


class IncidentSpec(NamedTuple):
    """One disturbance as drawn: its stages (the first is the type it is created as)."""

    incident_id: int
    site: str
    t_created_min: float
    stages: tuple[Stage, ...]
    phase: str | None = None  # the calendar phase it arose in ("" outside every phase); None: no season keys
    event: str | None = None  # the event that caused it ("" none); None: no season keys


# Named tuples made by the hundred thousand are made from their fields in order with tuple.__new__:
# the same tuples, without the Python-level __new__ of a named tuple.
_new_tuple = tuple.__new__


class Incident:
    """The live state and record of one incident during a run.

    A slotted class whose present ``stage`` is an attribute (``escalate`` moves it on): the
    dispatcher and the units read it at every step of every incident."""

    __slots__ = ("spec", "counted", "node", "stage_index", "stage", "units_sent", "units_arrived", "units_left",
                 "t_first_dispatch_min", "t_first_arrival_min", "t_full_arrival_min", "unit_ids", "t_reported_min",
                 "detected_by", "deterred")

    def __init__(self, spec: IncidentSpec, counted: bool, node: int):
        self.spec = spec
        self.counted = counted
        self.node = node  # road node of its site
        self.stage_index = 0
        self.stage: Stage = spec.stages[0]
        self.units_sent = 0
        self.units_arrived = 0
        self.units_left = 0
        self.t_first_dispatch_min: float | None = None
        self.t_first_arrival_min: float | None = None
        self.t_full_arrival_min: float | None = None
        self.unit_ids: list[str] = []
        # detection and deterrence (sim.model.presence): when and by whom it was reported; deterred: never arose
        self.t_reported_min: float | None = None
        self.detected_by = ""  # public | patrol
        self.deterred = False

    def escalate(self) -> None:
        """It becomes the type of its next stage."""
        self.stage_index += 1
        self.stage = self.spec.stages[self.stage_index]

    @property
    def units_missing(self) -> int:
        """Units still to be dispatched."""
        return self.stage.units_required - self.units_sent

    @property
    def escalated(self) -> bool:
        return self.stage_index > 0

    def __repr__(self) -> str:
        return (f"Incident({self.spec.incident_id}, {self.stage.type!r} at {self.spec.site!r}, "
                f"created {self.spec.t_created_min:.2f} min, {self.units_sent} sent, {self.units_arrived} arrived)")


def hour_of_day(start: datetime, t_min: np.ndarray) -> np.ndarray:
    """Hour of the day (0..23) at minutes ``t_min`` after ``start``."""
    return ((minute_of_day(start) + t_min) // MIN_PER_HOUR).astype(np.int64) % 24


def day_of_week(start: datetime, t_min: np.ndarray) -> np.ndarray:
    """Day of the week (0 = Monday .. 6 = Sunday) at minutes ``t_min`` after ``start``."""
    return ((minute_of_week(start) + t_min) // MIN_PER_DAY).astype(np.int64) % 7


@dataclass(frozen=True)
class RateShape:
    """A disturbance type's rate over the clock, relative to its base rate: hourly profile ×
    weekly profile × the multiplier of the phase in force (1 where a part is not given)."""

    hourly: np.ndarray  # 24 values
    weekly: np.ndarray | None = None  # 7 values, Monday first
    phases: PhaseTimes | None = None
    phase_multiplier: np.ndarray | None = None  # per phase; outside every phase 1

    @property
    def peak(self) -> float:
        """An upper bound of ``at`` (the thinning's candidate rate, relative to the base)."""
        peak = float(self.hourly.max())
        if self.weekly is not None:
            peak *= float(self.weekly.max())
        if self.phase_multiplier is not None:
            peak *= max(1.0, float(self.phase_multiplier.max()))
        return peak

    def at(self, start: datetime, t_min: np.ndarray) -> np.ndarray:
        """The relative rate at minutes ``t_min`` after ``start``."""
        value = self.hourly[hour_of_day(start, t_min)]
        if self.weekly is not None:
            value = value * self.weekly[day_of_week(start, t_min)]
        if self.phases is not None and self.phase_multiplier is not None:
            index = self.phases.index_at(t_min)
            value = value * np.where(index >= 0, self.phase_multiplier[np.clip(index, 0, None)], 1.0)
        return value


def rate_shape(disturbance: DisturbanceType, calendar: Calendar | None, phases: PhaseTimes) -> RateShape:
    """The shape of a disturbance type's rate in a scenario (its profiles and the phases' multipliers)."""
    hourly = np.ones(24) if disturbance.hourly_profile is None else np.asarray(disturbance.hourly_profile, float)
    weekly = None if disturbance.weekly_profile is None else np.asarray(disturbance.weekly_profile, float)
    if calendar is None:
        return RateShape(hourly, weekly)
    multiplier = np.array([phase.multiplier(disturbance.type) for phase in calendar.phases], float)
    return RateShape(hourly, weekly, phases, multiplier)


def arrival_times_min(
    rate_per_hour: float,
    hourly_profile: tuple[float, ...] | None | RateShape,
    start: datetime,
    horizon_min: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Arrival times (minutes from start) of a Poisson process whose rate is ``rate_per_hour``
    times an hour-of-day profile (or a whole ``RateShape``).

    Thinning (Lewis & Shedler): candidates at the peak rate, one after another, each kept with
    probability rate(t) / peak. Exact for any piecewise-constant rate.
    """
    shape = hourly_profile if isinstance(hourly_profile, RateShape) else \
        RateShape(np.ones(24) if hourly_profile is None else np.asarray(hourly_profile, float))
    peak = shape.peak
    peak_per_min = rate_per_hour * peak / MIN_PER_HOUR
    if peak_per_min <= 0.0:
        return np.empty(0)
    kept, t_min = [], 0.0
    while t_min < horizon_min:
        candidates = t_min + np.cumsum(rng.exponential(1.0 / peak_per_min, ARRIVAL_CHUNK))
        accept = rng.uniform(size=ARRIVAL_CHUNK) * peak < shape.at(start, candidates)
        kept.append(candidates[accept & (candidates < horizon_min)])
        t_min = float(candidates[-1])
    return np.concatenate(kept)


def _chain(by_type: dict[str, DisturbanceType], type_name: str) -> list[DisturbanceType]:
    """The types an incident created as ``type_name`` goes through, escalation after escalation
    (a cycle cut where it would come back to a type already in the chain)."""
    chain: list[DisturbanceType] = []
    seen: set[str] = set()
    current = by_type[type_name]
    while current is not None and current.type not in seen:
        seen.add(current.type)
        chain.append(current)
        current = None if current.escalation is None else by_type[current.escalation.to]
    return chain


def _stages(by_type: dict[str, DisturbanceType], type_name: str, rng: np.random.Generator) -> tuple[Stage, ...]:
    """The stage chain of a new incident, each stage's on-scene time drawn now."""
    return _chain_stages(_chain(by_type, type_name), rng)


def _chain_stages(chain: list[DisturbanceType], rng: np.random.Generator) -> tuple[Stage, ...]:
    last = len(chain) - 1
    # The last stage cannot escalate further (a cycle was cut above).
    return tuple(Stage(d.type, d.priority, d.units_required, float(d.on_scene_min.sample(rng)),
                       None if d.escalation is None or k == last else float(d.escalation.after_min))
                 for k, d in enumerate(chain))


def _stages_many(chain: list[DisturbanceType], rng: np.random.Generator, n: int) -> list[tuple[Stage, ...]]:
    """The stage chains of ``n`` new incidents of one type, drawn as ``n`` calls of ``_stages`` would
    (the same numbers): a type that never escalates draws its on-scene times at once."""
    if len(chain) > 1:
        return [_chain_stages(chain, rng) for _ in range(n)]
    d = chain[0]
    return [(_new_tuple(Stage, (d.type, d.priority, d.units_required, float(t), None)),)
            for t in d.on_scene_min.sample_many(rng, n)]


def event_key(event_id: str) -> int:
    """A stream key from an event's id (not its place in the list): adding, removing or
    reordering events leaves every other event's incidents where they were."""
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big")


def _event_draws(scenario: Scenario, event: Event, horizon_min: float, seed: int, rep: int,
                 by_type: dict[str, DisturbanceType]) -> list[tuple[float, int, str, tuple[Stage, ...], str]]:
    """The extra incidents of one event: per type a constant rate over [start, start + hours),
    each type on its own streams (arrivals, sites, on-scene) keyed by the event's id."""
    t0 = minutes_after(scenario.clock.start, event.start)
    t1 = min(t0 + event.hours * MIN_PER_HOUR, horizon_min)
    site_ids = list(event.sites)
    weights = np.array([event.sites[s] for s in site_ids], float)
    type_index = {d.type: i for i, d in enumerate(scenario.disturbances)}
    out = []
    for type_name, rate in event.rate_per_hour.items():
        key = (rep, STREAM_EVENTS, event_key(event.id), type_index[type_name])
        arrivals = stream(seed, *key, 0)
        count = arrivals.poisson(rate * max(t1 - t0, 0.0) / MIN_PER_HOUR)
        times = np.sort(t0 + arrivals.uniform(size=count) * (t1 - t0))
        picks = stream(seed, *key, 1).choice(len(site_ids), size=count, p=weights / weights.sum())
        on_scene = stream(seed, *key, 2)
        out += [(float(t), type_index[type_name], site_ids[pick], _stages(by_type, type_name, on_scene), event.id)
                for t, pick in zip(times, picks)]
    return out


def draw_incidents(scenario: Scenario, horizon_min: float, streams: dict[str, list[np.random.Generator]]) -> list[IncidentSpec]:
    """All incidents of one replication, in order of creation.

    ``streams`` holds one generator per disturbance type for each purpose:
    ``arrivals``, ``sites`` and ``on_scene``. Event incidents draw from streams of their own
    (``sim.streams.STREAM_EVENTS``, same seed and replication as ``streams``).
    """
    by_type = {d.type: d for d in scenario.disturbances}
    phases = PhaseTimes.of(scenario.calendar, scenario.clock.start)
    drawn: list[tuple[float, int, str, tuple[Stage, ...], str]] = []
    for type_index, disturbance in enumerate(scenario.disturbances):
        times = arrival_times_min(
            disturbance.rate_per_hour,
            rate_shape(disturbance, scenario.calendar, phases),
            scenario.clock.start,
            horizon_min,
            streams["arrivals"][type_index],
        )
        site_ids = list(disturbance.site_weights)
        weights = np.array([disturbance.site_weights[s] for s in site_ids], float)
        picks = streams["sites"][type_index].choice(len(site_ids), size=len(times), p=weights / weights.sum())
        stages = _stages_many(_chain(by_type, disturbance.type), streams["on_scene"][type_index], len(times))
        drawn += zip(times.tolist(), repeat(type_index), [site_ids[k] for k in picks.tolist()], stages, repeat(""))
    if scenario.events:
        # the replication's seed and number, read from its streams' keys (seed, (rep, purpose, type))
        sequence = streams["arrivals"][0].bit_generator.seed_seq
        for event in scenario.events:
            drawn += _event_draws(scenario, event, horizon_min, sequence.entropy, sequence.spawn_key[0], by_type)
    drawn.sort(key=itemgetter(0, 1, 4))
    if scenario.calendar is None and not scenario.events:
        return [_new_tuple(IncidentSpec, (i, site, t, stages, None, None))
                for i, (t, _, site, stages, _) in enumerate(drawn, 1)]
    index = phases.index_at(np.array([item[0] for item in drawn], float)).tolist()
    names = [*phases.names, ""]  # index -1: outside every phase
    return [_new_tuple(IncidentSpec, (i, site, t, stages, names[k], event))
            for i, ((t, _, site, stages, event), k) in enumerate(zip(drawn, index), 1)]
