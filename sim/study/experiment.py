"""Plans x replications: run them (in-process, on local processes or on a Dask cluster), keep
every finished replication on disk, and write the result files of SPEC §5.

Each finished (plan, replication) is saved at once as a part file under ``OUT/.parts/``; the
final files are assembled from the parts, so they do not depend on which executor ran what,
and an interrupted run loses only the replications that were still running.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Iterable, Sequence

from sim.study.stats import (
    COMPARISON_COLUMNS,
    SUMMARY_COLUMNS,
    comparison_row,
    format_table,
    precision_reached,
    summary_row,
)
from sim.config import choose_plans, load_scenario, network_spec, parse_override, scenario_hash
from sim.errors import InputError, RunStopped
from sim.files import make_folder, write_text
from sim.model.records import INCIDENT_COLUMNS, UNIT_COLUMNS, incident_rows, unit_rows
from sim.model import World, build_world, simulate
from sim.config.network_spec import NetworkSpec
from sim.network.roads import RoadNetwork, load_network, network_cache_key

PACKAGES = ("patrolsim", "simpy", "numpy", "scipy", "networkx", "osmnx", "pydantic", "pyyaml", "distributed")
PARTS = ".parts"
NETWORK_COLUMN = "network"  # last column of summary, comparison and sweep tables: which roads (SPEC §6)
AUTO_BATCH_REPS = 5  # --reps auto adds this many at a time, whatever the number of workers


# -- files --------------------------------------------------------------------------------


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    """CSV with fixed columns; floats with 4 decimals, missing values empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return buffer.getvalue()


def _versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# -- choosing what to run ----------------------------------------------------------------------


def scenario_overrides(reps: int | None, seed: int | None, hours: float | None, sets: Sequence[str]) -> dict:
    """Overrides by dotted path from the command line flags (--set last, so it wins)."""
    overrides: dict[str, object] = {}
    for key, value in (("replications", reps), ("seed", seed), ("clock.duration_hours", hours)):
        if value is not None:
            overrides[key] = value
    for text in sets:
        key, value = parse_override(text)
        overrides[key] = value
    return overrides


def parse_reps(text: str | None) -> int | str | None:
    """--reps: a whole number >= 1, or 'auto'."""
    if text is None or text == "auto":
        return text
    try:
        reps = int(text)
    except ValueError:
        raise InputError(f"--reps {text}: expected a whole number or 'auto'") from None
    if reps < 1:
        raise InputError(f"--reps {text}: must be at least 1")
    return reps


# -- one replication, in whichever process runs it -----------------------------------------------

_WORLDS: dict[tuple[str, str], World] = {}  # per process: the network is loaded once, not per task


def _world_key(scenario, network: NetworkSpec | RoadNetwork) -> tuple[str, str]:
    """A network in hand by its content (a Dask worker may lack the file its spec names, so the
    spec's cache key, which reads the file's size and time, is no use there); a spec by its cache key."""
    if isinstance(network, RoadNetwork):
        return scenario.sha256, f"content:{network.content_hash()}"
    return scenario.sha256, f"spec:{network_cache_key(network)}"


def _world(scenario, network: NetworkSpec | RoadNetwork) -> World:
    key = _world_key(scenario, network)
    if key not in _WORLDS:
        road_network = network if isinstance(network, RoadNetwork) else load_network(network)
        _WORLDS[key] = build_world(scenario, road_network)
    return _WORLDS[key]


def run_rep(scenario, network: NetworkSpec | RoadNetwork, plan: str, rep: int) -> dict:
    """Simulate one (plan, replication) and return its table rows."""
    result = simulate(scenario, _world(scenario, network), plan, rep)
    return {"plan": plan, "rep": rep, "incidents": incident_rows(result), "units": unit_rows(result)}


# -- executors -----------------------------------------------------------------------------------

def _run_in_process(scenario, network, tasks, on_done) -> None:
    for plan, rep in tasks:
        on_done(run_rep(scenario, network, plan, rep))


def _run_on_processes(scenario, network: NetworkSpec, tasks, on_done, workers: int) -> None:
    # Forked workers start at once with the world already built; where fork is not the custom
    # (macOS, Windows), spawned ones load the cached network once each.
    context = get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(run_rep, scenario, network, plan, rep) for plan, rep in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(future.result())
        except BrokenProcessPool:
            raise RunStopped("a worker process died") from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_on_dask(scenario, network: RoadNetwork, tasks, on_done, address: str) -> None:
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there ({error})") from None
    with client:
        # Ship the network and scenario to every worker once; tasks then refer to them.
        scenario_data, network_data = client.scatter([scenario, network], broadcast=True)
        futures = [
            client.submit(run_rep, scenario_data, network_data, plan, rep, pure=False) for plan, rep in tasks
        ]
        try:
            for future in as_completed(futures):
                on_done(future.result())
        except BaseException:
            client.cancel(futures)
            raise


