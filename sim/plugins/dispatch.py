"""Dispatch policies (who goes to an incident) and queue disciplines (which waiting incident a
freed unit takes first).

Two plug-in points, chosen by ``dispatch.policy`` and ``dispatch.queue`` in the scenario (the
schema reads the registries when it validates, so plug-ins registered in the user's own module count):
- a policy is a class registered with ``@register_policy``, made once per replication with the
  ``PolicyContext`` below; ``choose(incident, free_units, now)`` returns the units to send, at most
  ``incident.units_missing`` of them, from ``free_units`` (the dispatcher has already kept only the
  units that may answer the incident). ``Policy`` is a base with the class attributes a policy
  declares (``needs_site_demand``, ``DISPATCH_KEYS``);
- a queue discipline is a sort key of an incident, registered with ``@register_queue``. The dispatcher keeps
  its queue as a heap and reads a waiting incident's key when it is queued and when it changes
  stage (an escalation), so a key may depend on the incident and its stage, not on the clock.
Nothing here imports the model: incidents and units are seen through the protocols below.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import methodcaller
from typing import ClassVar, Protocol, TypeVar

from sim.plugins.registry import Registry


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


class PolicyContext(Protocol):
    """What a policy may know of the replication besides the incident and the candidates."""

    site_demand: tuple[tuple[int, float], ...]  # (road node, incidents per hour) of every site with demand
    target_min: float  # the scenario's response target
    slack_min: float  # dispatch.coverage_slack_min

    def free_units(self) -> Sequence[DispatchUnit]: ...  # every free on-duty unit, of any agency


class DispatchPolicy(Protocol):
    needs_site_demand: ClassVar[bool]

    def __init__(self, context: PolicyContext | None = None) -> None: ...

    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]: ...


class Policy:
    """A base for dispatch policies: what a policy declares besides ``choose``."""

    #: whether its context needs ``site_demand`` (the demand of every site: computed only then)
    needs_site_demand: ClassVar[bool] = False
    #: the ``dispatch:`` keys besides ``policy`` that it reads (given with another policy, they are an error)
    DISPATCH_KEYS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: PolicyContext | None = None) -> None:
        self.context = context

    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]:
        raise NotImplementedError


#: scenario name of each dispatch policy -> its class (made once per replication)
POLICIES: Registry[type[DispatchPolicy]] = Registry("dispatch policy")


def register_policy(name: str) -> Callable[[type], type]:
    """Class decorator: ``dispatch.policy: name`` selects the class."""
    def add(cls: type) -> type:
        return POLICIES.add(name, cls)
    return add


def policies_reading(key: str) -> list[str]:
    """The names of the policies that read the ``dispatch:`` key ``key``."""
    return [name for name, cls in POLICIES.items() if key in getattr(cls, "DISPATCH_KEYS", ())]


@register_policy("nearest")
class Nearest(Policy):
    """The free units that reach the incident first, from where they are now (ties: plan order)."""

    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]:
        eta_min, wanted = methodcaller("eta_min", incident.node), incident.units_missing
        if wanted == 1 and free_units:  # the usual case: min keeps the first of equals, as the sort
            return [min(free_units, key=eta_min)]
        ranked = sorted(free_units, key=eta_min)  # stable
        return ranked[:wanted]


@register_policy("coverage")
class LeastCoverageLost(Policy):
    """Among the candidates within ``slack_min`` of the nearest, the one whose absence leaves the least
    demand (incidents per hour at sites) that no other free unit reaches within the target; ties:
    the nearer, then plan order. An incident needing k units gets them one after another this way.

    Costs one travel time per free unit and demand site per choice (only when two candidates are close).
    """

    needs_site_demand: ClassVar[bool] = True
    DISPATCH_KEYS: ClassVar[tuple[str, ...]] = ("coverage_slack_min",)

    def __init__(self, context: PolicyContext | None = None) -> None:
        if context is None:
            raise ValueError("the coverage policy needs the replication's demand and target")
        super().__init__(context)
        self.context: PolicyContext = context
        self.nodes = [node for node, _ in context.site_demand]
        self.demand = [rate for _, rate in context.site_demand]

    def _reach(self, unit: DispatchUnit) -> list[bool]:
        """Which demand sites ``unit`` reaches within the target from where it is now."""
        target = self.context.target_min
        return [unit.eta_min(node) <= target for node in self.nodes]

    def choose(self, incident: DispatchIncident, free_units: Sequence[U], now: float) -> list[U]:
        eta = {id(unit): unit.eta_min(incident.node) for unit in free_units}
        pool, picks = list(free_units), []
        while pool and len(picks) < incident.units_missing:
            nearest = min(eta[id(unit)] for unit in pool)
            close = [unit for unit in pool if eta[id(unit)] <= nearest + self.context.slack_min]
            if len(close) > 1:
                chosen = {id(unit) for unit in picks}
                reach = {id(unit): self._reach(unit) for unit in self.context.free_units() if id(unit) not in chosen}
                for unit in close:  # a candidate not in free_units() (cannot happen) still counts as covering
                    reach.setdefault(id(unit), self._reach(unit))
                covered = [sum(column) for column in zip(*reach.values())]

                def lost(unit: DispatchUnit) -> float:
                    return sum(rate for rate, n, mine in zip(self.demand, covered, reach[id(unit)]) if mine and n == 1)

                pick = min(close, key=lambda unit: (lost(unit), eta[id(unit)]))  # min keeps plan order on ties
            else:
                pick = close[0]
            picks.append(pick)
            pool.remove(pick)
        return picks


#: scenario name of each queue discipline -> the sort key of a waiting incident
QUEUE_DISCIPLINES: Registry[Callable[[DispatchIncident], tuple]] = Registry("queue discipline")


def register_queue(name: str) -> Callable[[Callable], Callable]:
    """Function decorator: ``dispatch.queue: name`` sorts waiting incidents by the function's key."""
    def add(key: Callable[[DispatchIncident], tuple]) -> Callable[[DispatchIncident], tuple]:
        return QUEUE_DISCIPLINES.add(name, key)
    return add


@register_queue("priority")
def most_urgent_first(incident: DispatchIncident) -> tuple:
    """Lowest priority number first, then first come, then first drawn."""
    return incident.stage.priority, incident.spec.t_created_min, incident.spec.incident_id


@register_queue("fifo")
def first_come_first_served(incident: DispatchIncident) -> tuple:
    return incident.spec.t_created_min, incident.spec.incident_id
