"""Benchmark of regency scale (issue 14): thousands of sites, big road networks, heavy load.

Prints one JSON object per line: the figure, its unit, the target (a maximum unless said), whether
it is met, and the machine with its load average. Sections (``--only NAME``, repeatable):

- ``voting_demo``: the voting-day scenario (4,041 polling stations, 200 posted units, 24 h) on the
  demo network, travel trees on first need against today's eager tables for the same work; each
  variant in a fresh process with an empty cache folder (first replication, later replications,
  peak memory, cache on disk), compared as ratios.
- ``voting_run``: ``python run_sim.py run`` of the voting day as a user types it (the scenario's
  replications, the default workers, every result file), timed from outside with the peak memory of
  its whole process tree; the network cached beforehand (targets: 15 s, 600 MB).
- ``voting_300k``: the same on a 300,000-node synthetic regency grid (trees on first need only; the
  eager tables' size is given, not built).
- ``heavy``: 10,000 incidents an hour for 3 h with 20 units; and at 1,000 an hour the queue sorted
  at every release (the dispatcher before the heap, tests/sorted_queue.py) against the heap, same
  rows checked.
- ``mmc``: M/M/c (units posted where calls arise, exponential on-scene) against bare SimPy's M/M/c,
  incidents (customers) per CPU-second, interleaved rounds, medians; c = 5 and c = 20.
- ``hypercube``: exact model at N = 16, 18, 20 and Larson's approximation at N = 200, 500, 1,000
  (``bench_hypercube.py``'s 300-atom town, a process each).
- ``engines``: reverse trees (scipy) against the contraction-hierarchy packages pandana and
  pyroutingkit when they are installed (they are not dependencies): build, one incident's
  travel times from 200 units, one route, memory, agreement with scipy; demo and 300,000 nodes.

    python bench/bench_scale.py [--only voting_demo] [--rounds 7]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere: sim and tests importable

VOTING = ROOT / "scenarios" / "jember_voting_day_2024.yaml"
VOTING_PLAN = "tps-posts"  # 200 units, each posted at its own polling station
GRID_NODES = 300_000
# A contraction hierarchy of a uniform grid has no hierarchy to find: pandana's build of the 300,000-node
# grid ran 30 minutes without finishing on the build machine. Longer than this, an engine is reported unfinished.
ENGINE_TIMEOUT_S = 900.0
MACHINE = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def report(bench: str, value: float, unit: str, target: float | None, at_least: bool = False, **extra: object) -> None:
    met = None if target is None else bool(value >= target if at_least else value <= target)
    print(json.dumps({"bench": bench, "value": round(float(value), 4), "unit": unit, "target": target,
                      "target_is": "min" if at_least else "max", "met": met, **extra,
                      "machine": MACHINE | {"load_avg_1min": round(os.getloadavg()[0], 2)}}), flush=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM, Linux), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: the memory figures need Linux")


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS, Linux), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status: the memory figures need Linux")


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def child(*args: str, python: str | None = None, timeout_s: float | None = None) -> dict:
    """Run this script's ``--child ARGS`` in a fresh process; its last output line as JSON."""
    out = subprocess.run([python or sys.executable, __file__, "--child", *args], check=True, timeout=timeout_s,
                         capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)}).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- the voting day ------------------------------------------------------------------------------


def voting_child(engine: str, network_name: str, reps: int) -> dict:
    """In a fresh process: world + replication 0, then ``reps - 1`` more, on one engine."""
    from sim.config import load_scenario
    from sim.model import build_world, simulate
    from sim.network import load_network

    scenario = load_scenario(VOTING)
    if network_name == "demo":
        network = load_network(scenario.network)  # from the cache the parent warmed
    else:
        from tests.regency_grid import regency_grid_network
        network = regency_grid_network(GRID_NODES)
    start = time.perf_counter()
    world = build_world(scenario, network, eager_max_bytes=2**62 if engine == "eager" else 0)
    first = simulate(scenario, world, VOTING_PLAN, 0)
    first_s = time.perf_counter() - start
    trees_first = world.tables.trees_built
    later_s = []
    for rep in range(1, reps):
        start = time.perf_counter()
        simulate(scenario, world, VOTING_PLAN, rep)
        later_s.append(time.perf_counter() - start)
    return {"first_s": first_s, "later_s": later_s, "peak_mb": peak_rss_mb(), "nodes": network.n_nodes,
            "incidents_rep0": len(first.incidents), "trees_first": trees_first, "trees_built": world.tables.trees_built,
            "trees_held": world.tables.trees_held, "destinations": len(set(world.site_node.values()))}


