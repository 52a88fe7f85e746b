"""Joint patrols (issue #12): several vehicles, often of several agencies, that patrol as one.

One member, the leader, drives the patrol (its mode, its speed); the other free members ride along:
they drive the leader's legs with it (same legs, same times, each counting its own kilometres), so
each stays one vehicle with its own row in units.csv, its own position and its own dispatches.

- Dispatched (``on_dispatch: split``: only the vehicles the incident needs; ``together``: every
  member riding with the patrol), a vehicle leaves from where the patrol is. When the leader goes,
  the first member still riding (in plan order) takes over from that point and the patrol goes on
  to the same next stop.
- Back from a job, a vehicle drives to the patrol's next stop (where it stands, or where it is
  driving to) and waits there, free to be dispatched, until the patrol stands there: then it rides
  again. With no member left patrolling, the first one free takes the patrol up from where it is.
- Members share the group's duty windows: going off duty, the patrol stops; back on duty, it
  starts again at the base with every free member.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generator, Sequence

from sim.model.shifts import fleet_groups
from sim.model.units import UnitObserver

if TYPE_CHECKING:
    from sim.config.schema import Plan
    from sim.model.dispatch import Dispatcher
    from sim.model.movement import Leg
    from sim.model.units import Unit


@dataclass(eq=False)
class JointPatrol(UnitObserver):
    """The members of one joint patrol and who drives it. It observes its members (their legs,
    dispatch and duty), spends their free time (``free_time``) and, going ``together``, tells the
    dispatcher who goes with a member (``sent_with``)."""

    label: str  # joint-1, or PHASE/joint-1 in a phase's fleet
    on_dispatch: str  # split | together
    members: list[Unit] = field(default_factory=list)
    leader: Unit | None = None
    next_stop: int = 0  # where a circuit goes on when a member takes the patrol up again
    away: set[Unit] = field(default_factory=set)  # members on a job or on their way back
    waiting: dict[Unit, int] = field(default_factory=dict)  # back from a job: at this node for the patrol

    def riders(self) -> list[Unit]:
        """Free, on-duty members riding with the leader (plan order)."""
        return [m for m in self.members if m is not self.leader and m.available and m not in self.away]

    def riding(self, unit: Unit) -> bool:
        return self.leader is not None and unit is not self.leader and unit.available and unit not in self.away

    def sent_with(self, unit: Unit) -> list[Unit]:
        """Who goes when ``unit`` is sent: going ``together``, every member riding with the patrol
        (when ``unit`` rides or leads it); else ``unit`` alone."""
        if self.on_dispatch != "together" or not (self.riding(unit) or self.leader is unit):
            return [unit]
        return [m for m in self.members if m is unit or self.riding(m) or self.leader is m]

    # -- told by the units (UnitObserver) ----------------------------------------------------------

    def leg_started(self, unit: Unit, leg: Leg) -> None:
        """The leader began a leg: the riders drive it with it."""
        if unit is self.leader:
            for rider in self.riders():
                rider.ride(leg, unit.leg_state)

    def leg_ended(self, unit: Unit, leg: Leg, arrived: bool) -> None:
        """The leader's leg ended: so do the riders'; members waiting where it arrived join it."""
        if unit is not self.leader:
            return
        for rider in self.riders():
            rider.stop_leg(arrived)
        if arrived and self.waiting:
            self._gather(unit.position.node)

    def leaving_patrol(self, unit: Unit, dispatched: bool) -> None:
        """``unit`` is about to be dispatched or to go off duty: it leaves the patrol where it is."""
        self.waiting.pop(unit, None)
        if self.riding(unit):
            unit.stop_leg()  # ride over, here
        elif unit is self.leader:
            self.next_stop = unit.next_stop
            self.leader = None
            riders = [m for m in self.riders() if m is not unit]
            for rider in riders:  # every rider stops here; the first takes the patrol on
                rider.stop_leg()
            heir = next(iter(riders), None) or next(iter(self.waiting), None)
            if heir is not None:
                self.waiting.pop(heir, None)
                self.away.discard(heir)
                self.leader = heir
                heir.next_stop = self.next_stop
                heir.wake()
        if dispatched:  # away until it has found the patrol again
            self.away.add(unit)

    def duty_changed(self, unit: Unit) -> None:
        """Back on duty, a fresh crew at the base is with the patrol again (the first back leads it)."""
        if unit.on_duty and unit.incident is None:
            self.away.discard(unit)
            self.waiting.pop(unit, None)
            if self.leader is not None and not self.leader.on_duty:
                self.leader = None

    # -- a free member's time (Unit.patrol_with) -------------------------------------------------

    def free_time(self, unit: Unit) -> Generator:
        """The patrol's leader patrols (``Unit.patrol_loop``); the other members ride along."""
        if self.leads(unit):
            yield from unit.patrol_loop()
        else:
            yield from self.follow(unit)

    def leads(self, unit: Unit) -> bool:
        """Whether ``unit`` (free, on duty) drives the patrol; it takes it up if nobody does."""
        if self.leader is None or not self.leader.on_duty:
            self.leader = unit
            self.away.discard(unit)
            self.waiting.pop(unit, None)
            unit.next_stop = self.next_stop
        return self.leader is unit

    def follow(self, unit: Unit) -> Generator:
        """Ride along; back from a job, first drive to the patrol's next stop and wait for it there."""
        if unit in self.away:
            leader = self.leader
            assert leader is not None  # leads() found one
            meet = int(leader.leg.nodes[-1]) if leader.leg is not None else leader.position.node
            if unit.position.node != meet or unit.position.head >= 0:
                yield from unit.patrol_to(meet)
            leader = self.leader
            if leader is None:
                return  # nobody patrols any more: the loop makes it the leader, here
            if leader.leg is not None or leader.position.node != meet or leader.position.head >= 0:
                self.waiting[unit] = meet
                yield from unit.stand_by()
                return
            self.away.discard(unit)
        unit.back_on_patrol()
        yield from unit.stand_by()

    def _gather(self, node: int) -> None:
        """Members waiting at ``node`` ride with the leader again."""
        for member in [m for m, at in self.waiting.items() if at == node]:
            del self.waiting[member]
            self.away.discard(member)
            member.wake()


def joint_patrols(plan: Plan, units: Sequence[Unit], dispatcher: Dispatcher) -> list[JointPatrol]:
    """The plan's joint patrols over its units (in ``fleet_groups`` order): patrol k of a joint group
    is the k-th unit of each of its member groups; labels ``joint-N`` (``PHASE/joint-N``) count the
    patrols of each fleet in order. Each patrol observes its members and spends their free time;
    one that goes ``together`` tells the dispatcher who goes with whom."""
    patrols: dict[tuple[str, int, int], JointPatrol] = {}
    per_fleet: dict[str, int] = {}
    position = 0
    for phase, group in fleet_groups(plan):
        tag = group.joint_tag
        for k in range(group.count):
            unit = units[position]
            position += 1
            if tag is None:
                continue
            key = (phase, tag[0], k)
            if key not in patrols:
                per_fleet[phase] = per_fleet.get(phase, 0) + 1
                label = f"joint-{per_fleet[phase]}"
                patrols[key] = JointPatrol(f"{phase}/{label}" if phase else label, tag[1])
            patrol = patrols[key]
            patrol.members.append(unit)
            unit.joint_patrol = patrol.label
            unit.observe(patrol)
            unit.patrol_with(patrol.free_time)
            if patrol.on_dispatch == "together":
                dispatcher.add_crew(unit, patrol)
    return list(patrols.values())
