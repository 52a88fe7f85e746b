"""Small road networks built in code, for tests and benchmarks (no files, no internet)."""
from __future__ import annotations

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from sim.network import NetworkSpec, RoadNetwork, network_from_graph

# Anchor of the made-up grids: central Jember, so coordinates look plausible on a map.
_ORIGIN_LON = 113.70
_ORIGIN_LAT = -8.17
_METRES_PER_DEG_LAT = 111_320.0


def network_from_edges(
    n_nodes: int,
    tails: ArrayLike,
    heads: ArrayLike,
    travel_time_s: ArrayLike,
    x_m: ArrayLike | None = None,
    y_m: ArrayLike | None = None,
    label: str = "test network",
) -> RoadNetwork:
    """A RoadNetwork from directed edges ``tails[i] -> heads[i]`` with times in seconds.

    Goes through ``network_from_graph`` like every real source, so the result is its
    largest strongly connected component. Node ``i`` of the edges is node index ``i``
    when all nodes are kept. Positions default to a row along the x axis, 100 m apart;
    edge lengths are the straight-line distance between the ends.
    """
    x_m = np.arange(n_nodes, dtype=np.float64) * 100.0 if x_m is None else np.asarray(x_m, dtype=np.float64)
    y_m = np.zeros(n_nodes) if y_m is None else np.asarray(y_m, dtype=np.float64)
    lon = _ORIGIN_LON + x_m / (_METRES_PER_DEG_LAT * np.cos(np.radians(_ORIGIN_LAT)))
    lat = _ORIGIN_LAT + y_m / _METRES_PER_DEG_LAT
    tails = np.asarray(tails, dtype=np.int64)
    heads = np.asarray(heads, dtype=np.int64)
    length_m = np.hypot(x_m[heads] - x_m[tails], y_m[heads] - y_m[tails])
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())))
    graph.add_edges_from(
        (u, v, {"travel_time": t, "length": m, "highway": "residential"})
        for u, v, t, m in zip(tails.tolist(), heads.tolist(), np.asarray(travel_time_s, float).tolist(), length_m.tolist())
    )
    return network_from_graph(
        graph, NetworkSpec("file", path=label), source_label=f"synthetic {label} (not real roads)", synthetic=True
    )


def grid_streets(n_rows: int, n_cols: int, one_way_share: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The directed streets of an ``n_rows`` x ``n_cols`` grid (node ids row by row): tails, heads
    and a speed (m/s, 10..60 km/h) per direction; ``one_way_share`` of the block sides one-way."""
    node = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    one_way = rng.random(len(a)) < one_way_share
    forward_only = one_way & (rng.random(len(a)) < 0.5)
    backward_only = one_way & ~forward_only
    tails = np.concatenate([a[~backward_only], b[~forward_only]])
    heads = np.concatenate([b[~backward_only], a[~forward_only]])
    speed_m_s = rng.uniform(10.0, 60.0, size=len(tails)) / 3.6
    return tails, heads, speed_m_s


def random_grid_network(
    n_rows: int,
    n_cols: int,
    seed: int,
    spacing_m: float = 100.0,
    one_way_share: float = 0.15,
) -> RoadNetwork:
    """A street grid with random travel times, some one-way streets, strongly connected.

    Each block side is a street; with probability ``one_way_share`` it is one-way (random
    direction), else two-way with an independent random time per direction (speeds of
    10..60 km/h). Only the largest strongly connected component is kept, as for real networks.
    """
    rng = np.random.default_rng(seed)
    tails, heads, speed_m_s = grid_streets(n_rows, n_cols, one_way_share, rng)
    travel_time_s = spacing_m / speed_m_s
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    return network_from_edges(
        n_rows * n_cols,
        tails,
        heads,
        travel_time_s,
        x_m=cols * spacing_m,
        y_m=rows * spacing_m,
        label=f"random {n_rows}x{n_cols} grid, seed {seed}",
    )

