"""The dispatcher: sends units to incidents by the scenario's policy, keeps the queue of incidents
still short of units in the order of its queue discipline, and escalates unanswered incidents.

The queue is a heap: a freed unit takes the head in O(log n), where sorting the whole queue at
every release made heavy load quadratic. It serves in exactly the order the sort did: by the
discipline's key, equal keys in order of queueing (the sort was stable). An incident whose key
changes while it waits (an escalation raises its priority) is pushed again under its new key and
its old entry is skipped when it comes up.
"""
from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING, Sequence

import simpy

from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES

if TYPE_CHECKING:
    from sim.model.incidents import Incident
    from sim.model.units import Unit


class Dispatcher:
    """Sends units to incidents and keeps the queue of incidents still short of units.

    Invariant: while the queue holds an incident, no unit is free (a freed unit takes the
    head of the queue at once), so the policy only matters for new incidents and escalations.
    """

    def __init__(self, env: simpy.Environment, units: Sequence[Unit], policy: str, queue: str):
        self.env = env
        self.units = list(units)
        self.policy = POLICIES[policy]()
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

    def _send(self, unit: Unit, incident: Incident) -> None:
        if incident.t_first_dispatch_min is None:
            incident.t_first_dispatch_min = self.env.now
        incident.units_sent += 1
        incident.unit_ids.append(unit.unit_id)
        unit.assign(incident)

    def _staff(self, incident: Incident) -> None:
        """Send the units the policy chooses; queue the incident if that is not enough."""
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
        self.offer(unit)

    def offer(self, unit: Unit) -> None:
        """A free unit takes the head of the queue, if any and if the unit is on duty."""
        head = self._head() if self._heap and unit.off_duty is None else None
        if head is not None:
            self._send(unit, head)
            if head.units_missing <= 0:
                del self._queued[head]
                heapq.heappop(self._heap)
