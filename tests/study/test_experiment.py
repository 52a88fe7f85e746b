"""Experiments end to end: executors agree, nothing is lost on a kill, the command line."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.config import load_scenario
from sim.study.experiment import run_experiment, run_rep
from sim.study.options import RunOptions
from tests.commands import copy_folder, in_process
from tests.graphs import random_grid_network

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
RESULT_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv")


def small_run(out: Path, **options) -> Path:
    run_experiment(DEFAULT_SCENARIO, RunOptions(**({"reps": 4, "hours": 24, "out": out, "figures": False} | options)))
    return out


@pytest.mark.slow
def test_one_worker_two_workers_and_a_dask_cluster_write_identical_files(cache, tmp_path):
    from distributed import LocalCluster

    one = small_run(tmp_path / "one", workers=1)
    two = small_run(tmp_path / "two", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        dask = small_run(tmp_path / "dask", scheduler=cluster.scheduler_address)
    for name in RESULT_FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes() == (dask / name).read_bytes(), name
    assert json.loads((dask / "manifest.json").read_text())["executor"].startswith("Dask")


def test_figures_and_report_map_drawn_by_two_processes_are_those_one_draws(cache, tmp_path):
    from sim.study.results import Results

    one = small_run(tmp_path / "one", workers=1, figures=True)
    two = small_run(tmp_path / "two", workers=2, figures=True)
    for name in ("response_ecdf.png", "within_target.png", "site_response.png"):
        assert (one / "figures" / name).read_bytes() == (two / "figures" / name).read_bytes(), f"{name} differs"

    def images(folder: Path) -> list[str]:
        return re.findall(r'src="(data:image/png;base64,[^"]+)"', (folder / "report.html").read_text())
    assert len(images(one)) >= 4, "report.html shows the map and the figures"
    assert images(one) == images(two), "report.html's map or figures differ when drawn by forked processes"
    saved = Results.from_dir(two)
    assert {"figures/site_response.png", "summary.csv"} <= set(saved.manifest["files"]), \
        "manifest.json records the figures the forked processes wrote"
    assert len(saved.sites) > 0, "every file matches its record in manifest.json"


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_files_and_refuses_an_edited_scenario(cache, tmp_path):
    args = ["run", str(DEFAULT_SCENARIO), "--reps", "6", "--hours", "168", "--workers", "1"]
    reference = tmp_path / "reference"
    assert in_process(*args, "--out", str(reference)).returncode == 0

    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), *args, "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / ".parts").glob("plan*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = len(list((out / ".parts").glob("plan*.json")))
    assert 3 <= saved < 30, "the kill should land mid-run"
    assert not (out / "summary.csv").exists()

    resumed = in_process(*args, "--out", str(out), "--resume", "--keep-parts")
    assert resumed.returncode == 0, resumed.stderr
    for name in RESULT_FILES:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name

    edited = tmp_path / "edited.yaml"
    edited.write_text(DEFAULT_SCENARIO.read_text().replace("rate_per_hour: 0.25", "rate_per_hour: 0.3"))
    refused = in_process("run", str(edited), "--reps", "6", "--hours", "168", "--out", str(out), "--resume")
    assert refused.returncode == 2
    assert "--resume: the scenario differs" in refused.stderr and "Traceback" not in refused.stderr


def two_plan_scenario(tmp_path: Path, extra_unit: bool) -> Path:
    """The default scenario cut to the 'mixed' plan and a copy: identical, or with one more car."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    mixed = next(plan for plan in data["plans"] if plan["name"] == "mixed")
    copy = {"name": "mixed-copy", "units": [dict(group) for group in mixed["units"]]}
    if extra_unit:
        copy["units"].append({"type": "polri_car", "count": 1, "base": "polres", "patrol": {"mode": "base"}})
    data["plans"] = [mixed, copy]
    path = tmp_path / "two_plans.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def read_csv(path: Path) -> list[dict]:
    import csv

    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_identical_plans_differ_by_exactly_zero(cache, tmp_path):
    out = tmp_path / "out"
    run_experiment(two_plan_scenario(tmp_path, extra_unit=False), RunOptions(reps=5, hours=48, out=out, figures=False))
    copy = read_csv(out / "comparison.csv")[1]
    assert float(copy["response_diff_min"]) == 0.0 and float(copy["response_diff_ci95"]) == 0.0
    assert float(copy["within_target_diff_pct"]) == 0.0
    assert copy["verdict"] == "no clear difference"


