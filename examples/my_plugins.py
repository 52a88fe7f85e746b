"""Two plug-ins in one small file (docs/plugins.md walks through it): a patrol mode and a dispatch policy.

A scenario uses them by naming this file (``plugins: [my_plugins.py]``, relative to the scenario),
``Study(..., plugins=["examples/my_plugins.py"])`` does the same from Python, and an installed
package can declare its module in the ``patrolsim.plugins`` entry-point group.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from sim.plugins.dispatch import Policy, register_policy
from sim.plugins.patrols import PatrolMode, PatrolRoute, register


@register
class Shuttle(PatrolMode):
    """Drive from the base to site ``to`` and back, again and again, dwelling ``dwell_min`` at each end."""

    mode: Literal["shuttle"] = "shuttle"
    to: str = Field(min_length=1)
    dwell_min: float = Field(default=0.0, ge=0)
    SITE_KEYS: ClassVar[tuple[str, ...]] = ("to",)   # the scenario checks these name sites
    ORDERED_STOPS: ClassVar[bool] = True             # maps draw the loop base -> to -> base

    def resolve(self, base, world):
        return PatrolRoute(self, (world.site_node[base], world.site_node[self.to]))

    def sites_visited(self, base, world):
        return (base, self.to)

    def drive(self, unit, stops):
        while True:
            yield from unit.patrol_to(stops[unit.next_stop])
            unit.next_stop = 1 - unit.next_stop
            yield unit.dwell(self.dwell_min)


@register_policy("least-busy")
class LeastBusy(Policy):
    """Among the free units that reach the incident within ``SLACK_MIN`` of the nearest, the one
    sent least often so far in this replication (ties: the nearer, then plan order): it spreads
    the work over the fleet at a small cost in travel time."""

    SLACK_MIN: ClassVar[float] = 2.0

    def __init__(self, context=None):
        super().__init__(context)
        self.sent: dict[str, int] = {}   # one policy per replication: counts start at zero

    def choose(self, incident, free_units, now):
        eta = {unit.unit_id: unit.eta_min(incident.node) for unit in free_units}
        picks = []
        pool = list(free_units)
        while pool and len(picks) < incident.units_missing:
            nearest = min(eta[unit.unit_id] for unit in pool)
            close = [unit for unit in pool if eta[unit.unit_id] <= nearest + self.SLACK_MIN]
            pick = min(close, key=lambda unit: (self.sent.get(unit.unit_id, 0), eta[unit.unit_id]))
            self.sent[pick.unit_id] = self.sent.get(pick.unit_id, 0) + 1
            picks.append(pick)
            pool.remove(pick)
        return picks
