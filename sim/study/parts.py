"""Finished replications ("parts") until the result files are made: in memory (the Python API)
or as files under ``OUT/.parts/`` (the command line), where an interrupted run keeps them and
``--resume`` reuses them if the scenario, the road network and the code are unchanged.

A part is ``{"plan", "rep", "incidents": [rows], "units": [rows]}`` (and ``"events"``, what each
calendar event did to the other incidents, when they are computed); on disk it also holds
``"run"``, the digest of the run it belongs to, so a part file renamed, copied from another run
or edited by hand is refused, never summed in.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.config import scenario_hash
from sim.errors import InputError
from sim.files import write_text
from sim.model import INCIDENT_COLUMNS, UNIT_COLUMNS
from sim.model.records import OPTIONAL_INCIDENT_COLUMNS, OPTIONAL_UNIT_COLUMNS

PARTS = ".parts"
OPTIONAL_COLUMNS = {*OPTIONAL_INCIDENT_COLUMNS, *OPTIONAL_UNIT_COLUMNS}  # columns only some scenarios' rows have
RUN_FILE = "run.json"
_PART_NAME = re.compile(r"^plan(\d{3,})-rep(\d{5,})\.json$")

Rows = dict[str, tuple[list[dict], list[dict]]]  # plan -> (incident rows, unit rows)

# What each column of a part's rows holds (JSON keeps Python's int and float apart).
_TEXT, _INT, _FLOAT = "text", "whole number", "number or null"
_INCIDENT_KINDS = {"plan": _TEXT, "type": _TEXT, "site": _TEXT, "escalated_to": _TEXT, "rep": _INT,
                   "incident_id": _INT, "priority": _INT, "units_required": _INT, "units_sent": _INT,
                   "escalated": _INT, "counted": _INT}
_UNIT_KINDS = {"plan": _TEXT, "unit_id": _TEXT, "type": _TEXT, "agency": _TEXT, "base": _TEXT,
               "patrol": _TEXT, "rep": _INT, "incidents_served": _INT}


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

    def event_figures(self, plans: Sequence[str], reps: int) -> dict[str, list] | None:
        """Each plan's replications' event figures (sim.study.events), None unless every part has them."""
        parts = {plan: [self._part(plan, rep) for rep in range(reps)] for plan in plans}
        if not all("events" in part for mine in parts.values() for part in mine):
            return None
        return {plan: [part["events"] for part in mine] for plan, mine in parts.items()}

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


def run_digest(key: Mapping[str, str]) -> str:
    """The digest every part of a run carries: of its resume key."""
    return hashlib.sha256(json.dumps(dict(key), sort_keys=True).encode()).hexdigest()


def _row_problem(row: Any, columns: Sequence[str], kinds: Mapping[str, str], plan: str, rep: int) -> str | None:
    """What is wrong with one row of a part (None if nothing)."""
    if not isinstance(row, dict) or set(row) - OPTIONAL_COLUMNS != set(columns):  # + season, detection, deterrence
        return "a row without the columns of the result files"
    for column in columns:
        value, kind = row[column], kinds.get(column, _FLOAT)
        ok = (isinstance(value, str) if kind == _TEXT else
              isinstance(value, int) and not isinstance(value, bool) if kind == _INT else
              value is None or isinstance(value, float))
        if not ok:
            return f"a row whose {column} is not a {kind}"
    if row["plan"] != plan or row["rep"] != rep:
        return f"a row of plan {str(row['plan'])[:40]!r} replication {row['rep']}"
    return None


def part_problem(part: Any, plan: str, rep: int, digest: str, check_rows: bool = True) -> str | None:
    """Why ``part`` is not the part of (``plan``, ``rep``) of the run ``digest`` (None if it is);
    ``check_rows`` also checks every row (columns, types, plan and replication)."""
    if not isinstance(part, dict) or not {"plan", "rep", "run", "incidents", "units"} <= set(part):
        return "not a part file (a JSON object with plan, rep, run, incidents, units)"
    if part["run"] != digest:
        return "made by another run (its run digest differs)"
    if part["plan"] != plan or type(part["rep"]) is not int or part["rep"] != rep:
        return (f"holds plan {str(part['plan'])[:40]!r} replication {str(part['rep'])[:12]}, "
                f"not plan {plan!r} replication {rep} as its name says")
    for key, columns, kinds in (("incidents", INCIDENT_COLUMNS, _INCIDENT_KINDS),
                                ("units", UNIT_COLUMNS, _UNIT_KINDS)):
        rows = part[key]
        if not isinstance(rows, list):
            return f"its {key} are not a list of rows"
        for row in rows if check_rows else ():
            problem = _row_problem(row, columns, kinds, plan, rep)
            if problem:
                return f"its {key} hold {problem}"
    if not part["units"]:
        return "it has no unit rows"
    return None


class PartFiles(MemoryParts):
    """Parts as JSON files under ``out_dir/.parts/``, each written whole as soon as it is done.

    Without ``resume`` the folder starts empty; with it, the parts already there are kept if
    ``key`` (resume_key) matches the one saved with them and every part file is the part its
    name says, else InputError says what is wrong and how to go on. ``plan_index`` numbers the
    plans in their files (their place in the scenario).
    """

    def __init__(self, out_dir: Path, key: dict, resume: bool, plan_index: Mapping[str, int]):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / PARTS
        self.plan_index = dict(plan_index)
        self.digest = run_digest(key)
        self._written: set[tuple[str, int]] = set()  # saved by this run, under its lock: rows known good
        self._prepare(key, resume)

    def _prepare(self, key: dict, resume: bool) -> None:
        key_file = self.folder / RUN_FILE
        if resume and key_file.exists():
            self._check_key(key_file, key)
            self._check_parts()
            return
        if resume and self.count():
            raise InputError(
                f"--resume: {self.folder} holds {self.count()} finished replications but no {RUN_FILE} (the record "
                "of the run they belong to), so they cannot be checked; put back run.json if you have a copy, "
                "or run without --resume to start over (the parts are then deleted)")
        try:
            if self.folder.exists():
                shutil.rmtree(self.folder)
        except OSError as error:
            raise InputError(f"{self.folder}: cannot write there ({error.strerror or error})") from None
        write_text(key_file, json.dumps(key, sort_keys=True) + "\n")

    def _check_key(self, key_file: Path, key: dict) -> None:
        try:
            saved = json.loads(key_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"--resume: {key_file} cannot be read ({str(error)[:200]}); "
                             "run without --resume to start over") from None
        if not isinstance(saved, dict) or set(saved) != set(key):
            raise InputError(f"--resume: {key_file} is not the record of a patrolsim run; "
                             "run without --resume to start over")
        if saved.get("code_sha256") != key["code_sha256"]:
            raise InputError(f"--resume: the parts in {self.out_dir} were made by another version of "
                             "patrolsim; run without --resume")
        if saved != key:
            what = "scenario" if saved.get("scenario_sha256") != key["scenario_sha256"] else "road network"
            raise InputError(
                f"--resume: the {what} differs from the one the run in {self.out_dir} started with; "
                "run without --resume to start over, or with another --out"
            )

    def _check_parts(self) -> None:
        """Every part file on disk is the part its name says, of this run (InputError if not)."""
        plan_of = {index: plan for plan, index in self.plan_index.items()}
        for path in sorted(self.folder.glob("plan*-rep*.json")):
            match = _PART_NAME.match(path.name)
            if match is None or int(match.group(1)) not in plan_of:
                raise InputError(f"--resume: {path} is not a part of this run; delete it and run again with --resume")
            self._read(path, plan_of[int(match.group(1))], int(match.group(2)))

    def _read(self, path: Path, plan: str, rep: int, rows_known_good: bool = False) -> dict:
        try:
            part = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:  # written whole, so only a hand edit or a bad disk gets here
            raise InputError(f"{path} cannot be read ({str(error)[:200]}); delete it and run again "
                             "with --resume") from None
        problem = part_problem(part, plan, rep, self.digest, check_rows=not rows_known_good)
        if problem:
            raise InputError(f"{path}: {problem}; delete it and run again with --resume")
        return part

    def path(self, plan: str, rep: int) -> Path:
        return self.folder / f"plan{self.plan_index[plan]:03d}-rep{rep:05d}.json"

    def has(self, plan: str, rep: int) -> bool:
        return self.path(plan, rep).exists()

    def save(self, part: dict) -> None:
        write_text(self.path(part["plan"], part["rep"]), json.dumps(part | {"run": self.digest}))
        self._written.add((part["plan"], part["rep"]))

    def _part(self, plan: str, rep: int) -> dict:
        return self._read(self.path(plan, rep), plan, rep, rows_known_good=(plan, rep) in self._written)

    def count(self) -> int:
        """How many finished parts are on disk."""
        return len(list(self.folder.glob("plan*-rep*.json")))
