"""Road speeds by hour of day (issue #11): ``travel.periods`` of a scenario.

Each period has its own travel tables: the network with the travel times of its road classes
divided by its speed factor (so its own fastest routes). A leg is priced, and its route chosen,
with the tables in force when it starts, and driven at those speeds to its end even when it runs
past the period's end (the approximation: a leg that starts at 08:29 in a 0.5 period is slow all the
way; legs are minutes long, periods hours, so the error is at most one leg per unit per boundary).
The dispatcher's travel-time estimates use the tables in force at the moment of dispatch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.calendar import MIN_PER_DAY
from sim.errors import InputError
from sim.model.movement import Roads
from sim.network.trees import TravelTimes

if TYPE_CHECKING:
    from sim.config.schema import TravelPeriod
    from sim.network import RoadNetwork


def period_network(network: RoadNetwork, period: TravelPeriod, where: str) -> RoadNetwork:
    """The network with the period's road classes' travel times divided by its speed factor."""
    names = list(network.road_class_names)
    if period.road_classes is None:
        edges = np.ones(network.n_edges, bool)
    else:
        unknown = [c for c in period.road_classes if c not in names]
        if unknown:
            raise InputError(f"{where}.road_classes: no road class '{unknown[0]}' in this network "
                             f"(it has: {', '.join(names)})")
        edges = np.isin(network.road_class, [names.index(c) for c in period.road_classes])
    times = np.where(edges, network.travel_time_s / period.speed_factor, network.travel_time_s)
    return network.with_travel_times(times)


def period_roads(network: RoadNetwork, periods: tuple[TravelPeriod, ...],
                 tree_cache_bytes: int | None = None) -> tuple[tuple[int, int, Roads], ...]:
    """(start, end minute of the day, Roads) of each period; trees are made on first need."""
    out = []
    for i, period in enumerate(periods):
        net = period_network(network, period, f"travel.periods[{i}]")
        out.append((*period.window, Roads(net, TravelTimes(net, None, tree_cache_bytes))))
    return tuple(out)


class _TimedTables:
    """``time_s_to`` of the tables in force now (what a unit's dispatch estimate asks)."""

    def __init__(self, roads: TimedRoads):
        self._roads = roads

    def time_s_to(self, dest: int, node: int) -> float:
        return self._roads.at(self._roads.env.now).tables.time_s_to(dest, node)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._roads.at(self._roads.env.now).tables, name)


class TimedRoads:
    """Roads whose travel times follow the hour of day: the period's ``Roads`` in force at the
    moment asked (``leg``: when it starts; ``time_s``: now), else the base ``Roads``."""

    def __init__(self, env: Any, base: Roads, periods: tuple[tuple[int, int, Roads], ...], start_min_of_day: float):
        self.env = env
        self.base = base
        self.network = base.network
        self.periods = periods
        self.start_min_of_day = start_min_of_day
        self.tables = _TimedTables(self)

    def at(self, t_min: float) -> Roads:
        minute = (self.start_min_of_day + t_min) % MIN_PER_DAY
        for start, end, roads in self.periods:
            if (start <= minute < end) if start < end else (minute >= start or minute < end):
                return roads
        return self.base

    def time_s(self, position, dest: int) -> float:
        return self.at(self.env.now).time_s(position, dest)

    def leg(self, position, dest: int, t_now_min: float, speed_factor: float):
        return self.at(t_now_min).leg(position, dest, t_now_min, speed_factor)

    def route(self, origin: int, dest: int, speed_factor: float = 1.0):
        return self.at(self.env.now).route(origin, dest, speed_factor)
