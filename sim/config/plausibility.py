"""Warnings about a valid scenario that is probably not what its author meant: an escalation
chain that runs into a cycle, a plan that cannot keep up with its incidents, shifts that leave a
plan without any unit on duty most of the time, absurd speed factors or on-scene times. The run
goes ahead; the command line prints each as ``warning: ...``.
"""
from __future__ import annotations

import numpy as np

from sim.config.calendar import MIN_PER_DAY, PhaseTimes
from sim.config.clock import minute_of_day
from sim.config.limits import (MIN_PER_HOUR, PLAUSIBLE_EMPTY_SHARE, PLAUSIBLE_ON_SCENE_MEAN_MIN,
                               PLAUSIBLE_SPEED_FACTOR, profile_mean)
from sim.config.problems import Report


def _escalation_cycles(scenario, report: Report) -> list[str]:
    """One warning per disturbance type whose escalation chain comes back to a type it passed."""
    by_type = {d.type: (i, d) for i, d in enumerate(scenario.disturbances)}
    found = []
    for i, disturbance in enumerate(scenario.disturbances):
        chain = [disturbance.type]
        current = disturbance
        while current.escalation is not None:
            nxt = current.escalation.to
            if nxt in chain:
                loop = " → ".join(chain + [nxt])
                found.append(report.placed(
                    ("disturbances", i, "escalation", "to"),
                    f"escalation cycle {loop}: an incident of type '{disturbance.type}' escalates along it once and "
                    f"then stays '{chain[-1]}' (a chain is not followed round a second time)"))
                break
            chain.append(nxt)
            current = by_type[nxt][1]
    return found


def _offered_load(scenario) -> float:
    """Units busy on scene on average if every incident were served (rates over the measured
    clock × units required × mean on-scene time): the plan needs more units than this."""
    start_min = scenario.clock.warmup_hours * MIN_PER_HOUR
    end_min = scenario.clock.duration_hours * MIN_PER_HOUR
    return sum(d.rate_per_hour * profile_mean(d.hourly_profile, scenario.clock.start, start_min, end_min)
               * d.units_required * d.on_scene_min.mean / MIN_PER_HOUR for d in scenario.disturbances)


def _on_duty_by_minute(groups) -> np.ndarray:
    """Whether any unit of ``groups`` is on duty in each minute of the day (its windows, every day)."""
    middle = np.arange(MIN_PER_DAY) + 0.5
    on = np.zeros(MIN_PER_DAY, bool)
    for group in groups:
        if group.duty_windows is None:
            return np.ones(MIN_PER_DAY, bool)
        for start, end in group.duty_windows:
            on |= ((middle - start) % MIN_PER_DAY) < ((end - start) % MIN_PER_DAY or MIN_PER_DAY)
    return on


def _measured_minutes(scenario) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Each minute of the measured clock (after the warm-up) as (its minute of the day, the index of
    the phase in force or -1), and the phases' names."""
    clock = scenario.clock
    minutes = np.arange(clock.warmup_hours * MIN_PER_HOUR, clock.duration_hours * MIN_PER_HOUR) + 0.5
    phases = PhaseTimes.of(scenario.calendar, clock.start)
    of_day = np.floor(minute_of_day(clock.start) + minutes).astype(np.int64) % MIN_PER_DAY
    return of_day, np.asarray(phases.index_at(minutes)), phases.names


def empty_share(scenario, plan, measured: tuple | None = None) -> float:
    """The share of the measured clock (after the warm-up) in which no unit of ``plan`` is on duty,
    by the minute: its fleet of the phase in force, each unit inside its daily windows."""
    if not plan.shifts:
        return 0.0
    of_day, in_force, names = measured if measured is not None else _measured_minutes(scenario)
    if not of_day.size:
        return 0.0
    # one row per fleet: the plan's own (outside its phases, and in phases without a fleet of their own) first
    fleets = [plan.units] + [plan.by_phase[name].units if name in plan.by_phase else plan.units for name in names]
    on = np.array([_on_duty_by_minute(units) for units in fleets])
    return float(1.0 - on[in_force + 1, of_day].mean())


def _empty_fleets(scenario, report: Report) -> list[str]:
    """One warning per plan whose shifts leave no unit on duty for most of the measured clock."""
    found = []
    measured = _measured_minutes(scenario) if any(plan.shifts for plan in scenario.plans) else None
    for i, plan in enumerate(scenario.plans):
        share = empty_share(scenario, plan, measured)
        if share > PLAUSIBLE_EMPTY_SHARE:
            hours = share * (scenario.clock.duration_hours - scenario.clock.warmup_hours)
            found.append(report.placed(
                ("plans", i),
                f"plan '{plan.name}': no unit is on duty for {share:.0%} of the clock ({hours:,.0f} h of "
                f"{scenario.clock.duration_hours - scenario.clock.warmup_hours:,.0f}; on_duty windows"
                f"{' and phase fleets' if plan.by_phase else ''}): incidents then wait for the next shift"))
    return found


def scenario_warnings(scenario, report: Report) -> list[str]:
    """Every warning about a validated scenario, placed at its file line where it has one."""
    warnings = _escalation_cycles(scenario, report)
    low, high = PLAUSIBLE_SPEED_FACTOR
    for name, unit_type in scenario.unit_types.items():
        if not low <= unit_type.speed_factor <= high:
            warnings.append(report.placed(
                ("unit_types", name, "speed_factor"),
                f"{unit_type.speed_factor:g} is outside {low:g}..{high:g}: units of this type drive "
                f"{unit_type.speed_factor:g} times the road's speed; is that meant?"))
    for i, disturbance in enumerate(scenario.disturbances):
        mean = disturbance.on_scene_min.mean
        if mean > PLAUSIBLE_ON_SCENE_MEAN_MIN:
            warnings.append(report.placed(
                ("disturbances", i, "on_scene_min"),
                f"a mean on-scene time of {mean:,.0f} min ({mean / 1440:.1f} days): on-scene times are in minutes"))
    warnings += _empty_fleets(scenario, report)
    load = _offered_load(scenario)
    for i, plan in enumerate(scenario.plans):
        if load >= plan.n_units:
            warnings.append(report.placed(
                ("plans", i),
                f"plan '{plan.name}': its incidents keep {load:.1f} units busy on scene on average (rates × units "
                f"required × mean on-scene time), at least its {plan.n_units} units: the queue grows all run "
                "long and response times are mostly waiting"))
    return warnings
