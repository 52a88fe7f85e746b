"""Dispatch policies (who goes to an incident) and queue disciplines (which waiting incident a
freed unit takes first).

Two plug-in points, chosen by ``dispatch.policy`` and ``dispatch.queue`` in the scenario:
- a policy is a class registered with ``@register_policy``; ``choose(incident, free_units, now)``
  returns the units to send, at most ``incident.units_missing`` of them;
- a queue discipline is a sort key of an incident, in ``QUEUE_DISCIPLINES``. The dispatcher keeps
  its queue as a heap and reads a waiting incident's key when it is queued and when it changes
  stage (an escalation), so a key may depend on the incident and its stage, not on the clock.
Nothing here imports the model: incidents and units are seen through the protocols below.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import methodcaller
from typing import Protocol, TypeVar


class Stage(Protocol):
    priority: int


class Spec(Protocol):
    incident_id: int
    t_created_min: float


class DispatchIncident(Protocol):
    """What a policy or queue discipline may read of an incident."""

    spec: Spec
    node: int  # the road node of its site

    @property
    def stage(self) -> Stage: ...

    @property
    def units_missing(self) -> int: ...


class DispatchUnit(Protocol):
    """What a policy may read of a free unit."""

    unit_id: str
    agency: str

    def eta_min(self, dest: int) -> float: ...


U = TypeVar("U", bound=DispatchUnit)


class DispatchPolicy(Protocol):
    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]: ...


#: scenario name of each dispatch policy -> its class (made once per replication)
POLICIES: dict[str, type[DispatchPolicy]] = {}


def register_policy(name: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        POLICIES[name] = cls
        return cls
    return add


@register_policy("nearest")
class Nearest:
    """The free units that reach the incident first, from where they are now (ties: plan order)."""

    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]:
        eta_min, wanted = methodcaller("eta_min", incident.node), incident.units_missing
        if wanted == 1 and free_units:  # the usual case: min keeps the first of equals, as the sort
            return [min(free_units, key=eta_min)]
        ranked = sorted(free_units, key=eta_min)  # stable
        return ranked[:wanted]


def most_urgent_first(incident: DispatchIncident) -> tuple:
    """Lowest priority number first, then first come, then first drawn."""
    return incident.stage.priority, incident.spec.t_created_min, incident.spec.incident_id


def first_come_first_served(incident: DispatchIncident) -> tuple:
    return incident.spec.t_created_min, incident.spec.incident_id


#: scenario name of each queue discipline -> the sort key of a waiting incident
QUEUE_DISCIPLINES: dict[str, Callable[[DispatchIncident], tuple]] = {
    "priority": most_urgent_first,
    "fifo": first_come_first_served,
}
