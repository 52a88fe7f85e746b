"""The examples run as they are, from the project folder, and print what they say they print."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_notebook_quickstart_runs_and_prints_its_tables(cache):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_quickstart.py")], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # 1: the study and its plans
    assert "<Study jember-pilkada-2024" in out
    assert "plans: all-at-hq, fixed-posts, joint-circuit, mixed, mixed-plus-one" in out
    # 2: the terminal table of two plans, with the synthetic-network note
    assert "vs all-at-hq" in out and "it shows the method, not the place" in out
    table = [line.split() for line in out.splitlines() if line.startswith(("all-at-hq ", "mixed "))]
    assert [row[:2] for row in table[:2]] == [["all-at-hq", "5"], ["mixed", "5"]]
    # 3: the summary DataFrame's columns
    assert "response_mean_min  response_mean_ci95  within_target_pct" in out
    # 4: the plan built in code, compared with the plan it came from
    assert "mixed-alun-alun" in out and "verdict" in out
    # 5: the override gives more incidents in the same replications
    line = next(line for line in out.splitlines() if line.startswith("incidents per plan:"))
    before_count, after_count = (int(word) for word in line.split(":")[1].split("with")[0].split("->"))
    assert after_count > before_count
    # 6: one network, one world for all of it
    assert "<StudyCache: 1 networks (1 loaded), 1 worlds (1 built)>" in out
    assert "Traceback" not in result.stderr
