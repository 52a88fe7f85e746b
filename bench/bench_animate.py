"""Benchmark of ``animate``: the 6-hour GIF of the default scenario end to end (target ≤ 10 s), its
parts, and the HTML pages (6 hours, and the whole week: ≤ 20 MB).

End to end is the command a user types, run as a child process and timed from outside
(interpreter start, imports, scenario, network, world, simulation, frames, labels, drawing,
encoding): ``python run_sim.py animate scenarios/jember_pilkada_2024.yaml --plan mixed --hours 6
--out a.gif``. The parts are the same steps timed one by one in this process (``write_animation``
reports its steps through ``on_step``); what the parts do not cover is the interpreter's start and
the imports. The network cache is warm (built once before timing, as a user's second run finds it).
``--baseline DIR`` runs the same command from another checkout (say, the commit before a change)
interleaved with this one, and prints the ratio of the medians.

Prints one JSON object per line: the figure (wall seconds; ``cpu_s`` beside it, the machine being
shared), its unit, the target where there is one, whether it is met, and the machine. Run from anywhere: ``python bench/bench_animate.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the script runs from bench/: make sim importable

from sim.config import load_scenario  # noqa: E402
from sim.config.limits import check_work, expected_work  # noqa: E402
from sim.model import build_world  # noqa: E402
from sim.network import load_network  # noqa: E402
from sim.viz.animate import window_overrides, write_animation  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
MACHINE = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def report(bench: str, value: float, unit: str, target: float | None = None, **extra: object) -> None:
    """Print one result line; a target is a maximum."""
    line = {"bench": bench, "value": round(value, 3), "unit": unit}
    if target is not None:
        line |= {"target": target, "target_is": "max", "met": bool(value <= target)}
    # The load average tells how busy the shared machine was while this figure was taken.
    line |= extra | {"machine": MACHINE | {"load_avg_1min": round(os.getloadavg()[0], 2)}}
    print(json.dumps(line), flush=True)


def command(root: Path, scenario: Path, plan: str, hours: float, from_hours: float, out: Path) -> list[str]:
    """The animate command as a user types it, from checkout ``root``."""
    flags = ["--from", f"{from_hours:g}"] if from_hours else []
    return [sys.executable, str(root / "run_sim.py"), "animate", str(scenario), "--plan", plan, "--hours", f"{hours:g}",
            *flags, "--out", str(out)]


def run_command(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the child's) of one run; fails loudly if the command does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parts(scenario_path: Path, plan: str, hours: float, from_hours: float,
          out: Path) -> tuple[dict[str, tuple[float, float]], object]:
    """Wall and CPU seconds of each step the command takes after its imports, in this process, and the frames."""
    seconds: dict[str, tuple[float, float]] = {}
    mark = [time.perf_counter(), time.process_time()]

    def step(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        seconds[name] = (now[0] - mark[0], now[1] - mark[1])
        mark[:] = now

    scenario = load_scenario(scenario_path, window_overrides(load_scenario(scenario_path), hours, from_hours))
    check_work(expected_work(scenario, [plan], 1), False)
    step("scenario")
    network = load_network(scenario.network)
    step("network")
    world = build_world(scenario, network)
    step("world")
    frames = write_animation(scenario, world, plan, out, hours=hours, from_hours=from_hours, on_step=step)
    return seconds, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--plan", default="mixed")
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--from", type=float, default=0.0, dest="from_hours",
                        help="hours after the clock's start (the default command starts at midnight)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command (medians are printed)")
    parser.add_argument("--baseline", type=Path, help="another checkout to run the same command from, for a ratio")
    parser.add_argument("--keep", type=Path, help="folder to keep the GIF and HTML in (default: a temporary one)")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    load_network(scenario.network)  # build or read the cache outside the timing
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        roots = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in roots}
        for repeat in range(args.repeats):   # interleaved, so both see the same load
            for name, root in roots.items():
                out = folder / f"{name}-{args.plan}-{args.hours:g}h.gif"
                out.unlink(missing_ok=True)
                runs[name].append(run_command(command(root, args.scenario, args.plan, args.hours, args.from_hours, out),
                                              root))
        gif = folder / f"this-{args.plan}-{args.hours:g}h.gif"
        walls = [wall for wall, _ in runs["this"]]
        report("animate_gif_end_to_end", statistics.median(walls), "s", 10.0,
               cpu_s=round(statistics.median(cpu for _, cpu in runs["this"]), 3), runs_s=[round(w, 3) for w in walls],
               bytes=gif.stat().st_size,
               command="python " + " ".join(command(Path("."), args.scenario, args.plan, args.hours, args.from_hours,
                                                    Path("a.gif"))[1:]).replace(str(ROOT) + "/", ""))
        if args.baseline:
            base = [wall for wall, _ in runs["baseline"]]
            report("animate_gif_end_to_end_baseline", statistics.median(base), "s", runs_s=[round(w, 3) for w in base],
                   cpu_s=round(statistics.median(cpu for _, cpu in runs["baseline"]), 3), baseline=str(args.baseline))
            report("animate_gif_speedup", statistics.median(base) / statistics.median(walls), "x",
                   note="baseline median wall / this median wall, same run, interleaved")

        timed = [parts(args.scenario, args.plan, args.hours, args.from_hours, folder / "parts.gif")
                 for _ in range(args.repeats)]
        frames = timed[-1][1]
        medians = {name: [statistics.median(t[0][name][i] for t in timed) for i in (0, 1)] for name in timed[0][0]}
        for name, (wall, cpu) in medians.items():
            report(f"animate_gif_part_{name}", wall, "s", cpu_s=round(cpu, 3))
        total, total_cpu = (sum(values[i] for values in medians.values()) for i in (0, 1))
        report("animate_gif_part_start_and_imports", max(statistics.median(walls) - total, 0.0), "s",
               cpu_s=round(max(statistics.median(cpu for _, cpu in runs["this"]) - total_cpu, 0.0), 3),
               note="end to end minus the parts: the interpreter's start and the imports")
        report("animate_gif_parts_sum", total, "s", cpu_s=round(total_cpu, 3), frames=frames.n_frames,
               units=len(frames.unit_ids), incidents=frames.incidents_shown, plan=args.plan, hours=args.hours,
               from_hours=args.from_hours)

        for hours, from_hours in ((args.hours, args.from_hours), (scenario.clock.duration_hours, 0.0)):
            out = folder / f"this-{args.plan}-{hours:g}h.html"
            out.unlink(missing_ok=True)
            wall, cpu = run_command(command(ROOT, args.scenario, args.plan, hours, from_hours, out), ROOT)
            name = "animate_html_whole_run" if hours == scenario.clock.duration_hours else "animate_html"
            report(f"{name}_end_to_end", wall, "s", cpu_s=round(cpu, 3), hours=hours)
            report(f"{name}_size", out.stat().st_size / 1e6, "MB", 20.0, hours=hours)


if __name__ == "__main__":
    main()
