"""The dispatcher: sends units to incidents by the scenario's policy and each disturbance type's
rule (who may answer, per-agency minimums), keeps the queue of incidents still short of units in the
order of its queue discipline, escalates unanswered incidents and, with ``dispatch.preempt``, takes
units from less urgent jobs.

One algorithm:
- an incident that arises, escalates or loses a unit to pre-emption gets the free units its rule
  and the policy choose; then, if allowed, units taken from less urgent jobs; what it still lacks,
  it waits for in the queue;
- a unit that becomes free, or comes on duty, goes to the first waiting incident (queue order)
  that accepts it.

The queue is a heap: a freed unit looks at the head in O(log n) (sorting the whole queue at every
release made heavy load quadratic); only when the head does not accept it (another agency's job)
are the other waiting incidents looked at, in queue order. Equal keys are served in order of
queueing. An incident whose key changes while it waits (an escalation raises its priority) is
pushed again under its new key and its old entry is skipped when it comes up.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

import simpy

from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES

from sim.model.eligibility import ANYONE, Rule

if TYPE_CHECKING:
    from sim.config.schema import Preempt
    from sim.model.incidents import Incident
    from sim.model.units import Unit


@dataclass(frozen=True)
class Rules:
    """Who may answer what, pre-emption, and what the policies may know (``PolicyContext``)."""

    by_type: dict[str, Rule] | None = None  # who may answer each disturbance type (None: anyone)
    preempt: Preempt | None = None
    site_demand: tuple[tuple[int, float], ...] = ()  # (road node, incidents per hour)
    target_min: float = 15.0
    slack_min: float = 0.0


_NONE_SENT: Mapping[str, int] = MappingProxyType({})  # what an incident no unit was sent to has got


class Crew(Protocol):
    """Who goes with a unit when it is sent (a joint patrol that goes ``together``)."""

    def sent_with(self, unit: Unit) -> Sequence[Unit]: ...


class _Context:
    """The ``PolicyContext`` of one replication: the rules' figures and the free units now."""

    def __init__(self, rules: Rules, dispatcher: Dispatcher):
        self.site_demand, self.target_min, self.slack_min = rules.site_demand, rules.target_min, rules.slack_min
        self.free_units = dispatcher.free_units


