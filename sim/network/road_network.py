"""The road network as compact arrays: ``RoadNetwork``, built from a graph, and sites snapped to it.

Every source goes one way: a graph (networkx, OSMnx-compatible) -> one edge per node pair (the
fastest) -> largest strongly connected component -> CSR arrays. Where graphs come from and the
cache live in ``sim.network.roads``.

Nodes are indices ``0..N-1`` (sorted by OSM id); ``node_osmid`` maps back to OSM. Edges are
CSR rows: the edges leaving node ``u`` are ``indptr[u]:indptr[u+1]``, heads sorted.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.network_spec import NetworkSpec
from sim.errors import InputError
from sim.network.geo import project_m

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse

log = logging.getLogger(__name__)

#: The one wording of the note every output made on a synthetic network carries.
SYNTHETIC_PURPOSE = "it shows the method, not the place"
SYNTHETIC_NOTE = f"synthetic road network, not real roads: {SYNTHETIC_PURPOSE}"
#: The arrays a network is stored as (the cache) and hashed over (``content_hash``), in this order.
ARRAY_NAMES = ("node_osmid", "lon", "lat", "indptr", "indices", "travel_time_s", "length_m", "road_class")
# Zero-length edges exist in OSM (two nodes at one position); the routing needs times > 0.
_MIN_LENGTH_M = 0.1


@dataclass(eq=False)
class RoadNetwork:
    """A directed road network as CSR arrays: node positions, edge travel times, lengths, classes."""

    spec: NetworkSpec
    node_osmid: np.ndarray      # int64 (N,)
    lon: np.ndarray             # float64 (N,) degrees
    lat: np.ndarray             # float64 (N,) degrees
    x_m: np.ndarray             # float64 (N,) metres east of the bbox centre (equirectangular)
    y_m: np.ndarray             # float64 (N,) metres north of the bbox centre
    indptr: np.ndarray          # int64 (N+1,) CSR rows = tail node
    indices: np.ndarray         # int32 (E,) head node of each edge
    travel_time_s: np.ndarray   # float64 (E,) > 0
    length_m: np.ndarray        # float64 (E,) > 0
    road_class: np.ndarray      # int8 (E,) index into road_class_names
    road_class_names: tuple[str, ...]
    synthetic: bool
    source_label: str           # words for users, e.g. "synthetic demo network (not real roads)"
    dropped_nodes: int          # removed outside the largest strongly connected component
    dropped_edges: int
    cache_path: str | None = None
    from_cache: bool = False    # True when read from the cache, not built
    _hash: str | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_osmid)

    @property
    def n_edges(self) -> int:
        return len(self.indices)

    def csr(self, weight: str = "travel_time_s") -> scipy.sparse.csr_matrix:
        """The (N, N) sparse matrix of ``weight`` ("travel_time_s" or "length_m"), rows = tails."""
        import scipy.sparse

        if weight not in ("travel_time_s", "length_m"):
            raise ValueError(f"weight must be travel_time_s or length_m, not {weight!r}")
        return scipy.sparse.csr_matrix(
            (getattr(self, weight), self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes)
        )

    def edge_id(self, tail: int, head: int) -> int:
        """Position of the edge tail -> head in the edge arrays (KeyError if there is none)."""
        start, stop = int(self.indptr[tail]), int(self.indptr[tail + 1])
        k = start + int(np.searchsorted(self.indices[start:stop], head))
        if k < stop and self.indices[k] == head:
            return k
        raise KeyError(f"no edge {tail} -> {head}")

    def content_hash(self) -> str:
        """sha256 over the arrays and class names: equal hashes, equal networks."""
        if self._hash is None:
            self._hash = arrays_hash(self.arrays(), self.road_class_names)
        return self._hash

    def bbox(self) -> list[float]:
        """[west, south, east, north] of the nodes, degrees."""
        return [float(self.lon.min()), float(self.lat.min()), float(self.lon.max()), float(self.lat.max())]

    def described(self) -> str:
        """The network in words for a terminal line: its label, and on a synthetic one what it is for."""
        return f"{self.source_label}: {SYNTHETIC_PURPOSE}" if self.synthetic else self.source_label

    def info(self) -> dict[str, Any]:
        """Facts for ``network info --json``."""
        before = self.n_nodes + self.dropped_nodes
        return {
            "source": self.spec.source,
            "source_label": self.source_label,
            "synthetic": self.synthetic,
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "strongly_connected_share": self.n_nodes / before if before else 0.0,
            "dropped_nodes": self.dropped_nodes,
            "dropped_edges": self.dropped_edges,
            "bbox": self.bbox(),
            "total_length_km": round(float(self.length_m.sum()) / 1000.0, 3),
            "road_classes": {
                name: int(n) for name, n in zip(self.road_class_names,
                                                np.bincount(self.road_class, minlength=len(self.road_class_names)))
            },
            "content_hash": self.content_hash(),
            "cache_path": self.cache_path,
            "from_cache": self.from_cache,
        }

    def nearest_node(self, lon: float, lat: float) -> tuple[int, float]:
        """(node index, distance m) of the node nearest to a point in degrees."""
        x, y = project_m(np.array([lon]), np.array([lat]), self.origin)
        dist, k = self.node_tree.query([x[0], y[0]])
        return int(k), float(dist)

    def to_graph(self) -> nx.MultiDiGraph:
        """An OSMnx-compatible graph for plotting (node keys = OSM ids, straight edges)."""
        import networkx as nx

        G = nx.MultiDiGraph(crs="epsg:4326", name=self.source_label, synthetic=self.synthetic)
        # Nodes without an OSM id (-1) are keyed by index.
        ids = self.node_osmid.tolist() if (self.node_osmid >= 0).all() else list(range(self.n_nodes))
        G.add_nodes_from((ids[i], {"x": float(self.lon[i]), "y": float(self.lat[i])}) for i in range(self.n_nodes))
        tails = self.edge_tails
        pairs = set(zip(tails.tolist(), self.indices.tolist()))
        for e, (u, v) in enumerate(zip(tails.tolist(), self.indices.tolist())):
            G.add_edge(ids[u], ids[v], length=float(self.length_m[e]), travel_time=float(self.travel_time_s[e]),
                       speed_kph=float(self.length_m[e] / self.travel_time_s[e] * 3.6),
                       highway=self.road_class_names[self.road_class[e]], oneway=(v, u) not in pairs)
        return G

    @functools.cached_property
    def edge_tails(self) -> np.ndarray:
        """int64 (E,): the tail node of each edge (CSR stores only the heads)."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))

    @functools.cached_property
    def origin(self) -> tuple[float, float]:
        """(lon, lat) of the nodes' bounding-box centre: where positions in metres are measured from."""
        west, south, east, north = self.bbox()
        return (west + east) / 2, (south + north) / 2

    @functools.cached_property
    def node_tree(self) -> Any:
        """A k-d tree of the road nodes (metres), built once per network: nearest nodes, nodes in reach."""
        from scipy.spatial import cKDTree

        return cKDTree(np.column_stack([self.x_m, self.y_m]))

    def with_travel_times(self, travel_time_s: np.ndarray) -> RoadNetwork:
        """The same roads with other edge travel times (s): a network of its own (its own content
        hash, kept in no cache)."""
        return replace(self, travel_time_s=travel_time_s, _hash=None, cache_path=None, from_cache=False)

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored arrays by name (what the cache saves and ``content_hash`` covers)."""
        return {name: getattr(self, name) for name in ARRAY_NAMES}


def arrays_hash(arrays: dict[str, np.ndarray], class_names: Sequence[str]) -> str:
    """sha256 over the arrays (dtype, shape and bytes, in ``ARRAY_NAMES`` order) and the class names."""
    digest = hashlib.sha256()
    for name in ARRAY_NAMES:
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        digest.update(a.tobytes())
    digest.update(json.dumps(list(class_names)).encode())
    return digest.hexdigest()


def network_from_arrays(spec: NetworkSpec, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                        content_hash: str | None = None, **extra: Any) -> RoadNetwork:
    """A RoadNetwork from its stored arrays and the facts in ``meta`` (road class names, synthetic,
    source label, dropped counts); node positions in metres are derived here. ``content_hash``:
    the arrays' hash when already known (checked by the caller)."""
    west, east = float(arrays["lon"].min()), float(arrays["lon"].max())
    south, north = float(arrays["lat"].min()), float(arrays["lat"].max())
    x_m, y_m = project_m(arrays["lon"], arrays["lat"], ((west + east) / 2, (south + north) / 2))
    return RoadNetwork(
        spec=spec, x_m=x_m, y_m=y_m, **arrays,
        road_class_names=tuple(meta["road_class_names"]), synthetic=bool(meta["synthetic"]),
        source_label=str(meta["source_label"]), dropped_nodes=int(meta["dropped_nodes"]),
        dropped_edges=int(meta["dropped_edges"]), _hash=content_hash, **extra,
    )


