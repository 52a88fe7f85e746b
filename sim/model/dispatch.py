"""Dispatch: the nearest free units to each incident; a queue when none is free."""
from __future__ import annotations

from typing import Sequence

import simpy

from sim.model.incidents import Incident
from sim.model.units import Unit


class Dispatcher:
    """Sends units to incidents and keeps the queue of incidents still short of units.

    Invariant: while the queue holds an incident, no unit is free (a freed unit takes the
    head of the queue at once), so 'nearest free unit' only matters for new incidents and
    for escalations.
    """

    def __init__(
        self,
        env: simpy.Environment,
        units: Sequence[Unit],
        site_node: dict[str, int],
        queue_policy: str,
    ):
        self.env = env
        self.units = list(units)
        self.site_node = site_node
        self.queue: list[Incident] = []
        self._priority_first = queue_policy == "priority"
        self.unanswered = 0  # incidents not yet fully staffed on scene
        self.all_answered: simpy.Event | None = None  # set by the model while draining
        for unit in self.units:
            unit.dispatcher = self

    def _queue_key(self, incident: Incident) -> tuple:
        created = incident.spec.t_created_min
        if self._priority_first:
            return (incident.stage.priority, created, incident.spec.incident_id)
        return (created, incident.spec.incident_id)

    def _send(self, unit: Unit, incident: Incident) -> None:
        if incident.t_first_dispatch_min is None:
            incident.t_first_dispatch_min = self.env.now
        incident.units_sent += 1
        incident.unit_ids.append(unit.unit_id)
        unit.assign(incident)

    def _staff(self, incident: Incident) -> None:
        """Send the nearest free units the incident still lacks; queue it if that is not enough."""
        missing = incident.units_missing
        if missing > 0:
            dest = self.site_node[incident.spec.site]
            free = [(unit.eta_min(dest), i, unit) for i, unit in enumerate(self.units) if unit.free]
            for _, _, unit in sorted(free, key=lambda item: item[:2])[:missing]:
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
            self.queue.sort(key=self._queue_key)
            head = self.queue[0]
            self._send(unit, head)
            if head.units_missing <= 0:
                self.queue.pop(0)