def bench_voting_demo(reps: int) -> None:
    from sim.config import load_scenario
    from sim.network import load_network

    runs = {}
    for engine in ("trees", "eager"):
        cache = Path(tempfile.mkdtemp(prefix="patrolsim-scale-"))
        try:
            os.environ["PATROLSIM_CACHE"] = str(cache)
            load_network(load_scenario(VOTING).network)  # the network itself is not this work
            network_mb = folder_mb(cache)
            runs[engine] = child("voting", engine, "demo", str(reps)) | {"disk_mb": folder_mb(cache),
                                                                           "network_mb": network_mb}
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    trees, eager = runs["trees"], runs["eager"]
    common = {"sites": 4077, "units": 200, "hours": 24, "network": "demo", "nodes": trees["nodes"]}
    report("voting_demo_first_rep_s", trees["first_s"], "s", 10.0, **common, trees_built=trees["trees_first"],
           note="world (snap 4,077 sites, resolve plans) + replication 0, network from cache, empty table cache")
    report("voting_demo_later_rep_s", statistics.median(trees["later_s"]), "s", 2.0,
           runs_s=[round(t, 3) for t in trees["later_s"]], trees_built_total=trees["trees_built"],
           trees_held=trees["trees_held"])
    report("voting_demo_peak_rss_mb", trees["peak_mb"], "MB", 600.0, note="VmHWM of the process, Python included")
    report("voting_demo_cache_disk_mb", trees["disk_mb"], "MB", 100.0, network_mb=round(trees["network_mb"], 1),
           note="the whole cache folder after the run: the network only; trees are kept in memory")
    report("eager_demo_first_rep_s", eager["first_s"], "s", None, note="today's eager tables, built and written")
    report("eager_demo_later_rep_s", statistics.median(eager["later_s"]), "s", None)
    report("eager_demo_peak_rss_mb", eager["peak_mb"], "MB", None)
    report("eager_demo_cache_disk_mb", eager["disk_mb"], "MB", None, destinations=eager["destinations"])
    for name, key in (("first_rep", "first_s"), ("peak_rss", "peak_mb"), ("cache_disk", "disk_mb")):
        report(f"voting_demo_{name}_eager_over_trees", eager[key] / trees[key], "x", None, at_least=True)
    report("voting_demo_later_rep_trees_over_eager", statistics.median(trees["later_s"]) /
           statistics.median(eager["later_s"]), "x", None,
           note="later replications meet new incident sites, whose trees are made then")


def bench_voting_run() -> None:
    from process_tree import run_measured

    from sim.config import load_scenario
    from sim.network import load_network

    cache = Path(tempfile.mkdtemp(prefix="patrolsim-scale-"))
    out = Path(tempfile.mkdtemp(prefix="patrolsim-scale-run-"))
    try:
        os.environ["PATROLSIM_CACHE"] = str(cache)
        scenario = load_scenario(VOTING)
        load_network(scenario.network)  # a user's second run finds the network cached
        run = run_measured([sys.executable, "run_sim.py", "run", str(VOTING), "--out", str(out / "run")], ROOT,
                           os.environ | {"PYTHONPATH": str(ROOT)})
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    common = {"command": "python run_sim.py run scenarios/jember_voting_day_2024.yaml --out DIR",
              "reps": scenario.replications, "workers": os.cpu_count()}
    report("voting_run_end_to_end_s", run["wall_s"], "s", 15.0, cpu_s=run["cpu_s"], **common)
    report("voting_run_peak_tree_pss_mb", run["peak_tree_pss_mb"], "MB", 600.0,
           note="summed proportional memory (PSS) of the command and the processes it forks, peak of 50 ms samples: "
                "what the machine gives the run, a page they share counted once")
    report("voting_run_peak_tree_rss_mb", run["peak_tree_mb"], "MB", None,
           note="summed resident memory of the same: a page forked processes share counted once in each")


