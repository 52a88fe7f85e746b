"""Hostile input, concurrent runs, interrupted writes and cluster faults (issue #15): nothing lost,
nothing mixed, and every bad input a one-line error with exit 2, never a traceback or a hang."""
from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.builders import edited_scenario
from tests.commands import in_process as here, one_error_line

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
CSV_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv")


def cli(*args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **popen)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def one_clean_error(result: subprocess.CompletedProcess) -> str:
    """The one error line of a refused command (exit 2, no traceback; progress lines aside)."""
    line = one_error_line(result)
    assert len(line) < 600, "a huge value must be cut, not printed whole"
    return line


def digests(folder: Path, names=CSV_FILES + ("manifest.json",)) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


def wait_for_parts(folder: Path, count: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while len(list((folder / ".parts").glob("plan*.json"))) < count:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the run should have saved parts by now"
        time.sleep(0.02)


RUN = ["run", str(SCENARIO), "--hours", "168", "--workers", "1"]


# -- 1. two runs into one folder ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused_naming_the_first(cache, tmp_path):
    out = tmp_path / "out"
    first = start(*RUN, "--reps", "200", "--seed", "1", "--out", str(out))
    try:
        wait_for_parts(out, 2, first)
        second = here(*RUN, "--reps", "3", "--seed", "2", "--out", str(out))
        line = one_clean_error(second)
        assert f"process {first.pid}" in line and "another patrolsim run" in line
        assert first.poll() is None, "the first run goes on"
        seeds = {json.loads(p.read_text())["run"] for p in (out / ".parts").glob("plan*.json")}
        assert len(seeds) == 1, "every part is of the first run"
    finally:
        first.kill()
        first.communicate()
    # The lock dies with its process: after a kill -9 the folder is free again (the killed run's
    # replications are of another seed, so replacing them is asked for).
    again = here(*RUN, "--reps", "2", "--seed", "2", "--out", str(out), "--replace")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2


@pytest.mark.slow
def test_the_python_api_honours_the_lock_of_a_running_command(cache, tmp_path):
    from sim import Study

    out = tmp_path / "out"
    running = start(*RUN, "--reps", "200", "--out", str(out))
    try:
        wait_for_parts(out, 1, running)
        small = Study(SCENARIO).run(plans=["all-at-hq"], reps=1, hours=3)
        from sim.errors import InputError

        with pytest.raises(InputError, match=f"process {running.pid}"):
            small.to_dir(out, figures=False)
    finally:
        running.kill()
        running.communicate()


# -- 2 and 5. the result set replaced as one; a write that fails ---------------------------------------


def _file_size_limit(limit_bytes: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.slow
def test_a_failed_final_write_leaves_the_previous_set_whole_and_says_resume(cache, tmp_path):
    out, reference = tmp_path / "out", tmp_path / "reference"
    args = ["run", str(SCENARIO), "--hours", "48", "--reps", "4", "--workers", "1"]
    assert here(*args, "--seed", "1", "--out", str(out)).returncode == 0
    before = digests(out)
    # A file size limit that a part file fits (about 10 kB) and incidents.csv does not: the
    # run's replications are all saved, then the final writes fail as on a full disk.
    failed = cli(*args, "--seed", "2", "--out", str(out), "--replace", preexec_fn=_file_size_limit(40_000))
    line = one_clean_error(failed)
    assert "cannot write there" in line and "--resume" in line and "20 finished replications are saved" in line
    assert digests(out) == before, "the previous result set is untouched"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.new-")], "no half-written set left"

    resumed = here(*args, "--seed", "2", "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert here(*args, "--seed", "2", "--out", str(reference)).returncode == 0
    for name in CSV_FILES:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _unshare_works(), reason="needs user namespaces (unshare -rm) to mount a small tmpfs")
def test_a_full_disk_keeps_every_finished_replication_and_resume_finishes(cache, tmp_path):
    """A real full disk: a 200 kB tmpfs in a private mount namespace, enlarged to resume."""
    run = f"{sys.executable} {ROOT / 'run_sim.py'} run {SCENARIO} --hours 168 --reps 6 --workers 1"
    script = f"""
        mount -t tmpfs -o size=200k none {tmp_path}/disk || exit 99
        {run} --out {tmp_path}/disk/out 2> {tmp_path}/first.err; echo $? > {tmp_path}/first.rc
        ls {tmp_path}/disk/out/.parts | grep -c plan > {tmp_path}/saved.txt
        mount -o remount,size=50m {tmp_path}/disk
        {run} --out {tmp_path}/disk/out --resume 2> {tmp_path}/second.err; echo $? > {tmp_path}/second.rc
        cp {tmp_path}/disk/out/*.csv {tmp_path}/copied/
    """
    (tmp_path / "disk").mkdir()
    (tmp_path / "copied").mkdir()
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600,
                          env=os.environ)
    assert done.returncode != 99, done.stderr
    first_err = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.rc").read_text().strip() == "2", first_err
    assert "Traceback" not in first_err and "No space left on device" in first_err and "--resume" in first_err
    assert int((tmp_path / "saved.txt").read_text()) >= 1
    assert (tmp_path / "second.rc").read_text().strip() == "0", (tmp_path / "second.err").read_text()
    reference = tmp_path / "reference"
    assert here("run", str(SCENARIO), "--hours", "168", "--reps", "6", "--workers", "1",
                "--out", str(reference)).returncode == 0
    for name in CSV_FILES:
        assert (tmp_path / "copied" / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_folder_with_other_files_is_refused_not_emptied(cache, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    line = one_clean_error(here(*RUN, "--reps", "1", "--hours", "3", "--out", str(out)))
    assert "notes.txt" in line and "not patrolsim results" in line
    assert (out / "notes.txt").read_text() == "my notes" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


# -- 3, 4 and 10. what --resume trusts -----------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(cache, tmp_path_factory):
    """A finished run of 3 replications with its parts."""
    out = tmp_path_factory.mktemp("finished") / "out"
    result = here("run", str(SCENARIO), "--hours", "24", "--reps", "3", "--workers", "1", "--out", str(out),
                  "--keep-parts")
    assert result.returncode == 0, result.stderr
    return out


def resume_copy(finished: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    return out, ["run", str(SCENARIO), "--hours", "24", "--reps", "3", "--workers", "1", "--out", str(out), "--resume"]


def test_resume_refuses_two_swapped_part_files(finished, tmp_path):
    out, args = resume_copy(finished, tmp_path)
    first, second = out / ".parts" / "plan000-rep00000.json", out / ".parts" / "plan000-rep00001.json"
    first.rename(tmp_path / "x")
    second.rename(first)
    (tmp_path / "x").rename(second)
    line = one_clean_error(here(*args))
    assert "plan000-rep00000.json: holds plan 'all-at-hq' replication 1, not plan 'all-at-hq' replication 0" in line
    assert "delete it and run again with --resume" in line
    assert digests(out) == digests(finished), "nothing written"


@pytest.mark.slow
def test_resume_refuses_a_part_of_another_run(finished, tmp_path):
    other = tmp_path / "other"
    assert here("run", str(SCENARIO), "--hours", "24", "--reps", "1", "--seed", "5", "--workers", "1",
                "--out", str(other), "--keep-parts").returncode == 0
    out, args = resume_copy(finished, tmp_path)
    shutil.copy(other / ".parts" / "plan001-rep00000.json", out / ".parts" / "plan001-rep00000.json")
    assert "plan001-rep00000.json: made by another run" in one_clean_error(here(*args))


@pytest.mark.parametrize("content", [
    "{}", "[1, 2]", "null", '"text"', "{not json",
    "BAD_ROW_MISSING_COLUMN", "BAD_ROW_TEXT_NUMBER", "BAD_ROW_OTHER_REP",
])
def test_resume_refuses_a_damaged_part_file_with_one_line(finished, tmp_path, content):
    out, args = resume_copy(finished, tmp_path)
    path = out / ".parts" / "plan002-rep00001.json"
    part = json.loads(path.read_text())
    if content == "BAD_ROW_MISSING_COLUMN":
        del part["incidents"][0]["response_min"]
        content = json.dumps(part)
    elif content == "BAD_ROW_TEXT_NUMBER":
        part["incidents"][0]["response_min"] = "7.5"
        content = json.dumps(part)
    elif content == "BAD_ROW_OTHER_REP":
        part["units"][0]["rep"] = 2
        content = json.dumps(part)
    path.write_text(content)
    line = one_clean_error(here(*args))
    assert str(path) in line and "delete it and run again with --resume" in line


def _forged(part: dict, how: str) -> dict:
    """A part whose plan, replication and run digest agree with its name, its rows forged."""
    incidents, units = part["incidents"], part["units"]
    if how == "duplicated-rows":
        part["incidents"] = incidents * 2
    elif how == "many-rows":
        part["incidents"] = [dict(incidents[0], incident_id=i + 1) for i in range(20_000)]
    elif how in ("nan", "inf", "-1e308"):
        incidents[0]["t_created_min"] = {"nan": float("nan"), "inf": float("inf"), "-1e308": -1e308}[how]
    elif how == "reordered":
        part["incidents"] = incidents[::-1]
    elif how == "arrived-before-dispatch":
        row = next(r for r in incidents if r["t_first_dispatch_min"] is not None)
        row["t_first_arrival_min"] = row["t_first_dispatch_min"] - 5.0
    elif how == "priority-0":
        incidents[0]["priority"] = 0
    elif how == "unit-twice":
        part["units"] = units + units[:1]
    return part


@pytest.mark.parametrize("how, words", [
    ("duplicated-rows", "ids must rise: duplicated or reordered rows"),
    ("many-rows", "more than the"),
    ("nan", "t_created_min nan is not a finite number"),
    ("inf", "t_created_min inf is not a finite number"),
    ("-1e308", "t_created_min -1e+308 is not a finite number"),
    ("reordered", "ids must rise"),
    ("arrived-before-dispatch", "reached before it was created or dispatched"),
    ("priority-0", "priority 0 is outside 1..1000"),
    ("unit-twice", "a unit listed twice"),
])
def test_resume_refuses_a_forged_part_whose_rows_agree_with_its_name(finished, tmp_path, how, words):
    out, args = resume_copy(finished, tmp_path)
    path = out / ".parts" / "plan001-rep00002.json"
    path.write_text(json.dumps(_forged(json.loads(path.read_text()), how)))
    line = one_clean_error(here(*args))
    assert f"{path}: " in line and words in line and "delete it and run again with --resume" in line
    assert digests(out) == digests(finished), "nothing written"


def test_resume_refuses_a_part_larger_than_a_replication_can_be_before_reading_it(finished, tmp_path):
    import tracemalloc

    from sim.errors import InputError
    from sim.study.parts import PartFiles

    out, args = resume_copy(finished, tmp_path)
    path = out / ".parts" / "plan001-rep00002.json"
    part = json.loads(path.read_text())
    path.write_text(json.dumps(part)[:-1] + ', "padding": "' + "x" * 60_000_000 + '"}')
    line = one_clean_error(here(*args))
    assert f"{path}: more than the" in line and "bytes a part of this scenario can have" in line
    # The parts alone, as the run checks them: the 60 MB file is refused having read a bounded head of it.
    key = json.loads((out / ".parts" / "run.json").read_text())
    plans = {plan["name"]: i for i, plan in enumerate(yaml.safe_load(SCENARIO.read_text())["plans"])}
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="bytes a part of this scenario can have"):
            PartFiles(out, key, True, plans, bounds=(200, 1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"a 60 MB part took {peak:,} bytes to refuse"


@pytest.mark.parametrize("content", ["[]", "{}", "{broken", '{"code_sha256": 1}'])
def test_resume_refuses_a_damaged_run_record(finished, tmp_path, content):
    out, args = resume_copy(finished, tmp_path)
    (out / ".parts" / "run.json").write_text(content)
    line = one_clean_error(here(*args))
    assert "run.json" in line and "run without --resume" in line
    assert len(list((out / ".parts").glob("plan*.json"))) == 15, "the parts are kept"


def test_resume_without_the_run_record_refuses_and_keeps_the_parts(finished, tmp_path):
    out, args = resume_copy(finished, tmp_path)
    (out / ".parts" / "run.json").unlink()
    line = one_clean_error(here(*args))
    assert "holds 15 finished replications but no run.json" in line
    assert "put back run.json" in line and "run without --resume to start over" in line
    assert len(list((out / ".parts").glob("plan*.json"))) == 15


# -- 7. every number has a bound, checked before work starts -------------------------------------------


BIG = "1" + "0" * 30
BOUND_CASES = {
    "hours": (["run", str(SCENARIO), "--hours", "1e308"], "clock.duration_hours: input should be less than or equal to 8784"),
    "duration": (["run", str(SCENARIO), "--set", "clock.duration_hours=1e308"], "less than or equal to 8784"),
    "rate": (["run", str(SCENARIO), "--set", "disturbances.provocation.rate_per_hour=1e308"],
             "rate_per_hour: input should be less than or equal to 1000"),
    "hourly": (["run", str(SCENARIO), "--set", "disturbances.provocation.hourly_profile=[" + ",".join(["1e308"] + ["1"] * 23) + "]"],
               "hourly_profile[0]: input should be less than or equal to 1000"),
    "reps": (["run", str(SCENARIO), "--reps", str(10**12)], "at most 10,000 replications"),
    "count": (["run", str(SCENARIO), "--set", f"plans.mixed.units[0].count={BIG}"],
              "count: input should be less than or equal to 1000"),
    "road_nodes": (["run", str(SCENARIO), "--set", "plans.mixed.units[0].patrol={mode: random, road_nodes: 1000000000}"],
                   "road_nodes: 1000000000 is more than the bound of 10,000 road nodes"),
    "sd": (["validate", "{lognormal}"], "on_scene_min.sd: 1e+200 is more than the bound of 527,040 min"),
    "animate-hours": (["animate", str(SCENARIO), "--plan", "mixed", "--hours", "1e9", "--out", "{tmp}/a.html"],
                      "--hours 1e+09: must be more than 0 and at most 8784"),
    "frames-per-min": (["animate", str(SCENARIO), "--plan", "mixed", "--hours", "1", "--frames-per-min", "1e6",
                        "--out", "{tmp}/a.html"], "--frames-per-min 1e+06: must be more than 0 and at most 60"),
    "frames": (["animate", str(SCENARIO), "--plan", "mixed", "--hours", "8000", "--frames-per-min", "60",
                "--out", "{tmp}/a.gif"], "gives 28,800,000 frames, more than the 10,000 of a GIF"),
    "hypercube-units": (["hypercube", str(SCENARIO), "--plan", "fixed-posts", "--approximate", "--set",
                         "plans.fixed-posts.units[0].count=100000"], "count: input should be less than or equal to 1000"),
    "workers": (["run", str(SCENARIO), "--workers", "500"], f"--workers 500: must be a whole number from 1 to "
                                                            f"{4 * (os.cpu_count() or 1)} (4 per core"),
    "max-reps": (["run", str(SCENARIO), "--reps", "auto", "--max-reps", "99999999"], "--max-reps 99999999: at most 10,000"),
    "seed": (["run", str(SCENARIO), "--seed", BIG], "seed: input should be less than or equal to 9223372036854775807"),
    "sweep-values": (["sweep", str(SCENARIO), "--param", "seed", "--values", ",".join(map(str, range(500)))],
                     "--values: 500 values, more than the 100 a sweep may take"),
}


@pytest.mark.parametrize("case", list(BOUND_CASES))
def test_a_value_above_its_bound_is_refused_at_once_naming_the_bound(cache, tmp_path, case):
    args, expected = BOUND_CASES[case]
    lognormal = edited_scenario(tmp_path, lambda d: d["disturbances"][0].update(
        on_scene_min={"dist": "lognormal", "mean": 30, "sd": 1e200}))
    args = [a.replace("{tmp}", str(tmp_path)).replace("{lognormal}", str(lognormal)) for a in args]
    if args[0] in ("run", "sweep") and "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    started = time.monotonic()
    line = one_clean_error(here(*args))
    assert expected in line
    assert time.monotonic() - started < 30, "refused before any work"
    assert not (tmp_path / "out").exists() and not (tmp_path / "a.html").exists()


def test_expected_work_is_the_integral_of_the_rates_times_replications_and_plans():
    from sim.config import load_scenario
    from sim.config.limits import expected_work

    data = yaml.safe_load(SCENARIO.read_text())
    hours = int(data["clock"]["duration_hours"])
    assert data["clock"]["start"].endswith("T00:00")  # so clock hour k is hour of day k % 24
    by_hand = sum(d["rate_per_hour"] * sum((d.get("hourly_profile") or [1.0] * 24)[k % 24] for k in range(hours))
                  for d in data["disturbances"])
    work = expected_work(load_scenario(SCENARIO), ["all-at-hq", "mixed-plus-one"], 7)
    assert work.incidents == pytest.approx(by_hand * 7 * 2, rel=1e-12)
    assert work.unit_hours == pytest.approx((8 + 9) * hours * 7, rel=1e-12)


def crowd_for_a_year(tmp_path: Path) -> list[str]:
    """1,000 units standing at base for a year, 3 replications: 26 million unit-hours, cheap to run."""
    path = edited_scenario(tmp_path, lambda d: (
        d["clock"].update(duration_hours=8784),
        [x.update(rate_per_hour=0.0) for x in d["disturbances"]],
        d.update(plans=[{"name": "crowd", "units": [
            {"type": "polri_car", "count": 1000, "base": "polres", "patrol": {"mode": "base"}}]}])))
    return ["run", str(path), "--reps", "3", "--workers", "1", "--out", str(tmp_path / "out")]


def test_a_run_above_the_work_bound_is_refused_with_the_estimate(cache, tmp_path):
    line = one_clean_error(here(*crowd_for_a_year(tmp_path)))
    assert "expected work: about 0 incidents and 26.4 million unit-hours (1 plan × 3 replications)" in line
    assert line.endswith("more than the 20,000,000 unit-hours a run may take without --force; lower the "
                         "replications, the hours or the rates, or add --force"), line
    assert not (tmp_path / "out").exists()
    from sim import Study
    from sim.errors import InputError

    with pytest.raises(InputError) as caught:   # the same refusal in Python names the argument
        Study(tmp_path / "edited.yaml").run(reps=3)
    assert caught.value.problems[0].endswith("a run may take without force=True; lower the replications, the hours "
                                             "or the rates, or add force=True"), caught.value.problems


@pytest.mark.slow
def test_a_run_above_the_work_bound_runs_when_forced(cache, tmp_path):
    forced = here(*crowd_for_a_year(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert len((tmp_path / "out" / "units.csv").read_text().splitlines()) == 1 + 3000


@pytest.mark.parametrize("edit, warning", [
    (lambda d: d["disturbances"][0].update(rate_per_hour=50.0),
     "plan 'all-at-hq': its incidents keep"),
    (lambda d: d["unit_types"]["polri_car"].update(speed_factor=0.1),
     "unit_types.polri_car.speed_factor: 0.1 is outside 0.25..4"),
    (lambda d: d["disturbances"][1].update(on_scene_min={"dist": "fixed", "value": 525600}),
     "a mean on-scene time of 525,600 min (365.0 days): on-scene times are in minutes"),
    (lambda d: d["disturbances"][1].update(escalation={"after_min": 30, "to": "provocation"}),
     "escalation cycle provocation → crowd_unrest → provocation"),
], ids=["overload", "speed", "on-scene", "cycle"])
def test_implausible_scenarios_are_run_with_a_warning(tmp_path, edit, warning):
    result = here("validate", str(edited_scenario(tmp_path, edit)))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(warning in line for line in warnings), result.stderr
    assert "Traceback" not in result.stderr


def test_overload_warnings_are_printed_only_for_the_plans_run(cache, tmp_path):
    result = here("run", str(SCENARIO), "--plan", "mixed", "--reps", "1", "--hours", "12", "--workers",
                        "1", "--set", "disturbances.provocation.rate_per_hour=100", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr[-2000:]
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "plan 'mixed': its incidents keep" in warned[0], warned


def test_the_default_scenario_gives_no_warning():
    result = here("validate", str(SCENARIO))
    assert result.returncode == 0 and result.stderr == ""


# -- 8. Dask: an address that is not a scheduler, a cluster without workers, killed workers -------------

# The refusals below wait --scheduler-timeout: 2 s, not the default 10 s, keeps them quick.
WAIT = ["--scheduler-timeout", "2"]


class Listener:
    """A TCP listener on 127.0.0.1 that answers each connection with ``reply`` (or nothing),
    for at most ``connections`` connections and ``seconds`` seconds."""

    def __init__(self, reply: bytes | None, connections: int = 5, seconds: float = 60.0):
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(seconds)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.open = []

        def serve() -> None:
            for _ in range(connections):
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                self.open.append(conn)
                if reply is not None:
                    conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()

    def close(self) -> None:
        for conn in self.open:
            conn.close()
        self.sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("reply, expected", [
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "is not a Dask scheduler (it answered b'HTTP/1.1'"),
    (None, "something listens there but does not answer as a Dask scheduler does (nothing in 2 s; "
           "--scheduler-timeout waits longer)"),
], ids=["answers-http", "never-answers"])
def test_a_scheduler_address_that_is_not_dask_is_refused_within_the_timeout(cache, tmp_path, reply, expected):
    listener = Listener(reply)
    try:
        started = time.monotonic()
        line = one_clean_error(cli(*RUN, "--reps", "1", "--hours", "3", "--scheduler", listener.address, *WAIT,
                                   "--out", str(tmp_path / "out"), timeout=120))
        assert expected in line
        assert time.monotonic() - started < 40
        assert not (tmp_path / "out").exists(), "refused before the folder is made"
    finally:
        listener.close()


def test_a_sweep_with_an_unreachable_scheduler_is_refused_before_its_folder_is_made(cache, tmp_path):
    """The sweep checks the scheduler before it claims its folder (identity.json), as a run does."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]  # nothing listens there once closed: the connection is refused
    line = one_clean_error(cli("sweep", str(SCENARIO), "--param", "seed", "--values", "1,2", "--reps", "1",
                               "--hours", "3", "--scheduler", f"tcp://127.0.0.1:{port}", *WAIT,
                               "--out", str(tmp_path / "sweep"), timeout=120))
    assert "cannot reach a Dask scheduler there" in line, line
    assert not (tmp_path / "sweep").exists(), \
        f"a sweep refused for its scheduler left {sorted(p.name for p in (tmp_path / 'sweep').iterdir())}"


@pytest.mark.slow
def test_a_web_server_as_scheduler_is_refused(cache, tmp_path):
    """A real HTTP server: it waits for a request, so it never speaks first as Dask's scheduler does."""
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.timeout = 1.0
    stop = threading.Event()

    def serve() -> None:  # at most 60 one-second rounds
        for _ in range(60):
            if stop.is_set():
                return
            server.handle_request()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        line = one_clean_error(cli(*RUN, "--reps", "1", "--hours", "3", "--scheduler",
                                   f"tcp://127.0.0.1:{server.server_port}", *WAIT, "--out", str(tmp_path / "out"),
                                   timeout=120))
        assert "does not answer as a Dask scheduler does (nothing in 2 s" in line
    finally:
        stop.set()
        thread.join()
        server.server_close()


@pytest.mark.slow
def test_a_scheduler_without_workers_is_refused_within_the_timeout(cache, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        started = time.monotonic()
        line = one_clean_error(cli(*RUN, "--reps", "1", "--hours", "3", "--scheduler", cluster.scheduler_address,
                                   *WAIT, "--out", str(tmp_path / "work" / "out"), timeout=120))
        assert time.monotonic() - started < 40
    assert "the scheduler has no workers (waited 2 s); start some with: dask worker" in line
    assert "--scheduler-timeout waits longer" in line
    assert not (tmp_path / "work").exists(), "a refused run leaves nothing: no folder, no .lock, no .parts"


@pytest.mark.slow
def test_the_scheduler_timeout_is_how_long_a_silent_listener_is_waited_for(cache, tmp_path):
    """A listener that accepts and never speaks is refused after --scheduler-timeout, not the default 10 s."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nothing is ever sent
        started = time.monotonic()
        line = one_clean_error(here(*RUN, "--reps", "1", "--hours", "3", "--scheduler",
                                    f"tcp://127.0.0.1:{silent.getsockname()[1]}", *WAIT, "--out", str(tmp_path / "out")))
        waited_s = time.monotonic() - started
    assert "does not answer as a Dask scheduler does (nothing in 2 s; --scheduler-timeout waits longer)" in line
    assert 2.0 <= waited_s < 8.0, f"waited {waited_s:.1f} s for a 2 s timeout (the default is 10 s)"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="relies on Linux dropping a SYN to a full listen queue")
def test_an_address_that_never_accepts_a_connection_is_refused_after_the_scheduler_timeout(cache, tmp_path):
    """A connection that is never made (a firewall that drops it): a listener whose queue is full, so
    the kernel drops each new connection's first packet, as a firewall would."""
    import socket

    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        with socket.create_connection(full.getsockname(), timeout=5):  # fills the queue
            started = time.monotonic()
            line = one_clean_error(here(*RUN, "--reps", "1", "--hours", "3", "--scheduler",
                                        f"tcp://127.0.0.1:{full.getsockname()[1]}", *WAIT, "--out", str(tmp_path / "out")))
            waited_s = time.monotonic() - started
    assert "no connection there in 2 s (nothing at that address, or a firewall drops the connection; " \
           "--scheduler-timeout waits longer)" in line
    assert 2.0 <= waited_s < 8.0, f"waited {waited_s:.1f} s for a 2 s timeout (the default is 10 s)"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, flags, words", [
    ("run", ["--scheduler-timeout", "0.5"], "--scheduler-timeout 0.5: must be a number of seconds from 1 to 600"),
    ("run", ["--scheduler-timeout", "600.5"], "--scheduler-timeout 600.5: must be a number of seconds from 1 to 600"),
    ("run", ["--scheduler-timeout", "-2"], "--scheduler-timeout -2: must be a number of seconds from 1 to 600"),
    ("run", ["--scheduler-timeout", "nan"], "--scheduler-timeout nan: must be a number of seconds from 1 to 600"),
    ("run", ["--scheduler-timeout", "inf"], "--scheduler-timeout inf: must be a number of seconds from 1 to 600"),
    ("run", ["--scheduler-timeout", "ten"], "argument --scheduler-timeout: invalid float value: 'ten'"),
    ("run", ["--scheduler-timeout", ""], "argument --scheduler-timeout: invalid float value: ''"),
    ("run", ["--scheduler-timeout"], "argument --scheduler-timeout: expected one argument"),
    ("sweep", ["--scheduler-timeout", "1e9"], "--scheduler-timeout 1000000000: must be a number of seconds from 1 to 600"),
], ids=["under", "over", "negative", "nan", "inf", "words", "empty", "missing", "sweep-over"])
def test_a_scheduler_timeout_out_of_bounds_or_not_a_number_is_refused_before_any_connection(tmp_path, command, flags,
                                                                                             words):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as scheduler:
        scheduler.settimeout(0.2)
        sweep = ["--param", "seed", "--values", "1,2"] if command == "sweep" else []
        line = one_clean_error(here(command, str(SCENARIO), *sweep, "--reps", "1", "--hours", "3", "--scheduler",
                                    f"tcp://127.0.0.1:{scheduler.getsockname()[1]}", *flags, "--out", str(tmp_path / "out")))
        with pytest.raises(TimeoutError):
            scheduler.accept()  # nothing tried to reach the scheduler
    assert words in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_scheduler_timeout_without_a_scheduler_is_refused(tmp_path, command):
    sweep = ["--param", "seed", "--values", "1,2"] if command == "sweep" else []
    line = one_clean_error(here(command, str(SCENARIO), *sweep, "--reps", "1", "--hours", "3", *WAIT,
                                "--out", str(tmp_path / "out")))
    assert "--scheduler-timeout 2: only with --scheduler (how long to wait for a Dask scheduler; " \
           "a local run waits for none)" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address, words", [
    ("tcp://[::1:99999", "not a valid address (Invalid IPv6 URL)"),
    ("tcp://127.0.0.1:99999", "not a valid address (Port out of range 0-65535)"),
    ("tcp://127.0.0.1", "not a valid address; expected tcp://HOST:PORT"),
    ("tcp://:8786", "not a valid address; expected tcp://HOST:PORT"),
])
def test_a_malformed_scheduler_address_is_refused_as_malformed(tmp_path, address, words):
    line = one_clean_error(here(*RUN, "--reps", "1", "--hours", "3", "--scheduler", address,
                                      "--out", str(tmp_path / "out")))
    assert f"--scheduler {address}: {words}" in line and "Connection refused" not in line
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_killed_dask_workers_stop_the_run_with_its_replications_saved(cache, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m"]
    scheduler = subprocess.Popen(dask + ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(dask + ["distributed.cli.dask_worker", address, "--no-nanny", "--nthreads", "1",
                                          "--no-dashboard", "--host", "127.0.0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from distributed import Client

        with Client(address, timeout="60s") as client:  # the run's 2 s are for after the kill, not the worker's start
            client.wait_for_workers(1, timeout=60)
        out = tmp_path / "out"
        run = start(*RUN, "--reps", "200", "--scheduler", address, *WAIT, "--out", str(out))
        wait_for_parts(out, 2, run, seconds=180)
        worker.kill()
        worker.wait()
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 1 and "Traceback" not in stderr, stderr[-2000:]
        (line,) = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert any(reason in line for reason in ("has had no workers for 2 s (--scheduler-timeout)", "a Dask worker died",
                                                 "lost a replication's task (did a worker die?)"))
        saved = len(list((out / ".parts").glob("plan*.json")))
        assert f"{saved} finished replications are saved in {out / '.parts'}; run again with --resume" in line
    finally:
        for process in (worker, scheduler):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


# -- 9. worker processes end with the run ------------------------------------------------------------


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_worker_processes_end_with_the_run(cache, tmp_path, sig):
    out = tmp_path / "out"
    run = start("run", str(SCENARIO), "--hours", "168", "--reps", "200", "--workers", "2", "--out", str(out))
    wait_for_parts(out, 2, run)
    workers = children(run.pid)
    assert len(workers) >= 2
    run.send_signal(sig)
    _, stderr = run.communicate(timeout=180)  # a loaded machine (CI beside other work) is slow to wind down
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, workers)), "a worker outlived the run"
    if sig == signal.SIGTERM:
        assert "Traceback" not in stderr and "run again with --resume to finish" in stderr


def rss_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) // 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.slow
def test_ctrl_c_stops_a_large_single_process_run_within_two_seconds(cache, tmp_path):
    """A replication of 880,000 incidents in one process: Ctrl-C once it holds 700 MB. Freeing (and the
    collector scanning) its records one by one took 5 s at 900 MB and 16 s at 1.2 GB before."""
    out = tmp_path / "out"
    run = start("run", str(SCENARIO), "--plan", "mixed", "--reps", "1", "--hours", "8784", "--set",
                "disturbances.provocation.rate_per_hour=100", "--workers", "1", "--out", str(out))
    deadline = time.monotonic() + 180
    while rss_mb(run.pid) < 700:
        assert run.poll() is None, run.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the replication should hold 700 MB by now"
        time.sleep(0.1)
    held = rss_mb(run.pid)
    started = time.monotonic()
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    took = time.monotonic() - started
    print(f"Ctrl-C at {held} MB: the run ended {took:.2f} s later")
    assert run.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert "interrupted: 0 finished replications are saved" in stderr
    assert took < 2.0, f"the run took {took:.2f} s to stop after Ctrl-C"
    assert not out.exists(), "a run stopped before it saved a replication leaves nothing, not even a lock"


# -- 10. bad files: one line each, never a traceback ---------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0c"], ids=["NUL", "BEL", "form-feed"])
def test_a_control_character_in_the_yaml_is_one_line_naming_its_line(tmp_path, char):
    text = SCENARIO.read_text()
    lines = text.splitlines(keepends=True)
    lines[4] = lines[4].rstrip("\n") + char + "\n"
    path = tmp_path / "control.yaml"
    path.write_text("".join(lines))
    line = one_clean_error(here("validate", str(path)))
    assert line == (f"error: {path}:5: YAML cannot hold the control character {ord(char):#04x} at column "
                    f"{len(lines[4]) - 1}; remove it (is this a text file?)")


@pytest.mark.slow  # ruamel reads the brackets for seconds before the depth bound stops it
def test_a_hundred_thousand_nested_brackets_are_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    started = time.monotonic()
    assert "nested too deeply to read (at most 64 levels)" in one_clean_error(here("validate", str(path)))
    assert time.monotonic() - started < 60


def test_an_alias_bomb_inside_sites_gives_short_lines(tmp_path):
    """The bomb's values are named by their start, not printed whole (it once made a 36 MB line)."""
    row = "[" + ", ".join(["x"] * 60) + "]"
    text = SCENARIO.read_text().replace("\nsites:\n", "\nsites:\n  - &s1 [" + row + "]\n  - &s2 ["
                                        + ", ".join(["*s1"] * 50) + "]\n  - [" + ", ".join(["*s2"] * 150) + "]\n", 1)
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    result = here("validate", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert all(len(line) < 600 for line in result.stderr.splitlines())
    assert "sites[2]: expected a mapping of keys, got [[[[...]]" in result.stderr


def test_an_alias_bomb_anywhere_is_refused_at_once(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    assert len(bomb) < 400
    started = time.monotonic()
    line = one_clean_error(here("validate", str(path)))
    assert "more than 1,000,000 values once aliases are expanded" in line
    assert time.monotonic() - started < 10


OSM_FIXTURE = ROOT / "tests" / "fixtures" / "jember_small.osm"
GOOD_NODE = '<node id="1001" lat="-8.1700" lon="113.7000"/>'


@pytest.mark.parametrize("node, expected", [
    ('<node id="1001" lat="-8.1700" lon="400"/>', "not a readable OpenStreetMap file (wrong format for coordinate: '400')"),
    ('<node id="1001" lat="abc" lon="113.7000"/>', "not a readable OpenStreetMap file (wrong format for coordinate: 'abc')"),
    ('<node id="1001" lat="95" lon="113.7000"/>', "node 1001 is at lat 95, lon 113.7, outside -90..90 and -180..180"),
    ("BIG_ID", "not a readable OpenStreetMap file (illegal id: '12345678901234567890')"),
], ids=["lon-400", "lat-abc", "lat-95", "20-digit-id"])
def test_an_osm_file_with_impossible_nodes_is_refused(cache, tmp_path, node, expected):
    text = OSM_FIXTURE.read_text()
    assert GOOD_NODE in text
    if node == "BIG_ID":
        text = text.replace('id="1001"', 'id="12345678901234567890"').replace('ref="1001"', 'ref="12345678901234567890"')
    else:
        text = text.replace(GOOD_NODE, node)
    path = tmp_path / "bad.osm"
    path.write_text(text)
    line = one_clean_error(here("network", "build", "--network", str(path)))
    assert expected in line


# -- 11 and 12. output paths and worker counts ---------------------------------------------------------


def test_sweep_values_become_safe_folder_names_inside_out(cache, tmp_path):
    out = tmp_path / "work" / "sweep"
    result = here("sweep", str(SCENARIO), "--param", "name", "--values", "../../x,a b", "--plan", "all-at-hq",
                  "--reps", "1", "--hours", "3", "--workers", "1", "--out", str(out))
    # The values are refused as scenario names, but no folder is made outside --out whatever happens.
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "work" / "x").exists()
    from sim.study.experiment import safe_name, sweep_folders

    assert sweep_folders("seed", ["../../x", "a b", "1"]) == ["seed=.._.._x", "seed=a_b", "seed=1"]
    assert safe_name("../../etc") == "_._.._etc" and "/" not in safe_name("a/b") and safe_name("") == "_"
    assert "would share the folder seed=a_b" in _input_error(lambda: sweep_folders("seed", ["a b", "a/b"]))


def test_sweep_with_a_path_value_writes_only_inside_out(cache, tmp_path):
    out = tmp_path / "work" / "sweep"
    result = here("sweep", str(SCENARIO), "--param", "description", "--values", "../../escaped", "--plan", "all-at-hq",
                  "--reps", "1", "--hours", "3", "--workers", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["description=.._.._escaped", "identity.json", "sweep.csv",
                                                     "sweep.png"]
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "work" / "escaped").exists()


def _input_error(call) -> str:
    from sim.errors import InputError

    with pytest.raises(InputError) as caught:
        call()
    return caught.value.problems[0]


@pytest.mark.parametrize("command", [["run"], ["sweep", "--param", "seed", "--values", "1"]])
def test_an_empty_out_is_refused(cache, tmp_path, command):
    result = here(command[0], str(SCENARIO), *command[1:], "--reps", "1", "--hours", "3", "--out", "", cwd=tmp_path)
    assert "argument --out: give a folder name (an empty one would mean the current folder)" in one_clean_error(result)
    assert list(tmp_path.iterdir()) == []


def test_the_current_folder_is_refused_as_a_result_folder(cache, tmp_path):
    result = here("run", str(SCENARIO), "--reps", "1", "--hours", "3", "--out", ".", cwd=tmp_path)
    assert "--out .: is the current folder or holds it" in one_clean_error(result)
    assert list(tmp_path.iterdir()) == []


# -- 13. OSM sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("osm:113.7,-8.2,113.6,-8.1", "is not [west, south, east, north] in degrees with west < east"),
    ("osm:100,-8.2,113.6,-8.1", "is 13.6° by 0.1°: an OSM download area is at most 2° on a side"),
])
def test_an_osm_bbox_that_cannot_be_one_is_refused_not_geocoded(value, expected):
    line = one_clean_error(here("network", "build", "--network", value))
    assert line.startswith(f"error: --network {value}: bbox") and expected in line


def test_an_osm_download_fails_fast_when_overpass_does_not_answer(tmp_path):
    """Offline, OSMnx would wait 60 s for the Overpass status page; a closed local port stands for
    a machine without internet."""
    import socket

    import osmnx as ox

    from sim.errors import InputError
    from sim.network.osm import graph_from_osm

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    old = ox.settings.overpass_url
    ox.settings.overpass_url = f"http://127.0.0.1:{port}/api"
    try:
        started = time.monotonic()
        with pytest.raises(InputError, match=r"could not download the road network of bbox \[113.6, -8.2, 113.7"):
            graph_from_osm(bbox=(113.6, -8.2, 113.7, -8.1), http_cache_dir=tmp_path)
        assert time.monotonic() - started < 20
    finally:
        ox.settings.overpass_url = old


# -- 14 and 15. YAML 1.2 numbers and merge keys; escalation cycles; --set of a key that is not there ---------


def test_yaml_numbers_are_read_as_yaml_1_2_and_merge_keys_may_be_overridden(tmp_path):
    from sim.config.yaml_reader import read_yaml

    path = tmp_path / "numbers.yaml"
    path.write_text("a: 010\nb: 0x10\nc: 0o10\nd: 1e3\ne: yes\n"
                    "car: &car {type: polri_car, count: 1}\nx: {<<: *car, type: tni_car}\n")
    data, _ = read_yaml(path, "numbers.yaml")
    assert data["a"] == 10 and data["b"] == 16 and data["c"] == 8 and data["d"] == 1000.0 and data["e"] == "yes"
    assert data["x"] == {"type": "tni_car", "count": 1}


def test_a_merge_key_with_an_override_in_a_plan_is_valid(tmp_path):
    text = SCENARIO.read_text()
    text = text.replace("unit_types:\n", "x_car: &car {type: polri_car, count: 1, base: polres, patrol: {mode: base}}\n"
                        "unit_types:\n", 1)
    data = yaml.safe_load(SCENARIO.read_text())
    assert "tni_car" in data["unit_types"]
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    # x_car is not a scenario key: the one problem is that, not a duplicate key.
    line = one_clean_error(here("validate", str(path)))
    assert "x_car: unknown key 'x_car'" in line and "duplicate" not in line


def test_set_of_a_key_that_is_not_there_is_blamed_on_the_command_line(cache, tmp_path):
    line = one_clean_error(here(*RUN, "--reps", "1", "--set", "nope.x.y=1", "--out", str(tmp_path / "o")))
    assert line == "error: --set nope.x.y: nope: unknown key 'nope'"
