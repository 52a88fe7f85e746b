"""A synthetic road network over Jember's whole regency box, of any size, built from arrays.

For scale tests and ``bench/bench_scale.py``: a street grid spanning the bounding box of the 31
kecamatan (so every kecamatan box, and every generated polling station, lies on it), random
speeds and some one-way streets, reduced to its largest strongly connected part. Built without
networkx (a 300,000-node graph through networkx would take minutes and gigabytes).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim.config.network_spec import NetworkSpec
from sim.network.geo import EARTH_RADIUS_M
from sim.network.road_network import RoadNetwork, network_from_arrays
from tests.graphs import grid_streets

# The kecamatan boxes' outer bounds (sim/data/jember_kecamatan.csv), degrees.
REGENCY_WEST, REGENCY_SOUTH, REGENCY_EAST, REGENCY_NORTH = 113.2624, -8.5630, 114.0434, -7.9683


def regency_grid_network(n_nodes: int, seed: int = 2024, one_way_share: float = 0.15) -> RoadNetwork:
    """About ``n_nodes`` grid nodes over the regency box (square blocks), speeds 10..60 km/h per
    direction, ``one_way_share`` of the streets one-way; its largest strongly connected part."""
    rng = np.random.default_rng(seed)
    width_m = np.radians(REGENCY_EAST - REGENCY_WEST) * np.cos(np.radians(-8.27)) * EARTH_RADIUS_M
    height_m = np.radians(REGENCY_NORTH - REGENCY_SOUTH) * EARTH_RADIUS_M
    spacing_m = float(np.sqrt(width_m * height_m / n_nodes))
    n_cols, n_rows = int(round(width_m / spacing_m)), int(round(height_m / spacing_m))
    tails, heads, speed_m_s = grid_streets(n_rows, n_cols, one_way_share, rng)
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    lon = REGENCY_WEST + (REGENCY_EAST - REGENCY_WEST) * cols / (n_cols - 1)
    lat = REGENCY_SOUTH + (REGENCY_NORTH - REGENCY_SOUTH) * rows / (n_rows - 1)

    graph = coo_matrix((np.ones(len(tails)), (tails, heads)), shape=(len(lon), len(lon))).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    keep = labels == np.argmax(np.bincount(labels))
    new_index = np.cumsum(keep) - 1
    kept = keep[tails] & keep[heads]
    tails, heads, speed_m_s = new_index[tails[kept]], new_index[heads[kept]], speed_m_s[kept]
    order = np.lexsort((heads, tails))
    tails, heads, speed_m_s = tails[order], heads[order], speed_m_s[order]
    n_kept = int(keep.sum())
    indptr = np.zeros(n_kept + 1, np.int64)
    np.cumsum(np.bincount(tails, minlength=n_kept), out=indptr[1:])
    length_m = np.full(len(tails), spacing_m)
    arrays = {
        "node_osmid": np.arange(n_kept, dtype=np.int64),
        "lon": lon[keep].astype(np.float64),
        "lat": lat[keep].astype(np.float64),
        "indptr": indptr,
        "indices": heads.astype(np.int32),
        "travel_time_s": length_m / speed_m_s,
        "length_m": length_m,
        "road_class": np.zeros(len(tails), np.int8),
    }
    label = f"synthetic {n_kept:,}-node regency grid (not real roads)"
    meta = {"road_class_names": ("residential",), "synthetic": True, "source_label": label,
            "dropped_nodes": len(lon) - n_kept, "dropped_edges": int((~kept).sum())}
    return network_from_arrays(NetworkSpec("file", path=f"regency-grid-{n_nodes}-{seed}"), arrays, meta)
