"""Where incidents are expected, before any simulation: each site's expected incidents per hour over
the measured clock (after warm-up).

A disturbance type's rate is taken with its hour-of-day profile, its weekly profile and the
calendar's phase multipliers, minute by minute over the measured clock, and shared among its sites
by their weights; an event adds its rates at its sites for the part of its hours inside the measured
clock. A site with no expected incident in the clock (a polling station when the clock is cut to a
campaign week) is no incident site of that run. Without weekly profiles and phases the type's rate
is ``rate_per_hour`` times the profile's mean (``sim.config.limits.profile_mean``), to the bit.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Mapping

import numpy as np

from sim.config.calendar import minutes_after
from sim.config.limits import MIN_PER_HOUR, profile_mean


def _measured_min(scenario) -> tuple[float, float]:
    clock = scenario.clock
    return clock.warmup_hours * MIN_PER_HOUR, clock.duration_hours * MIN_PER_HOUR


def type_rates_per_hour(scenario) -> dict[str, float]:
    """Each disturbance type's mean rate per hour over the measured clock."""
    clock = scenario.clock
    from_min, to_min = _measured_min(scenario)
    phases = scenario.calendar.phases if scenario.calendar is not None else ()
    rates = {}
    minutes = None
    for d in scenario.disturbances:
        if not phases and d.weekly_profile is None:
            rates[d.type] = d.rate_per_hour * profile_mean(d.hourly_profile, clock.start, from_min, to_min)
            continue
        if minutes is None:   # the measured clock by the minute, once
            minutes = np.arange(math.floor(from_min), math.ceil(to_min)) + 0.5
            start = clock.start
            of_week = start.weekday() * 1440.0 + start.hour * MIN_PER_HOUR + start.minute + minutes
            hour = (of_week // MIN_PER_HOUR).astype(np.int64) % 24
            day = (of_week // 1440.0).astype(np.int64) % 7
        if len(minutes) == 0:
            rates[d.type] = 0.0
            continue
        value = np.asarray(d.hourly_profile or [1.0] * 24, float)[hour]
        if d.weekly_profile is not None:
            value = value * np.asarray(d.weekly_profile, float)[day]
        for phase in phases:
            t0, t1 = minutes_after(clock.start, phase.start), minutes_after(clock.start, phase.end)
            value = np.where((minutes >= t0) & (minutes < t1), value * phase.multiplier(d.type), value)
        rates[d.type] = d.rate_per_hour * float(value.mean())
    return rates


def site_rates_per_hour(scenario) -> dict[str, float]:
    """Each site's expected incidents per hour over the measured clock (see the module docstring);
    sites without any are left out. Keys in the order sites first get a rate."""
    from_min, to_min = _measured_min(scenario)
    measured_h = max((to_min - from_min) / MIN_PER_HOUR, 1e-9)
    per_site: dict[str, float] = defaultdict(float)

    def share(weights: Mapping[str, float], rate: float) -> None:
        total = sum(weights.values())
        if rate > 0 and total > 0:
            for site, weight in weights.items():
                per_site[site] += rate * weight / total

    rates = type_rates_per_hour(scenario)
    for disturbance in scenario.disturbances:
        share(disturbance.site_weights, rates[disturbance.type])
    for event in scenario.events:
        start = minutes_after(scenario.clock.start, event.start)
        inside_h = max(0.0, min(start + event.hours * MIN_PER_HOUR, to_min) - max(start, from_min)) / MIN_PER_HOUR
        share(event.sites, sum(event.rate_per_hour.values()) * inside_h / measured_h)
    return {site: rate for site, rate in per_site.items() if rate > 0}
