"""Where the incidents arise, as the location programs see it: a weight per site.

A site's weight is its expected incidents per hour over a window of the clock (default the
measured clock, after warm-up; or one calendar phase): the sum over disturbance types of
``rate_per_hour`` x the mean over the window of the type's hour-of-day profile (x weekly profile
x phase multiplier, with season keys) x the site's share of the type's weights, plus each event's
rates x the share of the window it lasts, at its sites. Escalations are not extra demand (an
escalated incident is the same incident, already counted).

The offered load is the unit time incidents ask for, in erlangs (units busy on average):
rate x units required x mean on-scene minutes, summed over types. Travel to the scene is left
out (it depends on where the units stand), so it is a lower bound; MEXCLP's default busy
probability is this load over the number of units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config.clock import minute_of_week
from sim.config.limits import profile_mean

MIN_PER_HOUR = 60.0
#: MEXCLP needs a busy probability below 1; an overloaded fleet is read as this busy.
MAX_DEFAULT_BUSY = 0.95


@dataclass(frozen=True)
class Demand:
    """Sites with incidents (scenario order) and their expected incidents per hour."""

    site_ids: tuple[str, ...]
    per_hour: np.ndarray        # float (D,)
    offered_load_erlang: float  # unit-time asked for on scene, in units busy on average

    @property
    def total_per_hour(self) -> float:
        return float(self.per_hour.sum())

    def default_busy(self, units: int) -> float:
        """Offered load / units, at most MAX_DEFAULT_BUSY."""
        return min(self.offered_load_erlang / max(units, 1), MAX_DEFAULT_BUSY)


@dataclass(frozen=True)
class Window:
    """Minutes [from_min, to_min) of the run's clock whose demand is placed, and its name."""

    from_min: float
    to_min: float
    words: str


def measured_window(scenario) -> Window:
    """The measured clock: after warm-up to the end, with every phase and event in it."""
    clock = scenario.clock
    season = " (every phase and event in it, by its share of the time)" if _seasonal(scenario) else ""
    return Window(clock.warmup_hours * MIN_PER_HOUR, clock.duration_hours * MIN_PER_HOUR,
                  f"the measured clock, hours {clock.warmup_hours:g} to {clock.duration_hours:g}{season}")


def phase_window(scenario, phase) -> Window:
    """The part of the measured clock inside ``phase`` (a calendar Phase)."""
    clock = scenario.clock
    start = (phase.start - clock.start).total_seconds() / 60.0
    end = (phase.end - clock.start).total_seconds() / 60.0
    return Window(max(start, clock.warmup_hours * MIN_PER_HOUR), min(end, clock.duration_hours * MIN_PER_HOUR),
                  f"phase {phase.name} ({phase.start:%Y-%m-%d %H:%M} to {phase.end:%Y-%m-%d %H:%M})")


def _seasonal(scenario) -> bool:
    return (getattr(scenario, "calendar", None) is not None or bool(getattr(scenario, "events", ()))
            or any(getattr(d, "weekly_profile", None) is not None for d in scenario.disturbances))


def _mean_multiplier(scenario, disturbance, window: Window) -> float:
    """Mean over the window, by the minute, of the type's hourly x weekly profile x phase multiplier."""
    start = scenario.clock.start
    if not _seasonal(scenario):
        return profile_mean(disturbance.hourly_profile, start, window.from_min, window.to_min)
    minutes = np.arange(math.floor(window.from_min), math.ceil(window.to_min)) + 0.5
    of_week = minute_of_week(start) + minutes
    hour, day = (of_week // MIN_PER_HOUR).astype(np.int64) % 24, (of_week // 1440.0).astype(np.int64) % 7
    value = np.asarray(disturbance.hourly_profile or [1.0] * 24, float)[hour]
    if getattr(disturbance, "weekly_profile", None) is not None:
        value = value * np.asarray(disturbance.weekly_profile, float)[day]
    calendar = getattr(scenario, "calendar", None)
    for phase in (calendar.phases if calendar is not None else ()):
        t0, t1 = ((phase.start - start).total_seconds() / 60.0, (phase.end - start).total_seconds() / 60.0)
        value = np.where((minutes >= t0) & (minutes < t1), value * phase.multiplier(disturbance.type), value)
    return float(value.mean()) if len(value) else 0.0


def site_demand(scenario, window: Window | None = None) -> Demand:
    """Each site's expected incidents per hour over ``window`` (default: the measured clock), and
    the offered load; events count by their hours inside the window."""
    window = measured_window(scenario) if window is None else window
    hours = max(window.to_min - window.from_min, 0.0) / MIN_PER_HOUR
    per_site = {site.id: 0.0 for site in scenario.sites}
    on_scene = {d.type: d.units_required * d.on_scene_min.mean for d in scenario.disturbances}
    load = 0.0
    for disturbance in scenario.disturbances:
        rate = disturbance.rate_per_hour * _mean_multiplier(scenario, disturbance, window)
        weights = disturbance.site_weights
        total = sum(weights.values())
        if rate <= 0 or total <= 0:
            continue
        for site, weight in weights.items():
            per_site[site] += rate * weight / total
        load += rate / MIN_PER_HOUR * on_scene[disturbance.type]
    for event in getattr(scenario, "events", ()):
        begin = (event.start - scenario.clock.start).total_seconds() / 60.0
        inside = max(min(begin + event.hours * MIN_PER_HOUR, window.to_min) - max(begin, window.from_min), 0.0)
        if inside <= 0 or hours <= 0:
            continue
        share = inside / MIN_PER_HOUR / hours
        total = sum(event.sites.values())
        for kind, rate in event.rate_per_hour.items():
            for site, weight in event.sites.items():
                per_site[site] += rate * share * weight / total
            load += rate * share / MIN_PER_HOUR * on_scene.get(kind, 0.0)
    ids = tuple(site for site, rate in per_site.items() if rate > 0)
    return Demand(ids, np.array([per_site[site] for site in ids], float), load)
