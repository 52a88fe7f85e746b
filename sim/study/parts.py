"""Finished replications ("parts") until the result files are made: in memory (the Python API)
or as files under ``OUT/.parts/`` (the command line), where an interrupted run keeps them and
``--resume`` reuses them if the scenario, the road network and the code are unchanged.

A part is ``{"plan", "rep", "incidents": [rows], "units": [rows]}``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Mapping, Sequence

from sim.config import scenario_hash
from sim.errors import InputError
from sim.files import write_text

PARTS = ".parts"

Rows = dict[str, tuple[list[dict], list[dict]]]  # plan -> (incident rows, unit rows)


class MemoryParts:
    """Parts kept in memory."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int], dict] = {}

    def has(self, plan: str, rep: int) -> bool:
        return (plan, rep) in self._parts

    def save(self, part: dict) -> None:
        self._parts[part["plan"], part["rep"]] = part

    def _part(self, plan: str, rep: int) -> dict:
        return self._parts[plan, rep]

    def rows(self, plans: Sequence[str], reps: int) -> Rows:
        """Incident and unit rows of each plan, in replication order."""
        rows: Rows = {}
        for plan in plans:
            incidents, units = [], []
            for rep in range(reps):
                part = self._part(plan, rep)
                incidents += part["incidents"]
                units += part["units"]
            rows[plan] = (incidents, units)
        return rows


def code_hash() -> str:
    """sha256 over the source of patrolsim (every .py under sim/, recursively, by relative path):
    another version, another hash."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def resume_key(scenario, network) -> dict:
    """What must not change for parts to be reused: the scenario (bar its replication count),
    the road network and the code."""
    raw = {key: value for key, value in scenario.raw.items() if key != "replications"}
    return {"scenario_sha256": scenario_hash(raw), "network_hash": network.content_hash(),
            "code_sha256": code_hash()}


class PartFiles(MemoryParts):
    """Parts as JSON files under ``out_dir/.parts/``, each written whole as soon as it is done.

    Without ``resume`` the folder starts empty; with it, the parts already there are kept if
    ``key`` (resume_key) matches the one saved with them, else InputError says what changed.
    ``plan_index`` numbers the plans in their files (their place in the scenario).
    """

    def __init__(self, out_dir: Path, key: dict, resume: bool, plan_index: Mapping[str, int]):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / PARTS
        self.plan_index = dict(plan_index)
        self._prepare(key, resume)

    def _prepare(self, key: dict, resume: bool) -> None:
        key_file = self.folder / "run.json"
        if resume and key_file.exists():
            try:
                saved = json.loads(key_file.read_text())
            except (OSError, ValueError) as error:
                raise InputError(f"--resume: {key_file} cannot be read ({error}); run without --resume") from None
            if saved.get("code_sha256") != key["code_sha256"]:
                raise InputError(f"--resume: the parts in {self.out_dir} were made by another version of "
                                 "patrolsim; run without --resume")
            if saved != key:
                what = "scenario" if saved.get("scenario_sha256") != key["scenario_sha256"] else "road network"
                raise InputError(
                    f"--resume: the {what} differs from the one the run in {self.out_dir} started with; "
                    "run without --resume to start over, or with another --out"
                )
            return
        try:
            if self.folder.exists():
                shutil.rmtree(self.folder)
        except OSError as error:
            raise InputError(f"{self.folder}: cannot write there ({error.strerror or error})") from None
        write_text(key_file, json.dumps(key, sort_keys=True) + "\n")

    def path(self, plan: str, rep: int) -> Path:
        return self.folder / f"plan{self.plan_index[plan]:03d}-rep{rep:05d}.json"

    def has(self, plan: str, rep: int) -> bool:
        return self.path(plan, rep).exists()

    def save(self, part: dict) -> None:
        write_text(self.path(part["plan"], part["rep"]), json.dumps(part))

    def _part(self, plan: str, rep: int) -> dict:
        path = self.path(plan, rep)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as error:  # written whole, so only a hand edit gets here
            raise InputError(f"{path} cannot be read ({error}); delete it and run again with --resume") from None

    def count(self) -> int:
        """How many finished parts are on disk."""
        return len(list(self.folder.glob("plan*-rep*.json")))
