"""Hostile input to the scenario and its flags (issue #21, items 4, 8, 12, 14): device files and pipes,
distributions that overflow, shifts that leave nobody on duty, malformed network bboxes, alias bombs
in ``--set``. Each is refused (or warned about) at once, in one line, in this process."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import yaml

from sim.config import load_scenario
from sim.config.reading import read_bounded
from sim.config.yaml_reader import MAX_FILE_BYTES, read_yaml_value
from sim.errors import InputError
from tests.builders import edited_scenario
from tests.commands import error_line
from tests.plugin_registries import registries_restored

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"


@pytest.fixture(autouse=True)
def _plugins_stay_in_their_test():
    with registries_restored():
        yield



def in_process(capsys, *args: str, within_s: float = 60) -> tuple[int, str, str]:
    """The command line in this process, in a thread: a command that hangs (a FIFO waiting for a
    writer) fails the test instead of blocking it."""
    from sim.cli import main

    capsys.readouterr()
    done: dict[str, int] = {}
    thread = threading.Thread(target=lambda: done.update(code=main(list(args))), daemon=True)
    thread.start()
    thread.join(within_s)
    assert not thread.is_alive(), f"{' '.join(args)} still running after {within_s} s"
    out, err = capsys.readouterr()
    return done["code"], out, err


# -- 4. device files, pipes, folders: what is read is bounded ------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero and /dev/urandom")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_scenario_is_refused_without_reading_it(capsys, device):
    line = error_line(*in_process(capsys, "validate", device, within_s=20)[::2])
    assert line == f"error: {device}: a device, not a regular file; a scenario is a YAML file"
    from sim import Study

    with pytest.raises(InputError, match="a device, not a regular file"):
        Study(device)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_as_scenario_is_refused_without_waiting_for_a_writer(capsys, tmp_path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    line = error_line(*in_process(capsys, "validate", str(fifo), within_s=20)[::2])
    assert "a pipe, not a regular file" in line


def test_a_folder_as_scenario_is_one_line(capsys, tmp_path):
    line = error_line(*in_process(capsys, "validate", str(tmp_path))[::2])
    assert "a folder, not a regular file" in line


def test_no_more_than_the_bound_is_read_of_a_big_file(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES * 50)  # 1 GB of holes: reading it whole would take seconds and 1 GB
    with pytest.raises(InputError, match=r"big.yaml: larger than 20 MB: not a scenario file"):
        load_scenario(big)
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 1000)
    assert read_bounded(exact, 1000) == b"x" * 1000  # the bound itself is allowed


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_as_site_file_is_one_problem_at_its_set(tmp_path):
    link = tmp_path / "tps.csv"
    link.symlink_to("/dev/zero")
    data = yaml.safe_load(SCENARIO.read_text())
    data["site_sets"] = [{"kind": "polling_station", "file": str(link)}]
    with pytest.raises(InputError) as caught:
        load_scenario(data)
    assert caught.value.problems == ["scenario: site_sets[0]: tps.csv: a device, not a regular file"]


# -- 8. distributions that cannot be drawn from -----------------------------------------------------------


WIDE = "{dist: lognormal, mean: 1e-300, sd: 1e5}"


@pytest.mark.parametrize("key", ["disturbances.provocation.on_scene_min", "detection.report_delay_min"])
def test_a_lognormal_too_wide_to_draw_is_refused_before_the_run(capsys, tmp_path, key):
    out = tmp_path / "out"
    args = ["--set", f"{key}={WIDE}"]
    line = error_line(*in_process(capsys, "run", str(SCENARIO), "--hours", "6", "--reps", "1", "--out", str(out),
                                 *args)[::2])
    assert f"{key.replace('disturbances.provocation', 'disturbances[0]')}.sd: 100000 is 1e+305 times the mean" \
           in line and "at most 100 times" in line, line
    assert not out.exists(), "nothing is written for a refused run"
    with pytest.raises(InputError, match="at most 100 times"):
        load_scenario(SCENARIO, {key: read_yaml_value(WIDE, "value")})  # YAML 1.2: 1e-300 is a number


def test_the_widest_lognormal_allowed_draws_finite_minutes():
    import numpy as np

    from sim.plugins.dists import MAX_LOGNORMAL_CV, Lognormal

    widest = Lognormal(1e-300, 1e-300 * MAX_LOGNORMAL_CV)
    draws = [widest.sample(np.random.default_rng(seed)) for seed in range(200)]
    assert all(np.isfinite(draws)) and widest.sigma == pytest.approx(3.0349, abs=1e-4)
    assert np.isfinite(Lognormal(527_040, 527_040 * MAX_LOGNORMAL_CV).sample(np.random.default_rng(1)))


def test_a_plugin_distribution_that_cannot_be_drawn_from_is_refused(tmp_path):
    (tmp_path / "bad_dist.py").write_text(
        "from typing import Literal\nfrom sim.plugins.dists import Dist, register\n\n"
        "@register\nclass Forever(Dist):\n    dist: Literal['forever'] = 'forever'\n    mean: float = 1.0\n\n"
        "    def sample(self, rng):\n        return float('inf')\n")
    data = yaml.safe_load(SCENARIO.read_text())
    data["plugins"] = ["bad_dist.py"]
    data["disturbances"][0]["on_scene_min"] = {"dist": "forever"}
    with pytest.raises(InputError) as caught:
        load_scenario(data, folder=tmp_path)
    assert caught.value.problems == ["scenario: disturbances[0].on_scene_min: cannot be drawn from: mean 1, a draw "
                                     "inf (durations are finite and not negative)"]


# -- 12. shifts that leave the fleet empty -----------------------------------------------------------------


def _duty(windows_by_plan):
    def edit(data):
        for plan in data["plans"]:
            for group in plan["units"]:
                group["on_duty"] = windows_by_plan(plan["name"], group)
    return edit


def test_a_fleet_on_duty_one_hour_a_day_is_warned_about(capsys, tmp_path):
    path = edited_scenario(tmp_path, _duty(lambda plan, group: ["07:00-08:00"]))
    code, out, err = in_process(capsys, "validate", str(path))
    assert code == 0, err
    warned = [line for line in err.splitlines() if "no unit is on duty" in line]
    assert len(warned) == 5, err  # one per plan
    assert warned[0].startswith("warning: ") and "plan 'all-at-hq': no unit is on duty for 96% of the clock " \
                                                 "(159 h of 166" in warned[0]


def test_shifts_that_cover_the_day_between_them_are_not_warned_about(capsys, tmp_path):
    def windows(plan, group):  # two crews of a plan take turns; every plan's fleet is never empty
        return ["07:00-19:00"] if group["type"] in ("polri_car", "satpol_pp_car") else ["19:00-07:00"]

    code, _, err = in_process(capsys, "validate", str(edited_scenario(tmp_path, _duty(windows))))
    assert code == 0 and "no unit is on duty" not in err, err


def test_half_a_day_without_anyone_is_not_yet_most_of_the_clock(tmp_path):
    from sim.config.plausibility import empty_share

    scenario = load_scenario(edited_scenario(tmp_path, _duty(lambda plan, group: ["08:00-20:00"])))
    share = empty_share(scenario, scenario.plan("mixed"))
    # 166 measured hours from 02:00 on the first day: 12 of every 24 hours without a unit
    assert share == pytest.approx(0.5, abs=0.02)
    assert not [w for w in scenario.warnings if "no unit is on duty" in w]


# -- 14. messages: a malformed bbox, an alias bomb in --set, a bound named ---------------------------------


@pytest.mark.parametrize("value, says", [
    ("osm:200,100,-5,abc", "a bbox is four numbers WEST,SOUTH,EAST,NORTH in degrees; 'abc' is not a number"),
    ("osm:113.6,-8.3,113.8", "a bbox is four numbers WEST,SOUTH,EAST,NORTH in degrees; got 3"),
])
def test_a_malformed_bbox_is_refused_not_geocoded_as_a_place(capsys, tmp_path, value, says):
    from sim.config.network_spec import network_spec_from_arg

    with pytest.raises(InputError) as caught:
        network_spec_from_arg(value)
    assert caught.value.problems == [f"network {value}: {says}"]   # as Python names the option
    line = error_line(*in_process(capsys, "map", str(SCENARIO), "--plan", "mixed", "--network", value,
                                 "--out", str(tmp_path / "m.png"))[::2])
    assert line == f"error: --network {value}: {says}", line   # as the command line does


def test_a_place_name_with_commas_is_still_a_place():
    from sim.config.network_spec import network_spec_from_arg

    assert network_spec_from_arg("osm:Kecamatan Patrang, Jember, Jawa Timur, Indonesia").place == \
        "Kecamatan Patrang, Jember, Jawa Timur, Indonesia"


def test_an_alias_bomb_in_set_names_its_value_once_and_cut(capsys, tmp_path):
    bomb = "{a: &a [x,x,x,x,x,x,x,x,x], " + ", ".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)) + "}"
    line = error_line(*in_process(capsys, "run", str(SCENARIO), "--set", f"description={bomb}",
                                 "--out", str(tmp_path / "out"))[::2])
    assert line.count("{a: &a") == 1 and "…: more than 1,000,000 values once aliases are expanded" in line, line
    assert len(line) < 300


@pytest.mark.parametrize("k", ["0", "1000000000", "9" * 400])
def test_every_node_count_out_of_bounds_names_the_bound(k):
    from sim.optimize.candidates import parse_candidates

    with pytest.raises(InputError, match="K must be from 1 to 5,000") as caught:
        parse_candidates(f"nodes:{k}")
    assert len(str(caught.value)) < 120


def test_a_phase_fleet_counts_while_its_phase_lasts(tmp_path):
    """The plan's own units are on duty all day, but a phase over most of the clock has a fleet on
    duty one hour a day: most of the clock has nobody, and the warning says phase fleets count."""
    from sim.config.plausibility import empty_share

    def edit(data):
        data["calendar"] = {"phases": [{"name": "quiet", "start": "2024-10-24T00:00", "end": "2024-10-30T00:00"}]}
        data["plans"] = [{**data["plans"][0], "by_phase": {"quiet": {"units": [
            {"type": "polri_car", "count": 3, "base": "polres", "patrol": {"mode": "base"}, "on_duty": ["07:00-08:00"]}]}}}]

    scenario = load_scenario(edited_scenario(tmp_path, edit))
    # 166 measured hours; the phase's 144 have one hour a day on duty: 138 hours without anyone
    assert empty_share(scenario, scenario.plans[0]) == pytest.approx(138 / 166, abs=0.01)
    (warning,) = [w for w in scenario.warnings if "no unit is on duty" in w]
    assert "83% of the clock" in warning and "on_duty windows and phase fleets" in warning
