"""The synthetic Jember road network behind the ``demo`` network source (SPEC §6).

No real road file for Jember ships with the project and test machines have no internet,
so this module *generates* a regency-scale road network. It is **synthetic, not real
roads**; it is anchored on the 31 real kecamatan (sub-district) centres in
``sim/data/jember_kecamatan.csv``:

- a street grid around every kecamatan centre, sized by the kecamatan's area;
- a dense city core where the districts Kaliwates, Sumbersari and Patrang meet, with
  finer blocks and one-way street pairs downtown;
- curved arterial roads between neighbouring towns (a pruned Delaunay triangulation),
  with a node every 150-300 m.

The graph is built deterministically (no hash-seed or set-order dependence; random
draws come from fixed seeds) and is OSMnx-compatible: node ``x``/``y`` in degrees,
edge ``length`` (m, great-circle), ``highway``, ``speed_kph``, ``travel_time`` (s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree, shortest_path
from scipy.spatial import Delaunay

from sim.config.kecamatan import Kecamatan, load_kecamatan
from sim.network.geo import project_m, unproject_deg

__all__ = [
    "DEMO_GRAPH_NAME",
    "EARTH_RADIUS_M",
    "ROAD_CLASSES",
    "SPEED_KPH",
    "CITY_CORE_BBOX",
    "build_demo_graph",
    "demo_network_description",
]

DEMO_GRAPH_NAME = "Jember synthetic demo network"

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
_PRIMARY, _SECONDARY, _TERTIARY, _RESIDENTIAL, _SERVICE = range(len(ROAD_CLASSES))
_SPEED_BY_CODE_KPH = np.array([SPEED_KPH[c] for c in ROAD_CLASSES])

# Jember city's built-up area, where Kaliwates, Sumbersari and Patrang meet: it reaches
# west to Mangli (Terminal Tawang Alun) and north past Polsek Patrang, so every city site
# planners use (lat -8.14..-8.20, lon 113.63..113.72) falls inside the dense grid.
# (west, south, east, north) in degrees.
CITY_CORE_BBOX: tuple[float, float, float, float] = (113.622, -8.210, 113.748, -8.126)
_CITY_DISTRICTS = ("Kaliwates", "Sumbersari", "Patrang")
_CORE_BLOCK_M = 110.0
_CORE_MAIN_EVERY = 10  # every 10th core street (1.1 km apart) is secondary
_CORE_COLLECTOR_EVERY = 5  # the other 5th ones are tertiary
_DOWNTOWN_HALF_M = 1300.0  # one-way pairs within this distance (per axis) of downtown

# Town grids: a rectangle covering this share of the kecamatan's area (rural kecamatan are
# mostly rice fields, plantations and forest), its block size growing with the area
# (compact towns have small blocks), kept apart from neighbouring grids.
_TOWN_AREA_SHARE = 0.2
_TOWN_BLOCK_M = (150.0, 250.0)  # block size at ...
_TOWN_BLOCK_AREA_KM2 = (40.0, 300.0)  # ... these kecamatan areas, interpolated
_TOWN_HALF_M = (600.0, 2800.0)  # min, max half width/height, before the spacing limits
_TOWN_GAP_SHARE = 0.45  # half-size <= this share of the distance to the next town
_TOWN_CORE_GAP_M = 400.0  # open country between a town grid and the city core
_BBOX_MARGIN_M = 250.0  # grids stay this far inside their kecamatan bbox
_TOWN_COLLECTOR_EVERY = 5  # every 5th town street is tertiary (row/column 0: secondary)

_ALLEY_SHARE = 0.15  # share of residential blocks with a gang (dead-end alley)
_ALLEY_DEPTH = 0.4  # alley length as a share of the block size

_ARTERIAL_STEP_M = 300.0  # arterial node spacing is at most this (and >= half of it)
_ARTERIAL_PRUNE_RATIO = 2.0  # drop links longer than this x the nearest-neighbour distance
_SEED = 2024  # base seed for the deterministic random draws


def demo_network_description() -> str:
    """A short sentence for users saying what the demo network is (and is not)."""
    return (
        "Synthetic demo road network of Jember regency, generated by patrolsim: NOT real roads. "
        "Anchored on the 31 real kecamatan centres (town grids sized by kecamatan area, a dense "
        "city core where Kaliwates, Sumbersari and Patrang meet, curved arterials between "
        "neighbouring towns); travel times are indicative only."
    )


class _Projection:
    """Local equirectangular projection (metres) around a fixed reference point, on the demo's
    Earth radius (see ``EARTH_RADIUS_M``)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.origin = (lon0, lat0)

    def to_m(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return project_m(lon, lat, self.origin, radius_m=EARTH_RADIUS_M)

    def to_deg(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unproject_deg(x_m, y_m, self.origin, radius_m=EARTH_RADIUS_M)


class _Roads:
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
class _Lattice:
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


def _lattice_index(i_range: tuple[int, int], j_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ii, jj) index arrays of shape (ni, nj) over inclusive index ranges."""
    return np.meshgrid(
        np.arange(i_range[0], i_range[1] + 1), np.arange(j_range[0], j_range[1] + 1), indexing="ij"
    )


def _lattice(
    roads: _Roads,
    origin_m: tuple[float, float],
    block_m: float,
    i_range: tuple[int, int],
    j_range: tuple[int, int],
    keep: np.ndarray | None = None,
) -> _Lattice:
    """Add a square-block grid with node (0, 0) at ``origin_m``; ``keep`` masks (ni, nj) nodes."""
    ii, jj = _lattice_index(i_range, j_range)
    if keep is None:
        keep = np.ones(ii.shape, dtype=bool)
    ids = np.full(ii.shape, -1, dtype=np.int64)
    ids[keep] = roads.add_nodes(origin_m[0] + ii[keep] * block_m, origin_m[1] + jj[keep] * block_m)
    h_ok = (ids[:-1, :] >= 0) & (ids[1:, :] >= 0)
    v_ok = (ids[:, :-1] >= 0) & (ids[:, 1:] >= 0)
    return _Lattice(
        ids=ids, i_lo=i_range[0], j_lo=j_range[0],
        h_u=ids[:-1, :][h_ok], h_v=ids[1:, :][h_ok], h_row=jj[:-1, :][h_ok], h_col=ii[:-1, :][h_ok],
        v_u=ids[:, :-1][v_ok], v_v=ids[:, 1:][v_ok], v_col=ii[:, :-1][v_ok],
    )  # fmt: skip


def _line_classes(line: np.ndarray, main_every: int | None, collector_every: int) -> np.ndarray:
    """Class per street from its grid-line index: line 0 (and, if given, every
    ``main_every``th) secondary, every ``collector_every``th tertiary, others residential."""
    cls = np.full(line.shape, _RESIDENTIAL, dtype=np.int8)
    cls[line % collector_every == 0] = _TERTIARY
    main = line == 0 if main_every is None else line % main_every == 0
    cls[main] = _SECONDARY
    return cls


def _add_streets(
    roads: _Roads,
    lat: _Lattice,
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

    alley = (h_cls == _RESIDENTIAL) & (h_dir == 0) & (rng.random(len(h_cls)) < _ALLEY_SHARE)
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
    roads.add_segments(mid, end, _SERVICE, roads.new_ways(len(mid)) + np.arange(len(mid)))


class _Core:
    """The city core's extent in metres: a rectangle with rounded corners (a superellipse),
    so the city does not look like a box."""

    def __init__(self, proj: _Projection) -> None:
        west, south, east, north = CITY_CORE_BBOX
        (x0, x1), (y0, y1) = proj.to_m(np.array([west, east]), np.array([south, north]))
        self.west_m, self.south_m, self.east_m, self.north_m = x0, y0, x1, y1

    def contains(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """True where (x_m, y_m) lies inside the core."""
        hx, hy = (self.east_m - self.west_m) / 2, (self.north_m - self.south_m) / 2
        u = (x_m - self.west_m - hx) / hx
        w = (y_m - self.south_m - hy) / hy
        return u**4 + w**4 <= 1.0


def _build_core(
    roads: _Roads, proj: _Projection, core: _Core, districts: list[Kecamatan]
) -> np.ndarray:
    """Add the dense city grid; returns the ids of its nodes on secondary streets."""
    d_x, d_y = proj.to_m(np.array([k.lon for k in districts]), np.array([k.lat for k in districts]))
    # Lattice origin = downtown, the mean of the three district centres (by the alun-alun),
    # so main streets and the one-way pairs centre there.
    origin = (float(d_x.mean()), float(d_y.mean()))
    b = _CORE_BLOCK_M
    i_range = (math.ceil((core.west_m - origin[0]) / b), math.floor((core.east_m - origin[0]) / b))
    j_range = (math.ceil((core.south_m - origin[1]) / b), math.floor((core.north_m - origin[1]) / b))
    ii, jj = _lattice_index(i_range, j_range)
    keep = core.contains(origin[0] + ii * b, origin[1] + jj * b)
    lat = _lattice(roads, origin, b, i_range, j_range, keep)

    # Downtown one-way pairs: residential rows alternate east/west. The two-way columns and
    # the next row (opposite direction, or a two-way collector) give every one-way block a
    # way back, so the grid stays strongly connected.
    half = int(_DOWNTOWN_HALF_M // b)
    downtown = (
        (np.abs(lat.h_row) < half)
        & (lat.h_col >= -half)
        & (lat.h_col < half)
        & (lat.h_row % _CORE_COLLECTOR_EVERY != 0)
    )
    h_dir = np.where(downtown, np.where(lat.h_row % 2 == 0, 1, -1), 0).astype(np.int8)
    rng = np.random.default_rng(_SEED)
    _add_streets(roads, lat, h_dir, _CORE_MAIN_EVERY, _CORE_COLLECTOR_EVERY, b, rng)

    on_main = ((ii % _CORE_MAIN_EVERY == 0) | (jj % _CORE_MAIN_EVERY == 0)) & keep
    return lat.ids[on_main]


def _town_extents(
    kec: list[Kecamatan], proj: _Projection, core: _Core
) -> list[tuple[float, float, float, float, float]]:
    """Per town: (block m, then west, south, east, north extent in m from its centre)."""
    cx, cy = proj.to_m(np.array([k.lon for k in kec]), np.array([k.lat for k in kec]))
    cheb = np.maximum(np.abs(cx[:, None] - cx), np.abs(cy[:, None] - cy))
    np.fill_diagonal(cheb, np.inf)
    out = []
    for t, k in enumerate(kec):
        (bx0, bx1), (by0, by1) = proj.to_m(np.array([k.west, k.east]), np.array([k.south, k.north]))
        area_m2 = _TOWN_AREA_SHARE * k.area_km2 * 1e6
        aspect = (bx1 - bx0) / (by1 - by0)  # the grid takes the kecamatan's shape
        half_w = float(np.clip(math.sqrt(area_m2 * aspect) / 2, *_TOWN_HALF_M))
        half_h = float(np.clip(math.sqrt(area_m2 / aspect) / 2, *_TOWN_HALF_M))
        # Neighbouring grids must not overlap: with both half-sizes below 45 % of the
        # Chebyshev distance between centres, two rectangles are apart along that axis.
        gap = _TOWN_GAP_SHARE * float(cheb[t].min())
        half_w, half_h = min(half_w, gap), min(half_h, gap)
        # Keep open country between the town and the city core, along the axis that
        # separates them most.
        gap_x = max(core.west_m - cx[t], cx[t] - core.east_m)
        gap_y = max(core.south_m - cy[t], cy[t] - core.north_m)
        if gap_x >= gap_y:
            half_w = min(half_w, gap_x - _TOWN_CORE_GAP_M)
        else:
            half_h = min(half_h, gap_y - _TOWN_CORE_GAP_M)
        block = float(np.interp(k.area_km2, _TOWN_BLOCK_AREA_KM2, _TOWN_BLOCK_M))
        m = _BBOX_MARGIN_M
        out.append(
            (
                block,
                min(half_w, cx[t] - bx0 - m),
                min(half_h, cy[t] - by0 - m),
                min(half_w, bx1 - cx[t] - m),
                min(half_h, by1 - cy[t] - m),
            )
        )
    return out


def _build_towns(
    roads: _Roads, proj: _Projection, core: _Core, kec: list[Kecamatan]
) -> list[tuple[int, int, int, int]]:
    """Add one grid per town, node (0, 0) exactly on the kecamatan centre.

    Returns per town the node ids at the east, north, west and south ends of its main
    streets (row and column 0, which cross at the centre): arterials start there, so
    through traffic runs along the main street through the town centre.
    """
    ends = []
    for k, (block, w, s, e, n) in zip(kec, _town_extents(kec, proj, core)):
        cx, cy = proj.to_m(np.array(k.lon), np.array(k.lat))
        # At least one block each way, however tight the neighbours.
        i_range = (-max(1, int(w // block)), max(1, int(e // block)))
        j_range = (-max(1, int(s // block)), max(1, int(n // block)))
        lat = _lattice(roads, (float(cx), float(cy)), block, i_range, j_range)
        no_oneway = np.zeros(len(lat.h_u), dtype=np.int8)
        rng = np.random.default_rng([_SEED, k.code])
        _add_streets(
            roads, lat, no_oneway, None, _TOWN_COLLECTOR_EVERY, block, rng, f"Jl. Raya {k.name}"
        )
        ends.append(
            (
                lat.node(i_range[1], 0),
                lat.node(0, j_range[1]),
                lat.node(i_range[0], 0),
                lat.node(0, j_range[0]),
            )
        )
    return ends


def _arterial_links(
    x_m: np.ndarray, y_m: np.ndarray, group: np.ndarray
) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Links between neighbouring places (point indices a < b) and the primary subset.

    Neighbours come from a Delaunay triangulation of the points, pruned of links much
    longer than either end's nearest-neighbour distance (across mountains, or along the
    hull) unless the minimum spanning tree needs them. ``group`` merges points into one
    place (the three city districts are group 0); links within a group are dropped.
    Primary roads are the shortest-path tree from the city (group 0), the way national
    and provincial roads radiate from the regency capital.
    """
    pairs: set[tuple[int, int]] = set()
    for simplex in Delaunay(np.column_stack([x_m, y_m])).simplices.tolist():
        for a, b in ((0, 1), (1, 2), (0, 2)):
            pairs.add((min(simplex[a], simplex[b]), max(simplex[a], simplex[b])))
    candidates = sorted((a, b) for a, b in pairs if group[a] != group[b])
    dist = np.hypot(x_m[:, None] - x_m, y_m[:, None] - y_m)
    np.fill_diagonal(dist, np.inf)
    nearest = dist.min(axis=1)

    def place_pair(a: int, b: int) -> tuple[int, int]:
        return int(min(group[a], group[b])), int(max(group[a], group[b]))

    def place_graph(links: list[tuple[int, int]]) -> coo_matrix:
        # The shortest link stands for a place pair (the city has three centres).
        best: dict[tuple[int, int], float] = {}
        for a, b in links:
            key = place_pair(a, b)
            best[key] = min(best.get(key, math.inf), float(dist[a, b]))
        keys = sorted(best)
        n = int(group.max()) + 1
        rows, cols = zip(*keys)
        return coo_matrix(([best[k] for k in keys], (rows, cols)), shape=(n, n))

    mst = minimum_spanning_tree(place_graph(candidates)).tocoo()
    in_mst = set(zip(mst.row.tolist(), mst.col.tolist()))
    links = [
        (a, b)
        for a, b in candidates
        if dist[a, b] <= _ARTERIAL_PRUNE_RATIO * max(nearest[a], nearest[b])
        or place_pair(a, b) in in_mst
    ]
    _, pred = shortest_path(
        place_graph(links).tocsr(), directed=False, indices=0, return_predecessors=True
    )
    tree = {(min(g, int(p)), max(g, int(p))) for g, p in enumerate(pred.tolist()) if p >= 0}
    return links, {(a, b) for a, b in links if place_pair(a, b) in tree}


def _add_arterial(
    roads: _Roads,
    p: int,
    q: int,
    xy_m: tuple[np.ndarray, np.ndarray],
    road_class: int,
    name: str,
    rng: np.random.Generator,
) -> None:
    """Add a gently curving two-way road from node p to node q, a node every <= 300 m."""
    x, y = xy_m
    dx, dy = x[q] - x[p], y[q] - y[p]
    length = math.hypot(dx, dy)
    n = max(1, math.ceil(length / _ARTERIAL_STEP_M))
    t = np.arange(1, n) / n
    # Sideways offset, zero at both ends: one wide bend plus two smaller wiggles.
    amp = rng.uniform(-1.0, 1.0, 3) * np.array([0.05, 0.015, 0.008]) * length
    offset = sum(a * np.sin((h + 1) * np.pi * t) for h, a in enumerate(amp))
    mid = roads.add_nodes(x[p] + t * dx - offset * dy / length, y[p] + t * dy + offset * dx / length)
    chain = np.concatenate([[p], mid, [q]])
    way = roads.new_ways(1)
    roads.way_names[way] = name
    roads.add_segments(chain[:-1], chain[1:], road_class, way)


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def build_demo_graph() -> nx.MultiDiGraph:
    """Build the synthetic Jember road network (deterministic, strongly connected).

    Returns an OSMnx-style MultiDiGraph: nodes (sequential int ids) with ``x``/``y``
    (lon/lat degrees) and ``street_count``; edges with ``osmid``, ``length`` (m),
    ``highway``, ``speed_kph``, ``travel_time`` (s), ``oneway``, ``reversed`` and, on
    named roads, ``name``. Graph attrs: ``crs``, ``synthetic=True``, ``name``, ``description``.
    """
    kec = load_kecamatan()
    proj = _Projection(
        lon0=(min(k.west for k in kec) + max(k.east for k in kec)) / 2,
        lat0=(min(k.south for k in kec) + max(k.north for k in kec)) / 2,
    )
    roads = _Roads()
    core = _Core(proj)
    city = [k for k in kec if k.name in _CITY_DISTRICTS]
    towns = [k for k in kec if k.name not in _CITY_DISTRICTS]
    core_main = _build_core(roads, proj, core, city)
    town_ends = _build_towns(roads, proj, core, towns)

    # Arterials between neighbouring places; the three city districts count as one place.
    places = city + towns
    p_x, p_y = proj.to_m(np.array([k.lon for k in places]), np.array([k.lat for k in places]))
    group = np.array([0] * len(city) + list(range(1, len(towns) + 1)))
    links, primary = _arterial_links(p_x, p_y, group)
    xy_m = roads.coords()
    main_x, main_y = xy_m[0][core_main], xy_m[1][core_main]

    def endpoint(a: int, b: int) -> int:
        """Node where the arterial from place a toward place b leaves a's grid."""
        dx, dy = p_x[b] - p_x[a], p_y[b] - p_y[a]
        if a >= len(city):
            # A town: the end of its main street that points most toward b.
            side = round(math.atan2(dy, dx) / (math.pi / 2)) % 4  # 0 E, 1 N, 2 W, 3 S
            return town_ends[a - len(city)][side]
        # The city: the secondary-street node nearest where the line a -> b leaves the core
        # (sampled every ~10 m, since towns lie 5-20 km away).
        t = np.linspace(0.0, 1.0, 2001)
        px, py = p_x[a] + t * dx, p_y[a] + t * dy
        leave = int(np.argmin(core.contains(px, py)))
        return int(core_main[np.argmin(np.hypot(main_x - px[leave], main_y - py[leave]))])

    for a, b in links:
        road_class = _PRIMARY if (a, b) in primary else _SECONDARY
        name = f"Jl. Raya {places[a].name}-{places[b].name}"
        rng = np.random.default_rng([_SEED, places[a].code, places[b].code])
        _add_arterial(roads, endpoint(a, b), endpoint(b, a), xy_m, road_class, name, rng)

    return _to_graph(roads, proj)


def _to_graph(roads: _Roads, proj: _Projection) -> nx.MultiDiGraph:
    """Convert the accumulated roads to an OSMnx-compatible MultiDiGraph."""
    x_m, y_m = roads.coords()
    lon, lat = proj.to_deg(x_m, y_m)
    # Round like OSM (1e-7 degrees, ~1 cm) so the bytes do not hinge on float noise.
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    u, v, cls, way, oneway = roads.segments()

    length_m = np.round(_haversine_m(lon[u], lat[u], lon[v], lat[v]), 3)
    speed_kph = _SPEED_BY_CODE_KPH[cls]
    travel_s = np.round(length_m / (speed_kph / 3.6), 3)

    # Directed edges: every segment forward; two-way segments also backward (reversed=True).
    two = ~oneway
    tail = np.concatenate([u, v[two]])
    head = np.concatenate([v, u[two]])
    rev = np.concatenate([np.zeros(len(u), dtype=bool), np.ones(int(two.sum()), dtype=bool)])
    pick = np.concatenate([np.arange(len(u)), np.flatnonzero(two)])

    n_scc, _ = connected_components(
        coo_matrix((np.ones(len(tail)), (tail, head)), shape=(roads.n_nodes,) * 2),
        directed=True,
        connection="strong",
    )
    if n_scc != 1:
        raise RuntimeError(f"demo network generator produced {n_scc} strongly connected components")

    street_count = np.bincount(np.concatenate([u, v]), minlength=roads.n_nodes)
    graph = nx.MultiDiGraph(
        crs="epsg:4326",
        synthetic=True,
        name=DEMO_GRAPH_NAME,
        description=demo_network_description(),
    )
    graph.add_nodes_from(
        (i, {"x": xi, "y": yi, "street_count": c})
        for i, xi, yi, c in zip(range(roads.n_nodes), lon.tolist(), lat.tolist(), street_count.tolist())
    )
    names = roads.way_names
    edges = []
    for t, h, w, c, one, r, length, speed, travel in zip(
        tail.tolist(), head.tolist(), way[pick].tolist(), cls[pick].tolist(), oneway[pick].tolist(),
        rev.tolist(), length_m[pick].tolist(), speed_kph[pick].tolist(), travel_s[pick].tolist(),
    ):  # fmt: skip
        attrs = {
            "osmid": w,
            "highway": ROAD_CLASSES[c],
            "oneway": one,
            "reversed": r,
            "length": length,
            "speed_kph": speed,
            "travel_time": travel,
        }
        if w in names:
            attrs["name"] = names[w]
        edges.append((t, h, attrs))
    graph.add_edges_from(edges)
    return graph