def bench_voting_300k(reps: int) -> None:
    from sim.network.trees import eager_table_bytes

    run = child("voting", "trees", "grid", str(reps))
    report("voting_300k_first_rep_s", run["first_s"], "s", 60.0, nodes=run["nodes"], trees_built=run["trees_first"],
           note="world + replication 0 on a synthetic regency grid (tests/regency_grid.py), built in memory")
    report("voting_300k_later_rep_s", statistics.median(run["later_s"]), "s", None,
           runs_s=[round(t, 2) for t in run["later_s"]], trees_held=run["trees_held"])
    report("voting_300k_peak_rss_mb", run["peak_mb"], "MB", 2048.0, note="tree cache budget 1 GB (default)")
    report("voting_300k_eager_tables_would_need_mb", eager_table_bytes(run["destinations"], run["nodes"]) / 2**20,
           "MB", None, destinations=run["destinations"], note="today's tables for the same sites: not built")


# -- heavy load and throughput ----------------------------------------------------------------------


def _heavy_scenario(rate_per_hour: float, hours: float):
    """The default scenario's sites; ten disturbance types (the schema's bound is 1,000/h each), half of
    them escalating into the next with a higher priority; 20 units at Polres."""
    from sim.config import load_scenario

    raw = dict(load_scenario(ROOT / "scenarios" / "jember_pilkada_2024.yaml").raw)
    sites = {s: 1 for s in ("kpu_office", "bawaslu_office", "alun_alun", "pasar_tanjung", "unej",
                            "terminal_tawang_alun", "tanggul", "ambulu", "kalisat", "rambipuji")}
    raw["clock"] = {"start": "2024-10-23T00:00", "duration_hours": hours}
    raw["disturbances"] = [
        {"type": f"t{i}", "rate_per_hour": rate_per_hour / 10, "sites": sites, "priority": 1 + i % 3,
         "on_scene_min": {"dist": "exponential", "mean": 10},
         **({"escalation": {"after_min": 30, "to": f"t{(i + 1) % 10}"}} if i % 2 == 0 else {})}
        for i in range(10)]
    raw["plans"] = [{"name": "twenty", "units": [{"type": "polri_car", "count": 20, "base": "polres",
                                                  "patrol": {"mode": "base"}}]}]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the overload warning is the point here
        return load_scenario(raw, folder=ROOT / "scenarios")


def _timed_rows(scenario, world, dispatcher_class=None) -> tuple[float, int, str]:
    from sim.model import incident_rows, simulate, unit_rows

    module = sys.modules["sim.model.simulate"]
    original = module.Dispatcher
    if dispatcher_class is not None:
        module.Dispatcher = dispatcher_class
    try:
        start = time.perf_counter()
        result = simulate(scenario, world, "twenty", 0)
        elapsed = time.perf_counter() - start
    finally:
        module.Dispatcher = original
    digest = hashlib.sha256(repr((incident_rows(result), unit_rows(result))).encode()).hexdigest()[:16]
    return elapsed, len(result.incidents), digest


def bench_heavy() -> None:
    from sim.model import build_world
    from sim.network import load_network
    from tests.sorted_queue import SortedQueueDispatcher

    scenario = _heavy_scenario(10_000, 3)
    world = build_world(scenario, load_network(scenario.network))
    elapsed, n, _ = _timed_rows(scenario, world)
    report("heavy_10000_per_h_3h_20_units_s", elapsed, "s", 5.0, incidents=n,
           note="every incident followed until answered (the queue drains long after the 3 h)")
    small = _heavy_scenario(1_000, 3)
    heap_s, n, heap_rows = _timed_rows(small, world)
    sort_s, _, sort_rows = _timed_rows(small, world, SortedQueueDispatcher)
    report("heavy_1000_per_h_sorted_queue_over_heap", sort_s / heap_s, "x", None, at_least=True, incidents=n,
           heap_s=round(heap_s, 3), sorted_s=round(sort_s, 3), same_rows=heap_rows == sort_rows)


def bare_simpy_mmc(servers: int, rate_per_min: float, mean_min: float, horizon_min: float, seed: int) -> int:
    """The textbook SimPy M/M/c: a Resource with c servers; returns customers served."""
    import simpy

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, servers)
    served = [0]

    def customer(env):
        with desk.request() as request:
            yield request
            yield env.timeout(rng.exponential(mean_min))
            served[0] += 1

    def arrivals(env):
        while True:
            yield env.timeout(rng.exponential(1.0 / rate_per_min))
            env.process(customer(env))

    env.process(arrivals(env))
    env.run(until=horizon_min)
    return served[0]


