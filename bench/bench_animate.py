"""Benchmark of ``animate`` against the targets of issue 6: a 6-hour GIF in 60 s, HTML under 20 MB.

Prints one JSON object per line: the figure, its unit, the target, whether it is met, and
the machine. Run from anywhere: ``python bench/bench_animate.py``. The road network is
loaded (and cached) once before timing, as a user's second run would find it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the script runs from bench/: make sim importable

from sim.config import load_scenario  # noqa: E402
from sim.model import build_world  # noqa: E402
from sim.network import load_network  # noqa: E402
from sim.viz.animate import window_overrides, write_animation  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
MACHINE = {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def report(bench: str, value: float, unit: str, target: float, **extra: object) -> None:
    """Print one result line; the target is a maximum."""
    line = {
        "bench": bench,
        "value": round(value, 3),
        "unit": unit,
        "target": target,
        "target_is": "max",
        "met": bool(value <= target),
        **extra,
        # The load average tells how busy the shared machine was while this figure was taken.
        "machine": MACHINE | {"load_avg_1min": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(line), flush=True)


def animate(scenario_path: Path, plan: str, hours: float, out: Path, frames_per_min: float, fps: float,
            from_hours: float):
    """What ``animate`` on the command line does: load, build the world, simulate, write."""
    as_written = load_scenario(scenario_path)
    scenario = load_scenario(scenario_path, window_overrides(as_written, hours, from_hours))
    world = build_world(scenario, load_network(scenario.network))
    return write_animation(scenario, world, plan, out, hours=hours, from_hours=from_hours,
                           frames_per_min=frames_per_min, fps=fps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--plan", default="joint-circuit")
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--frames-per-min", type=float, default=2.0)
    parser.add_argument("--fps", type=float, default=20.0)
    parser.add_argument("--keep", type=Path, help="folder to keep the GIF and HTML in (default: a temporary one)")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    load_network(scenario.network)  # build or read the cache outside the timing
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        # The 6-hour pictures start at 10:00, when disturbances come (the clock starts at midnight).
        runs = (
            (".gif", args.hours, 10.0),
            (".html", args.hours, 10.0),
            (".html", scenario.clock.duration_hours, 0.0),  # the longest page: the scenario's whole run
        )
        for suffix, hours, from_hours in runs:
            out = folder / f"{args.plan}-{hours:g}h{suffix}"
            started = time.perf_counter()
            frames = animate(scenario_path=args.scenario, plan=args.plan, hours=hours, out=out,
                             frames_per_min=args.frames_per_min, fps=args.fps, from_hours=from_hours)
            seconds = time.perf_counter() - started
            details = {"frames": frames.n_frames, "units": len(frames.unit_ids),
                       "incidents": frames.incidents_shown,
                       "plan": args.plan, "hours": hours, "from_hours": from_hours, "wall_s": round(seconds, 3)}
            if suffix == ".gif":
                report("animate_gif_wall", seconds, "s", 60.0, bytes=out.stat().st_size, **details)
            else:
                report("animate_html_size", out.stat().st_size / 1e6, "MB", 20.0, **details)

if __name__ == "__main__":
    main()