class Dispatcher:
    """Sends units to incidents and keeps the queue of incidents still short of units.

    Invariant (for a policy that sends as many of the units offered as the incident lacks): no
    waiting incident accepts a free unit on duty. So the queue is looked at only when a unit
    becomes free or comes on duty, and free units only when an incident arises or changes.
    """

    def __init__(self, env: simpy.Environment, units: Sequence[Unit], policy: str, queue: str,
                 rules: Rules | None = None):
        self.env = env
        self.units = list(units)
        self.rules = rules = Rules() if rules is None else rules
        self.policy = POLICIES[policy](_Context(rules, self))
        # Units sent to each incident by agency, for the agencies some type requires (Rule.owed).
        self.sent: dict[Incident, dict[str, int]] = {}
        self.counted_agencies = frozenset(a for rule in (rules.by_type or {}).values() for a, _ in rule.requires)
        self.preempted: dict[Incident, int] = {}  # times each incident lost a unit to pre-emption
        self.crews: dict[Unit, Crew] = {}  # who goes with these units (add_crew)
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
        self.n_available = sum(unit.available for unit in self.units)  # free units on duty
        for unit in self.units:
            unit.dispatcher = self

    def add_crew(self, unit: Unit, crew: Crew) -> None:
        """When ``unit`` is sent, ``crew.sent_with(unit)`` go (it among them)."""
        self.crews[unit] = crew

    def free_units(self) -> list[Unit]:
        """Every free unit on duty, in plan order."""
        if not self.n_available:  # under heavy load, the usual case: no unit to look for
            return []
        return [unit for unit in self.units if unit.available]

    @property
    def queue(self) -> list[Incident]:
        """The incidents waiting for units, head first (a copy, in the order they will be served)."""
        return [entry[-1] for entry in sorted(self._queued.values())]

    # -- incidents -------------------------------------------------------------------------------

    def expect(self, incident: Incident) -> None:
        """An incident has arisen but is not reported yet: the run follows it until it is answered,
        even when it is reported after the clock (``new_incident(incident, expected=True)``)."""
        self.unanswered += 1

    def new_incident(self, incident: Incident, expected: bool = False) -> None:
        """A disturbance has just been reported (``expected``: announced before by ``expect``)."""
        if not expected:
            self.unanswered += 1
        self._staff(incident)
        if incident.stage.escalate_after_min is not None:
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
        incident.escalate()
        self._staff(incident)
        self._arm_escalation(incident)

    def _rule(self, incident: Incident) -> Rule:
        by_type = self.rules.by_type
        return ANYONE if by_type is None else by_type[incident.stage.type]

    def _accepts(self, incident: Incident, unit: Unit) -> bool:
        """Whether ``incident``'s rule accepts ``unit`` now (``Rule.accepts``)."""
        by_type = self.rules.by_type
        if by_type is None:  # ANYONE: a unit helps while units are missing (asked at every release: inline)
            return incident.stage.units_required > incident.units_sent
        return by_type[incident.stage.type].accepts(incident, self._sent(incident), unit)

    def _sent(self, incident: Incident) -> Mapping[str, int]:
        return self.sent.get(incident, _NONE_SENT)

    def _staff(self, incident: Incident) -> None:
        """Send the free units the rule and policy choose, pre-empt if allowed, queue what is missing."""
        # Run for every incident: units_missing is read inline, and without type rules the policy
        # chooses among all free units directly (what ANYONE.choose does).
        if incident.stage.units_required > incident.units_sent:  # (an escalation may leave it with enough units)
            by_type = self.rules.by_type
            free = self.free_units() if self.n_available else ()
            if free:
                if by_type is None:
                    picks = self.policy.choose(incident, free, self.env.now)
                else:
                    picks = by_type[incident.stage.type].choose(self.policy, incident, self._sent(incident), free,
                                                                self.env.now)
                for unit in picks:
                    if unit.incident is None:  # not already sent with its crew
                        self._send_crew(unit, incident)
            if self.rules.preempt is not None and incident.stage.units_required > incident.units_sent:
                self._preempt(incident, self._rule(incident))
        if incident.stage.units_required > incident.units_sent:
            self._enqueue(incident)
        elif incident in self._queued:
            del self._queued[incident]  # its heap entry is stale now

    def _send_crew(self, unit: Unit, incident: Incident) -> None:
        """Send ``unit`` and whoever goes with it (``add_crew``)."""
        crew = self.crews.get(unit) if self.crews else None
        if crew is None:
            self._send(unit, incident)
            return
        for member in crew.sent_with(unit):
            self._send(member, incident)

    def _send(self, unit: Unit, incident: Incident) -> None:
        """Book ``unit`` to ``incident`` and send it (from patrol, or from its present job)."""
        if unit.agency in self.counted_agencies:
            sent = self.sent.setdefault(incident, {})
            sent[unit.agency] = sent.get(unit.agency, 0) + 1
        if incident.t_first_dispatch_min is None:
            incident.t_first_dispatch_min = self.env.now
        incident.units_sent += 1
        incident.unit_ids.append(unit.unit_id)
        if unit.available:
            self.n_available -= 1
        unit.assign(incident)

    # -- the queue ---------------------------------------------------------------------------------

    def _enqueue(self, incident: Incident) -> None:
        """Queue the incident, or re-key it if its key changed while it waited."""
        key = self.queue_key(incident)
        entry = self._queued.get(incident)
        if entry is not None:
            if entry[0] == key:
                return
            order = entry[1]  # re-keyed: it keeps its place among equal keys
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

    def _first_accepting(self, unit: Unit) -> Incident | None:
        """The first waiting incident, in queue order, that accepts ``unit``."""
        head = self._head()
        if head is None or self._accepts(head, unit):
            return head
        for entry in sorted(self._queued.values()):
            incident = entry[-1]
            if self._accepts(incident, unit):
                return incident
        return None

    # -- units ---------------------------------------------------------------------------------------

    def arrived(self, unit: Unit, incident: Incident) -> None:
        """A unit reached the scene."""
        now = self.env.now
        incident.units_arrived += 1
        if incident.t_first_arrival_min is None:
            incident.t_first_arrival_min = now
        if incident.t_full_arrival_min is None and incident.units_arrived >= incident.stage.units_required:
            incident.t_full_arrival_min = now
            self.unanswered -= 1
            if self.unanswered == 0 and self.all_answered is not None and not self.all_answered.triggered:
                self.all_answered.succeed()

    def left(self, unit: Unit, incident: Incident) -> None:
        """A unit finished on scene and is free: it is offered the waiting incidents."""
        incident.units_left += 1
        if unit.available:
            self.n_available += 1
            if self._queued:
                self._offer(unit)

    def duty_changed(self, unit: Unit) -> None:
        """A unit went off duty, or came back on: free, it is offered the waiting incidents."""
        if unit.free:
            if unit.on_duty:
                self.n_available += 1
                self._offer(unit)
            else:
                self.n_available -= 1

    def _offer(self, unit: Unit) -> None:
        """A free unit on duty goes to the first waiting incident that accepts it, if any."""
        if not self._queued:
            return
        incident = self._first_accepting(unit)
        if incident is not None:
            self._send_crew(unit, incident)
            if incident.units_missing <= 0:
                del self._queued[incident]

    # -- pre-emption (dispatch.preempt) ----------------------------------------------------------------

    def _preempt(self, incident: Incident, rule: Rule) -> None:
        """Take units from less urgent incidents, nearest first, while needed."""
        preempt = self.rules.preempt
        assert preempt is not None
        if incident.stage.priority > preempt.for_priority:
            return
        while incident.units_missing > 0:
            sent = self._sent(incident)
            takers = [u for u in self.units
                      if u.incident is not None and u.incident is not incident and u.on_duty
                      and u.incident.stage.priority >= preempt.from_priority_at_least
                      and (preempt.when == "any" or not u.on_scene)
                      and rule.accepts(incident, sent, u)]
            if not takers:
                return
            unit = min(takers, key=lambda u: u.eta_min(incident.node))  # min: plan order on ties
            self._take(unit, incident)

    def _take(self, unit: Unit, incident: Incident) -> None:
        """``unit`` leaves its incident for ``incident``; the one it left looks for units again."""
        left = unit.incident
        assert left is not None
        if unit.on_scene:
            left.units_arrived -= 1  # no longer there (its response times stay as measured)
        left.units_sent -= 1
        if unit.agency in self.counted_agencies:
            self.sent[left][unit.agency] -= 1
        self.preempted[left] = self.preempted.get(left, 0) + 1
        self._send(unit, incident)
        self._staff(left)  # another free unit may take it; else it waits, by its creation time