# ---------------------------------------------------------------- graph -> arrays


def network_from_graph(G: nx.MultiDiGraph, spec: NetworkSpec, *, source_label: str | None = None,
                       synthetic: bool | None = None) -> RoadNetwork:
    """Compact arrays of a road graph's largest strongly connected component.

    ``G`` is OSMnx-compatible: node ``x`` = lon, ``y`` = lat (degrees); edge ``length`` (m),
    ``travel_time`` (s), ``highway``. Parallel edges collapse to the fastest; self-loops go.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from sim.network.osm import road_class, road_class_rank

    label = source_label or G.graph.get("source_label") or G.graph.get("name") or spec.source
    synthetic = bool(G.graph.get("synthetic", False)) if synthetic is None else synthetic
    nodes = sorted(G.nodes) if all(isinstance(n, (int, np.integer)) for n in G.nodes) else list(G.nodes)
    position = {n: i for i, n in enumerate(nodes)}
    tail, head, time_s, length, classes = [], [], [], [], []
    for u, v, data in G.edges(data=True):
        if u == v:
            continue
        tail.append(position[u])
        head.append(position[v])
        time_s.append(float(data["travel_time"]))
        length.append(float(data["length"]))
        classes.append(road_class(data.get("highway")))
    if not tail:
        raise InputError(f"{label}: no drivable road (the graph has {len(nodes)} nodes and no edges)")

    tail_a, head_a = np.array(tail, np.int64), np.array(head, np.int64)
    time_a = np.array(time_s, np.float64)
    length_a = np.maximum(np.array(length, np.float64), _MIN_LENGTH_M)
    # Re-derive times on clamped zero lengths so speed stays what the graph said.
    time_a = np.where(time_a > 0, time_a, length_a / (30 / 3.6))
    if not np.all(np.isfinite(time_a)):
        raise ValueError("graph edge travel_time must be finite")
    class_names = tuple(sorted(set(classes), key=road_class_rank))   # most important first
    class_a = np.array([class_names.index(c) for c in classes], np.int8)

    # One edge per (tail, head): the fastest, so CSR lookups are unambiguous.
    order = np.lexsort((time_a, head_a, tail_a))
    tail_a, head_a, time_a, length_a, class_a = (a[order] for a in (tail_a, head_a, time_a, length_a, class_a))
    first = np.ones(len(tail_a), bool)
    first[1:] = (tail_a[1:] != tail_a[:-1]) | (head_a[1:] != head_a[:-1])
    tail_a, head_a, time_a, length_a, class_a = (a[first] for a in (tail_a, head_a, time_a, length_a, class_a))
    n_before, e_before = len(nodes), len(tail_a)

    graph = coo_matrix((np.ones(e_before), (tail_a, head_a)), shape=(n_before, n_before)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    keep_label = np.argmax(np.bincount(labels))    # the largest; ties go to the lowest label
    keep = labels == keep_label
    new_index = np.cumsum(keep) - 1
    kept_edge = keep[tail_a] & keep[head_a]
    tail_a, head_a = new_index[tail_a[kept_edge]], new_index[head_a[kept_edge]]
    time_a, length_a, class_a = time_a[kept_edge], length_a[kept_edge], class_a[kept_edge]
    # Edges are still sorted by (tail, head): renumbering keeps the order.
    n_kept = int(keep.sum())
    indptr = np.zeros(n_kept + 1, np.int64)
    np.cumsum(np.bincount(tail_a, minlength=n_kept), out=indptr[1:])
    used_classes = np.unique(class_a)
    names = tuple(class_names[i] for i in used_classes)
    class_a = np.searchsorted(used_classes, class_a).astype(np.int8)

    kept_nodes = [nodes[i] for i in np.flatnonzero(keep)]
    osmid = np.array([n if isinstance(n, (int, np.integer)) else -1 for n in kept_nodes], np.int64)
    arrays = {
        "node_osmid": osmid,
        "lon": np.array([G.nodes[n]["x"] for n in kept_nodes], np.float64),
        "lat": np.array([G.nodes[n]["y"] for n in kept_nodes], np.float64),
        "indptr": indptr,
        "indices": head_a.astype(np.int32),
        "travel_time_s": time_a,
        "length_m": length_a,
        "road_class": class_a,
    }
    meta = {"road_class_names": names, "synthetic": synthetic, "source_label": label,
            "dropped_nodes": n_before - n_kept, "dropped_edges": e_before - len(head_a)}
    if meta["dropped_nodes"]:
        log.info("%s: kept the largest strongly connected component, %d of %d nodes (%d edges dropped)",
                 label, n_kept, n_before, meta["dropped_edges"])
    return network_from_arrays(spec, arrays, meta)


# ---------------------------------------------------------------- sites


def snap_sites(network: RoadNetwork, sites: Sequence[Any], max_snap_m: float = 500.0) -> dict[str, tuple[int, float]]:
    """Site id -> (nearest node index, snap distance m).

    ``sites`` holds objects with ``id``, ``lat``, ``lon`` attributes (the scenario's ``Site``)
    or tuples ``(id, lon, lat)`` (x before y, like ``nearest_node``). A site farther than
    ``max_snap_m`` from every node is an InputError naming it and the distance.
    """
    ids, lons, lats = [], [], []
    for site in sites:
        if isinstance(site, tuple):
            site_id, lon, lat = site
        else:
            site_id, lon, lat = site.id, site.lon, site.lat
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"site {site_id}: lat {lat}, lon {lon} is not a position (lat/lon swapped?)")
        ids.append(str(site_id))
        lons.append(float(lon))
        lats.append(float(lat))
    if not ids:
        return {}
    x, y = project_m(np.array(lons), np.array(lats), network.origin)
    dist, nodes = network.node_tree.query(np.column_stack([x, y]))
    problems = [
        f"site {site_id} is {d:,.0f} m from the nearest road node (more than max_snap_m = {max_snap_m:g} m): "
        f"check its lat/lon or the network area"
        for site_id, d in zip(ids, dist) if d > max_snap_m
    ]
    if problems:
        raise InputError(problems)
    return {site_id: (int(k), float(d)) for site_id, k, d in zip(ids, nodes, dist)}