def bench_mmc(rounds: int) -> None:
    from sim.config import load_scenario
    from sim.model import build_world, simulate
    from sim.network import load_network

    mean_min, load, hours = 30.0, 0.8, 2000
    for servers in (5, 20):
        rate_per_hour = load * servers * 60 / mean_min
        raw = dict(load_scenario(ROOT / "scenarios" / "jember_pilkada_2024.yaml").raw)
        raw["clock"] = {"start": "2024-10-23T00:00", "duration_hours": hours}
        raw["disturbances"] = [{"type": "call", "rate_per_hour": rate_per_hour, "sites": {"alun_alun": 1},
                                "on_scene_min": {"dist": "exponential", "mean": mean_min}, "priority": 1}]
        raw["plans"] = [{"name": "mmc", "units": [{"type": "polri_car", "count": servers, "base": "alun_alun",
                                                   "patrol": {"mode": "post", "at": "alun_alun"}}]}]
        scenario = load_scenario(raw, folder=ROOT / "scenarios")
        world = build_world(scenario, load_network(scenario.network))
        simulate(scenario, world, "mmc", 0)  # warm: routes, trees
        ours, bare = [], []
        for rep in range(rounds):  # interleaved: both see the same machine
            start = time.process_time()
            n = len(simulate(scenario, world, "mmc", rep).incidents)
            ours.append(n / (time.process_time() - start))
            start = time.process_time()
            n = bare_simpy_mmc(servers, rate_per_hour / 60, mean_min, hours * 60, rep)
            bare.append(n / (time.process_time() - start))
        report(f"mmc_c{servers}_throughput_over_bare_simpy", statistics.median(ours) / statistics.median(bare), "x",
               0.5, at_least=True, patrolsim_per_s=round(statistics.median(ours)), bare_simpy_per_s=round(
                   statistics.median(bare)), note="incidents (customers) simulated per CPU-second, medians of "
               f"{rounds} interleaved rounds; load 0.8, {hours} h, one site, zero travel")


def bench_hypercube() -> None:
    for model, units, target_s, target_mb in (("exact", 16, None, None), ("exact", 18, None, None),
                                             ("exact", 20, None, 2048.0), ("approximate", 200, None, 1024.0),
                                             ("approximate", 500, None, 1024.0), ("approximate", 1000, None, 1024.0)):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_hypercube.py"), "--one", model, str(units)],
                             check=True, capture_output=True, text=True).stdout
        measured = json.loads(out)
        report(f"hypercube_{model}_{units}_s", measured["seconds"], "s", target_s, atoms=300, load=0.8)
        report(f"hypercube_{model}_{units}_peak_rss_mb", measured["peak_rss_mb"], "MB", target_mb)


# -- routing engines -------------------------------------------------------------------------------


def engine_child(engine: str, network_name: str) -> dict:
    """In a fresh process: build one engine on one network, time its queries, check its answers."""
    from scipy.sparse.csgraph import dijkstra

    if network_name == "demo":
        from sim.network import NetworkSpec, load_network
        network = load_network(NetworkSpec("demo"))
    else:
        from tests.regency_grid import regency_grid_network
        network = regency_grid_network(GRID_NODES)
    rng = np.random.default_rng(7)
    units = rng.choice(network.n_nodes, 200, replace=False)
    targets = rng.choice(network.n_nodes, 20, replace=False)
    before_mb = rss_mb()
    start = time.perf_counter()
    if engine == "scipy_trees":
        from sim.network.trees import TravelTimes
        times = TravelTimes(network, budget_bytes=2**40)

        def one_incident(t):
            return times.times_s_to(t, units)

        def one_route(u, t):
            return times.route(u, t)
    elif engine == "pandana":
        import pandas as pd
        import pandana
        net = pandana.Network(pd.Series(network.lon), pd.Series(network.lat), pd.Series(network.edge_tails),
                              pd.Series(network.indices.astype(np.int64)),
                              pd.DataFrame({"s": network.travel_time_s}), twoway=False)

        def one_incident(t):
            return np.asarray(net.shortest_path_lengths(units, np.full(len(units), t), imp_name="s"))

        def one_route(u, t):
            return net.shortest_path(int(u), int(t), imp_name="s")
    else:
        import pyroutingkit
        topology = pyroutingkit.CCHTopology()
        topology.build(network.edge_tails.astype(np.uint32), network.indices.astype(np.uint32),
                       network.lat.astype(np.float32), network.lon.astype(np.float32), network.n_nodes)
        metric = pyroutingkit.CCHMetric(topology)
        metric.customize(np.round(network.travel_time_s * 1000).astype(np.uint32))  # integer milliseconds

        def one_incident(t):
            return metric.distances_many_to_many(units.astype(np.uint32), np.array([t], np.uint32))[:, 0] / 1000.0

        def one_route(u, t):
            return metric.query(int(u), int(t))
    build_s = time.perf_counter() - start
    incident_s, route_s, answers = [], [], []
    for k, t in enumerate(targets):
        start = time.perf_counter()
        answers.append(np.asarray(one_incident(int(t)), float))
        incident_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        one_route(units[k], int(t))
        route_s.append(time.perf_counter() - start)
    memory_mb = rss_mb() - before_mb  # the engine and what it keeps after 20 incidents (trees: 20 trees)
    exact = dijkstra(network.csr(), directed=True, indices=units)[:, targets]
    error_s = max(float(np.max(np.abs(got - exact[:, k]))) for k, got in enumerate(answers))
    return {"build_s": build_s, "build_mb": memory_mb, "incident_ms": 1000 * statistics.median(incident_s),
            "route_ms": 1000 * statistics.median(route_s), "max_error_s": error_s, "peak_mb": peak_rss_mb(),
            "nodes": network.n_nodes}


