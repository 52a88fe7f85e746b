"""Fixtures shared by every test module: work done once per session and shared read-only.

- ``cache``: one network cache for the session (autouse), so the demo network is built once and
  no test reads or writes the user's own ``~/.cache/patrolsim``.
- ``main_job``: ``python run_sim.py`` with no arguments, run once; tests read its process result
  and its result folder. A test that changes the folder works on a copy
  (``tests.commands.copy_folder``).
- ``demo_world``: the default scenario and its world on the demo network, built once.

The headless browser is shared the same way: ``tests.browser.chromium_driver`` lends one Chromium
for the session, closed here when the session ends.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"


@pytest.fixture(scope="session", autouse=True)
def cache(tmp_path_factory):
    """One network cache for the session, also for subprocesses (they read PATROLSIM_CACHE)."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("PATROLSIM_CACHE")
    os.environ["PATROLSIM_CACHE"] = str(path)
    yield path
    if old is None:
        del os.environ["PATROLSIM_CACHE"]
    else:
        os.environ["PATROLSIM_CACHE"] = old


@dataclass(frozen=True)
class MainJob:
    """The main job as a user runs it: its process result and the folder it wrote."""

    process: subprocess.CompletedProcess
    folder: Path


@pytest.fixture(scope="session")
def main_job(cache, tmp_path_factory) -> MainJob:
    """``python run_sim.py`` with no arguments, from an empty folder, once per session (read only)."""
    cwd = tmp_path_factory.mktemp("main-job")
    process = subprocess.run([sys.executable, str(ROOT / "run_sim.py")], cwd=cwd, capture_output=True, text=True,
                             timeout=900)
    assert process.returncode == 0, process.stderr[-3000:]
    return MainJob(process, cwd / "results" / "jember-pilkada-2024")


@pytest.fixture(scope="session")
def demo_world(cache):
    """(scenario, world) of the default scenario on the demo network, shared read-only."""
    from sim.config import load_scenario
    from sim.model.world import build_world
    from sim.network import NetworkSpec, load_network

    scenario = load_scenario(DEFAULT_SCENARIO)
    return scenario, build_world(scenario, load_network(NetworkSpec("demo")))


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 (pytest's hook signature)
    from tests.browser import close_shared_browser

    close_shared_browser()
