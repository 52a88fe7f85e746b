"""The examples run as they are, from the project folder, and print what they say they print."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "notebook_quickstart.py"


def _this_checkout() -> dict[str, str]:
    """The environment of an example run: ``sim`` imported from this checkout (a worktree tests its own
    code, whatever the venv has installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return env


def _table(out: str, header_word: str, n_rows: int) -> tuple[list[str], list[list[str]]]:
    """The columns (two or more spaces apart) and the first ``n_rows`` rows (words) of the first text
    table in ``out`` whose header starts with "plan" and names ``header_word``."""
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.split()[:1] == ["plan"] and header_word in line)
    columns = [cell.strip() for cell in lines[start].strip().split("  ") if cell.strip()]
    rows = [line.split() for line in lines[start + 1:] if line.strip() and set(line.strip()) != {"-"}]
    return columns, rows[:n_rows]


def test_the_examples_import_sim_from_this_checkout():
    result = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"], cwd=ROOT / "examples",
                            env=_this_checkout(), capture_output=True, text=True, timeout=60)
    assert Path(result.stdout.strip()) == ROOT / "sim" / "__init__.py", result.stdout + result.stderr


@pytest.mark.slow
def test_notebook_quickstart_runs_and_prints_its_tables(cache):
    from sim.config import load_scenario

    result = subprocess.run([sys.executable, str(QUICKSTART)], cwd=ROOT, env=_this_checkout(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    scenario = load_scenario(ROOT / "scenarios" / "jember_pilkada_2024.yaml")
    # 1: the study and its plans
    assert "<Study jember-pilkada-2024" in out
    assert "plans: " + ", ".join(plan.name for plan in scenario.plans) in out
    # 2: the terminal table: one row per plan asked for, in that order, each with its fleet size, the
    # replications said under it, the comparison with the first plan and the synthetic-network note
    columns, rows = _table(out, "units", 2)
    assert columns[:2] == ["plan", "units"], columns
    assert [row[:2] for row in rows] == [[name, str(scenario.plan(name).n_units)] for name in ("all-at-hq", "mixed")]
    assert "over 5 replications" in out
    assert "vs all-at-hq" in out and "it shows the method, not the place" in out
    # 3: the summary DataFrame: the columns asked for, 5 replications of each plan
    columns, rows = _table(out, "response_mean_min", 2)
    assert " ".join(columns).split() == ["plan", "reps", "incidents", "response_mean_min", "response_mean_ci95",
                                         "within_target_pct"]
    assert [row[:2] for row in rows] == [["all-at-hq", "5"], ["mixed", "5"]]
    # 4: the plan built in code, compared with the plan it came from
    assert "mixed-alun-alun" in out and "verdict" in out
    # 5: the override gives more incidents in the same replications
    line = next(line for line in out.splitlines() if line.startswith("incidents per plan:"))
    before_count, after_count = (int(word) for word in line.split(":")[1].split("with")[0].split("->"))
    assert after_count > before_count
    # 6: one network, one world for all of it
    assert "<StudyCache: 1 networks (1 loaded), 1 worlds (1 built)>" in out
    assert "Traceback" not in result.stderr
