"""A result folder read back: ``SavedResults``, what ``Results.from_dir`` returns and the one reader
of the folders ``Results.to_dir`` writes (the ``report`` and ``map --results`` commands, the check of
whose results a folder holds).

manifest.json records every other file of the set with its size and sha256 (``files``). A file is
read only when asked for, never more bytes than recorded (a damaged or swapped file costs no more
than the real one, however large it is), and it is refused, by name, unless its size and sha256 are
the ones recorded. Nothing is read that was not asked for: the summary without incidents.csv.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.files import read_at_most

MANIFEST = "manifest.json"
FILES = "files"                 # manifest.json's record of the other files: name -> {bytes, sha256}
MAX_MANIFEST_BYTES = 64_000_000  # a manifest holds the scenario as run (its YAML is at most 20 MB) and a line per site
_CHUNK_BYTES = 1 << 20
_REMAKE = "damaged or changed since the run wrote it; run again to make the results afresh"


def file_record(path: Path) -> dict[str, Any]:
    """A file's size and sha256, as manifest.json records them."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def file_records(folder: Path) -> dict[str, dict[str, Any]]:
    """The record of every file under ``folder`` but manifest.json and hidden ones (the lock, the
    finished replications), by path relative to it (``figures/response_ecdf.png``)."""
    records = {}
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and relative.as_posix() != MANIFEST and not any(p.startswith(".") for p in relative.parts):
            records[relative.as_posix()] = file_record(path)
    return records


