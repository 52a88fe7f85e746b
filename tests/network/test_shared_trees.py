"""Travel trees shared by the processes of a run: made once, read in place, the same to the bit.

Every check runs real processes (forked, or attached by path as a Dask worker on the same
machine would) against a tree cache of one's own.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.network import shared_trees
from sim.network.shared_trees import SharedTrees
from sim.network.trees import TravelTimes
from tests.graphs import random_grid_network

ROOT = Path(__file__).resolve().parents[2]
VOTING = ROOT / "scenarios" / "jember_voting_day_2024.yaml"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="shared trees need fork and fcntl (Linux here)")


@pytest.fixture(scope="module")
def grid():
    return random_grid_network(30, 40, seed=11)  # one-way streets included


def _ask(times: TravelTimes, dests: list[int], answers) -> None:
    """In a child process: ask for the trees of ``dests``; send back how many it made itself."""
    for dest in dests:
        times.tree(dest)
    answers.put((times.trees_built, times.trees_from_shared))


def _in_child(target, *args) -> None:
    process = multiprocessing.get_context("fork").Process(target=target, args=args)
    process.start()
    process.join(60)
    assert process.exitcode == 0, "the child process failed"


def test_a_tree_one_process_made_is_read_by_the_others_not_made_again(grid):
    times = TravelTimes(grid, budget_bytes=2**30)
    path = times.share()
    assert path is not None and Path(path).exists()
    answers = multiprocessing.get_context("fork").Queue()
    try:
        _in_child(_ask, times, [5, 10, 15], answers)
        assert answers.get(timeout=10) == (3, 0), "the first process makes its three trees"
        _in_child(_ask, times, [10, 15, 20], answers)
        assert answers.get(timeout=10) == (1, 2), "the second reads the two made before and makes one"
        assert times.shared.held == 4
        assert times.trees_built == 0  # this process asked for nothing yet
        own = TravelTimes(grid, budget_bytes=2**30)
        for dest in (5, 10, 15, 20):
            shared_time, shared_next = times.tree(dest)
            own_time, own_next = own.tree(dest)
            assert shared_time.tobytes() == own_time.tobytes() and shared_next.tobytes() == own_next.tobytes(), \
                f"the shared tree of node {dest} differs from the one made here"
        assert times.trees_built == 0 and times.trees_from_shared == 4
        assert not times.tree(5)[0].flags.writeable, "a shared tree must not be written through"
    finally:
        times.unshare()
    assert not Path(path).exists(), "the process that made the file removes it"
    assert times.trees_held == 4 and times.trees_built == 0, "the trees read stay in the cache, copied"


def test_a_process_not_forked_attaches_by_path_only_to_its_own_networks_trees(grid):
    times = TravelTimes(grid, budget_bytes=2**30)
    path = times.share()
    try:
        times.tree(7)
        other = TravelTimes(grid, budget_bytes=2**30)
        assert other.attach_shared(path)
        assert other.tree(7)[0].tobytes() == times.tree(7)[0].tobytes() and other.trees_built == 0
        another_network = random_grid_network(30, 40, seed=12)
        stranger = TravelTimes(another_network, budget_bytes=2**30)
        assert not stranger.attach_shared(path), "trees of another network must be refused"
        assert stranger.tree(7)[0].tobytes() == TravelTimes(another_network).tree(7)[0].tobytes()
        assert not stranger.attach_shared(str(Path(path).with_name("no-such-file")))
    finally:
        times.unshare()


def test_past_the_shared_files_room_trees_are_kept_privately_and_are_the_same(grid):
    times = TravelTimes(grid, budget_bytes=2 * 12 * grid.n_nodes)  # room for two trees
    times.share()
    try:
        assert times.shared.capacity == 2
        for dest in (1, 2, 3):
            times.tree(dest)
        assert times.shared.held == 2 and times.trees_built == 3 and times.trees_held == 3
        assert times.tree(3)[0].tobytes() == TravelTimes(grid).tree(3)[0].tobytes()
    finally:
        times.unshare()


def test_the_trees_held_before_sharing_go_into_the_file(grid):
    times = TravelTimes(grid, budget_bytes=2**30)
    before = times.tree(9)[0].copy()
    times.share()
    try:
        in_file = times.shared.get(9)
        assert in_file is not None and times.shared.held == 1, "a tree made before sharing is not in the file"
        assert in_file[0].tobytes() == before.tobytes() and times.tree(9)[0].tobytes() == before.tobytes()
    finally:
        times.unshare()


def test_no_file_is_made_without_room_for_one_tree(grid):
    assert SharedTrees.create(grid.n_nodes, 0, "0" * 64) is None


def _result_hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.csv"))}


@pytest.mark.slow
def test_the_voting_day_on_two_workers_with_shared_trees_writes_the_files_of_one_worker(tmp_path, cache,
                                                                                          monkeypatch):
    # 4,041 polling stations: their trees are made on first need, so the workers share them.
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(shared_trees, "_SHM", shm)  # where the run's files go: seen empty after it
    common = ["run", str(VOTING), "--reps", "2", "--hours", "8", "--no-event-effects"]
    assert main([*common, "--workers", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    one, two = _result_hashes(tmp_path / "one"), _result_hashes(tmp_path / "two")
    assert one.keys() == two.keys() and "incidents.csv" in one
    assert one == two, "files that differ: " + ", ".join(name for name in one if one[name] != two[name])
    assert not list(shm.iterdir()), "a shared tree file outlived its run"
