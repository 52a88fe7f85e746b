"""The road network for a ``NetworkSpec``: built from its source (demo / OSM / file) or read from the cache.

A built network is cached as an ``.npz`` of its arrays plus a small JSON file of facts, keyed by
everything it depends on (``network_cache_key``); a cached network loads without networkx or
OSMnx. The arrays themselves (``RoadNetwork``, graph -> arrays, site snapping) live in
``sim.network.road_network``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

from sim.config.network_spec import FILE_SUFFIXES, NetworkSpec, check_bbox
from sim.errors import InputError
from sim.network import cache
from sim.network.road_network import ARRAY_NAMES, RoadNetwork, arrays_hash, network_from_arrays, network_from_graph

#: Bumped whenever the arrays or their meaning change: old cache entries are then rebuilt.
CACHE_FORMAT_VERSION = 1
#: the demo network's name in the result files (manifest.json, the CSV files' network column)
DEMO_LABEL = "synthetic demo network of Jember (not real roads)"
#: What decides the demo network's content: the generator's modules, the module that reads the
#: kecamatan, and its package data. An edit to any of them rebuilds the demo's cache entry.
DEMO_SOURCE_MODULES = ("sim.network.demo", "sim.network._demo_roads", "sim.network._demo_towns",
                       "sim.network._demo_arterials", "sim.network.geo", "sim.config.kecamatan")
DEMO_SOURCE_DATA = ("jember_kecamatan.csv", "jember_kecamatan_population.csv")


def network_cache_key(spec: NetworkSpec) -> str:
    """A stable hex digest of everything the built network depends on.

    Includes the cache format, the fallback speed table, for files their size and
    modification time (an edited file rebuilds), for the demo its generator's source and data.
    """
    from sim.network import osm

    # Only the fields the source reads: a demo spec that also names a place is the same network.
    used = {"demo": (), "osm": ("place", "bbox", "network_type"), "file": ("path", "network_type")}
    fields = spec.model_dump() | {"bbox": list(spec.bbox) if spec.bbox is not None else None}
    parts: dict[str, Any] = {
        "format": CACHE_FORMAT_VERSION,
        "spec": {"source": spec.source} | {key: fields[key] for key in used.get(spec.source, fields)},
        "speeds": [osm.FALLBACK_SPEED_KPH, osm.DEFAULT_SPEED_KPH],
    }
    if spec.source == "file" and spec.path is not None:
        path = Path(spec.path).resolve()
        stat = path.stat()
        parts["spec"]["path"] = str(path)
        parts["file"] = [stat.st_size, stat.st_mtime_ns]
    if spec.source == "demo":
        code = hashlib.sha256()
        for module in DEMO_SOURCE_MODULES:
            origin = importlib.util.find_spec(module)
            if origin is not None and origin.origin is not None:
                code.update(Path(origin.origin).read_bytes())
        for name in DEMO_SOURCE_DATA:
            code.update((resources.files("sim") / "data" / name).read_bytes())
        parts["demo_code"] = code.hexdigest()
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load_network(spec: NetworkSpec, cache_dir: str | Path | None = None, *, refresh: bool = False) -> RoadNetwork:
    """The road network for ``spec``: from the cache if there is a good entry, else built and cached.

    ``refresh`` rebuilds (and re-downloads through OSMnx's HTTP cache) even with a good entry.
    A corrupt or stale entry is rebuilt with a warning. Bad input raises ``InputError``.
    """
    root = Path(cache_dir) if cache_dir is not None else cache.cache_dir()
    _check_spec(spec)
    key = network_cache_key(spec)
    npz = root / "networks" / f"{key}.npz"
    if not refresh:
        cached = cache.load_cached(
            npz, ARRAY_NAMES, CACHE_FORMAT_VERSION,
            lambda arrays, meta: _network_from_entry(spec, key, npz, arrays, meta),
            what="network cache entry", with_meta=True,
        )
        if cached is not None:
            return cached
    network = _build(spec, root)
    meta = {
        "cache_key": key, "spec": network.spec.model_dump(),
        "road_class_names": list(network.road_class_names), "synthetic": network.synthetic,
        "source_label": network.source_label, "dropped_nodes": network.dropped_nodes,
        "dropped_edges": network.dropped_edges, "content_hash": network.content_hash(),
        "nodes": network.n_nodes, "edges": network.n_edges,
    }
    if cache.save_cached(npz, network.arrays(), CACHE_FORMAT_VERSION, meta, what="network cache entry"):
        network.cache_path = str(npz)
    return network


def _network_from_entry(spec: NetworkSpec, key: str, npz: Path, arrays: dict[str, Any],
                        meta: dict[str, Any]) -> RoadNetwork:
    """The network in a cache entry, once its meta is shown to belong to ``key`` and its arrays."""
    if meta.get("cache_key") != key:
        raise cache.DamagedEntry(f"written for cache key {meta.get('cache_key')!r}, not {key!r}")
    if arrays_hash(arrays, meta["road_class_names"]) != meta["content_hash"]:
        raise cache.DamagedEntry("arrays do not match their recorded hash")
    return network_from_arrays(spec, arrays, meta, cache_path=str(npz), from_cache=True,
                               content_hash=meta["content_hash"])


def _check_spec(spec: NetworkSpec) -> None:
    if spec.source == "osm":
        if (spec.place is None) == (spec.bbox is None):
            raise InputError("network source osm needs exactly one of place or bbox")
        if spec.bbox is not None:
            check_bbox(spec.bbox)
    if spec.source == "file":
        if not spec.path:
            raise InputError("network source file needs a path")
        if not spec.path.lower().endswith(FILE_SUFFIXES):
            raise InputError(f"unsupported network file {spec.path!r}: use one of {', '.join(FILE_SUFFIXES)}")
        if not Path(spec.path).is_file():
            raise InputError(f"network file not found: {spec.path!r}")


def _build(spec: NetworkSpec, root: Path) -> RoadNetwork:
    from sim.network import osm

    if spec.source == "demo":
        from sim.network.demo import build_demo_graph

        return network_from_graph(build_demo_graph(), spec, synthetic=True,
                                  source_label=DEMO_LABEL)
    if spec.source == "osm":
        G = osm.graph_from_osm(spec.place, spec.bbox, network_type=spec.network_type, http_cache_dir=root / "osmnx")
    else:
        G = osm.graph_from_file(spec.path, network_type=spec.network_type)  # type: ignore[arg-type]
    return network_from_graph(G, spec)
