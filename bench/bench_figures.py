"""Benchmark: what each output picture of a run costs (issue 22, item 1: outputs cost little).

The default experiment (``scenarios/jember_pilkada_2024.yaml``, ``--reps`` replications, run once in
this process), then in rounds on the same results:

- each figure ``write_figures`` writes (response_ecdf, within_target, site_response): built and
  saved as PNG, as ``Results.to_dir`` does;
- the report's map (``sim.study.report.map_image``, as ``write_report`` draws it);
- of each, the PNG encoding alone (the written picture's pixels encoded again by Pillow at the
  zlib level ``save_png`` writes, 3, and at Pillow's default, 6), to show what share of the cost
  is the file format.

Times are CPU seconds of this process, medians of ``--rounds``; the machine is shared, so compare
figures of one run (e.g. two checkouts run alternately).

    python bench/bench_figures.py [--rounds 5] [--reps 20]
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import machine  # noqa: E402

SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"


def report(bench: str, values: list[float], **extra) -> None:
    print(json.dumps({"bench": bench, "value": round(statistics.median(values), 4), "unit": "s",
                      "runs_s": [round(v, 3) for v in values], **extra, "machine": machine()}), flush=True)


def cpu_s(work) -> tuple[float, object]:
    start = time.process_time()
    out = work()
    return time.process_time() - start, out


def encode_s(png: bytes, level: int) -> float:
    """CPU seconds of encoding a PNG's pixels again at zlib ``level``, as savefig hands them to Pillow."""
    from PIL import Image

    pixels = Image.open(io.BytesIO(png))
    pixels.load()
    return cpu_s(lambda: pixels.save(io.BytesIO(), format="png", compress_level=level))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("PATROLSIM_CACHE", tempfile.mkdtemp(prefix="patrolsim-bench-"))
    from sim.i18n import messages
    from sim.study.api import Study
    from sim.study.report import best_plan, map_image, read_folder
    from sim.study.report_places import lists_areas
    from sim.viz import plots

    study = Study(SCENARIO)
    run_s, results = cpu_s(lambda: study.run(reps=args.reps))
    work = Path(tempfile.mkdtemp(prefix="patrolsim-bench-figures-"))
    results.to_dir(work / "run", figures=False)
    data = read_folder(work / "run")
    m = messages()
    plan = best_plan(data, m)
    name, synthetic, target = results.scenario.name, results.network.synthetic, results.scenario.target_response_min
    plans = [row["plan"] for row in results.summary_rows]
    areas = results.area_rows if lists_areas(data) else None
    builders = {
        "response_ecdf": lambda: plots.ecdf_figure(name, synthetic, target, plans, results.incident_rows, m),
        "within_target": lambda: plots.within_target_figure(name, synthetic, target, results.summary_rows,
                                                            results.comparison_rows, m),
        "site_response": lambda: (plots.site_response_figure(name, synthetic, target, plans, areas, group="area",
                                                             max_sites=plots.MAX_HEAT_AREAS, m=m)
                                  if areas is not None else
                                  plots.site_response_figure(name, synthetic, target, plans, results.site_rows, m=m)),
    }

    def report_map() -> bytes:
        uri, _ = map_image(data["manifest"], plan, study, None, data["sites"], data["areas"], data["summary"], m)
        assert uri, "the report's map was not drawn"
        return base64.b64decode(uri.split(",", 1)[1])

    report_map()   # fonts, the world and its travel trees loaded before the first timed round
    times: dict[str, list[float]] = {key: [] for key in [*builders, "report_map"]}
    encode: dict[str, list[float]] = {key: [] for key in times}
    encode_default: dict[str, list[float]] = {key: [] for key in times}
    for _ in range(args.rounds):
        for key, build in builders.items():
            path = work / "figures" / f"{key}.png"
            times[key].append(cpu_s(lambda: plots.save_png(build(), path))[0])
            encode[key].append(encode_s(path.read_bytes(), 3))
            encode_default[key].append(encode_s(path.read_bytes(), 6))
        spent, png = cpu_s(report_map)
        times["report_map"].append(spent)
        encode["report_map"].append(encode_s(png, 3))
        encode_default["report_map"].append(encode_s(png, 6))
    common = {"scenario": SCENARIO.name, "replications": args.reps, "rounds": args.rounds}
    report("study_run_cpu_s", [run_s], **common, note="once, for scale")
    for key in times:
        what = "figure" if key in builders else "map"
        report(f"{key}_cpu_s", times[key], **common, what=f"{what} built and saved as PNG")
        report(f"{key}_png_encode_cpu_s", encode[key], **common, zlib_level=3,
               share_of_total=round(statistics.median(encode[key]) / statistics.median(times[key]), 3),
               at_pillow_default_level_6_s=round(statistics.median(encode_default[key]), 4))
    shutil.rmtree(work, ignore_errors=True)
    report("figures_total_cpu_s", [sum(times[key][i] for key in builders) for i in range(args.rounds)], **common)


if __name__ == "__main__":
    main()
