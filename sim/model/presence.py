"""Detection and deterrence during one replication (issue #12): what a patrol does by being there.

- **Detection**: an incident is reported at the earlier of its public report (a delay drawn for it)
  and the moment an on-duty unit stands at, or passes, a road node within ``patrol_sight_m`` of the
  incident's road node. This object observes the units (``Unit.observe``): told when a leg starts and ends, a leg
  that passes such a node while an incident there waits for its report gets a check at the node's
  time, void if the leg was cut short before it. Dispatch starts at the report.
- **Deterrence**: every candidate incident is drawn at the undeterred rate (so every plan sees the
  same candidates) and kept if its own uniform draw is below the multiplier in force at its site
  when it arises: ``presence_multiplier`` while an on-duty unit stands (not driving: on post, on a
  dwell, at base, on scene) within ``radius_m``, ``residual_multiplier`` for ``residual_min`` after
  the last one that stood there a while left, else 1. A deterred candidate is never reported.

Distances are straight lines between road nodes (the network's metres). Draws come from their own
streams (``sim.streams``), one value per incident in creation order, so neither block moves any other
draw; without both blocks nothing here runs and results are as before.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy.spatial import cKDTree

from sim.model.units import UnitObserver
from sim.streams import STREAM_DETERRENCE, STREAM_REPORTS, stream

if TYPE_CHECKING:
    import simpy

    from sim.config import Scenario
    from sim.model.dispatch import Dispatcher
    from sim.model.incidents import Incident, IncidentSpec
    from sim.model.movement import Leg
    from sim.model.units import Unit
    from sim.network import RoadNetwork

PUBLIC, PATROL = "public", "patrol"
# A scheduled check at a node's time is void if its leg ended before then; this much slack keeps
# a leg that ends exactly at the node (the same time, summed another way) valid.
TIME_SLACK_MIN = 1e-9


def nodes_within(tree: cKDTree, centres: Sequence[int], radius_m: float) -> dict[int, frozenset[int]]:
    """Road nodes within ``radius_m`` (straight line) of each centre node; a centre is always in its own."""
    centres = sorted(set(int(c) for c in centres))
    found = tree.query_ball_point(tree.data[centres], r=radius_m) if centres else []
    return {c: frozenset(near) | {c} for c, near in zip(centres, found)}


def _inverse(near: dict[int, frozenset[int]]) -> dict[int, tuple[int, ...]]:
    """Road node -> the centre nodes it is near."""
    out: dict[int, list[int]] = {}
    for centre, nodes in near.items():
        for node in nodes:
            out.setdefault(node, []).append(centre)
    return {node: tuple(centres) for node, centres in out.items()}


def presence_draws(scenario: Scenario, specs: Sequence[IncidentSpec], rep: int) -> tuple[np.ndarray, np.ndarray]:
    """(public report delay min, deterrence uniform) of every incident, in creation order; each
    array is empty when its block is absent. Delays come from one stream per type (the type's own
    ``report_delay_min`` or the detection block's), uniforms from one stream; in creation order, so
    a shorter clock's draws are the first of a longer one's."""
    delays = np.empty(0)
    if scenario.detection is not None:
        type_index = {d.type: i for i, d in enumerate(scenario.disturbances)}
        dists = [d.report_delay_min or scenario.detection.report_delay_min for d in scenario.disturbances]
        rngs = [stream(scenario.seed, rep, STREAM_REPORTS, t) for t in range(len(dists))]
        delays = np.array([dists[k].sample(rngs[k]) for k in (type_index[s.stages[0].type] for s in specs)], float)
    uniforms = np.empty(0)
    if scenario.deterrence is not None:
        uniforms = stream(scenario.seed, rep, STREAM_DETERRENCE).random(len(specs))
    return delays, uniforms


@dataclass(eq=False)
class LegWatch:
    """A unit's leg as watched: checks scheduled along it are void past ``ended_min``."""

    unit: Unit
    leg: Leg
    ended_min: float = math.inf

    def node_times(self) -> np.ndarray:
        """When the unit passes each node of the leg (minutes; past nodes too)."""
        leg = self.leg
        return leg.t_start_min + (leg.cum_min - leg.elapsed0_min)


class Presence(UnitObserver):
    """Detection and deterrence in one replication: incidents arise through ``arise``; it observes
    the units' legs and duty (``leg_started``, ``leg_ended``, ``duty_changed``)."""

    def __init__(self, scenario: Scenario, network: RoadNetwork, env: simpy.Environment, units: Sequence[Unit],
                 dispatcher: Dispatcher, incidents: Sequence[Incident], rep: int):
        self.env = env
        self.units = list(units)
        self.dispatcher = dispatcher
        self.detection = scenario.detection
        self.deterrence = scenario.deterrence
        delays, uniforms = presence_draws(scenario, [i.spec for i in incidents], rep)
        self._delay = dict(zip(incidents, delays.tolist()))
        self._uniform = dict(zip(incidents, uniforms.tolist()))
        centres = list({i.node for i in incidents})
        tree = network.node_tree  # built once per network, shared by the replications
        if self.detection is not None:
            self.sight = nodes_within(tree, centres, self.detection.patrol_sight_m)
            self.watched_by = _inverse(self.sight)
        if self.deterrence is not None:
            self.near = nodes_within(tree, centres, self.deterrence.radius_m)
            self.deters = _inverse(self.near)
        self.pending: dict[int, list[Incident]] = {}  # site node -> arisen, not yet reported
        self.n_pending = 0
        self.legs: dict[Unit, LegWatch] = {}
        self.stood_since = {unit: 0.0 for unit in self.units}  # since when at its present node
        self.last_left: dict[int, float] = {}  # site node -> when a standing unit last left it
        for unit in self.units:
            unit.observe(self)

    # -- incidents -----------------------------------------------------------------------------

    def arise(self, incident: Incident) -> None:
        """A candidate incident arises now: deterred, or waiting for its report (or reported at once)."""
        if self.deterrence is not None and not self._uniform[incident] < self.multiplier(incident.node):
            incident.deterred, incident.counted = True, False
            return
        if self.detection is None:
            self._report(incident, PUBLIC)
            return
        self.pending.setdefault(incident.node, []).append(incident)
        self.n_pending += 1
        self.dispatcher.expect(incident)
        self.env.timeout(self._delay[incident]).callbacks.append(lambda _e: self._report(incident, PUBLIC))
        sight = self.sight[incident.node]
        for unit in self.units:
            if not unit.on_duty:
                continue
            if unit.leg is None:
                if unit.position.head < 0 and unit.position.node in sight:
                    self._report(incident, PATROL)
                    return
            elif unit in self.legs:
                self._watch_for(incident, self.legs[unit], sight)

    def _report(self, incident: Incident, by: str) -> None:
        """The incident is known to dispatch now (once: a later report is ignored)."""
        if incident.t_reported_min is not None:
            return
        incident.t_reported_min, incident.detected_by = self.env.now, by
        if self.detection is not None:
            self.pending[incident.node].remove(incident)
            self.n_pending -= 1
        self.dispatcher.new_incident(incident, expected=self.detection is not None)

    def _watch_for(self, incident: Incident, watch: LegWatch, sight: frozenset[int]) -> None:
        """Check at the first node of the leg still ahead that is within sight of the incident."""
        now = self.env.now
        for node, t_min in zip(watch.leg.nodes.tolist(), watch.node_times().tolist()):
            if t_min >= now and node in sight:
                self._check_at(incident, watch, t_min)
                return

    def _check_at(self, incident: Incident, watch: LegWatch, t_min: float) -> None:
        def check(_event) -> None:
            if watch.ended_min >= t_min - TIME_SLACK_MIN and watch.unit.on_duty:
                self._report(incident, PATROL)

        self.env.timeout(max(t_min - self.env.now, 0.0)).callbacks.append(check)

    def multiplier(self, site_node: int) -> float:
        """The deterrence multiplier in force at a site now."""
        deterrence, now = self.deterrence, self.env.now
        near = self.near[site_node]
        for unit in self.units:
            if unit.leg is None and unit.on_duty and unit.position.head < 0 and unit.position.node in near:
                return deterrence.presence_multiplier
        left = self.last_left.get(site_node)
        if left is not None and now - left < deterrence.residual_min:
            return deterrence.residual_multiplier
        return 1.0

    # -- what units tell (UnitObserver) -----------------------------------------------------------------

    def leg_started(self, unit: Unit, leg: Leg) -> None:
        now = self.env.now
        self._left(unit, now)
        watch = self.legs[unit] = LegWatch(unit, leg)
        if not self.n_pending:
            return
        seen: set[int] = set()
        for node, t_min in zip(leg.nodes.tolist(), watch.node_times().tolist()):
            if t_min < now:
                continue
            for centre in self.watched_by.get(node, ()):
                for incident in self.pending.get(centre, ()):
                    if id(incident) not in seen:
                        seen.add(id(incident))
                        self._check_at(incident, watch, t_min)

    def leg_ended(self, unit: Unit, leg: Leg, arrived: bool) -> None:
        now = self.env.now
        watch = self.legs.pop(unit, None)
        if watch is not None:
            watch.ended_min = now
        if unit.position.head < 0:
            self.stood_since[unit] = now

    def duty_changed(self, unit: Unit) -> None:
        now = self.env.now
        if not unit.on_duty:  # going off: a crew standing somewhere leaves it now
            if unit.leg is None:
                self._left(unit, now)
        else:  # a fresh crew at the base
            self.stood_since[unit] = now

    def _left(self, unit: Unit, now: float) -> None:
        """A unit leaves the node it stood at: the residual effect starts there (a stand of no time
        is passing through, not standing)."""
        if self.deterrence is None or unit.position.head >= 0 or now <= self.stood_since[unit]:
            return
        for centre in self.deters.get(unit.position.node, ()):
            self.last_left[centre] = now


def start_presence(scenario: Scenario, network: RoadNetwork, env: simpy.Environment, units: Sequence[Unit],
                   dispatcher: Dispatcher, incidents: Sequence[Incident], rep: int) -> Presence | None:
    """The replication's detection and deterrence, or None when the scenario has neither block."""
    if scenario.detection is None and scenario.deterrence is None:
        return None
    return Presence(scenario, network, env, units, dispatcher, incidents, rep)
