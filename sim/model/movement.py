"""Movement on the road network: where a vehicle is (``Position``), one drive (``Leg``, with its
position interpolated at any moment) and routes from any position, mid-street included (``Roads``).

A unit drives a whole leg (route to one destination) with one timeout; its position at any
moment is interpolated along the leg, so a unit dispatched mid-drive leaves from where it
is, possibly mid-edge. Times here are minutes for the unit (speed factor applied); the
network and routing layers speak seconds, converted once per route.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.network.routing import EdgeIndex

if TYPE_CHECKING:
    from sim.network.roads import RoadNetwork
    from sim.network.trees import TravelTimes

SECONDS_PER_MIN = 60.0
# Routes kept for re-use (a patrol drives the same few again and again). Bounded because a long
# run on a big network meets many one-off routes; a dropped route is only recomputed.
MAX_CACHED_ROUTES = 20_000


class Position(NamedTuple):
    """At ``node`` when ``head`` is -1; otherwise on edge node->head, ``fraction`` of its time along."""

    node: int
    head: int = -1
    fraction: float = 0.0


_new_tuple = tuple.__new__
RouteEnds = tuple[float, int, float, float]  # (total min, last node, distance at the first node m, total m)


def route_ends(nodes: np.ndarray, cum_min: np.ndarray, cum_m: np.ndarray) -> RouteEnds:
    """A route's ends as Python numbers: what a leg reads when it starts and ends."""
    return float(cum_min[-1]), int(nodes[-1]), float(cum_m[0]), float(cum_m[-1])


def at_node(node: int) -> Position:
    """``Position(node)``, made without the named tuple's Python-level ``__new__`` (once per leg)."""
    return _new_tuple(Position, (node, -1, 0.0))


class Leg:
    """One drive along a route. Times are minutes for this unit (speed factor applied).

    Read-only by convention; a plain class with slots, its end worked out once: a patrolling unit
    starts a leg every few minutes, so a long run makes millions."""

    __slots__ = ("t_start_min", "nodes", "cum_min", "cum_m", "elapsed0_min", "t_end_min", "end_node", "start_m",
                 "total_m")

    def __init__(self, t_start_min: float, nodes: np.ndarray, cum_min: np.ndarray, cum_m: np.ndarray,
                 elapsed0_min: float, ends: RouteEnds | None = None):
        self.t_start_min = t_start_min
        self.nodes = nodes  # route nodes; the unit may start partway along the first edge
        self.cum_min = cum_min  # time to reach each node from nodes[0]
        self.cum_m = cum_m  # road distance to each node from nodes[0]
        self.elapsed0_min = elapsed0_min  # how far along cum_min the unit already is at t_start_min
        # The arrays' ends as Python numbers (``route_ends``; given with a cached route, worked out once)
        total_min, self.end_node, self.start_m, self.total_m = route_ends(nodes, cum_min, cum_m) if ends is None else ends
        # Remaining time first: (start + total) - elapsed can round to before the start.
        self.t_end_min = t_start_min + (total_min - elapsed0_min)

    def __repr__(self) -> str:
        return (f"Leg(t_start_min={self.t_start_min!r}, nodes={self.nodes!r}, t_end_min={self.t_end_min!r}, "
                f"elapsed0_min={self.elapsed0_min!r})")

    def position_at(self, t_min: float) -> Position:
        """Where the unit is at time ``t_min`` (clamped to the leg)."""
        elapsed = min(max(self.elapsed0_min + t_min - self.t_start_min, 0.0), float(self.cum_min[-1]))
        i = int(np.searchsorted(self.cum_min, elapsed, side="right")) - 1
        if i >= len(self.nodes) - 1:
            return at_node(int(self.nodes[-1]))
        fraction = (elapsed - self.cum_min[i]) / (self.cum_min[i + 1] - self.cum_min[i])
        if fraction <= 0.0:
            return at_node(int(self.nodes[i]))
        return Position(int(self.nodes[i]), int(self.nodes[i + 1]), float(fraction))

    def distance_m_at(self, t_min: float) -> float:
        """Road distance from nodes[0] at time ``t_min`` (constant speed within an edge)."""
        if t_min >= self.t_end_min:  # most legs are driven to the end: skip the interpolation
            return self.total_m
        elapsed = self.elapsed0_min + t_min - self.t_start_min
        if elapsed == 0.0:  # at nodes[0], where most legs start: what the interpolation gives there
            return self.start_m
        return float(np.interp(elapsed, self.cum_min, self.cum_m))


