"""Tests of the synthetic Jember demo network (sim.network.demo)."""

from __future__ import annotations

import ast
import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from osmnx.distance import great_circle

from sim.config.kecamatan import load_kecamatan
from sim.network.demo import (
    CITY_CORE_BBOX,
    ROAD_CLASSES,
    SPEED_KPH,
    build_demo_graph,
    demo_network_description,
)
from sim.network.roads import DEMO_SOURCE_MODULES

ROOT = Path(__file__).resolve().parents[2]
SITES_CSV = ROOT / "sim" / "data" / "jember_sites.csv"
MAX_SITE_GAP_M = 300.0  # the simulator snaps up to 500 m; keep a margin


def _column_bytes(values: list[object]) -> bytes:
    # Numbers as float64 bytes: exact, and much faster than repr() for 100k edges.
    if all(type(x) in (int, float) for x in values):
        return np.array(values, dtype=np.float64).tobytes()
    return repr(values).encode()


def graph_digest(graph: nx.MultiDiGraph) -> str:
    """sha256 over graph attrs, then nodes and edges in sorted order with every attribute."""
    h = hashlib.sha256(repr(sorted(graph.graph.items())).encode())
    nodes = sorted(graph.nodes(data=True), key=lambda n: n[0])
    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: e[:3])
    for rows in (nodes, edges):
        h.update(np.array([r[:-1] for r in rows], dtype=np.int64).tobytes())
        attrs = [r[-1] for r in rows]
        for key in sorted({k for d in attrs for k in d}):
            h.update(key.encode() + _column_bytes([d.get(key) for d in attrs]))
    return h.hexdigest()


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return build_demo_graph()


