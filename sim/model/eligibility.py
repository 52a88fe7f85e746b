"""Who may answer what (issue #12): each disturbance type's agencies and per-agency minimums, and
the demand by site that the coverage dispatch policy weighs.

``Rule.choose`` picks the units for an incident: first, per agency of ``requires``, the units that
agency still owes, then the other slots from every eligible agency, each through the scenario's
dispatch policy (so "nearest" stays nearest among the units that may go).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.plugins.dispatch import DispatchPolicy
    from sim.model.incidents import Incident
    from sim.model.units import Unit


@dataclass(frozen=True)
class Rule:
    """Who may answer one disturbance type: ``agencies`` (None: all) and ``requires`` (agency -> n)."""

    agencies: frozenset[str] | None
    requires: tuple[tuple[str, int], ...]

    def may_answer(self, unit: Unit) -> bool:
        return self.agencies is None or unit.agency in self.agencies

    def owed(self, incident: Incident, sent: Mapping[str, int]) -> tuple[dict[str, int], int]:
        """(units each agency still owes, slots open to any eligible agency) for ``incident``, given
        the units ``sent`` to it so far of each agency that ``requires`` names."""
        owed = {agency: n - sent.get(agency, 0) for agency, n in self.requires if n > sent.get(agency, 0)}
        return owed, incident.units_missing - sum(owed.values())

    def accepts(self, incident: Incident, sent: Mapping[str, int], unit: Unit) -> bool:
        """Whether sending ``unit`` now helps ``incident``: it may answer, and an agency slot or an
        open slot is left for it."""
        if not self.may_answer(unit) or incident.units_missing <= 0:
            return False
        if not self.requires:
            return True
        owed, open_slots = self.owed(incident, sent)
        return unit.agency in owed or open_slots > 0

    def choose(self, policy: DispatchPolicy, incident: Incident, sent: Mapping[str, int], free: Sequence[Unit],
               now: float) -> list[Unit]:
        """The units to send from ``free``: each owing agency's own, then the open slots (without
        ``requires``, every slot is open: the policy chooses among the units that may answer)."""
        eligible = free if self.agencies is None else [unit for unit in free if unit.agency in self.agencies]
        if not self.requires:
            return policy.choose(incident, eligible, now)
        owed, open_slots = self.owed(incident, sent)
        picks: list[Unit] = []
        for agency, n in owed.items():
            picks += policy.choose(_Need(incident, n), [u for u in eligible if u.agency == agency], now)
        if open_slots > 0:
            taken = set(map(id, picks))
            picks += policy.choose(_Need(incident, open_slots), [u for u in eligible if id(u) not in taken], now)
        return picks


ANYONE = Rule(None, ())


class _Need:
    """An incident seen by a policy as needing ``units_missing`` units (a share of what it lacks)."""

    def __init__(self, incident: Incident, units_missing: int):
        self.spec, self.node, self.units_missing = incident.spec, incident.node, units_missing
        self._incident = incident

    @property
    def stage(self):
        return self._incident.stage


def type_rules(scenario: Scenario) -> dict[str, Rule] | None:
    """Each disturbance type's rule, or None when no type names agencies or requires."""
    if not any(d.agencies is not None or d.requires for d in scenario.disturbances):
        return None
    return {d.type: Rule(None if d.agencies is None else frozenset(d.agencies), tuple((d.requires or {}).items()))
            for d in scenario.disturbances}


def site_demand(scenario: Scenario, site_node: dict[str, int]) -> tuple[tuple[int, float], ...]:
    """(road node, incidents per hour) of every site with demand: each type's base rate shared out by
    its site weights (profiles and phases left out: the coverage policy weighs places, not hours)."""
    by_node: dict[int, float] = {}
    for dist in scenario.disturbances:
        total = sum(dist.site_weights.values())
        for site, weight in dist.site_weights.items():
            node = site_node[site]
            by_node[node] = by_node.get(node, 0.0) + dist.rate_per_hour * weight / total
    return tuple((node, rate) for node, rate in by_node.items() if rate > 0)