@pytest.mark.slow
def test_one_more_unit_is_never_worse(cache, tmp_path):
    out = tmp_path / "out"
    run_experiment(two_plan_scenario(tmp_path, extra_unit=True), RunOptions(
        reps=10, hours=168, out=out, figures=False, sets=["disturbances.provocation.rate_per_hour=1.0"]))
    plus_one = read_csv(out / "comparison.csv")[1]
    assert plus_one["verdict"] in ("better", "no clear difference")
    # The paired interval's upper end: with one more car the mean response does not rise.
    assert float(plus_one["response_diff_min"]) + float(plus_one["response_diff_ci95"]) <= 0.0


def test_reps_auto_adds_batches_until_the_interval_is_narrow_and_stops_at_its_bound(cache, tmp_path):
    """Each case has a bound of its own (max_reps) and says how many replications it must have run: a stop
    rule that compares with the wrong bound shows as a wrong count, at most max_reps replications later."""
    from sim.study.runner import replication_counts

    assert replication_counts(2, 20) == [2, 7, 12, 17, 20] and replication_counts(10, 10) == [10]
    out = tmp_path / "auto"
    plans = ["all-at-hq", "fixed-posts"]
    # From 2 replications in batches of 5: both plans' intervals are first within ±25% at 17 (2, 7, 12 are not).
    _, summary = run_experiment(DEFAULT_SCENARIO, RunOptions(
        reps="auto", precision=0.25, max_reps=20, hours=48, plans=plans, out=out, figures=False,
        sets=["replications=2"]))
    assert [row["reps"] for row in summary] == [17, 17], "stopped at the first count whose intervals are narrow"
    for row in summary:
        assert row["response_mean_ci95"] <= 0.25 * row["response_mean_min"]
    precision = json.loads((out / "manifest.json").read_text())["precision"]
    assert precision["replications"] == 17 and precision["reached"] and not precision["stopped_by_max_reps"]
    # An aim no count reaches: the run stops at max_reps, and says so.
    from sim import Study

    short = Study(DEFAULT_SCENARIO, {"replications": 2}).run(plans=plans, reps="auto", hours=48, precision=0.01,
                                                              max_reps=9)
    assert short.reps == 9 and short.precision["stopped_by_max_reps"] and not short.precision["reached"]


@pytest.mark.slow
def test_the_main_job_runs_the_default_scenario(main_job):
    result = main_job.process  # `python run_sim.py` with no arguments, from an empty folder
    for plan in ("all-at-hq", "fixed-posts", "joint-circuit", "mixed"):
        assert plan in result.stdout
    assert "synthetic" in result.stdout
    out = main_job.folder
    summary = read_csv(out / "summary.csv")
    assert [row["reps"] for row in summary] == ["10"] * len(summary)
    # Every table made on the demo network says so, in words, on every line.
    comparison = read_csv(out / "comparison.csv")
    # summary.csv's first columns end with it (units and counts per week come after); comparison.csv appends after it
    assert list(summary[0]).index("network") == 10 and list(summary[0])[11] == "units" and "network" in comparison[0]
    assert {row["network"] for row in summary + comparison} == {"synthetic demo network of Jember (not real roads)"}
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "response_ecdf.png", "site_response.png", "within_target.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["network"]["synthetic"] is True and manifest["scenario_sha256"]
    # How far each site was moved to its road node, for a planner to check.
    site_ids = [site["id"] for site in yaml.safe_load(DEFAULT_SCENARIO.read_text())["sites"]]
    assert list(manifest["site_snap_m"]) == site_ids
    assert all(0 <= metres <= 500 for metres in manifest["site_snap_m"].values())
    # Common random numbers: replication k of every plan, however different, meets the same incidents.
    drawn: dict[str, set] = {}
    for row in read_csv(out / "incidents.csv"):
        drawn.setdefault(row["plan"], set()).add((row["rep"], row["incident_id"], row["type"], row["site"],
                                                  row["t_created_min"]))
    assert len(drawn) == 5 and all(incidents == drawn["all-at-hq"] for incidents in drawn.values())
    # The page a planner mails, and no leftovers: the finished replications go once the files are written.
    assert (out / "report.html").exists() and not (out / ".parts").exists()