@pytest.fixture(scope="module")
def lonlat(graph: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """Node lon, lat (degrees), indexed by node id (ids are 0..N-1)."""
    assert sorted(graph.nodes) == list(range(graph.number_of_nodes()))
    lon = np.array([graph.nodes[n]["x"] for n in range(graph.number_of_nodes())])
    lat = np.array([graph.nodes[n]["y"] for n in range(graph.number_of_nodes())])
    return lon, lat


@pytest.fixture(scope="module")
def edges(graph: nx.MultiDiGraph) -> list[tuple[int, int, dict]]:
    return list(graph.edges(data=True))


@pytest.mark.slow
def test_two_builds_are_identical(graph: nx.MultiDiGraph) -> None:
    again = build_demo_graph()
    assert again.number_of_nodes() == graph.number_of_nodes()
    assert again.number_of_edges() == graph.number_of_edges()
    assert graph_digest(again) == graph_digest(graph)


@pytest.mark.slow
def test_build_does_not_depend_on_hash_seed(graph: nx.MultiDiGraph) -> None:
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_demo_network import graph_digest;"
        "from sim.network.demo import build_demo_graph;"
        "print(graph_digest(build_demo_graph()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert out.stdout.strip() == graph_digest(graph)


def test_the_cache_key_covers_every_module_of_the_generator() -> None:
    """The demo's cache entry is keyed by the source of its generator: every ``_demo_*`` module
    and every sim module they import must be in the key, or an edit there would reuse a stale
    network."""
    generator = [ROOT / "sim" / "network" / "demo.py", *sorted((ROOT / "sim" / "network").glob("_demo_*.py"))]
    read = {f"sim.network.{path.stem}" for path in generator}
    for path in generator:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim."):
                read.add(node.module)
    assert read >= {"sim.network.demo", "sim.network._demo_roads", "sim.config.kecamatan"}
    missing = read - set(DEMO_SOURCE_MODULES)
    assert not missing, f"the demo network's cache key leaves out {sorted(missing)}"


def test_large_and_strongly_connected(graph: nx.MultiDiGraph) -> None:
    assert graph.number_of_nodes() >= 20_000
    assert nx.is_strongly_connected(graph)


def test_nodes_inside_regency_bbox(lonlat: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = lonlat
    kec = load_kecamatan()
    assert len(kec) == 31
    assert lon.min() >= min(k.west for k in kec) and lon.max() <= max(k.east for k in kec)
    assert lat.min() >= min(k.south for k in kec) and lat.max() <= max(k.north for k in kec)


def test_osmnx_attributes(graph: nx.MultiDiGraph, edges: list[tuple[int, int, dict]]) -> None:
    for n, d in graph.nodes(data=True):
        assert type(n) is int and type(d["x"]) is float and type(d["y"]) is float
        assert d["street_count"] >= 1
    for _, _, d in edges:
        assert type(d["osmid"]) is int
        assert d["highway"] in ROAD_CLASSES
        assert d["speed_kph"] == SPEED_KPH[d["highway"]]
        assert type(d["oneway"]) is bool and type(d["reversed"]) is bool
    assert {d["highway"] for _, _, d in edges} == set(ROAD_CLASSES)


def test_lengths_and_travel_times(
    edges: list[tuple[int, int, dict]], lonlat: tuple[np.ndarray, np.ndarray]
) -> None:
    lon, lat = lonlat
    u = np.array([e[0] for e in edges])
    v = np.array([e[1] for e in edges])
    length_m = np.array([e[2]["length"] for e in edges])
    travel_s = np.array([e[2]["travel_time"] for e in edges])
    speed_kph = np.array([e[2]["speed_kph"] for e in edges])
    assert (length_m > 0).all() and (travel_s > 0).all()
    np.testing.assert_allclose(travel_s, length_m / (speed_kph / 3.6), rtol=1e-4, atol=1e-3)
    geodesic_m = great_circle(lat[u], lon[u], lat[v], lon[v])
    np.testing.assert_allclose(length_m, geodesic_m, rtol=0.01)


def test_two_way_roads_are_edge_pairs(graph: nx.MultiDiGraph, edges: list[tuple[int, int, dict]]) -> None:
    for u, v, d in edges:
        back = graph.get_edge_data(v, u)
        if d["oneway"]:
            assert back is None and not d["reversed"]
        else:
            (b,) = back.values()
            assert b["length"] == d["length"] and b["reversed"] != d["reversed"]


def test_one_way_streets_in_city_core(edges: list[tuple[int, int, dict]], lonlat) -> None:
    lon, lat = lonlat
    west, south, east, north = CITY_CORE_BBOX
    one_way = [(u, v) for u, v, d in edges if d["oneway"]]
    assert len(one_way) >= 50
    for u, v in one_way:
        assert west <= lon[u] <= east and south <= lat[u] <= north
    # Pairs: both directions of travel are represented among the one-way streets.
    dx = np.array([lon[v] - lon[u] for u, v in one_way])
    assert (dx > 0).any() and (dx < 0).any()


def _gap_to_nearest_node_m(lon: np.ndarray, lat: np.ndarray, point_lon: float, point_lat: float) -> float:
    return float(great_circle(point_lat, point_lon, lat, lon).min())


def test_kecamatan_centres_near_nodes(lonlat: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = lonlat
    gaps = {k.name: _gap_to_nearest_node_m(lon, lat, k.lon, k.lat) for k in load_kecamatan()}
    assert {name: gap for name, gap in gaps.items() if gap > MAX_SITE_GAP_M} == {}


def test_sites_near_nodes(lonlat: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = lonlat
    with SITES_CSV.open(newline="", encoding="utf-8") as f:
        sites = list(csv.DictReader(f))
    assert len(sites) >= 10
    gaps = {s["id"]: _gap_to_nearest_node_m(lon, lat, float(s["lon"]), float(s["lat"])) for s in sites}
    assert {site: gap for site, gap in gaps.items() if gap > MAX_SITE_GAP_M} == {}


def test_travel_times_are_plausible(graph: nx.MultiDiGraph, lonlat) -> None:
    """Alun-alun Jember to Kencong town (about 37 km apart) takes roughly an hour by car."""
    lon, lat = lonlat
    alun_alun = int(np.argmin(great_circle(-8.1700, 113.7022, lat, lon)))
    kencong = next(k for k in load_kecamatan() if k.name == "Kencong")
    town = int(np.argmin(great_circle(kencong.lat, kencong.lon, lat, lon)))
    minutes = nx.shortest_path_length(graph, alun_alun, town, weight="travel_time") / 60
    assert 40 <= minutes <= 120


def test_graph_says_it_is_synthetic(graph: nx.MultiDiGraph) -> None:
    assert graph.graph["synthetic"] is True
    assert graph.graph["crs"] == "epsg:4326"
    assert graph.graph["name"] == "Jember synthetic demo network"
    description = graph.graph["description"]
    assert description == demo_network_description()
    assert "synthetic" in description.lower() and "not real roads" in description.lower()
