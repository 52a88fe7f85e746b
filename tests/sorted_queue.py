"""The dispatcher's queue as it was before the heap (issue 14): a list, sorted whole at every release.

What the heap is checked against (tests/network/test_scale.py) and timed against (bench/bench_scale.py):
the same order, quadratic under load.
"""
from __future__ import annotations

from sim.model.dispatch import Dispatcher


class SortedQueueDispatcher(Dispatcher):
    """``Dispatcher`` with its queue kept as a list and sorted by the discipline at every release."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting = []

    def _staff(self, incident):
        if incident.units_missing > 0:
            free = [unit for unit in self.units if unit.free]
            for unit in self.policy.choose(incident, free, self.env.now)[:incident.units_missing]:
                self._send(unit, incident)
        if incident.units_missing > 0:
            if incident not in self.waiting:
                self.waiting.append(incident)
        elif incident in self.waiting:
            self.waiting.remove(incident)

    def left(self, unit, incident):
        incident.units_left += 1
        if self.waiting:
            self.waiting.sort(key=self.queue_key)
            head = self.waiting[0]
            self._send(unit, head)
            if head.units_missing <= 0:
                self.waiting.pop(0)
