"""Run plans x replications of a scenario and write the result files (SPEC §5)."""
from __future__ import annotations

import csv
import difflib
import io
import json
import math
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Iterable, Sequence

from sim.config import load_scenario
from sim.errors import InputError
from sim.metrics import (
    INCIDENT_COLUMNS,
    SUMMARY_COLUMNS,
    UNIT_COLUMNS,
    incident_rows,
    summary_row,
    unit_rows,
)
from sim.model import build_world, simulate
from sim.network import NetworkSpec, load_network, network_spec_from_arg

PACKAGES = ("patrolsim", "simpy", "numpy", "scipy", "networkx", "osmnx", "pydantic", "pyyaml")


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def choose_plans(scenario, wanted: Sequence[str] | None) -> list[str]:
    """The plans to run, in scenario order; an unknown name is an error with a suggestion."""
    names = [plan.name for plan in scenario.plans]
    if not wanted:
        return names
    problems = []
    for name in wanted:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (plans: {', '.join(names)})"
            problems.append(f"--plan: no plan '{name}' in the scenario{hint}")
    if problems:
        raise InputError(problems)
    return [name for name in names if name in wanted]


def network_spec(scenario, arg: str | None) -> NetworkSpec:
    """The scenario's network, unless --network says otherwise ('osm' keeps its place/bbox)."""
    if arg is None:
        return scenario.network
    if arg == "osm":
        if scenario.network.place is None and scenario.network.bbox is None:
            raise InputError("--network osm: the scenario's network has no 'place' or 'bbox' to download")
        return NetworkSpec("osm", place=scenario.network.place, bbox=scenario.network.bbox)
    return network_spec_from_arg(arg)


def format_table(summary: list[dict], target_min: float) -> str:
    """The per-plan table printed at the end of a run."""
    header = (
        f"{'plan':24s} {'reps':>4s} {'incidents':>9s} {'mean response min':>19s} "
        f"{'p90 min':>7s} {f'within {target_min:g} min %':>20s} {'busy':>5s}"
    )
    lines = [header, "-" * len(header)]
    for row in summary:
        mean = f"{_cell(row['response_mean_min'])[:-2]} ± {_cell(row['response_mean_ci95'])[:-2] or '?'}"
        within = f"{_cell(row['within_target_pct'])[:-2]} ± {_cell(row['within_target_ci95'])[:-2] or '?'}"
        lines.append(
            f"{row['plan'][:24]:24s} {row['reps']:4d} {row['incidents']:9d} {mean:>19s} "
            f"{_cell(row['response_p90_min'])[:-2]:>7s} {within:>20s} {row['busy_fraction_mean']:5.2f}"
        )
    return "\n".join(lines)


def run_experiment(
    scenario_path: Path,
    plans: Sequence[str] | None = None,
    reps: int | None = None,
    seed: int | None = None,
    hours: float | None = None,
    network: str | None = None,
    out_dir: Path | None = None,
    command_line: Sequence[str] = (),
    quiet: bool = False,
) -> Path:
    """Run the chosen plans for every replication; write the result files; return their folder."""
    started = time.perf_counter()
    overrides = {
        key: value
        for key, value in (("replications", reps), ("seed", seed), ("clock.duration_hours", hours))
        if value is not None
    }
    scenario = load_scenario(scenario_path, overrides)
    plan_names = choose_plans(scenario, plans)
    out_dir = Path(out_dir) if out_dir is not None else Path("results") / scenario.name
    road_network = load_network(network_spec(scenario, network))
    world = build_world(scenario, road_network)

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    say(f"{scenario.name}: {len(plan_names)} plans x {scenario.replications} reps, "
        f"{scenario.clock.duration_hours:g} h each, on the {road_network.source_label}")
    incidents, units, summary = [], [], []
    for plan in plan_names:
        plan_incidents, plan_units = [], []
        for rep in range(scenario.replications):
            result = simulate(scenario, world, plan, rep)
            plan_incidents += incident_rows(result)
            plan_units += unit_rows(result)
        say(f"  {plan}: {scenario.replications} reps done")
        incidents += plan_incidents
        units += plan_units
        summary.append(summary_row(plan, plan_incidents, plan_units, scenario.target_response_min))

    write_atomic(out_dir / "incidents.csv", csv_text(INCIDENT_COLUMNS, incidents))
    write_atomic(out_dir / "units.csv", csv_text(UNIT_COLUMNS, units))
    write_atomic(out_dir / "summary.csv", csv_text(SUMMARY_COLUMNS, summary))
    info = road_network.info()
    manifest = {
        "scenario": scenario.raw,
        "scenario_sha256": scenario.sha256,
        "scenario_path": str(scenario_path),
        "plans": plan_names,
        "replications": scenario.replications,
        "seed": scenario.seed,
        "rep_seeds": "numpy SeedSequence(seed, spawn_key=(rep, purpose, ...)) for rep in 0..replications-1",
        "network": {
            "source": info["source"],
            "source_label": road_network.source_label,
            "synthetic": road_network.synthetic,
            "nodes": road_network.n_nodes,
            "edges": road_network.n_edges,
            "content_hash": road_network.content_hash(),
        },
        "site_snap_m": world.site_snap_m,
        "placeholder_sites": [s.id for s in scenario.sites if s.approximate],
        "versions": _versions(),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "command_line": list(command_line),
    }
    write_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")

    if not quiet:
        print(format_table(summary, scenario.target_response_min))
        if road_network.synthetic:
            print(f"Road network: {road_network.source_label}. Figures show method, not Jember's real roads.")
        approximate = [s.id for s in scenario.sites if s.approximate]
        if approximate:
            print(f"Approximate or placeholder site positions: {', '.join(approximate)}.")
        print(f"Results in {out_dir}/")
    return out_dir
