"""Travel-time tables: hand-checked routes, agreement with networkx, the cache."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.network import NetworkSpec, RoadNetwork, load_network
from sim.network.routing import (
    TravelTables,
    build_travel_tables,
    load_travel_tables,
    save_travel_tables,
    travel_tables_for,
)
from tests.graphs import network_from_edges, random_grid_network

# Hand-built town, times in seconds:
#
#   0 <-10/10-> 1 <-10/10-> 2        two-way streets 0-1 and 1-2
#   0 --5--> 3 --5--> 2              one-way streets 0->3 and 3->2
#   1 --4--> 4 --7--> 0              one-way detour through 4
#
# So 0 -> 2 takes the one-way shortcut (10 s) but 2 -> 0 must go back through 1 (20 s,
# the detour 2 -> 1 -> 4 -> 0 takes 21 s). No two routes between a pair tie.
HAND_EDGES = [
    (0, 1, 10.0), (1, 0, 10.0), (1, 2, 10.0), (2, 1, 10.0),
    (0, 3, 5.0), (3, 2, 5.0), (1, 4, 4.0), (4, 0, 7.0),
]


@pytest.fixture
def hand_network() -> RoadNetwork:
    tails, heads, times_s = zip(*HAND_EDGES)
    network = network_from_edges(5, np.array(tails), np.array(heads), np.array(times_s))
    assert network.n_nodes == 5 and network.n_edges == len(HAND_EDGES)  # nothing dropped
    return network


def without_edge(network: RoadNetwork, tail: int, head: int) -> RoadNetwork:
    """A copy of ``network`` without the edge tail -> head (it may no longer be strongly connected)."""
    keep = np.arange(network.n_edges) != network.edge_id(tail, head)
    indptr = network.indptr.copy()
    indptr[tail + 1 :] -= 1
    return dataclasses.replace(
        network,
        indptr=indptr,
        indices=network.indices[keep],
        travel_time_s=network.travel_time_s[keep],
        length_m=network.length_m[keep],
        road_class=network.road_class[keep],
        _hash=None,
    )


@pytest.fixture(scope="module")
def grid_network() -> RoadNetwork:
    return random_grid_network(30, 40, seed=7)


@pytest.fixture(scope="session")
def demo_network(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    # A private cache folder: the test must build the network, not reuse a user's cache.
    return load_network(NetworkSpec("demo"), cache_dir=tmp_path_factory.mktemp("patrolsim_cache"))


def test_hand_network_times_follow_one_way_streets(hand_network: RoadNetwork) -> None:
    tables = build_travel_tables(hand_network, [2, 0, 4])
    assert tables.time_s_to(2, 0) == pytest.approx(10.0)  # 0 -> 3 -> 2 one-way shortcut
    assert tables.time_s_to(0, 2) == pytest.approx(20.0)  # 2 -> 1 -> 0, no way back through 3
    assert tables.time_s_to(0, 3) == pytest.approx(25.0)  # 3 -> 2 -> 1 -> 0
    assert tables.time_s_to(2, 4) == pytest.approx(17.0)  # 4 -> 0 -> 3 -> 2
    assert tables.time_s_to(4, 0) == pytest.approx(14.0)  # 0 -> 1 -> 4
    assert tables.time_s_to(2, 2) == 0.0


def test_hand_network_routes_differ_by_direction(hand_network: RoadNetwork) -> None:
    tables = build_travel_tables(hand_network, [0, 2])
    nodes, cum_time_s = tables.route(0, 2)
    assert nodes.tolist() == [0, 3, 2]
    assert cum_time_s.tolist() == [0.0, 5.0, 10.0]
    nodes, cum_time_s = tables.route(2, 0)
    assert nodes.tolist() == [2, 1, 0]
    assert cum_time_s.tolist() == [0.0, 10.0, 20.0]
    nodes, cum_time_s = tables.route(4, 2)
    assert nodes.tolist() == [4, 0, 3, 2]
    assert cum_time_s.tolist() == [0.0, 7.0, 12.0, 17.0]
    nodes, cum_time_s = tables.route(2, 2)
    assert nodes.tolist() == [2] and cum_time_s.tolist() == [0.0]
    assert nodes.dtype == np.int64 and cum_time_s.dtype == np.float64


def test_hand_network_next_hops(hand_network: RoadNetwork) -> None:
    tables = build_travel_tables(hand_network, [2, 4])
    assert tables.next_node[tables.row(2)].tolist() == [3, 2, -1, 2, 0]
    assert tables.next_node[tables.row(4)].tolist() == [1, 4, 1, 2, -1]


def test_unreachable_destination(hand_network: RoadNetwork) -> None:
    cut = without_edge(hand_network, 1, 4)  # now no street leads into node 4
    tables = build_travel_tables(cut, [4])
    assert tables.next_node[0].tolist() == [-1, -1, -1, -1, -1]
    assert np.isinf(tables.time_s[0, :4]).all() and tables.time_s[0, 4] == 0.0
    with pytest.raises(ValueError, match="cannot be reached"):
        tables.route(0, 4)


def test_destinations_are_sorted_unique_and_rows_found(hand_network: RoadNetwork) -> None:
    tables = build_travel_tables(hand_network, [3, 1, 3, 0])
    assert tables.destinations.tolist() == [0, 1, 3]
    assert tables.destinations.dtype == np.int64
    assert tables.time_s.shape == (3, 5) and tables.time_s.dtype == np.float64
    assert tables.next_node.shape == (3, 5) and tables.next_node.dtype == np.int32
    assert [tables.row(d) for d in (0, 1, 3)] == [0, 1, 2]
    with pytest.raises(KeyError):
        tables.row(2)


def test_bad_destinations_and_weights_are_refused(hand_network: RoadNetwork) -> None:
    with pytest.raises(ValueError):
        build_travel_tables(hand_network, [])
    with pytest.raises(ValueError):
        build_travel_tables(hand_network, [5])
    with pytest.raises(ValueError):
        build_travel_tables(hand_network, [-1])
    zero_time_s = hand_network.travel_time_s.copy()
    zero_time_s[0] = 0.0
    with pytest.raises(ValueError, match="> 0"):
        build_travel_tables(dataclasses.replace(hand_network, travel_time_s=zero_time_s, _hash=None), [0])


def check_against_networkx(network: RoadNetwork, n_dests: int, n_origins: int, seed: int) -> None:
    """Times equal networkx's Dijkstra on ``to_graph()``; routes are edges whose times add up."""
    rng = np.random.default_rng(seed)
    dests = rng.choice(network.n_nodes, size=n_dests, replace=False)
    origins = rng.choice(network.n_nodes, size=n_origins, replace=False)
    tables = build_travel_tables(network, dests)
    graph = network.to_graph()
    osmid = network.node_osmid.tolist()
    index_of = {node: i for i, node in enumerate(osmid)}
    for dest in dests.tolist():
        # Times to dest from every node at once: one search from dest against the edge direction.
        to_dest_s = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), osmid[dest], weight="travel_time")
        expected_s = np.full(network.n_nodes, np.nan)
        expected_s[[index_of[node] for node in to_dest_s]] = list(to_dest_s.values())
        np.testing.assert_allclose(tables.time_s[tables.row(dest)], expected_s, rtol=1e-6)
        for origin in origins.tolist():
            assert tables.time_s_to(dest, origin) == pytest.approx(
                nx.shortest_path_length(graph, osmid[origin], osmid[dest], weight="travel_time"), rel=1e-6
            )
            nodes, cum_time_s = tables.route(origin, dest)
            assert nodes[0] == origin and nodes[-1] == dest
            # Every step is a road of the graph (one edge per node pair), timed as the graph says.
            edge_times_s = [
                min(data["travel_time"] for data in graph[osmid[u]][osmid[v]].values())
                for u, v in zip(nodes[:-1].tolist(), nodes[1:].tolist())
            ]
            assert cum_time_s[0] == 0.0
            np.testing.assert_allclose(np.diff(cum_time_s), edge_times_s, rtol=1e-12)
            assert cum_time_s[-1] == pytest.approx(expected_s[origin], rel=1e-6)


