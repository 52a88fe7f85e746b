"""Disturbances: when and where incidents arise, drawn before the simulation runs.

Every random draw about incidents happens here, from streams that depend only on the
scenario seed and the replication, never on the plan: replication k of every plan sees the
same incidents (common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.config import DisturbanceType, Scenario

MIN_PER_HOUR = 60.0
# Candidate arrivals are drawn this many at a time. A fixed size makes the arrivals of a shorter
# clock exactly the first part of a longer one's: replication k of a 6-hour animation is the
# first 6 hours of replication k of a week.
ARRIVAL_CHUNK = 256


@dataclass(frozen=True)
class Stage:
    """What an incident is while it has one type: before or after an escalation."""

    type: str
    priority: int
    units_required: int
    on_scene_min: float
    escalate_after_min: float | None  # unanswered this long after becoming this type -> next stage


@dataclass(frozen=True)
class IncidentSpec:
    """One disturbance as drawn: its stages (the first is the type it is created as)."""

    incident_id: int
    site: str
    t_created_min: float
    stages: tuple[Stage, ...]


@dataclass(eq=False)
class Incident:
    """The live state and record of one incident during a run."""

    spec: IncidentSpec
    counted: bool
    node: int  # road node of its site
    stage_index: int = 0
    units_sent: int = 0
    units_arrived: int = 0
    units_left: int = 0
    t_first_dispatch_min: float | None = None
    t_first_arrival_min: float | None = None
    t_full_arrival_min: float | None = None
    unit_ids: list[str] = field(default_factory=list)

    @property
    def stage(self) -> Stage:
        return self.spec.stages[self.stage_index]

    @property
    def units_missing(self) -> int:
        """Units still to be dispatched."""
        return self.stage.units_required - self.units_sent

    @property
    def escalated(self) -> bool:
        return self.stage_index > 0


def hour_of_day(start: datetime, t_min: np.ndarray) -> np.ndarray:
    """Hour of the day (0..23) at minutes ``t_min`` after ``start``."""
    start_min_of_day = start.hour * MIN_PER_HOUR + start.minute + start.second / 60.0
    return ((start_min_of_day + t_min) // MIN_PER_HOUR).astype(np.int64) % 24


def arrival_times_min(
    rate_per_hour: float,
    hourly_profile: tuple[float, ...] | None,
    start: datetime,
    horizon_min: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Arrival times (minutes from start) of a Poisson process with an hour-of-day profile.

    Thinning (Lewis & Shedler): candidates at the peak rate, one after another, each kept with
    probability rate(t) / peak. Exact for any piecewise-constant profile.
    """
    profile = np.ones(24) if hourly_profile is None else np.asarray(hourly_profile, float)
    peak_per_min = rate_per_hour * float(profile.max()) / MIN_PER_HOUR
    if peak_per_min <= 0.0:
        return np.empty(0)
    kept, t_min = [], 0.0
    while t_min < horizon_min:
        candidates = t_min + np.cumsum(rng.exponential(1.0 / peak_per_min, ARRIVAL_CHUNK))
        accept = rng.uniform(size=ARRIVAL_CHUNK) * profile.max() < profile[hour_of_day(start, candidates)]
        kept.append(candidates[accept & (candidates < horizon_min)])
        t_min = float(candidates[-1])
    return np.concatenate(kept)


def _stages(by_type: dict[str, DisturbanceType], type_name: str, rng: np.random.Generator) -> tuple[Stage, ...]:
    """The stage chain of a new incident, each stage's on-scene time drawn now."""
    stages: list[Stage] = []
    seen: set[str] = set()
    current = by_type[type_name]
    while current is not None and current.type not in seen:
        seen.add(current.type)
        escalation = current.escalation
        stages.append(
            Stage(
                type=current.type,
                priority=current.priority,
                units_required=current.units_required,
                on_scene_min=float(current.on_scene_min.sample(rng)),
                escalate_after_min=None if escalation is None else float(escalation.after_min),
            )
        )
        current = None if escalation is None else by_type[escalation.to]
    # The last stage cannot escalate further (a cycle was cut above).
    last = stages[-1]
    stages[-1] = Stage(last.type, last.priority, last.units_required, last.on_scene_min, None)
    return tuple(stages)


def draw_incidents(scenario: Scenario, horizon_min: float, streams: dict[str, list[np.random.Generator]]) -> list[IncidentSpec]:
    """All incidents of one replication, in order of creation.

    ``streams`` holds one generator per disturbance type for each purpose:
    ``arrivals``, ``sites`` and ``on_scene``.
    """
    by_type = {d.type: d for d in scenario.disturbances}
    drawn: list[tuple[float, int, str, tuple[Stage, ...]]] = []
    for type_index, disturbance in enumerate(scenario.disturbances):
        times = arrival_times_min(
            disturbance.rate_per_hour,
            disturbance.hourly_profile,
            scenario.clock.start,
            horizon_min,
            streams["arrivals"][type_index],
        )
        site_ids = list(disturbance.site_weights)
        weights = np.array([disturbance.site_weights[s] for s in site_ids], float)
        picks = streams["sites"][type_index].choice(len(site_ids), size=len(times), p=weights / weights.sum())
        on_scene_rng = streams["on_scene"][type_index]
        for t, pick in zip(times, picks):
            drawn.append((float(t), type_index, site_ids[pick], _stages(by_type, disturbance.type, on_scene_rng)))
    drawn.sort(key=lambda item: (item[0], item[1]))
    return [
        IncidentSpec(incident_id=i + 1, site=site, t_created_min=t, stages=stages)
        for i, (t, _, site, stages) in enumerate(drawn)
    ]
