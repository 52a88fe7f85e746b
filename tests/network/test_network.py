"""RoadNetwork: graph -> arrays, the cache, site snapping, specs from --network, the CLI on bad input."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pydantic import ValidationError

from sim.config.settings import cache_dir
from sim.errors import InputError
from sim.network import (
    NetworkSpec,
    load_network,
    network_cache_key,
    network_from_graph,
    network_spec_from_arg,
    snap_sites,
)
from tests.commands import in_process

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "jember_small.osm"
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROLSIM_CACHE", str(tmp_path / "cache"))


def small_graph() -> nx.MultiDiGraph:
    """Four nodes in a one-way ring 10 -> 20 -> 30 -> 40 -> 10, plus 20 <-> 30 two-way with a
    slower parallel edge, a self-loop, and node 50 reached one-way from 40 only."""
    G = nx.MultiDiGraph(crs="epsg:4326", name="small")
    for osmid, (lon, lat) in {10: (113.700, -8.170), 20: (113.701, -8.170), 30: (113.701, -8.171),
                              40: (113.700, -8.171), 50: (113.699, -8.171)}.items():
        G.add_node(osmid, x=lon, y=lat)

    def road(u, v, time_s, length_m, highway="residential"):
        G.add_edge(u, v, travel_time=time_s, length=length_m, highway=highway)

    road(10, 20, 10.0, 110.0, "primary")
    road(20, 30, 12.0, 110.0)
    road(20, 30, 30.0, 150.0, "service")      # slower parallel road: dropped
    road(30, 20, 12.0, 110.0)
    road(30, 40, 11.0, 110.0, ["tertiary", "residential"])
    road(40, 10, 9.0, 110.0)
    road(40, 40, 5.0, 20.0)                   # self-loop: dropped
    road(40, 50, 8.0, 110.0)                  # one-way into a dead end: 50 is dropped
    return G


def test_graph_to_arrays_keeps_the_strongly_connected_fastest_edges():
    net = network_from_graph(small_graph(), NetworkSpec("demo"))
    assert net.node_osmid.tolist() == [10, 20, 30, 40]
    assert (net.n_nodes, net.n_edges) == (4, 5)
    assert (net.dropped_nodes, net.dropped_edges) == (1, 1)
    dense = net.csr().toarray()
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[2, 1], expected[2, 3], expected[3, 0] = 10, 12, 12, 11, 9
    np.testing.assert_array_equal(dense, expected)
    assert net.csr("length_m")[1, 2] == 110.0                 # the faster parallel edge's length
    e = net.edge_id(1, 2)
    assert net.travel_time_s[e] == 12.0 and net.road_class_names[net.road_class[e]] == "residential"
    # A merged edge's class is its most important one.
    assert net.road_class_names[net.road_class[net.edge_id(2, 3)]] == "tertiary"
    with pytest.raises(KeyError):
        net.edge_id(1, 0)
    assert net.indices.dtype == np.int32 and net.indptr.dtype == np.int64 and net.road_class.dtype == np.int8


def test_a_graph_without_edges_is_an_input_error():
    G = nx.MultiDiGraph(crs="epsg:4326")
    G.add_node(1, x=113.7, y=-8.17)
    with pytest.raises(InputError, match="no drivable road"):
        network_from_graph(G, NetworkSpec("demo"), source_label="empty area")


def test_info_reports_what_network_info_prints():
    net = network_from_graph(small_graph(), NetworkSpec("demo"), synthetic=True, source_label="synthetic test")
    info = net.info()
    assert info["source"] == "demo" and info["synthetic"] is True and info["source_label"] == "synthetic test"
    assert (info["nodes"], info["edges"], info["dropped_nodes"], info["dropped_edges"]) == (4, 5, 1, 1)
    assert info["strongly_connected_share"] == pytest.approx(4 / 5)
    assert info["bbox"] == pytest.approx([113.700, -8.171, 113.701, -8.170])
    assert info["total_length_km"] == pytest.approx(0.55)
    assert info["content_hash"] == net.content_hash() and len(net.content_hash()) == 64
    json.dumps(info)                          # the CLI prints it as JSON


def test_to_graph_round_trips():
    net = network_from_graph(small_graph(), NetworkSpec("demo"))
    G = net.to_graph()
    assert G.graph["crs"] == "epsg:4326" and set(G.nodes) == {10, 20, 30, 40}
    assert G.edges[30, 40, 0]["oneway"] and not G.edges[20, 30, 0]["oneway"]
    assert network_from_graph(G, NetworkSpec("demo")).content_hash() == net.content_hash()


def test_demo_source_is_synthetic_and_says_so():
    net = load_network(NetworkSpec("demo"))
    assert net.synthetic and "synthetic" in net.source_label and net.info()["synthetic"] is True
    assert net.dropped_nodes >= 0 and np.all(net.travel_time_s > 0)


# ------------------------------------------------------------------ cache


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROLSIM_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("PATROLSIM_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "patrolsim"


def test_second_load_reads_the_cache_without_networkx_or_osmnx(tmp_path):
    spec = NetworkSpec("file", path=str(FIXTURE))
    first = load_network(spec)
    assert not first.from_cache and Path(first.cache_path).is_file()
    assert Path(first.cache_path).is_relative_to(tmp_path / "cache")
    code = (
        "import sys; from sim.network import NetworkSpec, load_network\n"
        f"net = load_network(NetworkSpec('file', path={str(FIXTURE)!r}))\n"
        "print(net.from_cache, net.content_hash(), 'networkx' in sys.modules, 'osmnx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=os.environ | {"PYTHONPATH": str(ROOT)}, check=True).stdout.split()
    assert out == ["True", first.content_hash(), "False", "False"]


@pytest.mark.parametrize("damage", ["truncate_npz", "garbage_json", "wrong_hash", "missing_npz", "old_format"])
def test_corrupt_cache_entry_warns_and_rebuilds(damage):
    spec = NetworkSpec("file", path=str(FIXTURE))
    good = load_network(spec)
    npz = Path(good.cache_path)
    meta = npz.with_suffix(".json")
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "garbage_json":
        meta.write_text("{not json")
    elif damage == "wrong_hash":
        meta.write_text(json.dumps(json.loads(meta.read_text()) | {"content_hash": "0" * 64}))
    elif damage == "old_format":
        meta.write_text(json.dumps(json.loads(meta.read_text()) | {"format": 0}))
    else:
        npz.unlink()
    with pytest.warns(UserWarning, match="unusable.*rebuilding"):
        rebuilt = load_network(spec)
    assert not rebuilt.from_cache and rebuilt.content_hash() == good.content_hash()
    again = load_network(spec)                # the rebuilt entry is good again
    assert again.from_cache and again.content_hash() == good.content_hash()


def test_an_edited_file_rebuilds(tmp_path):
    path = tmp_path / "roads.osm"
    path.write_text(FIXTURE.read_text())
    before = load_network(NetworkSpec("file", path=str(path)))
    path.write_text(FIXTURE.read_text().replace('<tag k="maxspeed" v="50"/>', '<tag k="maxspeed" v="25"/>'))
    os.utime(path, ns=(before_ns := path.stat().st_mtime_ns, before_ns + 1_000_000_000))
    after = load_network(NetworkSpec("file", path=str(path)))
    assert not after.from_cache and after.cache_path != before.cache_path
    assert after.travel_time_s.sum() > before.travel_time_s.sum()


def test_refresh_rebuilds_a_good_entry():
    spec = NetworkSpec("file", path=str(FIXTURE))
    load_network(spec)
    assert not load_network(spec, refresh=True).from_cache


def test_cache_writes_leave_no_temp_files():
    net = load_network(NetworkSpec("file", path=str(FIXTURE)))
    names = sorted(p.name for p in Path(net.cache_path).parent.iterdir())
    key = Path(net.cache_path).stem
    assert names == [f"{key}.json", f"{key}.npz"]


def test_cache_key_depends_on_the_source():
    keys = {network_cache_key(NetworkSpec("demo")), network_cache_key(NetworkSpec("osm", place="Jember")),
            network_cache_key(NetworkSpec("osm", place="Jember", network_type="drive_service")),
            network_cache_key(NetworkSpec("osm", bbox=(113.6, -8.25, 113.8, -8.1))),
            network_cache_key(NetworkSpec("file", path=str(FIXTURE)))}
    assert len(keys) == 5
    assert network_cache_key(NetworkSpec("osm", place="Jember")) == network_cache_key(NetworkSpec("osm", place="Jember"))


# ------------------------------------------------------------------ sites


class Site:
    def __init__(self, id: str, lat: float, lon: float):
        self.id, self.lat, self.lon = id, lat, lon


def test_snap_sites_gives_nearest_node_and_distance():
    net = network_from_graph(small_graph(), NetworkSpec("demo"))
    sites = [
        Site("on_node", -8.170, 113.700),             # exactly node 10
        Site("north_of_20", -8.169, 113.701),         # 0.001 deg north of node 20
        ("south_of_30", 113.701, -8.1715),            # tuple: (id, lon, lat)
    ]
    snapped = snap_sites(net, sites)
    assert snapped["on_node"] == (0, pytest.approx(0.0, abs=1e-6))
    assert snapped["north_of_20"][0] == 1
    assert snapped["north_of_20"][1] == pytest.approx(0.001 * M_PER_DEG_LAT, rel=1e-3)   # about 111 m
    assert snapped["south_of_30"] == (2, pytest.approx(0.0005 * M_PER_DEG_LAT, rel=1e-3))
    assert net.nearest_node(113.701, -8.169) == snapped["north_of_20"]


def test_site_too_far_is_an_input_error_naming_it_and_the_distance():
    net = network_from_graph(small_graph(), NetworkSpec("demo"))
    with pytest.raises(InputError) as err:
        snap_sites(net, [Site("near", -8.170, 113.700), Site("kpu_warehouse", -8.180, 113.700)], max_snap_m=500)
    assert len(err.value.problems) == 1
    assert "kpu_warehouse" in err.value.problems[0] and "1,001 m" in err.value.problems[0]   # 0.009 deg of latitude


def test_swapped_lat_lon_is_an_input_error():
    net = network_from_graph(small_graph(), NetworkSpec("demo"))
    with pytest.raises(InputError, match="alun_alun.*swapped"):
        snap_sites(net, [("alun_alun", -8.17, 113.70)])   # (id, lat, lon) given where (id, lon, lat) is meant


# ------------------------------------------------------------------ --network values


@pytest.mark.parametrize("arg, spec", [
    ("demo", NetworkSpec("demo")),
    ("data/jember.osm.pbf", NetworkSpec("file", path="data/jember.osm.pbf")),
    ("roads.OSM", NetworkSpec("file", path="roads.OSM")),
    ("x.graphml", NetworkSpec("file", path="x.graphml")),
    ("osm:Kabupaten Jember, Jawa Timur, Indonesia", NetworkSpec("osm", place="Kabupaten Jember, Jawa Timur, Indonesia")),
    ("osm:113.6,-8.25,113.8,-8.1", NetworkSpec("osm", bbox=(113.6, -8.25, 113.8, -8.1))),
])
def test_network_spec_from_arg(arg, spec):
    assert network_spec_from_arg(arg) == spec


@pytest.mark.parametrize("arg, says", [("osm", "needs a place or a bbox"), ("dmeo", "unknown network 'dmeo'"),
                                       ("roads.shp", "unknown network 'roads.shp'")])
def test_network_spec_from_arg_rejects(arg, says):
    with pytest.raises(InputError, match=says):
        network_spec_from_arg(arg)


def test_an_unknown_source_cannot_be_made():
    with pytest.raises(ValidationError, match="Input should be 'demo', 'osm' or 'file'"):
        NetworkSpec("web")


# ------------------------------------------------------------------ command line


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return in_process(*args)


@pytest.mark.parametrize("content", [None, "plain text, not OpenStreetMap\n"])
def test_cli_bad_network_file_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "roads.osm"
    if content is not None:
        path.write_text(content)
    result = run_cli("network", "info", "--network", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "roads.osm" in lines[0]


def test_cli_network_info_json_on_a_file():
    result = run_cli("network", "info", "--network", str(FIXTURE), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["nodes"] > 0 and info["dropped_nodes"] == 3 and info["synthetic"] is False


def test_a_synthetic_network_saved_as_graphml_stays_synthetic(tmp_path):
    import osmnx as ox

    net = network_from_graph(small_graph(), NetworkSpec("demo"), synthetic=True, source_label="synthetic test")
    path = tmp_path / "demo.graphml"
    ox.save_graphml(net.to_graph(), path)
    loaded = load_network(NetworkSpec("file", path=str(path)))
    assert loaded.synthetic and "synthetic" in loaded.source_label
    assert loaded.content_hash() == net.content_hash()