def test_grid_agrees_with_networkx(grid_network: RoadNetwork) -> None:
    check_against_networkx(grid_network, n_dests=6, n_origins=10, seed=11)


@pytest.mark.slow
def test_demo_network_agrees_with_networkx(demo_network: RoadNetwork) -> None:
    check_against_networkx(demo_network, n_dests=4, n_origins=5, seed=2024)


def test_every_next_hop_is_an_edge_on_a_fastest_route(grid_network: RoadNetwork) -> None:
    tables = build_travel_tables(grid_network, [0, grid_network.n_nodes // 2, grid_network.n_nodes - 1])
    for k, dest in enumerate(tables.destinations.tolist()):
        for origin in range(grid_network.n_nodes):
            nxt = int(tables.next_node[k, origin])
            if origin == dest:
                assert nxt == -1
                continue
            edge_s = grid_network.travel_time_s[grid_network.edge_id(origin, nxt)]
            assert tables.time_s[k, origin] == pytest.approx(edge_s + tables.time_s[k, nxt], rel=1e-9)


def assert_same_tables(a: TravelTables, b: TravelTables) -> None:
    for name in ("destinations", "time_s", "next_node", "edge_key", "edge_time_s"):
        got, want = getattr(a, name), getattr(b, name)
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_save_load_round_trip(grid_network: RoadNetwork, tmp_path: Path) -> None:
    tables = build_travel_tables(grid_network, [5, 17, 300])
    path = tmp_path / "tables.npz"
    save_travel_tables(tables, path)
    assert [p.name for p in tmp_path.iterdir()] == ["tables.npz"]  # no temporary file left behind
    loaded = load_travel_tables(path)
    assert_same_tables(loaded, tables)
    assert loaded.route(900, 17)[0].tolist() == tables.route(900, 17)[0].tolist()


def test_cache_builds_once_then_loads(grid_network: RoadNetwork, tmp_path: Path) -> None:
    first = travel_tables_for(grid_network, [40, 3, 40], cache_dir=tmp_path)
    (cached,) = (tmp_path / "travel_tables").iterdir()
    stamp = cached.stat().st_mtime_ns
    second = travel_tables_for(grid_network, [3, 40], cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == stamp  # read, not rewritten
    assert_same_tables(second, first)
    assert_same_tables(second, build_travel_tables(grid_network, [3, 40]))
    travel_tables_for(grid_network, [3, 41], cache_dir=tmp_path)
    assert len(list((tmp_path / "travel_tables").iterdir())) == 2  # another destination set, another entry


def test_cache_defaults_to_patrolsim_cache_folder(
    grid_network: RoadNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATROLSIM_CACHE", str(tmp_path))
    travel_tables_for(grid_network, [3], cache_dir=None)
    assert len(list((tmp_path / "travel_tables").glob("*.npz"))) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_cache_warns_and_rebuilds(grid_network: RoadNetwork, tmp_path: Path, damage: str) -> None:
    expected = travel_tables_for(grid_network, [8, 9], cache_dir=tmp_path)
    (cached,) = (tmp_path / "travel_tables").iterdir()
    content = cached.read_bytes()
    cached.write_bytes({"garbage": b"not an npz file" * 10, "truncated": content[: len(content) // 2], "empty": b""}[damage])
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        rebuilt = travel_tables_for(grid_network, [8, 9], cache_dir=tmp_path)
    assert_same_tables(rebuilt, expected)
    assert_same_tables(load_travel_tables(cached), expected)  # the cache entry was repaired


def test_cache_entry_of_another_format_version_is_rebuilt(grid_network: RoadNetwork, tmp_path: Path) -> None:
    expected = travel_tables_for(grid_network, [8, 9], cache_dir=tmp_path)
    (cached,) = (tmp_path / "travel_tables").iterdir()
    with np.load(cached) as data:
        arrays = dict(data)
    np.savez(cached, **(arrays | {"format_version": np.int64(0)}))  # as an older patrolsim wrote it
    with pytest.warns(RuntimeWarning, match="format version 0.*rebuilding"):
        rebuilt = travel_tables_for(grid_network, [8, 9], cache_dir=tmp_path)
    assert_same_tables(rebuilt, expected)
    assert_same_tables(load_travel_tables(cached), expected)


def test_cache_entry_for_other_destinations_is_rebuilt(grid_network: RoadNetwork, tmp_path: Path) -> None:
    folder = tmp_path / "travel_tables"
    travel_tables_for(grid_network, [1, 2], cache_dir=tmp_path)
    (entry_12,) = folder.iterdir()
    travel_tables_for(grid_network, [1, 3], cache_dir=tmp_path)
    (entry_13,) = set(folder.iterdir()) - {entry_12}
    os.replace(entry_12, entry_13)  # an entry whose name promises {1, 3} but holds {1, 2}
    with pytest.warns(RuntimeWarning, match="other destinations"):
        tables = travel_tables_for(grid_network, [1, 3], cache_dir=tmp_path)
    assert tables.destinations.tolist() == [1, 3]


def test_unwritable_cache_warns_and_still_answers(grid_network: RoadNetwork, tmp_path: Path) -> None:
    (tmp_path / "travel_tables").write_text("a file where the cache folder should be")
    with pytest.warns(RuntimeWarning, match="could not write"):
        tables = travel_tables_for(grid_network, [5, 6], cache_dir=tmp_path)
    assert_same_tables(tables, build_travel_tables(grid_network, [5, 6]))
