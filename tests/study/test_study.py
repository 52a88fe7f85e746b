"""The Python API (sim.Study): the same bytes as the command line, whatever runs it; variants
validated like the file; one network and one world for a study and the studies derived from it."""
from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim.study.cache as study_cache
from sim import Study, StudyCache
from sim.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
CSV_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv", "sites.csv", "priorities.csv",
             "areas.csv")
FRAMES = {"incidents.csv": "incidents", "units.csv": "units", "summary.csv": "summary",
          "comparison.csv": "comparison", "sites.csv": "sites", "priorities.csv": "priorities", "areas.csv": "areas"}
PLANS = ["mixed", "fixed-posts"]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def study(cache) -> Study:
    return Study(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def small(study):
    """Two plans, 3 replications of 24 h, in this process."""
    return study.run(plans=PLANS, reps=3, hours=24)


@pytest.mark.slow
def test_to_dir_writes_the_files_of_the_command_line_byte_for_byte(cache, small, tmp_path):
    out_cli = tmp_path / "cli"
    result = cli("run", str(DEFAULT_SCENARIO), "--plan", "mixed", "--plan", "fixed-posts", "--reps", "3",
                 "--hours", "24", "--workers", "1", "--out", str(out_cli))
    assert result.returncode == 0, result.stderr
    out_api = small.to_dir(tmp_path / "api")
    assert out_api == tmp_path / "api"
    for name in CSV_FILES:
        assert (out_api / name).read_bytes() == (out_cli / name).read_bytes(), name
    assert sorted(p.name for p in (out_api / "figures").iterdir()) == sorted(
        p.name for p in (out_cli / "figures").iterdir())
    assert not (out_api / ".parts").exists()  # parts are for the command line's --resume
    # The manifests differ only in what differs: the command line and the wall time.
    from_cli = json.loads((out_cli / "manifest.json").read_text())
    from_api = json.loads((out_api / "manifest.json").read_text())
    assert from_api["command_line"] == [] and from_cli["command_line"][-2:] == ["--out", str(out_cli)]
    for manifest in (from_cli, from_api):
        del manifest["command_line"], manifest["wall_time_s"]
    assert from_api == from_cli
    # What `run` prints is the API's table, then where the files are.
    assert result.stdout.startswith(f"{small.table()}\nResults in {out_cli}/")
    assert result.stdout.count("\n") == small.table().count("\n") + 2


@pytest.mark.slow
def test_in_process_local_workers_and_dask_give_the_same_numbers(cache, study, small, tmp_path):
    from distributed import LocalCluster

    two = study.run(plans=PLANS, reps=3, hours=24, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        dask = study.run(plans=PLANS, reps=3, hours=24, scheduler=cluster.scheduler_address)
    assert (small.executor, two.executor) == ("1 worker", "2 workers") and dask.executor.startswith("Dask at")
    for name, frame in FRAMES.items():
        pd.testing.assert_frame_equal(getattr(two, frame), getattr(small, frame))
        pd.testing.assert_frame_equal(getattr(dask, frame), getattr(small, frame))
    one_dir, dask_dir = small.to_dir(tmp_path / "one", figures=False), dask.to_dir(tmp_path / "dask", figures=False)
    for name in CSV_FILES:
        assert (one_dir / name).read_bytes() == (dask_dir / name).read_bytes(), name
    assert not (one_dir / "figures").exists()


@pytest.mark.slow
def test_the_api_waits_scheduler_timeout_s_for_a_scheduler_to_answer(study):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nothing is ever sent
        with pytest.raises(InputError) as refused:
            study.run(plans=PLANS, reps=1, hours=3, scheduler=f"tcp://127.0.0.1:{silent.getsockname()[1]}",
                      scheduler_timeout_s=1)
    assert "does not answer as a Dask scheduler does (nothing in 1 s; scheduler_timeout_s waits longer)" \
        in str(refused.value)


def test_data_frames_have_the_columns_and_numbers_of_the_csv_files(small, tmp_path):
    out = small.to_dir(tmp_path / "out", figures=False)
    for name, frame in FRAMES.items():
        data = getattr(small, frame)
        with (out / name).open() as handle:
            header = next(csv.reader(handle))
        assert list(data.columns) == header, name
        from_file = pd.read_csv(out / name, keep_default_na=False, na_values=[""])
        assert len(from_file) == len(data), name
        for column in header:
            if pd.api.types.is_numeric_dtype(from_file[column]) and from_file[column].notna().any():
                assert ((data[column].astype(float) - from_file[column]).abs().fillna(0) <= 5e-5).all(), column
                assert (data[column].isna() == from_file[column].isna()).all(), column
    assert small.plans == PLANS and small.reference == "mixed" and small.reps == 3
    assert list(small.summary["plan"]) == PLANS
    assert set(small.summary["network"]) == {small.network.source_label}
    per_rep = small.replications
    assert list(per_rep.columns) == ["plan", "rep", "response_mean_min", "within_target_pct"]
    assert len(per_rep) == 6
    mean = per_rep[per_rep["plan"] == "mixed"]["response_mean_min"].mean()
    assert math.isclose(mean, small.summary.loc[0, "response_mean_min"])


def test_run_writes_nothing(cache, study, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study.run(plans=["all-at-hq"], reps=1, hours=3)
    assert list(tmp_path.iterdir()) == []


def test_a_study_from_data_equals_the_study_from_its_file(cache, study, small):
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    from_data = Study(data)
    assert from_data.scenario.sha256 == study.scenario.sha256
    assert from_data.source_path is None and study.source_path == str(DEFAULT_SCENARIO)
    again = from_data.run(plans=PLANS, reps=3, hours=24)
    pd.testing.assert_frame_equal(again.incidents, small.incidents)
    data["plans"][0]["units"][0]["count"] = 0
    with pytest.raises(InputError) as error:
        Study(data)
    assert any("plans[0].units[0].count" in problem for problem in error.value.problems)


def test_with_overrides_validates_and_leaves_the_study_as_it_was(cache, study, small):
    busier = study.with_overrides({"disturbances.provocation.rate_per_hour": 1.0})
    assert busier.scenario.raw["disturbances"][0]["rate_per_hour"] == 1.0
    assert study.scenario.raw["disturbances"][0]["rate_per_hour"] == 0.25
    assert busier.run(plans=PLANS, reps=3, hours=24).summary.loc[0, "incidents"] > small.summary.loc[0, "incidents"]
    # Later values win; overrides pile up through derived studies.
    twice = busier.with_overrides({"seed": 5}).with_overrides({"disturbances.provocation.rate_per_hour": 0.5})
    assert (twice.scenario.seed, twice.scenario.raw["disturbances"][0]["rate_per_hour"]) == (5, 0.5)
    with pytest.raises(InputError) as error:
        study.with_overrides({"disturbances.provokation.rate_per_hour": 0.3})
    assert "did you mean 'provocation'" in str(error.value)
    with pytest.raises(InputError) as error:
        study.with_overrides({"disturbances.provocation.rate_per_hour": -1})
    assert "rate_per_hour" in str(error.value)


def new_plan(name: str, at: str) -> dict:
    return {"name": name, "units": [
        {"type": "polri_car", "count": 2, "base": "polres", "patrol": {"mode": "post", "at": at}},
        {"type": "tni_car", "count": 2, "base": "kodim_0824", "patrol": {"mode": "base"}},
    ]}


def test_with_plan_adds_or_replaces_a_plan_and_validates_it(cache, study):
    added = study.with_plan(new_plan("mine", "alun_alun"))
    assert added.plans == [*study.plans, "mine"] and study.plans[-1] != "mine"
    replaced = added.with_plan(new_plan("mine", "unej"))
    assert replaced.plans == added.plans
    assert replaced.plan("mine").units[0].patrol.at == "unej"
    edited = study.plan_data("mixed")
    edited["units"][0]["count"] = 2
    assert study.with_plan(edited).plan("mixed").n_units == study.plan("mixed").n_units + 1
    assert study.plan("mixed").units[0].count == 1  # plan_data is a copy
    res = added.run(plans=["all-at-hq", "mine"], reps=2, hours=12)
    assert list(res.summary["plan"]) == ["all-at-hq", "mine"]

    with pytest.raises(InputError) as error:
        study.with_plan(new_plan("bad", "kpu_ofice"))
    index = len(study.plans)
    assert f"plans[{index}].units[0].patrol.at: unknown site 'kpu_ofice'; did you mean 'kpu_office'?" in (
        str(error.value))
    with pytest.raises(InputError, match="plans\\[3\\].units\\[0\\].count"):
        study.with_plan({**study.plan_data("mixed"), "units": [{**study.plan_data("mixed")["units"][0], "count": -1}]})
    with pytest.raises(InputError, match="with_plan"):
        study.with_plan(["not", "a", "plan"])


def test_run_checks_its_arguments(study):
    with pytest.raises(InputError, match="did you mean 'fixed-posts'"):
        study.run(plans=["fixed-post"])
    with pytest.raises(InputError, match="reps 0"):
        study.run(reps=0)
    with pytest.raises(InputError, match="workers 0"):
        study.run(workers=0)


def test_the_network_and_world_are_loaded_once_across_derived_studies(cache, monkeypatch):
    loads, builds = [], []
    real_load, real_build = study_cache.load_network, study_cache.build_world
    monkeypatch.setattr(study_cache, "load_network", lambda spec: loads.append(spec) or real_load(spec))
    monkeypatch.setattr(study_cache, "build_world",
                        lambda scenario, network: builds.append(1) or real_build(scenario, network))

    study = Study(DEFAULT_SCENARIO)
    world = study.world()
    variants = [
        study.with_overrides({"disturbances.provocation.rate_per_hour": 0.5}),
        study.with_plan(new_plan("mine", "alun_alun")),
        study.with_plan(new_plan("mine", "unej")).with_overrides({"clock.duration_hours": 12}),
        study.with_network("demo"),
    ]
    for variant in variants:
        assert variant.world() is world and variant.network() is study.network()
        assert variant.cache is study.cache
    study.run(plans=["all-at-hq", "mixed"], reps=2, hours=6)
    variants[1].run(plans=["mine"], reps=1, hours=6, seed=study.scenario.seed)
    assert len(loads) == 1 and len(builds) == 1
    assert (study.cache.network_loads, study.cache.world_builds) == (1, 1)

    # What a world depends on (here the seed, which draws the random patrols' road pools) gives
    # a new world on the same network.
    reseeded = study.with_overrides({"seed": 11})
    assert reseeded.world() is not world and reseeded.network() is study.network()
    assert reseeded.world_key() != study.world_key()
    assert (len(loads), len(builds)) == (1, 2)
    # A study made apart has its own cache, unless it is given one.
    assert Study(DEFAULT_SCENARIO).cache is not study.cache
    assert Study(DEFAULT_SCENARIO, cache=study.cache).world() is world
    assert len(builds) == 2


@pytest.mark.slow
def test_importing_sim_errors_does_not_import_the_package():
    code = ("import sys, sim.errors; loaded = [m for m in sys.modules if m.startswith('sim.')]; "
            "print(sorted(loaded)); from sim import Study; print(Study.__module__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['sim.errors']", "sim.study.api"]


@pytest.mark.parametrize("make, words", [
    (lambda: Study(DEFAULT_SCENARIO, overrides={None: 1}), "the key None is not a dotted path"),
    (lambda: Study(DEFAULT_SCENARIO, overrides={5: 1}), "the key 5 is not a dotted path"),
    (lambda: Study(DEFAULT_SCENARIO, overrides="seed=1"), "overrides 'seed=1': give a dict of dotted path -> value"),
    (lambda: Study(42), "the scenario is the path of a YAML file or a dict of scenario data, not int 42"),
    (lambda: Study(DEFAULT_SCENARIO, network=12), "network 12: give 'demo', 'osm' or the path of a road network file"),
    (lambda: Study(DEFAULT_SCENARIO, cache={}), "cache {}: give a StudyCache"),
], ids=["key-None", "key-5", "overrides-text", "source-int", "network-int", "cache-dict"])
def test_bad_arguments_to_study_are_input_errors_naming_them(make, words):
    with pytest.raises(InputError) as refused:
        make()
    assert words in str(refused.value)


def test_bad_arguments_to_simulate_and_run_are_input_errors_naming_them(study):
    for call, words in [
        (lambda: study.simulate("mixed", rep=-1), "rep -1: a replication is a whole number from 0 to 9,999"),
        (lambda: study.simulate("mixed", rep=1.5), "rep 1.5"),
        (lambda: study.simulate(7), "plan 7: give a plan's name"),
        (lambda: study.with_overrides({("seed",): 1}), "the key ('seed',) is not a dotted path"),
        (lambda: study.run(plans=5), "plans 5: give a plan's name or a list of names"),
        (lambda: study.run(reps="many"), "reps 'many': expected a whole number >= 1 or 'auto'"),
        (lambda: study.run(reps="auto", precision=2), "precision 2: must be between 0 and 1"),
        (lambda: study.run(scheduler=8786), "scheduler 8786"),
        (lambda: study.run(scheduler_timeout_s=5), "scheduler_timeout_s 5: only with scheduler"),
        (lambda: study.run(scheduler="tcp://127.0.0.1:8786", scheduler_timeout_s="10"),
         "scheduler_timeout_s '10': must be a number of seconds from 1 to 600"),
        (lambda: study.run(scheduler="tcp://127.0.0.1:8786", scheduler_timeout_s=0.5),
         "scheduler_timeout_s 0.5: must be a number of seconds from 1 to 600"),
    ]:
        with pytest.raises(InputError, match=re.escape(words)):
            call()


def test_a_cache_with_a_bound_keeps_the_worlds_used_last(study):
    """A worker process (Dask) keeps a few worlds: the least recently used goes first."""
    bounded = StudyCache(max_worlds=2)
    keys = [study.with_overrides({"seed": seed}).world_key() for seed in (1, 2, 3)]
    network = study.network()
    scenarios = {key: study.with_overrides({"seed": seed}).scenario for key, seed in zip(keys, (1, 2, 3))}
    bounded.keyed_world(keys[0], scenarios[keys[0]], network)
    bounded.keyed_world(keys[1], scenarios[keys[1]], network)
    bounded.keyed_world(keys[0], scenarios[keys[0]], network)  # used again: now the newest
    bounded.keyed_world(keys[2], scenarios[keys[2]], network)
    assert list(bounded.worlds) == [keys[0], keys[2]] and bounded.world_builds == 3
