"""Benchmark of the network and routing layers against the targets of issue 2.

Prints one JSON object per line: the figure, its unit, the target, whether it is met,
and the machine. Run from anywhere: ``python bench/bench_network.py``.

The machine may be shared and noisy, so every timing is the median of repeats, and the
engine and networkx are timed interleaved in the same run before they are compared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the script runs from bench/: make sim and tests.graphs importable

from sim.network import NetworkSpec, RoadNetwork, load_network  # noqa: E402
from sim.network.routing import build_travel_tables  # noqa: E402
from tests.graphs import random_grid_network  # noqa: E402

N_DESTINATIONS = 50
# 320 x 320 = 102,400 grid points; keeping the largest strongly connected component
# leaves a little over 100,000 nodes.
GRID_ROWS = GRID_COLS = 320
GRID_SEED = 2024
DEST_SEED = 7

MACHINE = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def report(bench: str, value: float, unit: str, target: float, at_least: bool = False, **extra: object) -> None:
    """Print one result line; the target is a maximum unless ``at_least``."""
    met = value >= target if at_least else value <= target
    line = {
        "bench": bench,
        "value": round(value, 4),
        "unit": unit,
        "target": target,
        "target_is": "min" if at_least else "max",
        "met": bool(met),
        **extra,
        # The load average tells how busy the shared machine was while this figure was taken.
        "machine": MACHINE | {"load_avg_1min": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(line), flush=True)


def seconds(action: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def digraph_from_network(network: RoadNetwork) -> nx.DiGraph:
    """The network as a plain networkx DiGraph (``travel_time`` in s): networkx's fastest layout."""
    tails = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    graph = nx.DiGraph()
    graph.add_nodes_from(range(network.n_nodes))
    graph.add_weighted_edges_from(
        zip(tails.tolist(), network.indices.tolist(), network.travel_time_s.tolist()), weight="travel_time"
    )
    return graph


def bench_demo_network(repeats: int) -> RoadNetwork:
    """First build into an empty cache folder, then loads from that cache; returns the network."""
    with tempfile.TemporaryDirectory(prefix="patrolsim-bench-") as cache:
        start = time.perf_counter()
        network = load_network(NetworkSpec("demo"), cache_dir=cache)
        build_s = time.perf_counter() - start
        report("demo_build_s", build_s, "s", 20.0, nodes=network.n_nodes, edges=network.n_edges,
               note="generate the synthetic graph, compact it, write the cache (empty cache folder)")
        load_s = []
        for _ in range(max(repeats, 5)):
            start = time.perf_counter()
            cached = load_network(NetworkSpec("demo"), cache_dir=cache)
            load_s.append(time.perf_counter() - start)
            assert cached.from_cache, "the second load must come from the cache"
        report("demo_load_cached_s", statistics.median(load_s), "s", 1.0, runs_s=[round(t, 4) for t in load_s])
    return network


def bench_tables(name: str, network: RoadNetwork, repeats: int, nx_destinations: int, time_target_s: float) -> None:
    """Travel tables for 50 destinations, and the same work done by networkx one-to-all Dijkstra."""
    rng = np.random.default_rng(DEST_SEED)
    dests = rng.choice(network.n_nodes, size=N_DESTINATIONS, replace=False)
    # Times *to* a destination are one-to-all searches on the reversed graph, as in the engine.
    reversed_graph = digraph_from_network(network).reverse(copy=True)
    nx_dests = dests[:nx_destinations].tolist()
    engine_s: list[float] = []
    nx_per_dest_s: list[float] = []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        engine_s.append(seconds(lambda: build_travel_tables(network, dests)))
        nx_s = seconds(
            lambda: [nx.single_source_dijkstra_path_length(reversed_graph, d, weight="travel_time") for d in nx_dests]
        )
        nx_per_dest_s.append(nx_s / len(nx_dests))
    engine_median_s = statistics.median(engine_s)
    nx_median_s = statistics.median(nx_per_dest_s) * N_DESTINATIONS
    report(
        f"{name}_tables_{N_DESTINATIONS}_dest_s",
        engine_median_s,
        "s",
        time_target_s,
        nodes=network.n_nodes,
        edges=network.n_edges,
        runs_s=[round(t, 4) for t in engine_s],
    )
    scaled = nx_destinations < N_DESTINATIONS
    report(
        f"{name}_speedup_vs_networkx",
        nx_median_s / engine_median_s,
        "x",
        10.0,
        at_least=True,
        engine_s=round(engine_median_s, 4),
        networkx_s=round(nx_median_s, 4),
        networkx_note=(
            f"networkx timed on {nx_destinations} destinations and scaled to {N_DESTINATIONS}"
            if scaled
            else f"networkx timed on all {N_DESTINATIONS} destinations"
        )
        + "; search only (graph built beforehand), distances only (the engine also gives next hops)",
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux).

    VmHWM belongs to the process image, so it starts afresh at exec; getrusage's ru_maxrss
    would also count the parent's memory at the moment it forked this process.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError("no VmHWM in /proc/self/status: the memory figure needs Linux")


def peak_memory_child() -> None:
    """Runs in a fresh process: build the 100,000-node grid and its tables, print memory figures (MB)."""
    after_imports_mb = peak_rss_mb()
    network = random_grid_network(GRID_ROWS, GRID_COLS, seed=GRID_SEED)
    dests = np.random.default_rng(DEST_SEED).choice(network.n_nodes, size=N_DESTINATIONS, replace=False)
    # tracemalloc sees numpy's buffers: the routing engine's own peak, apart from the graph building.
    tracemalloc.start()
    tables = build_travel_tables(network, dests)
    _, tables_build_peak_b = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({
        "peak_mb": peak_rss_mb(),
        "after_imports_mb": after_imports_mb,
        "tables_mb": (tables.time_s.nbytes + tables.next_node.nbytes) / 2**20,
        "tables_build_peak_mb": tables_build_peak_b / 2**20,
        "nodes": network.n_nodes,
    }))


def bench_peak_memory() -> None:
    """Peak resident memory of the 100,000-node case, measured in a process of its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child"], check=True, capture_output=True, text=True
    ).stdout
    child = json.loads(out.strip().splitlines()[-1])
    report(
        "grid_100k_peak_rss_mb",
        child["peak_mb"],
        "MB",
        1500.0,
        nodes=child["nodes"],
        after_imports_mb=round(child["after_imports_mb"], 1),
        tables_mb=round(child["tables_mb"], 1),
        tables_build_peak_mb=round(child["tables_build_peak_mb"], 1),
        note="peak RSS (VmHWM) of a fresh process that builds the grid (networkx graph -> network_from_graph) "
        "and its 50-destination tables; tables_build_peak_mb: tracemalloc peak of build_travel_tables alone",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (the median is reported)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        peak_memory_child()
        return
    bench_peak_memory()  # first, while this process is small
    demo = bench_demo_network(args.repeats)
    bench_tables("demo", demo, args.repeats, nx_destinations=10, time_target_s=3.0)
    del demo
    grid = random_grid_network(GRID_ROWS, GRID_COLS, seed=GRID_SEED)
    bench_tables("grid_100k", grid, args.repeats, nx_destinations=5, time_target_s=6.0)


if __name__ == "__main__":
    main()
