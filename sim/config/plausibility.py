"""Warnings about a valid scenario that is probably not what its author meant: an escalation
chain that runs into a cycle, a plan that cannot keep up with its incidents, shifts that leave a
plan without any unit on duty most of the time, absurd speed factors or on-scene times. The run
goes ahead; the command line prints each as ``warning: ...``.
"""
from __future__ import annotations

import numpy as np

from sim.config.calendar import MIN_PER_DAY, PhaseTimes
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


def _on_duty(groups, minute_of_day: np.ndarray) -> np.ndarray:
    """Whether any unit of ``groups`` is on duty at each minute of the day given (its windows, every day)."""
    on = np.zeros(minute_of_day.shape, bool)
    for group in groups:
        if group.duty_windows is None:
            return np.ones(minute_of_day.shape, bool)
        for start, end in group.duty_windows:
            on |= ((minute_of_day - start) % MIN_PER_DAY) < ((end - start) % MIN_PER_DAY or MIN_PER_DAY)
    return on


def empty_share(scenario, plan) -> float:
    """The share of the measured clock (after the warm-up) in which no unit of ``plan`` is on duty,
    by the minute: its fleet of the phase in force, each unit inside its daily windows."""
    clock = scenario.clock
    minutes = np.arange(clock.warmup_hours * MIN_PER_HOUR, clock.duration_hours * MIN_PER_HOUR) + 0.5
    if not plan.shifts or not minutes.size:
        return 0.0
    start_of_day = clock.start.hour * MIN_PER_HOUR + clock.start.minute + clock.start.second / 60.0
    minute_of_day = (start_of_day + minutes) % MIN_PER_DAY
    phases = PhaseTimes.of(scenario.calendar, clock.start)
    in_force = np.asarray(phases.index_at(minutes))
    fleets = {"": plan.units} | {phase: fleet.units for phase, fleet in plan.by_phase.items()}
    on = np.zeros(minutes.shape, bool)
    for index, name in [(-1, "")] + list(enumerate(phases.names)):
        now = in_force == index
        on[now] = _on_duty(fleets.get(name, plan.units), minute_of_day[now])
    return float(1.0 - on.mean())


def _empty_fleets(scenario, report: Report) -> list[str]:
    """One warning per plan whose shifts leave no unit on duty for most of the measured clock."""
    found = []
    for i, plan in enumerate(scenario.plans):
        share = empty_share(scenario, plan)
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
