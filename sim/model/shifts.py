"""Units that come and go (issue #11): a plan's fleet by calendar phase, and daily duty windows.

A plan's ``units`` are on duty outside the phases its ``by_phase`` names; each of those phases has
its own fleet while it lasts (its units are other units: ids ``PHASE/type-k``). A unit group's
``on_duty`` windows ("07:00-15:00", clock local time) narrow that further, every day.

- Going off duty, a patrolling unit stops where it is; a unit on a job finishes it (the time past
  the end of its duty is its overtime) and takes no further job.
- Coming on duty, a unit starts at its base (a fresh crew) and takes the first waiting incident that
  accepts it, if any.
- An off-duty unit is never dispatched.

Daily windows are laid out until ``DRAIN_DAYS`` after the clock; after that a unit whose fleet is
in force stays on duty, so that every incident is answered however long the queue.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from sim.config.calendar import MIN_PER_DAY, PhaseTimes
from sim.model.units import UnitObserver

if TYPE_CHECKING:
    import simpy

    from sim.config.schema import Plan, UnitGroup
    from sim.model.incidents import Incident
    from sim.model.units import Unit

DRAIN_DAYS = 30
Interval = tuple[float, float]  # [start, end) minutes from the clock's start; end may be inf


@dataclass(eq=False)
class ShiftBooks(UnitObserver):
    """A unit's duty: its on-duty intervals, and overtime (min) spent finishing jobs off duty. It
    observes its unit to book the overtime of a job finished off duty."""

    intervals: tuple[Interval, ...]
    overtime_min: float = 0.0
    off_since_min: float | None = None  # went off duty during a job at this time (job still open)

    def book_overtime(self, now: float) -> None:
        """The job that kept the unit past its duty ended (or the unit is back on duty) at ``now``."""
        if self.off_since_min is not None:
            self.overtime_min += now - self.off_since_min
            self.off_since_min = None

    def job_done(self, unit: Unit, incident: Incident) -> None:
        if not unit.on_duty:
            self.book_overtime(unit.env.now)

    def on_duty_h(self, window_min: Interval) -> float:
        """Hours on duty inside the measurement window."""
        start, end = window_min
        return sum(max(0.0, min(t1, end) - max(t0, start)) for t0, t1 in self.intervals) / 60.0


def fleet_groups(plan: Plan) -> Iterator[tuple[str, UnitGroup]]:
    """(phase, group) of every unit group of every fleet: the plan's own ("") first."""
    for phase, groups in plan.fleets.items():
        for group in groups:
            yield phase, group


def fleet_unit_ids(plan: Plan) -> list[str]:
    """Unit ids of every fleet, in order: ``type-k`` in the plan's own fleet, ``PHASE/type-k`` in a
    phase's (k counts within the type and fleet)."""
    ids: list[str] = []
    for phase, groups in plan.fleets.items():
        per_type: dict[str, int] = {}
        for group in groups:
            for _ in range(group.count):
                per_type[group.type] = per_type.get(group.type, 0) + 1
                unit_id = f"{group.type}-{per_type[group.type]}"
                ids.append(f"{phase}/{unit_id}" if phase else unit_id)
    return ids


def fleet_spans(plan: Plan, phases: PhaseTimes, phase: str) -> list[Interval]:
    """When a fleet is in force: its phase, or (the plan's own fleet) all but the by_phase phases."""
    if phase:
        return [(float(phases.start_min[i]), float(phases.end_min[i])) for i, name in enumerate(phases.names)
                if name == phase]
    spans = [(float(phases.start_min[i]), float(phases.end_min[i])) for i, name in enumerate(phases.names)
             if name in plan.by_phase]
    out, t = [], 0.0
    for t0, t1 in sorted(spans):
        if t0 > t:
            out.append((t, t0))
        t = max(t, t1)
    return out + [(t, math.inf)]


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    out: list[list[float]] = []
    for t0, t1 in sorted(intervals):
        if out and t0 <= out[-1][1]:
            out[-1][1] = max(out[-1][1], t1)
        elif t1 > t0:
            out.append([t0, t1])
    return [(a, b) for a, b in out]


def duty_intervals(spans: Sequence[Interval], windows: Sequence[tuple[int, int]] | None,
                   start_min_of_day: float, horizon_min: float) -> tuple[Interval, ...]:
    """On-duty intervals: the fleet's spans, cut to the daily windows (None: all day)."""
    spans = [(max(t0, 0.0), t1) for t0, t1 in spans if t1 > 0.0]
    if windows is None:
        return tuple(_merge(spans))
    last_day = math.ceil((horizon_min + start_min_of_day) / MIN_PER_DAY) + DRAIN_DAYS
    daily = []
    for day in range(-1, last_day):
        for w0, w1 in windows:
            t0 = day * MIN_PER_DAY + w0 - start_min_of_day
            length = (w1 - w0) % MIN_PER_DAY or MIN_PER_DAY  # across midnight when w1 < w0
            daily.append((t0, t0 + length))
    laid_out = last_day * MIN_PER_DAY - start_min_of_day
    daily.append((laid_out, math.inf))  # past the laid-out days: on duty, so the queue drains
    cut = [(max(a0, b0), min(a1, b1)) for a0, a1 in spans for b0, b1 in daily if min(a1, b1) > max(a0, b0)]
    return tuple(_merge(cut))


def plan_duty(plan: Plan, phases: PhaseTimes, start_min_of_day: float,
              horizon_min: float) -> list[tuple[Interval, ...]]:
    """The on-duty intervals of every unit of the plan, in the order of ``fleet_unit_ids``."""
    out = []
    for phase, group in fleet_groups(plan):
        duty = duty_intervals(fleet_spans(plan, phases, phase), group.duty_windows, start_min_of_day, horizon_min)
        out += [duty] * group.count
    return out


def _shift(env: simpy.Environment, unit: Unit, books: ShiftBooks):
    """The unit's duty over time: on for each interval, off between them. Back on duty, the unit
    asks its dispatcher for work (``Unit.go_on_duty``)."""
    for t0, t1 in books.intervals:
        if t0 > env.now:
            yield env.timeout(t0 - env.now)
        if not unit.on_duty:
            books.book_overtime(env.now)  # back on duty before its overtime job ended
            unit.go_on_duty()
        if math.isinf(t1):
            return
        yield env.timeout(t1 - env.now)
        if unit.incident is not None:
            books.off_since_min = env.now
        unit.go_off_duty()


def start_shifts(env: simpy.Environment, units: Sequence[Unit], intervals: Sequence[tuple[Interval, ...]]) -> None:
    """Give each unit its duty (before the run starts): off at once unless on duty at 0."""
    for unit, spans in zip(units, intervals):
        books = ShiftBooks(tuple(spans))
        unit.shift = books
        unit.observe(books)
        if not spans or spans[0][0] > 0.0:
            unit.go_off_duty()
        env.process(_shift(env, unit, books))
