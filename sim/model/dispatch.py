"""The dispatcher: sends units to incidents by the scenario's policy, keeps the queue of incidents
still short of units in the order of its queue discipline, and escalates unanswered incidents."""
from __future__ import annotations

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
        self.queue: list[Incident] = []
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
        if incident.units_missing > 0:
            free = [unit for unit in self.units if unit.free]
            for unit in self.policy.choose(incident, free, self.env.now)[:incident.units_missing]:
                self._send(unit, incident)
        if incident.units_missing > 0:
            if incident not in self.queue:
                self.queue.append(incident)
        elif incident in self.queue:
            self.queue.remove(incident)

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
        if self.queue:
            self.queue.sort(key=self.queue_key)
            head = self.queue[0]
            self._send(unit, head)
            if head.units_missing <= 0:
                self.queue.pop(0)
