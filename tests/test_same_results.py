"""The main job's result files, byte for byte, as they were before the library reshaping.

The sha256 values were recorded from ``python run_sim.py`` at commit 8de09b8 (before the package
was split into sub-packages). A change that moves any number in these files must be a deliberate
model change, and then these values are updated in the same commit with the reason.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
MAIN_JOB_SHA256 = {
    "incidents.csv": "5321123a34cbc38e1d5aa0dbff3f74ff1e62b1005a20048736426da718cd5412",
    "summary.csv": "e241f94c2c9694c6c84158341b1618cc81fa025418a454d404da9ef3883027d4",
    "comparison.csv": "617f00a0a1ca1b9b920ba7ceec9ed56581fdaef318722ced3b26cd642ca218f3",
    "units.csv": "cc09e3afa74b90368333563981f14c1bf0035d98728463072349fc342e23842d",
}


def test_main_job_gives_the_same_bytes_as_before(tmp_path: Path, capsys) -> None:
    scenario = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
    assert main(["run", str(scenario), "--out", str(tmp_path), "--workers", "2"]) == 0
    got = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in MAIN_JOB_SHA256}
    assert got == MAIN_JOB_SHA256