class SavedResults:
    """The result files of a run, read from its folder: ``manifest`` at once, every other file when
    it is asked for (``summary``, ``comparison``, ``pairs``, ``sites``, ``priorities``, ``areas``,
    ``incidents`` and ``units`` as pandas DataFrames, ``csv_rows(name)`` as text, ``figures``), each checked against
    the size and sha256 manifest.json records for it. ``label`` starts every message (the folder,
    or how the user named it)."""

    def __init__(self, folder: Path, manifest: dict[str, Any], label: str):
        self.folder = Path(folder)
        self.manifest = manifest
        self.label = label

    @classmethod
    def open(cls, folder: str | Path, label: str | None = None) -> SavedResults:
        """The result folder ``folder``; InputError if it is not one (no folder, no manifest.json, a
        manifest that is not a run's)."""
        folder = Path(folder)
        label = label if label is not None else str(folder)
        if not folder.is_dir():
            raise InputError(f"{label}: not a folder; give a results folder (one `run` wrote)")
        path = folder / MANIFEST
        if not path.is_file():
            hint = (": a sweep's results are in its PARAM=VALUE folders" if (folder / "sweep.csv").exists()
                    else " (one `run` wrote)")
            raise InputError(f"{label}: not a results folder, it has no {MANIFEST}; give a results folder{hint}")
        try:
            data = read_at_most(path, MAX_MANIFEST_BYTES)
            if len(data) > MAX_MANIFEST_BYTES:
                raise ValueError(f"more than the {MAX_MANIFEST_BYTES:,} bytes a manifest may have")
            manifest = json.loads(data.decode("utf-8"))
            problem = _manifest_problem(manifest)
            if problem:
                raise ValueError(problem)
        except (OSError, ValueError) as error:
            raise InputError(f"{label}: {MANIFEST}: not the manifest of a patrolsim run ({str(error)[:200]})") from None
        return cls(folder, manifest, label)

    # -- what the manifest says ----------------------------------------------------------------

    @property
    def plans(self) -> list[str]:
        """The plans run, the reference first."""
        return list(self.manifest["plans"])

    @property
    def scenario(self) -> dict[str, Any]:
        """The scenario as run (its data, as in the YAML)."""
        return self.manifest["scenario"]

    @property
    def network_label(self) -> str:
        """Which roads, in words."""
        return self.manifest["network"]["source_label"]

    def recorded(self, name: str) -> bool:
        """Whether the result set has the file ``name`` (a path relative to the folder)."""
        return name in (self.manifest.get(FILES) or {})

    # -- the files -------------------------------------------------------------------------------

    def read_bytes(self, name: str) -> bytes | None:
        """The bytes of result file ``name``, None if it is not in the folder; InputError unless they
        are what manifest.json records (size first, before they are read; then sha256)."""
        path = self.folder / name
        records = self.manifest.get(FILES)
        if not path.exists():
            return None
        if not isinstance(records, dict):
            raise InputError(f"{self.label}: {MANIFEST} records no size and sha256 of the result files (an older "
                             f"patrolsim wrote it), so {name} cannot be checked; run again to make the results afresh")
        record = records.get(name)
        if record is None:
            raise InputError(f"{self.label}: {name} is not one of the result files {MANIFEST} records; "
                             "it was not written by the run")
        try:
            size = path.stat().st_size
            data = read_at_most(path, record["bytes"]) if size == record["bytes"] else b""
        except OSError as error:
            raise InputError(f"{self.label}: {name} cannot be read ({error.strerror or error})") from None
        if size != record["bytes"] or len(data) != record["bytes"]:
            raise InputError(f"{self.label}: {name} has {size:,} bytes where the run wrote {record['bytes']:,} "
                             f"({MANIFEST}): {_REMAKE}")
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise InputError(f"{self.label}: {name} is not the file the run wrote (its sha256 differs from the one "
                             f"in {MANIFEST}): {_REMAKE}")
        return data

    def csv_rows(self, name: str) -> list[dict[str, str]] | None:
        """The rows of CSV result file ``name`` as text, None if it is not in the folder."""
        data = self.read_bytes(name)
        if data is None:
            return None
        try:
            return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        except (UnicodeDecodeError, csv.Error) as error:
            raise InputError(f"{self.label}: {name} cannot be read ({str(error)[:200]})") from None

    def frame(self, name: str):
        """CSV result file ``name`` as a pandas DataFrame, None if it is not in the folder."""
        import pandas

        data = self.read_bytes(name)
        return None if data is None else pandas.read_csv(io.BytesIO(data))

    @cached_property
    def summary(self):
        """DataFrame of summary.csv: one row per plan."""
        return self.frame("summary.csv")

    @cached_property
    def comparison(self):
        """DataFrame of comparison.csv: each plan against the reference."""
        return self.frame("comparison.csv")

    @cached_property
    def pairs(self):
        """DataFrame of comparison_pairs.csv: every ordered pair of plans."""
        return self.frame("comparison_pairs.csv")

    @cached_property
    def sites(self):
        """DataFrame of sites.csv: one row per plan and site."""
        return self.frame("sites.csv")

    @cached_property
    def priorities(self):
        """DataFrame of priorities.csv: one row per plan and priority."""
        return self.frame("priorities.csv")

    @cached_property
    def areas(self):
        """DataFrame of areas.csv: one row per plan and area (kecamatan)."""
        return self.frame("areas.csv")

    @cached_property
    def incidents(self):
        """DataFrame of incidents.csv (read when first asked for: the largest file)."""
        return self.frame("incidents.csv")

    @cached_property
    def units(self):
        """DataFrame of units.csv."""
        return self.frame("units.csv")

    def figures(self) -> list[tuple[str, bytes]]:
        """(file name, PNG bytes) of each figure of the set, checked, by name."""
        names = sorted(name for name in self.manifest.get(FILES) or {}
                       if name.startswith("figures/") and name.endswith(".png"))
        found = [(name.split("/", 1)[1], self.read_bytes(name)) for name in names]
        return [(name, data) for name, data in found if data is not None]

    def check(self) -> None:
        """InputError unless every file manifest.json records is there and is what the run wrote."""
        for name in self.manifest.get(FILES) or {}:
            if self.read_bytes(name) is None:
                raise InputError(f"{self.label}: {name} is missing: {_REMAKE}")

    def __repr__(self) -> str:
        return f"<SavedResults {self.folder}: {len(self.plans)} plans x {self.manifest.get('replications')} replications>"


def _manifest_problem(manifest: Any) -> str | None:
    """What makes ``manifest`` not a run's manifest (None if nothing)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        return "not a JSON object with the scenario"
    plans = manifest.get("plans")
    if not isinstance(plans, list) or not plans or not all(isinstance(plan, str) for plan in plans):
        return "no list of the plans run"
    network = manifest.get("network")
    if not isinstance(network, dict) or not isinstance(network.get("source_label"), str):
        return "no network with its source_label"
    records = manifest.get(FILES)
    if records is not None and not (isinstance(records, dict) and all(
            isinstance(r, dict) and isinstance(r.get("bytes"), int) and isinstance(r.get("sha256"), str)
            for r in records.values())):
        return f"its {FILES} are not records of size and sha256"
    return None
