"""The demo network's building blocks: its projection, the road accumulator, street lattices,
and a lattice's streets with their gang alleys. Internal to :mod:`sim.network.demo`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.network.geo import project_m, unproject_deg

# The demo's Earth radius: OSMnx's (osmnx.distance.great_circle), so lengths agree with OSMnx
# tools. It differs from sim.network.geo.EARTH_RADIUS_M (6,371,008.8 m, IUGG) in the 8th digit,
# and the generator passes it to geo's projection on purpose: the shared radius moves 258 of the
# 31,523 kept nodes by a 1e-7 degree rounding step and 1,056 edge lengths by a millimetre, which
# would change the demo network's content hash and so every result computed on it.
EARTH_RADIUS_M = 6_371_009.0

# Road classes, fastest first; the int8 code of a class is its index here.
ROAD_CLASSES: tuple[str, ...] = ("primary", "secondary", "tertiary", "residential", "service")

# Average speeds (km/h), not speed limits. Jember roads carry mixed traffic: motorcycles
# (the large majority), angkot minibuses, trucks, becak and pedestrians share the lanes,
# town stretches have markets and frequent side access, and there is no toll road in the
# regency. So averages sit well below the 60-80 km/h limits:
#   primary     50  national/provincial roads between towns (two lanes, heavy trucks)
#   secondary   40  regency roads between towns and the main street through each town
#   tertiary    35  collector streets inside towns and the city
#   residential 25  local streets (narrow, parked motorcycles, children)
#   service     15  gang: dead-end alleys one car wide
SPEED_KPH: dict[str, float] = {
    "primary": 50.0,
    "secondary": 40.0,
    "tertiary": 35.0,
    "residential": 25.0,
    "service": 15.0,
}
PRIMARY, SECONDARY, TERTIARY, RESIDENTIAL, SERVICE = range(len(ROAD_CLASSES))
SPEED_BY_CODE_KPH = np.array([SPEED_KPH[c] for c in ROAD_CLASSES])

_ALLEY_SHARE = 0.15  # share of residential blocks with a gang (dead-end alley)
_ALLEY_DEPTH = 0.4  # alley length as a share of the block size

SEED = 2024  # base seed for the deterministic random draws


class Projection:
    """Local equirectangular projection (metres) around a fixed reference point, on the demo's
    Earth radius (see ``EARTH_RADIUS_M``)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.origin = (lon0, lat0)

    def to_m(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return project_m(lon, lat, self.origin, radius_m=EARTH_RADIUS_M)

    def to_deg(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unproject_deg(x_m, y_m, self.origin, radius_m=EARTH_RADIUS_M)


class Roads:
    """Accumulates node coordinates (m) and road segments as numpy chunks."""

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self.n_nodes = 0
        self._seg: list[tuple[np.ndarray, ...]] = []  # (u, v, class, way, oneway)
        self.n_ways = 0
        self.way_names: dict[int, str] = {}

    def add_nodes(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Add nodes; returns their ids (sequential int64)."""
        ids = np.arange(self.n_nodes, self.n_nodes + len(x_m), dtype=np.int64)
        self._x.append(np.asarray(x_m, dtype=float))
        self._y.append(np.asarray(y_m, dtype=float))
        self.n_nodes += len(x_m)
        return ids

    def new_ways(self, count: int) -> int:
        """Reserve ``count`` consecutive way ids (osmid); returns the first (ids start at 1)."""
        first = self.n_ways + 1
        self.n_ways += count
        return first

    def add_segments(
        self,
        u: np.ndarray,
        v: np.ndarray,
        road_class: np.ndarray | int,
        way: np.ndarray | int,
        oneway: np.ndarray | bool = False,
    ) -> None:
        """Add roads u-v; a one-way segment is driven u -> v only."""
        n = len(u)
        self._seg.append(
            (
                np.asarray(u, dtype=np.int64),
                np.asarray(v, dtype=np.int64),
                np.broadcast_to(np.asarray(road_class, dtype=np.int8), (n,)),
                np.broadcast_to(np.asarray(way, dtype=np.int64), (n,)),
                np.broadcast_to(np.asarray(oneway, dtype=bool), (n,)),
            )
        )

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """All node coordinates so far (m), indexed by node id."""
        return np.concatenate(self._x), np.concatenate(self._y)

    def segments(self) -> tuple[np.ndarray, ...]:
        """(u, v, class, way, oneway) arrays over all segments, in insertion order."""
        return tuple(np.concatenate(parts) for parts in zip(*self._seg))


@dataclass(frozen=True)
class Lattice:
    """A street grid: node ids by lattice position, and its street segments.

    ``ids[a, b]`` is the node at lattice index (i, j) = (a + i_lo, b + j_lo), -1 if absent.
    Horizontal segments h_u -> h_v run along row ``h_row`` from column ``h_col`` to the
    next; vertical segments v_u -> v_v run north along column ``v_col``.
    """

    ids: np.ndarray
    i_lo: int
    j_lo: int
    h_u: np.ndarray
    h_v: np.ndarray
    h_row: np.ndarray
    h_col: np.ndarray
    v_u: np.ndarray
    v_v: np.ndarray
    v_col: np.ndarray

    def node(self, i: int, j: int) -> int:
        """Node id at lattice index (i, j)."""
        return int(self.ids[i - self.i_lo, j - self.j_lo])


def lattice_index(i_range: tuple[int, int], j_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ii, jj) index arrays of shape (ni, nj) over inclusive index ranges."""
    return np.meshgrid(
        np.arange(i_range[0], i_range[1] + 1), np.arange(j_range[0], j_range[1] + 1), indexing="ij"
    )


def lattice(
    roads: Roads,
    origin_m: tuple[float, float],
    block_m: float,
    i_range: tuple[int, int],
    j_range: tuple[int, int],
    keep: np.ndarray | None = None,
) -> Lattice:
    """Add a square-block grid with node (0, 0) at ``origin_m``; ``keep`` masks (ni, nj) nodes."""
    ii, jj = lattice_index(i_range, j_range)
    if keep is None:
        keep = np.ones(ii.shape, dtype=bool)
    ids = np.full(ii.shape, -1, dtype=np.int64)
    ids[keep] = roads.add_nodes(origin_m[0] + ii[keep] * block_m, origin_m[1] + jj[keep] * block_m)
    h_ok = (ids[:-1, :] >= 0) & (ids[1:, :] >= 0)
    v_ok = (ids[:, :-1] >= 0) & (ids[:, 1:] >= 0)
    return Lattice(
        ids=ids, i_lo=i_range[0], j_lo=j_range[0],
        h_u=ids[:-1, :][h_ok], h_v=ids[1:, :][h_ok], h_row=jj[:-1, :][h_ok], h_col=ii[:-1, :][h_ok],
        v_u=ids[:, :-1][v_ok], v_v=ids[:, 1:][v_ok], v_col=ii[:, :-1][v_ok],
    )  # fmt: skip


def _line_classes(line: np.ndarray, main_every: int | None, collector_every: int) -> np.ndarray:
    """Class per street from its grid-line index: line 0 (and, if given, every
    ``main_every``th) secondary, every ``collector_every``th tertiary, others residential."""
    cls = np.full(line.shape, RESIDENTIAL, dtype=np.int8)
    cls[line % collector_every == 0] = TERTIARY
    main = line == 0 if main_every is None else line % main_every == 0
    cls[main] = SECONDARY
    return cls


def add_streets(
    roads: Roads,
    lat: Lattice,
    h_dir: np.ndarray,
    main_every: int | None,
    collector_every: int,
    block_m: float,
    rng: np.random.Generator,
    main_name: str | None = None,
) -> None:
    """Add the grid's streets (one way id per grid line) plus gang alleys.

    ``h_dir`` per horizontal segment: 0 two-way, +1 one-way eastward, -1 one-way westward.
    Alleys branch off the middle of a random share of two-way residential row segments.
    """
    h_cls = _line_classes(lat.h_row, main_every, collector_every)
    v_cls = _line_classes(lat.v_col, main_every, collector_every)
    ni, nj = lat.ids.shape
    first = roads.new_ways(ni + nj)
    h_way = first + (lat.h_row - lat.j_lo)
    v_way = first + nj + (lat.v_col - lat.i_lo)
    if main_name is not None:
        roads.way_names[first - lat.j_lo] = main_name  # row 0
        roads.way_names[first + nj - lat.i_lo] = main_name  # column 0

    alley = (h_cls == RESIDENTIAL) & (h_dir == 0) & (rng.random(len(h_cls)) < _ALLEY_SHARE)
    side = np.where(rng.random(int(alley.sum())) < 0.5, -1.0, 1.0)  # alley goes south or north

    # A one-way segment is driven u -> v, so westward ones are stored reversed.
    west = h_dir < 0
    u = np.where(west, lat.h_v, lat.h_u)
    v = np.where(west, lat.h_u, lat.h_v)
    keep = ~alley
    roads.add_segments(u[keep], v[keep], h_cls[keep], h_way[keep], h_dir[keep] != 0)
    roads.add_segments(lat.v_u, lat.v_v, v_cls, v_way)

    # Split each alley's row segment at its midpoint and hang the dead-end alley there.
    x, y = roads.coords()
    au, av = lat.h_u[alley], lat.h_v[alley]
    mid_x, mid_y = (x[au] + x[av]) / 2, y[au]
    mid = roads.add_nodes(mid_x, mid_y)
    end = roads.add_nodes(mid_x, mid_y + side * _ALLEY_DEPTH * block_m)
    roads.add_segments(au, mid, h_cls[alley], h_way[alley])
    roads.add_segments(mid, av, h_cls[alley], h_way[alley])
    roads.add_segments(mid, end, SERVICE, roads.new_ways(len(mid)) + np.arange(len(mid)))