def bench_engines(python: str | None) -> None:
    for network_name in ("demo", "grid"):
        for engine in ("scipy_trees", "pandana", "pyroutingkit"):
            module = {"scipy_trees": "scipy", "pandana": "pandana", "pyroutingkit": "pyroutingkit"}[engine]
            probe = subprocess.run([python or sys.executable, "-c", f"import {module}"], capture_output=True)
            if probe.returncode != 0:
                print(json.dumps({"bench": f"engine_{engine}_{network_name}", "skipped": f"{module} not installed"}))
                continue
            try:
                run = child("engine", engine, network_name, python=python, timeout_s=ENGINE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                report(f"engine_{engine}_{network_name}_build_s", ENGINE_TIMEOUT_S, "s", None, engine=engine,
                       network=network_name, note=f"not done after {ENGINE_TIMEOUT_S:.0f} s: stopped (value is a lower bound)")
                continue
            common = {"engine": engine, "network": network_name, "nodes": run["nodes"]}
            report(f"engine_{engine}_{network_name}_build_s", run["build_s"], "s", None, **common)
            report(f"engine_{engine}_{network_name}_memory_mb", run["build_mb"], "MB", None, **common,
                   peak_rss_mb=round(run["peak_mb"], 1), note="resident memory added by the build and 20 incidents (trees: the 20 trees)")
            report(f"engine_{engine}_{network_name}_200_units_to_incident_ms", run["incident_ms"], "ms", None,
                   **common, note="travel times of 200 units to one new destination, median of 20 (scipy: a new tree)")
            report(f"engine_{engine}_{network_name}_route_ms", run["route_ms"], "ms", None, **common)
            report(f"engine_{engine}_{network_name}_max_error_s", run["max_error_s"], "s", None, **common,
                   note="largest difference from scipy's Dijkstra over 4,000 unit-incident pairs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["voting_demo", "voting_run", "voting_300k", "heavy", "mmc",
                                                           "hypercube", "engines"])
    parser.add_argument("--reps", type=int, default=5, help="replications per voting-day run (first + later)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the M/M/c comparison")
    parser.add_argument("--engines-python", help="a Python with pandana/pyroutingkit (default: this one)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = voting_child(rest[0], rest[1], int(rest[2])) if kind == "voting" else engine_child(rest[0], rest[1])
        print(json.dumps(result))
        return 0
    if not 2 <= args.reps <= 50 or not 1 <= args.rounds <= 100:
        parser.error("--reps must be 2..50 and --rounds 1..100")
    wanted = args.only or ["voting_demo", "voting_run", "voting_300k", "heavy", "mmc", "hypercube", "engines"]
    for name in wanted:
        {"voting_demo": lambda: bench_voting_demo(args.reps), "voting_run": bench_voting_run,
         "voting_300k": lambda: bench_voting_300k(args.reps),
         "heavy": bench_heavy, "mmc": lambda: bench_mmc(args.rounds), "hypercube": bench_hypercube,
         "engines": lambda: bench_engines(args.engines_python)}[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
