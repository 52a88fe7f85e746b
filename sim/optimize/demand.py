"""Where the incidents arise, as the location programs see it: a weight per site.

A site's weight is its expected incidents per hour over the measured clock (after warm-up):
the sum over disturbance types of ``rate_per_hour`` x the mean of the type's hour-of-day profile
over that period x the site's share of the type's weights. Escalations are not extra demand
(an escalated incident is the same incident, already counted).

The offered load is the unit time incidents ask for, in erlangs (units busy on average):
rate x units required x mean on-scene minutes, summed over types. Travel to the scene is left
out (it depends on where the units stand), so it is a lower bound; MEXCLP's default busy
probability is this load over the number of units.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def site_demand(scenario) -> Demand:
    """Each site's expected incidents per hour over the measured clock, and the offered load."""
    clock = scenario.clock
    from_min, to_min = clock.warmup_hours * MIN_PER_HOUR, clock.duration_hours * MIN_PER_HOUR
    per_site = {site.id: 0.0 for site in scenario.sites}
    load = 0.0
    for disturbance in scenario.disturbances:
        rate = disturbance.rate_per_hour * profile_mean(disturbance.hourly_profile, clock.start, from_min, to_min)
        weights = disturbance.site_weights
        total = sum(weights.values())
        if rate <= 0 or total <= 0:
            continue
        for site, weight in weights.items():
            per_site[site] += rate * weight / total
        load += rate / MIN_PER_HOUR * disturbance.units_required * disturbance.on_scene_min.mean
    ids = tuple(site for site, rate in per_site.items() if rate > 0)
    return Demand(ids, np.array([per_site[site] for site in ids], float), load)
