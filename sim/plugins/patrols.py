"""Patrol modes: what a unit does while no incident needs it.

A plug-in point. Each mode is one class here, registered with ``@register``; it
- validates its own scenario keys (``patrol: {mode: NAME, ...}``; ``SITE_KEYS`` names the keys
  that hold site ids, which the scenario checks exist),
- resolves itself to road nodes (``resolve``),
- says where a unit of it stands still, if it does (``standing_site``: maps and the hypercube
  model count from there), and which sites it visits (``sites_visited``),
- drives the unit's loop (``drive``, a SimPy generator using the ``PatrolUnit`` methods).

Nothing here imports the model: a mode sees its unit and the world through the two protocols
below, so adding a mode touches this module and its tests only.
"""
from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.plugins.base import Spec, Tuple
from sim.plugins.registry import Registry, chosen_by

#: scenario name of each patrol mode -> its class
PATROL_MODES: Registry[type[PatrolMode]] = Registry("patrol mode")

DEFAULT_RADIUS_KM = 5.0  # random patrol over road nodes: pool radius around the base
SiteId = Annotated[str, Field(min_length=1)]
DwellMin = Annotated[float, Field(ge=0)]


class PatrolWorld(Protocol):
    """What a mode needs to resolve itself: site nodes and random road-node pools."""

    site_node: Mapping[str, int]
    site_ids: tuple[str, ...]

    def road_pool(self, base_node: int, size: int, radius_km: float) -> tuple[int, ...]: ...


class PatrolUnit(Protocol):
    """What a mode's loop may do with its unit (``sim.model.units.Unit``)."""

    base: int
    rng: np.random.Generator
    next_stop: int  # where a circuit goes on after an interruption

    def random_index(self, n: int) -> int: ...  # rng.integers(n), as sim.streams.IndexDraws draws it

    def patrol_to(self, node: int) -> Generator: ...

    def stand_at(self, node: int) -> Generator: ...

    def dwell(self, minutes: float) -> Any: ...


@dataclass(frozen=True)
class PatrolRoute:
    """A unit group's patrol resolved to road nodes."""

    patrol: PatrolMode
    stops: tuple[int, ...] = ()  # post: (post,); circuit: stops in order; random: the pool

    @property
    def mode(self) -> str:
        return self.patrol.mode

    def drive(self, unit: PatrolUnit) -> Generator:
        return self.patrol.drive(unit, self.stops)


class PatrolMode(Spec):
    """How a unit group patrols."""

    mode: str
    SITE_KEYS: ClassVar[tuple[str, ...]] = ()
    ORDERED_STOPS: ClassVar[bool] = False  # drives its stops in order, round and round (maps draw the loop)

    def resolve(self, base: str, world: PatrolWorld) -> PatrolRoute:
        raise NotImplementedError

    def standing_site(self, base: str) -> str | None:
        """The site where a unit of this mode stands when free, or None if it keeps moving."""
        return None

    def sites_visited(self, base: str, world: PatrolWorld) -> tuple[str, ...]:
        """The sites its route goes through (empty for a pool of road nodes)."""
        return ()

    def drive(self, unit: PatrolUnit, stops: tuple[int, ...]) -> Generator:
        raise NotImplementedError


def register(cls: type[PatrolMode]) -> type[PatrolMode]:
    """Add a mode class to ``PATROL_MODES`` under the value of its ``mode`` literal."""
    (name,) = cls.model_fields["mode"].annotation.__args__  # type: ignore[union-attr]
    return PATROL_MODES.add(name, cls)


def _one_node(stops: tuple[int, ...]) -> bool:
    """A loop over one road node (sites snapped together) is a post: the unit stands there."""
    return len(set(stops)) == 1


@register
class Post(PatrolMode):
    """Stand at site ``at``."""

    mode: Literal["post"] = "post"
    at: SiteId
    SITE_KEYS: ClassVar[tuple[str, ...]] = ("at",)

    def resolve(self, base: str, world: PatrolWorld) -> PatrolRoute:
        return PatrolRoute(self, (world.site_node[self.at],))

    def standing_site(self, base: str) -> str | None:
        return self.at

    def sites_visited(self, base: str, world: PatrolWorld) -> tuple[str, ...]:
        return (self.at,)

    def drive(self, unit: PatrolUnit, stops: tuple[int, ...]) -> Generator:
        yield from unit.stand_at(stops[0])


