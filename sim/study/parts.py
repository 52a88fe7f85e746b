"""Finished replications ("parts") until the result files are made: in memory (the Python API)
or as files under ``OUT/.parts/`` (the command line), where an interrupted run keeps them and
``--resume`` reuses them if the scenario, the road network and the code are unchanged.

A part is ``{"plan", "rep", "incidents": [rows], "units": [rows]}`` (and ``"events"``, what each
calendar event did to the other incidents, when they are computed); on disk it also holds
``"run"``, the digest of the run it belongs to, so a part file renamed, copied from another run
or edited by hand is refused, never summed in. A part file found on disk is read only up to the
size a replication of its scenario can have, and its rows are checked before they are used: the
columns and their kinds, incident ids rising, times finite and in order, counts within bounds.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import orjson

from sim.config import scenario_hash
from sim.config.limits import MAX_PRIORITY, MAX_UNITS, incidents_per_replication
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError
from sim.files import read_at_most, write_text, write_whole
from sim.model import INCIDENT_COLUMNS, UNIT_COLUMNS
from sim.model.records import OPTIONAL_INCIDENT_COLUMNS, OPTIONAL_UNIT_COLUMNS

PARTS = ".parts"
OPTIONAL_COLUMNS = {*OPTIONAL_INCIDENT_COLUMNS, *OPTIONAL_UNIT_COLUMNS}  # columns only some scenarios' rows have
RUN_FILE = "run.json"
MAX_RUN_FILE_BYTES = 4096  # run.json: three digests
MAX_ROW_BYTES = 4096       # a row of a part file as JSON (about 500 bytes; ids and names are bounded)
MAX_VALUE = 1e9            # any time (min), distance (km) or duty (h) in a row: some 1,900 years of minutes
ROUNDING_MIN = 1e-6        # a difference of clock times may come out this far below 0
_PART_NAME = re.compile(r"^plan(\d{3,})-rep(\d{5,})\.json$")

Rows = dict[str, tuple[list[dict], list[dict]]]  # plan -> (incident rows, unit rows)

# What each column of a part's rows holds (JSON keeps Python's int and float apart).
_TEXT, _INT, _FLOAT, _LABEL = "text", "whole number", "number or null", "text or null"
_INCIDENT_KINDS = {"plan": _TEXT, "type": _TEXT, "site": _TEXT, "escalated_to": _TEXT, "rep": _INT,
                   "incident_id": _INT, "priority": _INT, "units_required": _INT, "units_sent": _INT,
                   "escalated": _INT, "counted": _INT, "phase": _LABEL, "event": _LABEL, "detected_by": _LABEL,
                   "deterred": _INT, "preempted": _INT}
_UNIT_KINDS = {"plan": _TEXT, "unit_id": _TEXT, "type": _TEXT, "agency": _TEXT, "base": _TEXT,
               "patrol": _TEXT, "rep": _INT, "incidents_served": _INT, "joint_patrol": _LABEL}
# Whole numbers and their bounds (the others: at least 0).
_INT_RANGES = {"priority": (1, MAX_PRIORITY), "units_required": (0, MAX_UNITS), "units_sent": (0, MAX_UNITS),
               "escalated": (0, 1), "counted": (0, 1), "deterred": (0, 1), "incident_id": (1, math.inf)}


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


def part_bounds(scenario) -> tuple[int, int]:
    """(incident rows, unit rows) a part of ``scenario`` may hold: the expected incidents of a
    replication with a margin no Poisson draw comes near (ten standard deviations and a tenth
    more), and every unit of a plan in every phase of its calendar."""
    expected = incidents_per_replication(scenario)
    phases = len(scenario.calendar.phases) if getattr(scenario, "calendar", None) is not None else 0
    return int(1.1 * expected + 10 * math.sqrt(expected) + 100), MAX_UNITS * (phases + 1)


def _value_problem(column: str, value: Any, kind: str) -> str | None:
    """What is wrong with one value of a row (None if nothing)."""
    if kind == _TEXT:
        return None if isinstance(value, str) else f"whose {column} is not {kind}"
    if kind == _LABEL:
        return None if value is None or isinstance(value, str) else f"whose {column} is not {kind}"
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"whose {column} is not a {kind}"
        low, high = _INT_RANGES.get(column, (0, math.inf))
        return None if low <= value <= high else f"whose {column} {value} is outside {low}..{high:g}"
    if value is None:
        return None
    if not isinstance(value, float):
        return f"whose {column} is not a {kind}"
    if not -ROUNDING_MIN <= value <= MAX_VALUE:  # NaN fails this too
        return f"whose {column} {value!r} is not a finite number from 0 to {MAX_VALUE:g}"
    return None


def _row_problem(row: Any, columns: Sequence[str], kinds: Mapping[str, str], plan: str, rep: int) -> str | None:
    """What is wrong with one row of a part (None if nothing)."""
    if not isinstance(row, dict) or set(row) - OPTIONAL_COLUMNS != set(columns):  # + season, detection, deterrence
        return "a row without the columns of the result files"
    for column, value in row.items():
        problem = _value_problem(column, value, kinds.get(column, _FLOAT))
        if problem:
            return f"a row {problem}"
    if row["plan"] != plan or row["rep"] != rep:
        return f"a row of plan {str(row['plan'])[:40]!r} replication {row['rep']}"
    return None


def _order_problem(incidents: Sequence[dict], units: Sequence[dict]) -> str | None:
    """What is out of order across a part's rows: incident ids rising, incidents in order of creation,
    dispatch after creation and arrival after dispatch, unit ids unique (None if nothing)."""
    last_id, last_created = 0, 0.0
    for row in incidents:
        if row["incident_id"] <= last_id:
            return f"incident {row['incident_id']} after incident {last_id} (ids must rise: duplicated or reordered rows)"
        created, dispatched, arrived = row["t_created_min"], row["t_first_dispatch_min"], row["t_first_arrival_min"]
        if created is None or created < last_created:
            return f"incident {row['incident_id']} created before the incident listed above it"
        if (dispatched is not None and dispatched < created - ROUNDING_MIN) or (arrived is not None and (
                dispatched is None or arrived < dispatched - ROUNDING_MIN)):
            return f"incident {row['incident_id']} reached before it was created or dispatched"
        last_id, last_created = row["incident_id"], created
    if len({row["unit_id"] for row in units}) != len(units):
        return "a unit listed twice"
    return None


def part_problem(part: Any, plan: str, rep: int, digest: str, bounds: tuple[int, int] | None = None) -> str | None:
    """Why ``part`` is not the part of (``plan``, ``rep``) of the run ``digest`` (None if it is):
    its every row checked (columns, kinds, values, plan and replication, order), and the number of
    rows against ``bounds`` (incident rows, unit rows; see ``part_bounds``)."""
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
        for row in rows:
            problem = _row_problem(row, columns, kinds, plan, rep)
            if problem:
                return f"its {key} hold {problem}"
    if not part["units"]:
        return "it has no unit rows"
    if bounds is not None:
        for key, count, bound in (("incidents", len(part["incidents"]), bounds[0]),
                                  ("units", len(part["units"]), bounds[1])):
            if count > bound:
                return f"it has {count:,} {key} rows, more than the {bound:,} a replication of this scenario can have"
    return _order_problem(part["incidents"], part["units"])


class PartFiles(MemoryParts):
    """Parts as JSON files under ``out_dir/.parts/``, each written whole as soon as it is done, and
    kept in memory too (those found on disk are read, and checked, once).

    Without ``resume`` the folder starts empty; with it, the parts already there are kept if
    ``key`` (resume_key) matches the one saved with them and every part file is the part its
    name says, else InputError says what is wrong and how to go on. ``plan_index`` numbers the
    plans in their files (their place in the scenario); ``bounds`` (``part_bounds``) limit what a
    part found on disk may hold; ``names`` say how the user gives the options, for messages.
    """

    def __init__(self, out_dir: Path, key: dict, resume: bool, plan_index: Mapping[str, int],
                 names: OptionNames = API_NAMES, bounds: tuple[int, int] = (10**6, MAX_UNITS)):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / PARTS
        self.plan_index = dict(plan_index)
        self.digest = run_digest(key)
        self.names = names
        self.bounds = bounds
        self.max_bytes = (bounds[0] + bounds[1]) * MAX_ROW_BYTES
        self._prepare(key, resume)

    def _prepare(self, key: dict, resume: bool) -> None:
        key_file, resume_name = self.folder / RUN_FILE, self.names.resume
        if resume and key_file.exists():
            self._check_key(key_file, key)
            self._check_parts()
            return
        if resume and self.count():
            raise InputError(
                f"{resume_name}: {self.folder} holds {self.count()} finished replications but no {RUN_FILE} (the "
                "record of the run they belong to), so they cannot be checked; put back run.json if you have a "
                f"copy, or run without {resume_name} to start over (the parts are then deleted)")
        try:
            if self.folder.exists():
                shutil.rmtree(self.folder)
        except OSError as error:
            raise InputError(f"{self.folder}: cannot write there ({error.strerror or error})") from None
        write_text(key_file, json.dumps(key, sort_keys=True) + "\n")

    def _check_key(self, key_file: Path, key: dict) -> None:
        resume_name = self.names.resume
        try:
            saved = json.loads(read_at_most(key_file, MAX_RUN_FILE_BYTES))
        except (OSError, ValueError) as error:
            raise InputError(f"{resume_name}: {key_file} cannot be read ({str(error)[:200]}); "
                             f"run without {resume_name} to start over") from None
        if not isinstance(saved, dict) or set(saved) != set(key):
            raise InputError(f"{resume_name}: {key_file} is not the record of a patrolsim run; "
                             f"run without {resume_name} to start over")
        if saved.get("code_sha256") != key["code_sha256"]:
            raise InputError(f"{resume_name}: the parts in {self.out_dir} were made by another version of "
                             f"patrolsim; run without {resume_name}")
        if saved != key:
            what = "scenario" if saved.get("scenario_sha256") != key["scenario_sha256"] else "road network"
            raise InputError(
                f"{resume_name}: the {what} differs from the one the run in {self.out_dir} started with; "
                f"run without {resume_name} to start over, or with another {self.names.out}"
            )

    def _check_parts(self) -> None:
        """Every part file on disk is the part its name says, of this run (InputError if not)."""
        plan_of = {index: plan for plan, index in self.plan_index.items()}
        for path in sorted(self.folder.glob("plan*-rep*.json")):
            match = _PART_NAME.match(path.name)
            if match is None or int(match.group(1)) not in plan_of:
                raise InputError(f"{self.names.resume}: {path} is not a part of this run; delete it and run again "
                                 f"with {self.names.resume}")
            plan, rep = plan_of[int(match.group(1))], int(match.group(2))
            self._parts[plan, rep] = self._read(path, plan, rep)

    def _read(self, path: Path, plan: str, rep: int) -> dict:
        again = f"delete it and run again with {self.names.resume}"
        try:
            data = read_at_most(path, self.max_bytes)
            if len(data) > self.max_bytes:
                raise InputError(f"{path}: more than the {self.max_bytes:,} bytes a part of this scenario can have; "
                                 f"{again}")
            part = json.loads(data)
        except (OSError, ValueError) as error:  # written whole, so only a hand edit or a bad disk gets here
            raise InputError(f"{path} cannot be read ({str(error)[:200]}); {again}") from None
        problem = part_problem(part, plan, rep, self.digest, bounds=self.bounds)
        if problem:
            raise InputError(f"{path}: {problem}; {again}")
        return part

    def path(self, plan: str, rep: int) -> Path:
        return self.folder / f"plan{self.plan_index[plan]:03d}-rep{rep:05d}.json"

    def has(self, plan: str, rep: int) -> bool:
        return (plan, rep) in self._parts or self.path(plan, rep).exists()

    def save(self, part: dict) -> None:
        """Write the part's file whole and keep the part: this run's rows are not read back."""
        # orjson writes the same JSON (shortest round-trip floats) about ten times faster than json.
        data = orjson.dumps(part | {"run": self.digest}, option=orjson.OPT_SERIALIZE_NUMPY)
        write_whole(self.path(part["plan"], part["rep"]), lambda tmp: tmp.write_bytes(data))
        super().save(part)

    def _part(self, plan: str, rep: int) -> dict:
        if (plan, rep) in self._parts:
            return self._parts[plan, rep]
        return self._read(self.path(plan, rep), plan, rep)

    def count(self) -> int:
        """How many finished parts are on disk."""
        return len(list(self.folder.glob("plan*-rep*.json")))