class Progress:
    """Replications done, rate and time left, on stderr: a bar on a terminal, else plain lines."""

    def __init__(self, total: int, done: int, quiet: bool):
        self.total, self.done, self.quiet = total, done, quiet
        self.started = time.monotonic()
        self._last_line = 0.0
        self._new = 0
        self._bar = None
        if not quiet and sys.stderr.isatty():
            import tqdm as tqdm_module
            from tqdm import tqdm

            tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked
            self._bar = tqdm(total=total, initial=done, unit="rep", file=sys.stderr, dynamic_ncols=True)

    def extend(self, total: int) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def step(self) -> None:
        self.done += 1
        self._new += 1
        if self._bar is not None:
            self._bar.update(1)
        elif not self.quiet:
            now = time.monotonic()
            if now - self._last_line >= 5.0 or self.done == self.total:
                self._last_line = now
                rate = self._new / max(now - self.started, 1e-9)
                left = (self.total - self.done) / rate if rate > 0 else math.inf
                print(f"  {self.done}/{self.total} replications done, {rate:.1f}/s, about {left:.0f} s left",
                      file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# -- parts on disk ---------------------------------------------------------------------------------


def _part_path(parts: Path, plan_index: int, rep: int) -> Path:
    return parts / f"plan{plan_index:03d}-rep{rep:05d}.json"


def _code_hash() -> str:
    """sha256 over the source of patrolsim (every .py under sim/, by relative path): another
    version, another hash."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _resume_key(scenario, network: RoadNetwork) -> dict:
    """What must not change for parts to be reused: the scenario (bar its replication count),
    the road network and the code."""
    raw = {key: value for key, value in scenario.raw.items() if key != "replications"}
    return {"scenario_sha256": scenario_hash(raw), "network_hash": network.content_hash(),
            "code_sha256": _code_hash()}


def _prepare_parts(out_dir: Path, key: dict, resume: bool) -> Path:
    parts = out_dir / PARTS
    key_file = parts / "run.json"
    if resume and key_file.exists():
        try:
            saved = json.loads(key_file.read_text())
        except (OSError, ValueError) as error:
            raise InputError(f"--resume: {key_file} cannot be read ({error}); run without --resume") from None
        if saved.get("code_sha256") != key["code_sha256"]:
            raise InputError(f"--resume: the parts in {out_dir} were made by another version of patrolsim; "
                             "run without --resume")
        if saved != key:
            what = "scenario" if saved.get("scenario_sha256") != key["scenario_sha256"] else "road network"
            raise InputError(
                f"--resume: the {what} differs from the one the run in {out_dir} started with; "
                "run without --resume to start over, or with another --out"
            )
        return parts
    try:
        if parts.exists():
            shutil.rmtree(parts)
    except OSError as error:
        raise InputError(f"{parts}: cannot write there ({error.strerror or error})") from None
    write_text(key_file, json.dumps(key, sort_keys=True) + "\n")
    return parts


# -- the experiment ----------------------------------------------------------------------------------


def run_experiment(
    scenario_path: Path,
    plans: Sequence[str] | None = None,
    reps: int | str | None = None,
    seed: int | None = None,
    hours: float | None = None,
    sets: Sequence[str] = (),
    network: str | None = None,
    out_dir: Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    precision: float = 0.05,
    max_reps: int = 200,
    command_line: Sequence[str] = (),
    quiet: bool = False,
    figures: bool = True,
) -> tuple[Path, list[dict]]:
    """Run the chosen plans for every replication and write the result files.

    ``reps='auto'`` adds replications in batches until every plan's 95% interval on mean
    response is narrower than ``precision`` times the mean (or ``max_reps`` is reached).
    Returns the output folder and the summary rows.
    """
    started = time.perf_counter()
    auto = reps == "auto"
    scenario = load_scenario(scenario_path, scenario_overrides(None if auto else reps, seed, hours, sets))
    plan_names = choose_plans(scenario, plans)
    spec = network_spec(scenario, network)
    out_dir = make_folder(Path(out_dir) if out_dir is not None else Path("results") / scenario.name)
    road_network = load_network(spec)
    # Snaps the sites (errors early) and caches the travel tables; forked workers inherit it
    # (they are given the spec), the in-process and Dask runs the network itself.
    world = build_world(scenario, road_network)
    _WORLDS[_world_key(scenario, road_network)] = _WORLDS[_world_key(scenario, road_network.spec)] = world
    parts = _prepare_parts(out_dir, _resume_key(scenario, road_network), resume)
    plan_index = {plan.name: i for i, plan in enumerate(scenario.plans)}

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    executor = f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' * (workers > 1)}"
    say(f"{scenario.name}: {len(plan_names)} plans, {scenario.clock.duration_hours:g} h each, "
        f"on the {road_network.source_label}; {executor}")

    n_reps = min(scenario.replications, max_reps) if auto else scenario.replications
    progress = Progress(len(plan_names) * n_reps, 0, quiet)

    def save(part: dict) -> None:
        path = _part_path(parts, plan_index[part["plan"]], part["rep"])
        write_text(path, json.dumps(part))
        progress.step()

    def run_missing(rep_count: int) -> None:
        todo = [(p, r) for p in plan_names for r in range(rep_count)
                if not _part_path(parts, plan_index[p], r).exists()]
        progress.done = len(plan_names) * rep_count - len(todo)
        progress.extend(len(plan_names) * rep_count)
        if not todo:
            return
        if scheduler:
            _run_on_dask(scenario, road_network, todo, save, scheduler)
        elif workers > 1 and len(todo) > 1:
            _run_on_processes(scenario, road_network.spec, todo, save, min(workers, len(todo)))
        else:
            _run_in_process(scenario, road_network, todo, save)

    try:
        while True:
            run_missing(n_reps)
            results = _read_parts(parts, plan_names, plan_index, n_reps)
            summary = [summary_row(p, results[p][0], results[p][1], scenario.target_response_min) for p in plan_names]
            if not auto or n_reps >= max_reps or precision_reached(summary, precision):
                break
            n_reps = min(n_reps + AUTO_BATCH_REPS, max_reps)
    except (KeyboardInterrupt, RunStopped) as stop:
        progress.close()
        saved = len(list(parts.glob("plan*-rep*.json")))
        message = f"{saved} finished replications are saved in {parts}; run again with --resume to finish"
        if isinstance(stop, KeyboardInterrupt):
            print(f"interrupted: {message}", file=sys.stderr)
            raise
        raise RunStopped(f"{stop}: {message}") from None
    progress.close()

    reference = plan_names[0]
    comparison = [
        comparison_row(p, reference, results[p][0], results[reference][0], scenario.target_response_min,
                       range(n_reps))
        for p in plan_names
    ]
    incidents = [row for p in plan_names for row in results[p][0]]
    units = [row for p in plan_names for row in results[p][1]]
    write_text(out_dir / "incidents.csv", csv_text(INCIDENT_COLUMNS, incidents))
    write_text(out_dir / "units.csv", csv_text(UNIT_COLUMNS, units))
    label = {NETWORK_COLUMN: road_network.source_label}
    write_text(out_dir / "summary.csv", csv_text([*SUMMARY_COLUMNS, NETWORK_COLUMN],
                                                 [row | label for row in summary]))
    write_text(out_dir / "comparison.csv", csv_text([*COMPARISON_COLUMNS, NETWORK_COLUMN],
                                                    [row | label for row in comparison]))
    if figures:
        from sim.viz.plots import write_figures

        write_figures(out_dir, scenario.name, road_network.synthetic, scenario.target_response_min,
                      incidents, summary)
    write_text(out_dir / "manifest.json", json.dumps(
        _manifest(scenario, scenario_path, plan_names, n_reps, world, started, command_line, executor),
        indent=2, default=str) + "\n")

    if not quiet:
        print(format_table(summary, comparison, scenario.target_response_min))
        if road_network.synthetic:
            print(f"Road network: {road_network.source_label}: it shows the method, not Jember's real roads.")
        approximate = [s.id for s in scenario.sites if s.approximate]
        if approximate:
            print(f"Sites with approximate or placeholder positions: {', '.join(approximate)}.")
        print(f"Results in {out_dir}/")
    return out_dir, summary


def _read_parts(parts: Path, plan_names, plan_index, n_reps: int) -> dict[str, tuple[list[dict], list[dict]]]:
    """Incident and unit rows of each plan, in replication order, from the part files."""
    results = {}
    for plan in plan_names:
        incidents, units = [], []
        for rep in range(n_reps):
            path = _part_path(parts, plan_index[plan], rep)
            try:
                part = json.loads(path.read_text())
            except (OSError, ValueError) as error:  # written whole, so only a hand edit gets here
                raise InputError(f"{path} cannot be read ({error}); delete it and run again with --resume") from None
            incidents += part["incidents"]
            units += part["units"]
        results[plan] = (incidents, units)
    return results


def _manifest(scenario, scenario_path, plan_names, n_reps, world: World, started, command_line, executor) -> dict:
    road_network = world.network
    info = road_network.info()
    raw = dict(scenario.raw, replications=n_reps)
    return {
        "scenario": raw,
        "scenario_sha256": scenario_hash(raw),
        "scenario_path": str(scenario_path),
        "plans": plan_names,
        "replications": n_reps,
        "seed": scenario.seed,
        "rep_seeds": "replication k draws from numpy SeedSequence(seed, spawn_key=(k, purpose, index)), "
                     f"k = 0..{n_reps - 1}; random-patrol road pools from SeedSequence(seed, "
                     "spawn_key=(4, base node, size, radius m))",
        "network": {
            "source": info["source"],
            "source_label": road_network.source_label,
            "synthetic": road_network.synthetic,
            "nodes": road_network.n_nodes,
            "edges": road_network.n_edges,
            "content_hash": road_network.content_hash(),
        },
        "placeholder_or_approximate_sites": [s.id for s in scenario.sites if s.approximate],
        "site_snap_m": {site: round(metres, 1) for site, metres in world.site_snap_m.items()},
        "executor": executor,
        "versions": _versions(),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "command_line": list(command_line),
    }


def _check_sweep_values(scenario_path: Path, param: str, values: Sequence[str], sets: Sequence[str],
                        run_options: dict):
    """The scenario with the first value; InputError for every value the scenario refuses, before
    anything runs (a problem every value shares is reported once)."""
    reps = run_options.get("reps")
    by_value: dict[str, list[str]] = {}
    scenarios = []
    for text in values:
        overrides = scenario_overrides(None if reps == "auto" else reps, run_options.get("seed"),
                                       run_options.get("hours"), [*sets, f"{param}={text}"])
        try:
            scenarios.append(load_scenario(scenario_path, overrides))
        except InputError as error:
            by_value[text] = error.problems
    if by_value:
        shared = set.intersection(*map(set, by_value.values())) if len(by_value) == len(values) else set()
        problems = [p for p in next(iter(by_value.values())) if p in shared]
        problems += [f"--values {text}: {p}" for text, found in by_value.items() for p in found if p not in shared]
        raise InputError(problems)
    return scenarios[0]


def run_sweep(
    scenario_path: Path,
    param: str,
    values: Sequence[str],
    out_dir: Path | None = None,
    quiet: bool = False,
    **run_options,
) -> Path:
    """Run the experiment once per value of one scenario parameter; write sweep.csv and sweep.png."""
    from sim.viz.plots import write_sweep_figure

    parsed = [parse_override(f"{param}={value}")[1] for value in values]
    base_sets = list(run_options.pop("sets", ()))
    scenario = _check_sweep_values(scenario_path, param, values, base_sets, run_options)
    out_dir = Path(out_dir) if out_dir is not None else Path("results") / scenario.name / f"sweep-{param}"
    rows, synthetic = [], False
    for text, value in zip(values, parsed):
        run_dir, summary = run_experiment(
            scenario_path, sets=[*base_sets, f"{param}={text}"], out_dir=out_dir / f"{param}={text}",
            quiet=True, **run_options
        )
        if not quiet:
            print(f"  {param} = {text}: done ({run_dir})", file=sys.stderr, flush=True)
        manifest = json.loads((run_dir / "manifest.json").read_text())
        synthetic = manifest["network"]["synthetic"]
        label = manifest["network"]["source_label"]
        rows += [{"value": value, "value_text": text, **row, NETWORK_COLUMN: label} for row in summary]
    # The value as typed: 0.1 stays 0.1, not 0.1000.
    table = [{**row, "value": row["value_text"]} for row in rows]
    write_text(out_dir / "sweep.csv", csv_text(["value", *SUMMARY_COLUMNS, NETWORK_COLUMN], table))
    write_sweep_figure(out_dir / "sweep.png", scenario.name, synthetic, param, rows)
    if not quiet:
        for row in rows:
            print(f"{param}={row['value_text']:10s} {row['plan']:22s} mean response "
                  f"{row['response_mean_min']:.1f} ± {row['response_mean_ci95']:.1f} min, within target "
                  f"{row['within_target_pct']:.1f}%")
        print(f"Sweep results in {out_dir}/")
    return out_dir
