"""Benchmark: how long a large single-process run takes to end after Ctrl-C. Prints one JSON object
per line.

The run: the default scenario's plan 'mixed', one replication of 8,784 h at 100 provocations an
hour (about 880,000 incidents), ``--workers 1``. Once the process holds ``--mb`` MB, SIGINT; the
figure is the time from the signal to the process's end. Two ways, alternating, ``--repeats`` each:
the command line as it is (the process ends at once, what the replication holds frozen out of the
collector's sight), and ``main`` called with the default Ctrl-C handler and a normal exit (the
collector re-scans every record, then Python frees them one by one): the way it was.

    python bench/bench_stop.py [--mb 900] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
RUN = ["run", str(SCENARIO), "--plan", "mixed", "--reps", "1", "--hours", "8784", "--set",
       "disturbances.provocation.rate_per_hour=100", "--workers", "1"]
WAYS = {
    "now": "import sys; from sim.cli import main; sys.exit(main())",
    "before (default handler, normal exit)": (
        "import sys; import sim.cli as cli; cli._stop_on_signals = lambda: None; sys.exit(cli.main(sys.argv[1:]))"),
}


def rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) // 1024


def stop_time(code: str, mb: int, out: Path) -> tuple[float, int]:
    """Seconds from SIGINT to the end of a run that holds ``mb`` MB, and the MB it held."""
    shutil.rmtree(out, ignore_errors=True)
    process = subprocess.Popen([sys.executable, "-c", code, *RUN, "--out", str(out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while rss_mb(process.pid) < mb:
        if process.poll() is not None:
            raise SystemExit("the run ended before it held the memory asked for")
        time.sleep(0.1)
    held = rss_mb(process.pid)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait()
    return time.monotonic() - started, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=900, help="SIGINT once the run holds this many MB")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                      "load_avg_1min": round(os.getloadavg()[0], 2)}))
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="patrolsim-bench-stop-") as folder:
        for _ in range(args.repeats):
            for way, code in WAYS.items():  # alternating, so both meet the same load
                seconds, held = stop_time(code, args.mb, Path(folder) / "out")
                times[way].append(seconds)
                print(json.dumps({"figure": f"end after Ctrl-C, {way}", "held_mb": held, "s": round(seconds, 2)}),
                      flush=True)
    now, before = (statistics.median(times[way]) for way in WAYS)
    print(json.dumps({"figure": "median end after Ctrl-C", "now_s": round(now, 2), "before_s": round(before, 2),
                      "ratio_before_to_now": round(before / now, 1), "target_s": 2, "ok": now <= 2}))


if __name__ == "__main__":
    main()