class Roads:
    """Routes and travel times over the network, from the travel tables (no graph search)."""

    def __init__(self, network: RoadNetwork, tables: TravelTimes, max_routes: int = MAX_CACHED_ROUTES):
        self.network = network
        self.tables = tables
        self.max_routes = max_routes
        self._edges: EdgeIndex = tables.edges  # shared with the trees: one index per network
        self._routes: OrderedDict[tuple[int, int, float], tuple[np.ndarray, np.ndarray, np.ndarray, RouteEnds]] = \
            OrderedDict()

    def _edge(self, tail: int, head: int) -> int | None:
        try:
            return self.network.edge_id(tail, head)
        except KeyError:
            return None

    def route(self, origin: int, dest: int, speed_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fastest route: nodes, cumulative time (min, at this speed factor) and distance (m) at each node.

        Cached (the ``max_routes`` most recently used): patrols drive the same few routes over and over.
        """
        return self._route(origin, dest, speed_factor)[:3]

    def _route(self, origin: int, dest: int, speed_factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, RouteEnds]:
        """``route`` and its ``route_ends``, cached together."""
        key = (origin, dest, speed_factor)
        cached = self._routes.get(key)
        if cached is not None:
            self._routes.move_to_end(key)
            return cached
        nodes, cum_s = self.tables.route(origin, dest)
        edges = self._edges.ids(nodes[:-1], nodes[1:])
        cum_m = np.concatenate(([0.0], np.cumsum(self.network.length_m[edges])))
        cum_min = np.asarray(cum_s, float) / (SECONDS_PER_MIN * speed_factor)
        nodes = np.asarray(nodes)
        route = (nodes, cum_min, cum_m, route_ends(nodes, cum_min, cum_m))
        self._routes[key] = route
        if len(self._routes) > self.max_routes:
            self._routes.popitem(last=False)
        return route

    def _ways_out(self, position: Position, dest: int) -> list[tuple[float, int, int]]:
        """From a point mid-edge: (time s to dest, first node, second node) going on or turning back."""
        tail, head, fraction = position.node, position.head, position.fraction
        forward = self._edge(tail, head)
        t_forward = self.network.travel_time_s[forward]
        ways = [((1.0 - fraction) * t_forward + self.tables.time_s_to(dest, head), tail, head)]
        backward = self._edge(head, tail)
        if backward is not None:  # a two-way road: the unit may turn around
            t_back = self.network.travel_time_s[backward]
            ways.append((fraction * t_back + self.tables.time_s_to(dest, tail), head, tail))
        return ways

    def time_s(self, position: Position, dest: int) -> float:
        """Travel time (s, at speed factor 1) from a position to a destination node."""
        if position.head < 0:
            return self.tables.time_s_to(dest, position.node)
        return min(self._ways_out(position, dest))[0]

    def leg(self, position: Position, dest: int, t_now_min: float, speed_factor: float) -> Leg:
        """The fastest leg from a position (node or mid-edge) to a destination node."""
        if position.head < 0:
            nodes, cum_min, cum_m, ends = self._route(position.node, dest, speed_factor)
            return Leg(t_now_min, nodes, cum_min, cum_m, 0.0, ends)
        _, first, second = min(self._ways_out(position, dest))
        edge = self._edge(first, second)
        edge_min = self.network.travel_time_s[edge] / (SECONDS_PER_MIN * speed_factor)
        edge_m = self.network.length_m[edge]
        # Along first->second the unit has covered `fraction` going on, 1 - fraction turning back.
        done = position.fraction if first == position.node else 1.0 - position.fraction
        nodes, cum_min, cum_m = self.route(second, dest, speed_factor)
        return Leg(
            t_now_min,
            np.concatenate(([first], nodes)),
            np.concatenate(([0.0], edge_min + cum_min)),
            np.concatenate(([0.0], edge_m + cum_m)),
            done * edge_min,
        )
