"""The dispatcher: sends units to incidents by the scenario's policy, keeps the queue of incidents
still short of units in the order of its queue discipline, and escalates unanswered incidents.

The queue is a heap: a freed unit takes the head in O(log n), where sorting the whole queue at
every release made heavy load quadratic. It serves in exactly the order the sort did: by the
discipline's key, equal keys in order of queueing (the sort was stable). An incident whose key
changes while it waits (an escalation raises its priority) is pushed again under its new key and
its old entry is skipped when it comes up.

With the keys of issue #12 (agencies and requires per disturbance type, joint patrols, pre-emption)
the dispatcher takes its general path (``Rules``): the queue may then hold incidents while some
unit is free (a unit no waiting incident may take), so a freed unit goes to the first waiting
incident that accepts it, and a new incident looks for free units even while others wait. Without
those keys the plain path below runs exactly as before, event for event.
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import simpy

from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES

from sim.model.eligibility import ANYONE, Rule

if TYPE_CHECKING:
    from sim.config.schema import Preempt
    from sim.model.incidents import Incident
    from sim.model.units import Unit


@dataclass(frozen=True)
class Rules:
    """The dispatch rules of issue #12 and what the policies may know (``PolicyContext``)."""

    by_type: dict[str, Rule] | None = None  # who may answer each disturbance type (None: anyone)
    preempt: Preempt | None = None
    joint: bool = False  # the plan has joint patrols
    site_demand: tuple[tuple[int, float], ...] = ()  # (road node, incidents per hour)
    target_min: float = 15.0
    slack_min: float = 0.0
    general: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "general", self.by_type is not None or self.preempt is not None or self.joint)


class _Context:
    """The ``PolicyContext`` of one replication: the rules' figures and the free units now."""

    def __init__(self, rules: Rules, dispatcher: Dispatcher):
        self.site_demand, self.target_min, self.slack_min = rules.site_demand, rules.target_min, rules.slack_min
        self.free_units = dispatcher.free_units