@register
class Base(PatrolMode):
    """Wait at the base."""

    mode: Literal["base"] = "base"

    def resolve(self, base: str, world: PatrolWorld) -> PatrolRoute:
        return PatrolRoute(self)

    def standing_site(self, base: str) -> str | None:
        return base

    def sites_visited(self, base: str, world: PatrolWorld) -> tuple[str, ...]:
        return (base,)

    def drive(self, unit: PatrolUnit, stops: tuple[int, ...]) -> Generator:
        yield from unit.stand_at(unit.base)


@register
class Circuit(PatrolMode):
    """Drive the ``route`` sites in order, again and again, dwelling ``dwell_min`` at each."""

    mode: Literal["circuit"] = "circuit"
    route: Tuple[SiteId]
    dwell_min: DwellMin = 0.0
    SITE_KEYS: ClassVar[tuple[str, ...]] = ("route",)
    ORDERED_STOPS: ClassVar[bool] = True

    @field_validator("route")
    @classmethod
    def _two_stops(cls, route: tuple[str, ...]) -> tuple[str, ...]:
        if len(route) < 2:
            raise ValueError(f"a circuit needs at least 2 stops, got {len(route)}")
        return route

    def resolve(self, base: str, world: PatrolWorld) -> PatrolRoute:
        return PatrolRoute(self, tuple(world.site_node[s] for s in self.route))

    def sites_visited(self, base: str, world: PatrolWorld) -> tuple[str, ...]:
        return self.route

    def drive(self, unit: PatrolUnit, stops: tuple[int, ...]) -> Generator:
        if _one_node(stops):
            yield from unit.stand_at(stops[0])
        while True:
            yield from unit.patrol_to(stops[unit.next_stop])
            unit.next_stop = (unit.next_stop + 1) % len(stops)
            yield unit.dwell(self.dwell_min)


@register
class Random(PatrolMode):
    """Drive to random destinations, dwelling ``dwell_min`` at each: among ``sites`` (default
    every site), or among ``road_nodes`` road nodes drawn within ``radius_km`` of the base."""

    mode: Literal["random"] = "random"
    dwell_min: DwellMin = 0.0
    sites: Tuple[SiteId] | None = None
    road_nodes: Annotated[int, Field(ge=1)] | None = None
    radius_km: Annotated[float, Field(gt=0)] = DEFAULT_RADIUS_KM
    SITE_KEYS: ClassVar[tuple[str, ...]] = ("sites",)

    @field_validator("sites")
    @classmethod
    def _some_sites(cls, sites: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if sites is not None and not sites:
            raise ValueError("needs at least one site")
        return sites

    @model_validator(mode="after")
    def _sites_or_road_nodes(self) -> Random:
        if self.sites is not None and self.road_nodes is not None:
            raise ValueError("give either 'sites' or 'road_nodes', not both")
        if "radius_km" in self.model_fields_set and self.road_nodes is None:
            raise ValueError("'radius_km' only applies with 'road_nodes'")
        return self

    def resolve(self, base: str, world: PatrolWorld) -> PatrolRoute:
        if self.road_nodes is not None:
            return PatrolRoute(self, world.road_pool(world.site_node[base], self.road_nodes, self.radius_km))
        return PatrolRoute(self, tuple(world.site_node[s] for s in self.sites_visited(base, world)))

    def sites_visited(self, base: str, world: PatrolWorld) -> tuple[str, ...]:
        if self.road_nodes is not None:
            return ()
        return self.sites if self.sites is not None else world.site_ids

    def drive(self, unit: PatrolUnit, stops: tuple[int, ...]) -> Generator:
        if _one_node(stops):
            yield from unit.stand_at(stops[0])
        while True:
            yield from unit.patrol_to(stops[unit.random_index(len(stops))])
            yield unit.dwell(self.dwell_min)


def patrol_union() -> Any:
    """The schema type of a ``patrol:`` block: one of ``PATROL_MODES`` (as registered when
    validating), chosen by its ``mode``."""
    return chosen_by(PATROL_MODES, "mode")