@pytest.mark.slow
def test_the_main_job_run_again_replaces_its_own_results(main_job, tmp_path):
    """The README's first command, run again where it ran, just works."""
    results = copy_folder(main_job.folder.parent, tmp_path)
    out = results / main_job.folder.name
    before = (out / "incidents.csv").read_bytes()
    again = in_process(cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (out / "incidents.csv").read_bytes() == before
    assert sorted(p.name for p in results.iterdir()) == [main_job.folder.name], "no second folder"


@pytest.mark.parametrize("flag, message", [
    (["--set", "disturbances.provokation.rate_per_hour=0.3"], "did you mean 'provocation'"),
    (["--set", "disturbances.provocation.rate_per_hour=-1"], "rate_per_hour"),
    (["--set", "replications"], "expected KEY=VALUE"),
    (["--plan", "fixed-post"], "did you mean 'fixed-posts'"),
    (["--reps", "many"], "--reps many"),
    (["--workers", "0"], "--workers 0"),
    (["--network", "nowhere.osm"], "nowhere.osm"),
    (["--reps", "auto", "--max-reps", "0"], "--max-reps 0: must be at least 1"),
])
def test_bad_flags_give_one_clear_message_and_exit_2(cache, tmp_path, flag, message):
    result = in_process("run", str(DEFAULT_SCENARIO), "--hours", "3", "--reps", "1", *flag, "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "summary.csv").exists()


def test_validate_reports_every_problem_with_its_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_SCENARIO.read_text()
                   .replace("patrol: {mode: post, at: kpu_office}", "patrol: {mode: post, at: kpu_ofice}", 1)
                   .replace("rate_per_hour: 0.03", "rate_per_hour: -0.03"))
    result = in_process("validate", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown site 'kpu_ofice'; did you mean 'kpu_office'?" in result.stderr
    assert "rate_per_hour" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2


@pytest.mark.slow
def test_sweep_writes_a_table_and_a_plot(cache, tmp_path):
    out = tmp_path / "sweep"
    result = in_process("sweep", str(DEFAULT_SCENARIO), "--param", "disturbances.provocation.rate_per_hour",
                        "--values", "0.1,0.5", "--plan", "all-at-hq", "--plan", "fixed-posts", "--reps", "3",
                 "--hours", "48", "--workers", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = read_csv(out / "sweep.csv")
    assert [(r["value"], r["plan"]) for r in rows] == [
        ("0.1", "all-at-hq"), ("0.1", "fixed-posts"), ("0.5", "all-at-hq"), ("0.5", "fixed-posts")]
    # Five times the provocation rate gives more incidents in the same replications.
    assert int(rows[2]["incidents"]) > int(rows[0]["incidents"])
    assert all("synthetic" in row["network"] for row in rows)
    assert (out / "sweep.png").stat().st_size > 10_000


def test_a_bad_sweep_value_is_refused_before_anything_runs(cache, tmp_path):
    out = tmp_path / "sweep"
    result = in_process("sweep", str(DEFAULT_SCENARIO), "--param", "disturbances.provocation.rate_per_hour",
                        "--values", "0.1,-1", "--reps", "1", "--hours", "3", "--workers", "1", "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: --values -1: ") and "rate_per_hour" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()  # not even the run for 0.1


def test_the_first_plan_given_is_the_reference(cache, tmp_path):
    out = small_run(tmp_path / "out", reps=2, hours=6, plans=["fixed-posts", "all-at-hq"])
    assert [row["plan"] for row in read_csv(out / "summary.csv")] == ["fixed-posts", "all-at-hq"]
    comparison = read_csv(out / "comparison.csv")
    assert [(row["plan"], row["reference"], row["verdict"]) for row in comparison][0] == (
        "fixed-posts", "fixed-posts", "reference")
    assert comparison[1]["reference"] == "fixed-posts"


@pytest.mark.slow
def test_resume_refuses_parts_made_by_another_version(cache, tmp_path):
    out = tmp_path / "out"
    args = ["run", str(DEFAULT_SCENARIO), "--reps", "1", "--hours", "3", "--workers", "1", "--out", str(out)]
    assert in_process(*args, "--keep-parts").returncode == 0
    key_file = out / ".parts" / "run.json"
    key = json.loads(key_file.read_text())
    key_file.write_text(json.dumps(key | {"code_sha256": "0" * 64}))  # as an older patrolsim left it
    refused = in_process(*args, "--resume")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"--resume: the parts in {out} were made by another version of patrolsim; run without --resume" \
        in refused.stderr


@pytest.mark.parametrize("command", [
    ["run", str(DEFAULT_SCENARIO), "--hours", "3", "--reps", "1", "--out", "{file}"],
    ["run", str(DEFAULT_SCENARIO), "--hours", "3", "--reps", "1", "--out", "/etc/passwd/x"],
    ["map", str(DEFAULT_SCENARIO), "--plan", "mixed", "--out", "{file}/m.png"],
    ["animate", str(DEFAULT_SCENARIO), "--plan", "mixed", "--hours", "1", "--out", "{file}/a.html"],
], ids=["run-out-is-a-file", "run-out-under-a-file", "map-under-a-file", "animate-under-a-file"])
def test_an_output_path_that_cannot_be_written_is_bad_input(cache, tmp_path, command):
    file = tmp_path / "afile"
    file.write_text("not a folder")
    result = in_process(*[arg.format(file=file) for arg in command])
    assert result.returncode == 2, result.stderr
    assert "cannot write there" in result.stderr and "Traceback" not in result.stderr
    assert file.read_text() == "not a folder"


def test_a_replication_runs_on_a_network_whose_file_is_not_here(cache, tmp_path):
    """As on a Dask worker: the network arrives as arrays; the file its spec names is elsewhere."""
    grid = random_grid_network(8, 8, seed=1)
    assert grid.spec.source == "file" and not Path(grid.spec.path).exists()
    nodes = [0, grid.n_nodes // 2, grid.n_nodes - 1]
    sites = [{"id": f"s{i}", "lat": float(grid.lat[n]), "lon": float(grid.lon[n])} for i, n in enumerate(nodes)]
    data = {
        "name": "grid", "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T08:00", "duration_hours": 24}, "replications": 1, "seed": 3,
        "target_response_min": 10, "sites": sites,
        "disturbances": [{"type": "call", "rate_per_hour": 1.0, "on_scene_min": {"dist": "fixed", "value": 20},
                          "priority": 1}],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [{"name": "post", "units": [{"type": "car", "count": 1, "base": "s0",
                                              "patrol": {"mode": "post", "at": "s1"}}]}],
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(data))
    part = run_rep(load_scenario(path), grid, "post", 0)
    assert (part["plan"], part["rep"]) == ("post", 0)
    assert len(part["units"]) == 1 and len(part["incidents"]) > 5


@pytest.mark.parametrize("tasks, count", [(100, 8), (7, 8), (1, 4), (9, 2), (0, 3)])
def test_dask_batches_keep_every_task_once_in_order_and_even_in_size(tasks, count):
    from sim.study.executors import batches

    todo = [(f"plan{k % 3}", k) for k in range(tasks)]
    found = batches(todo, count)
    assert [task for batch in found for task in batch] == todo, "every task once, in order"
    assert len(found) == max(1, min(count, tasks)), f"{len(found)} batches for {tasks} tasks and {count} asked"
    sizes = [len(batch) for batch in found]
    assert max(sizes, default=0) - min(sizes, default=0) <= 1, f"batch sizes {sizes} differ by more than one"
