"""Plug-ins that live outside the package: registered in the user's own module, named by a scenario's
``plugins:``, passed to ``Study(..., plugins=[...])`` or found through the ``patrolsim.plugins``
entry points, they are accepted and used end to end (docs/plugins.md's worked example runs here)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world, simulate
from sim.plugins.dispatch import POLICIES
from sim.plugins.loading import MAX_PLUGINS
from sim.plugins.patrols import PATROL_MODES
from sim.plugins.registry import Registry
from tests.builders import base_scenario, site_at
from tests.graphs import network_from_edges
from tests.plugin_registries import registries_restored

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins_scenario.yaml"
PLUGIN_FILE = ROOT / "examples" / "my_plugins.py"


@pytest.fixture(autouse=True)
def _plugins_stay_in_their_test():
    with registries_restored():
        yield



def in_process(capsys, *args: str) -> tuple[int, str, str]:
    from sim.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def line():
    """0 - 1 - 2 both ways: 60 s between 0 and 1, 30 s between 1 and 2."""
    return network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [60.0, 60.0, 30.0, 30.0])


@pytest.mark.slow
def test_the_worked_example_validates_runs_and_maps_from_the_command_line(cache, tmp_path, capsys):
    code, out, err = in_process(capsys, "validate", str(EXAMPLE))
    assert code == 0, err
    assert "ok: 4 sites" in out and "shuttles: 3 units" in out
    out_dir = tmp_path / "run"
    code, out, err = in_process(capsys, "run", str(EXAMPLE), "--reps", "2", "--hours", "12", "--workers", "2",
                                "--out", str(out_dir))
    assert code == 0, err
    with open(out_dir / "units.csv", newline="") as handle:
        patrols = sorted({row["patrol"] for row in csv.DictReader(handle)})
    assert patrols == ["base", "shuttle"], "the plug-in patrol mode is what the units drove"
    code, out, err = in_process(capsys, "map", str(EXAMPLE), "--plan", "shuttles", "--out", str(tmp_path / "m.png"))
    assert code == 0, err
    assert (tmp_path / "m.png").stat().st_size > 10_000


def test_a_study_takes_plugins_for_a_scenario_given_as_data(cache, monkeypatch):
    from sim import Study

    data = yaml.safe_load(EXAMPLE.read_text())
    del data["plugins"]
    monkeypatch.chdir(ROOT)
    study = Study(data, plugins=["examples/my_plugins.py"])
    result = study.run(reps=1, hours=6)
    assert set(result.units["patrol"]) == {"base", "shuttle"}
    assert study.with_overrides({"seed": 3}).scenario.dispatch.policy == "least-busy"  # derived studies too


def test_a_plugin_policy_is_the_one_that_chooses(tmp_path, line):
    """Two cars wait at the same base, so they are equally near every incident: ``nearest`` sends the
    first (plan order) unless it is busy, the example's ``least-busy`` takes turns."""
    sent = {}
    for policy in ("nearest", "least-busy"):
        data = base_scenario(
            sites=[site_at(line, 0, "a"), site_at(line, 2, "c")],
            disturbances=[{"type": "fight", "rate_per_hour": 1.0, "sites": {"c": 1},
                           "on_scene_min": {"dist": "fixed", "value": 1}, "priority": 1}],
            units=[{"type": "car", "count": 2, "base": "a", "patrol": {"mode": "base"}}], hours=48, reps=1,
            plugins=[str(PLUGIN_FILE)])
        data["dispatch"]["policy"] = policy
        scenario = load_scenario(data)
        result = simulate(scenario, build_world(scenario, line, cache_dir=tmp_path), "plan", 0)
        sent[policy] = [incident.unit_ids[0] for incident in result.incidents if incident.unit_ids]
    assert len(sent["nearest"]) > 30
    assert sent["nearest"].count("car-1") >= 0.9 * len(sent["nearest"]), "nearest keeps plan order on ties"
    counts = [sent["least-busy"].count(unit) for unit in ("car-1", "car-2")]
    assert abs(counts[0] - counts[1]) <= 1, f"least-busy spreads the work: {counts}"


def test_a_mode_registered_after_the_schema_was_imported_is_accepted(tmp_path, line):
    """The bug: the registries were read when the schema module was imported."""
    module = tmp_path / "late_mode.py"
    module.write_text(textwrap.dedent("""
        from typing import Literal
        from sim.plugins.patrols import PatrolMode, PatrolRoute, register

        @register
        class Parked(PatrolMode):
            mode: Literal["parked-late"] = "parked-late"

            def resolve(self, base, world):
                return PatrolRoute(self)

            def standing_site(self, base):
                return base

            def drive(self, unit, stops):
                yield from unit.stand_at(unit.base)
    """))
    data = base_scenario(sites=[site_at(line, 0, "a")],
                         disturbances=[{"type": "fight", "rate_per_hour": 1.0, "sites": "all",
                                        "on_scene_min": {"dist": "fixed", "value": 5}, "priority": 1}],
                         units=[{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "parked-late"}}],
                         hours=2, reps=1, plugins=["late_mode.py"])
    scenario = load_scenario(data, folder=tmp_path)
    assert type(scenario.plans[0].units[0].patrol).__name__ == "Parked"
    assert "parked-late" in PATROL_MODES