class Dispatcher:
    """Sends units to incidents and keeps the queue of incidents still short of units.

    Invariant: while the queue holds an incident, no unit is free (a freed unit takes the
    head of the queue at once), so the policy only matters for new incidents and escalations.
    """

    def __init__(self, env: simpy.Environment, units: Sequence[Unit], policy: str, queue: str,
                 rules: Rules | None = None):
        self.env = env
        self.units = list(units)
        self.rules = rules = Rules() if rules is None else rules
        self.policy = POLICIES[policy](_Context(rules, self))
        self.general = rules.general
        self.sent: dict[Incident, Counter] = {}  # general path: units sent per agency, per incident
        self.on_scene: set[Unit] = set()  # general path: units on scene now
        self.preempted: dict[Incident, int] = {}  # times each incident lost a unit to pre-emption
        self.queue_key = QUEUE_DISCIPLINES[queue]
        # Heap entries [key, queueing order, push number, incident]; the push number is unique, so
        # entries never compare incidents. _queued maps each waiting incident to its live entry: a
        # stale entry (the incident left the queue or was re-keyed) is known at a glance.
        self._heap: list[list] = []
        self._queued: dict[Incident, list] = {}
        self._order = itertools.count()
        self._pushes = itertools.count()
        self.unanswered = 0  # incidents not yet fully staffed on scene
        self.all_answered: simpy.Event | None = None  # set by the model while draining
        for unit in self.units:
            unit.on_arrival = self.arrived
            unit.on_departure = self.left

    def free_units(self) -> list[Unit]:
        """Every free unit on duty."""
        return [unit for unit in self.units if unit.incident is None and unit.off_duty is None]

    def _send(self, unit: Unit, incident: Incident) -> None:
        if self.general:
            self.sent.setdefault(incident, Counter())[unit.agency] += 1
        if incident.t_first_dispatch_min is None:
            incident.t_first_dispatch_min = self.env.now
        incident.units_sent += 1
        incident.unit_ids.append(unit.unit_id)
        unit.assign(incident)

    def _staff(self, incident: Incident) -> None:
        """Send the units the policy chooses; queue the incident if that is not enough."""
        if self.general:
            self._staff_by_rules(incident)
            return
        missing = incident.units_missing
        # While incidents wait no unit is free (the invariant above): skip looking for one.
        if missing > 0 and not self._queued:
            free = [unit for unit in self.units if unit.incident is None and unit.off_duty is None]
            for unit in self.policy.choose(incident, free, self.env.now)[:missing]:
                self._send(unit, incident)
            missing = incident.units_missing
        if missing > 0:
            self._enqueue(incident)
        elif self._queued:
            self._queued.pop(incident, None)

    @property
    def queue(self) -> list[Incident]:
        """The incidents waiting for units, head first (a copy, in the order they will be served)."""
        return [entry[-1] for entry in sorted(self._queued.values())]

    def _enqueue(self, incident: Incident) -> None:
        """Queue the incident, or re-key it if its key changed while it waited."""
        key = self.queue_key(incident)
        entry = self._queued.get(incident)
        if entry is not None:
            if entry[0] == key:
                return
            order = entry[1]  # re-keyed: it keeps its place among equal keys, as in a stable sort
        else:
            order = next(self._order)
        entry = [key, order, next(self._pushes), incident]
        self._queued[incident] = entry
        heapq.heappush(self._heap, entry)

    def _head(self) -> Incident | None:
        """The waiting incident served next (stale heap entries dropped on the way)."""
        heap = self._heap
        while heap:
            entry = heap[0]
            if self._queued.get(entry[-1]) is entry:
                return entry[-1]
            heapq.heappop(heap)
        return None

    def new_incident(self, incident: Incident) -> None:
        """A disturbance has just been reported."""
        self.unanswered += 1
        self._staff(incident)
        self._arm_escalation(incident)

    def _arm_escalation(self, incident: Incident) -> None:
        """Unanswered ``after_min`` after it became its present type, the incident escalates."""
        after_min = incident.stage.escalate_after_min
        if after_min is not None:
            self.env.timeout(after_min).callbacks.append(lambda _event: self._escalate(incident))

    def _escalate(self, incident: Incident) -> None:
        """Unanswered past the type's limit: the incident becomes its escalation type."""
        if incident.t_first_arrival_min is not None:
            return
        incident.stage_index += 1
        self._staff(incident)
        self._arm_escalation(incident)

    def arrived(self, unit: Unit, incident: Incident) -> None:
        """A unit reached the scene."""
        now = self.env.now
        if self.general:
            self.on_scene.add(unit)
        incident.units_arrived += 1
        if incident.t_first_arrival_min is None:
            incident.t_first_arrival_min = now
        if incident.t_full_arrival_min is None and incident.units_arrived >= incident.stage.units_required:
            incident.t_full_arrival_min = now
            self.unanswered -= 1
            if self.unanswered == 0 and self.all_answered is not None and not self.all_answered.triggered:
                self.all_answered.succeed()

    def left(self, unit: Unit, incident: Incident) -> None:
        """A unit finished on scene and is free: it takes the head of the queue, if any."""
        incident.units_left += 1
        self.on_scene.discard(unit)
        self.offer(unit)

    def offer(self, unit: Unit) -> None:
        """A free unit takes the head of the queue, if any and if the unit is on duty."""
        if self.general:
            self._offer_by_rules(unit)
            return
        head = self._head() if self._heap and unit.off_duty is None else None
        if head is not None:
            self._send(unit, head)
            if head.units_missing <= 0:
                del self._queued[head]
                heapq.heappop(self._heap)

    # -- the general path (issue #12) -----------------------------------------------------------

    def _rule(self, incident: Incident) -> Rule:
        by_type = self.rules.by_type
        return ANYONE if by_type is None else by_type[incident.stage.type]

    def _sent(self, incident: Incident) -> Counter:
        return self.sent.get(incident) or Counter()

    def _send_with_patrol(self, unit: Unit, incident: Incident) -> None:
        """Send ``unit``; from a joint patrol that goes ``together``, its riding members go too."""
        joint = unit.joint
        if joint is None or joint.on_dispatch != "together" or not (joint.riding(unit) or joint.leader is unit):
            self._send(unit, incident)
            return
        crew = [m for m in joint.members if m is unit or joint.riding(m) or joint.leader is m]
        for member in crew:
            self._send(member, incident)

    def _staff_by_rules(self, incident: Incident) -> None:
        """Send eligible free units (each owing agency's first), pre-empt if allowed, else queue."""
        if incident.units_missing > 0:
            rule = self._rule(incident)
            for unit in rule.choose(self.policy, incident, self._sent(incident), self.free_units(), self.env.now):
                if unit.incident is None:  # not already sent with its joint patrol
                    self._send_with_patrol(unit, incident)
            if incident.units_missing > 0 and self.rules.preempt is not None:
                self._preempt(incident, rule)
        if incident.units_missing > 0:
            self._enqueue(incident)
        elif incident in self._queued:
            del self._queued[incident]  # its heap entry is stale now

    def _offer_by_rules(self, unit: Unit) -> None:
        """A free unit on duty goes to the first waiting incident that accepts it (queue order)."""
        if unit.off_duty is not None or unit.incident is not None or not self._queued:
            return
        for entry in sorted(self._queued.values()):
            incident = entry[-1]
            if self._rule(incident).accepts(incident, self._sent(incident), unit):
                self._send_with_patrol(unit, incident)
                if incident.units_missing <= 0:
                    del self._queued[incident]
                return

    def _preempt(self, incident: Incident, rule: Rule) -> None:
        """Take units from less urgent incidents (``dispatch.preempt``), nearest first, while needed."""
        preempt = self.rules.preempt
        assert preempt is not None
        if incident.stage.priority > preempt.for_priority:
            return
        while incident.units_missing > 0:
            sent = self._sent(incident)
            takers = [u for u in self.units
                      if u.incident is not None and u.incident is not incident and u.off_duty is None
                      and u.incident.stage.priority >= preempt.from_priority_at_least
                      and (preempt.when == "any" or u not in self.on_scene)
                      and rule.accepts(incident, sent, u)]
            if not takers:
                return
            unit = min(takers, key=lambda u: u.eta_min(incident.node))  # min: plan order on ties
            self._bump(unit, incident)

    def _bump(self, unit: Unit, incident: Incident) -> None:
        """``unit`` leaves its incident for ``incident``; the bumped one goes back to the queue."""
        bumped = unit.incident
        assert bumped is not None
        on_scene = unit in self.on_scene
        if on_scene:
            self.on_scene.discard(unit)
            bumped.units_arrived -= 1  # no longer there (its response times stay as measured)
        bumped.units_sent -= 1
        self.sent[bumped][unit.agency] -= 1
        self.preempted[bumped] = self.preempted.get(bumped, 0) + 1
        self.sent.setdefault(incident, Counter())[unit.agency] += 1
        if incident.t_first_dispatch_min is None:
            incident.t_first_dispatch_min = self.env.now
        incident.units_sent += 1
        incident.unit_ids.append(unit.unit_id)
        unit.divert(incident, on_scene)
        self._staff_by_rules(bumped)  # another free unit may take it; else it waits, by its creation time