def test_an_unknown_plugin_name_gets_did_you_mean_with_file_and_line(tmp_path):
    text = EXAMPLE.read_text().replace("mode: shuttle, to: unej", "mode: shutle, to: unej")
    text = text.replace("policy: least-busy", "policy: least-bussy")
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    (tmp_path / "my_plugins.py").write_text(PLUGIN_FILE.read_text())
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    lines = text.splitlines()
    mode_line = next(i for i, line in enumerate(lines, 1) if "shutle" in line)
    policy_line = next(i for i, line in enumerate(lines, 1) if "least-bussy" in line)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:{mode_line}: plans[0].units[1].patrol.mode: input should be ")
               and "got 'shutle'; did you mean 'shuttle'?" in p for p in problems), problems
    assert any(p.startswith(f"{path}:{policy_line}: dispatch.policy: input should be 'nearest', 'coverage'")
               and "got 'least-bussy'; did you mean 'least-busy'?" in p for p in problems), problems


@pytest.mark.parametrize("entry, module_text, expected", [
    ("not_a_module_anywhere", None, "plugins[0]: no module named 'not_a_module_anywhere' on the Python path"),
    ("missing.py", None, "plugins[0]: file not found: "),
    ("broken.py", "x = 1\ny = 1 / 0\n", "plugins[0]: importing broken.py failed: ZeroDivisionError: division by "
                                        "zero (broken.py:2)"),
    ("syntax.py", "def f(:\n", "plugins[0]: importing syntax.py failed: SyntaxError"),
    ("a b", None, "plugins[0]: 'a b' is neither a module name"),
    (5, None, "plugins[0]: input should be a valid string, got 5"),
])
def test_a_plugin_that_cannot_be_imported_is_one_line_at_its_line(tmp_path, entry, module_text, expected):
    if module_text is not None:
        (tmp_path / entry).write_text(module_text)
    text = EXAMPLE.read_text().replace("plugins: [my_plugins.py]", f"plugins: [{entry!r}]" if isinstance(entry, str)
                                       else f"plugins: [{entry}]")
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("plugins:"))
    assert any(p.startswith(f"{path}:{line}: {expected}") for p in caught.value.problems), caught.value.problems


def test_plugins_are_bounded(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["plugins"] = ["os"] * (MAX_PLUGINS + 1)
    with pytest.raises(InputError, match=f"plugins: value should have at most {MAX_PLUGINS} items"):
        load_scenario(data, folder=EXAMPLE.parent)
    from sim import Study

    with pytest.raises(InputError, match="plugins: expected a list of module names or .py files"):
        Study(EXAMPLE, plugins="my_plugins.py")


def test_a_name_held_by_another_plugin_is_refused():
    registry: Registry = Registry("patrol mode")

    class A:
        pass

    class B:
        pass

    registry.add("x", A)
    registry.add("x", A)  # the same plug-in again (its module imported twice): fine
    with pytest.raises(ValueError, match="patrol mode 'x' is already registered by .*A; .*B needs another name"):
        registry.add("x", B)
    with pytest.raises(ValueError, match="patrol mode name 'two words'"):
        registry.add("two words", B)
    assert "nearest" in POLICIES and POLICIES["nearest"].__module__ == "sim.plugins.dispatch"


def test_plugins_of_an_installed_package_are_found_through_entry_points(tmp_path):
    """A package that declares its module in the ``patrolsim.plugins`` group is used without being
    named: here a distribution on the Python path (its .dist-info, as pip installs it)."""
    site = tmp_path / "site"
    (site / "patrolsim_shuttle-1.0.dist-info").mkdir(parents=True)
    (site / "patrolsim_shuttle-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: patrolsim-shuttle\nVersion: 1.0\n")
    (site / "patrolsim_shuttle-1.0.dist-info" / "entry_points.txt").write_text(
        "[patrolsim.plugins]\nshuttle = patrolsim_shuttle\n")
    (site / "patrolsim_shuttle.py").write_text(PLUGIN_FILE.read_text())
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(EXAMPLE.read_text().replace("plugins: [my_plugins.py]", ""))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    done = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "validate", str(scenario)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "shuttles: 3 units" in done.stdout
    # a broken entry point is a warning, not a failure of every scenario
    (site / "patrolsim_shuttle-1.0.dist-info" / "entry_points.txt").write_text(
        "[patrolsim.plugins]\nshuttle = patrolsim_shuttle\nbroken = no_such_module_here\n")
    done = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "validate", str(scenario)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning: plug-in 'broken' (no_such_module_here, entry point of patrolsim.plugins)" in done.stderr


def test_docs_show_the_example_file_as_it_is():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    assert f"```python\n{PLUGIN_FILE.read_text().rstrip()}\n```" in doc, "docs/plugins.md shows examples/my_plugins.py"
    scenario = EXAMPLE.read_text()
    for line in ("plugins: [my_plugins.py]", "patrol: {mode: shuttle, to: kpu_office, dwell_min: 10}",
                 "policy: least-busy"):
        assert line in scenario and line in doc


def test_the_python_example_of_the_docs_runs(cache, monkeypatch):
    from sim import Study

    monkeypatch.chdir(ROOT)
    study = Study("scenarios/jember_pilkada_2024.yaml", plugins=["examples/my_plugins.py"])
    result = study.with_overrides({"dispatch.policy": "least-busy"}).run(plans=["mixed"], reps=2, hours=24)
    assert list(result.summary["plan"]) == ["mixed"]
