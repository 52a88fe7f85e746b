"""A command's own output folder, and the sub-folders a run's results folder holds besides its run.

**A results folder** (``results/<scenario>/`` by default) holds one run, and beside it, in named
sub-folders that belong to it, what other commands wrote for the same scenario:

- ``sweep-<param>/``: a sweep (``sweep.csv``, ``sweep.png``, a ``PARAM=VALUE`` result folder per value);
- ``optimize-<request>/``: an optimisation (``proposed_plan.yaml``, ``optimize.json``, ``coverage_map.png``,
  ``verification/``, with a fleet-size curve ``fleet_curve.csv``/``.png``);
- ``maps/``: maps drawn from this run's results (``map --results``), every file marked by patrolsim.

Writing the run again keeps the sweeps and optimisations (each is a run of its own, its identity
recorded in it) and, when it is the same run, the maps; a different run put in with ``--replace``
drops ``maps/`` (drawn from the results it replaces). A sub-folder by one of these names that patrolsim
did not write (no identity recorded, an unmarked map) is not recognised: the run refuses the folder
as before.

**A command folder** (a sweep's, an optimisation's) records what made it in ``IDENTITY_FILE``: the
command and its identity (the scenario's content and road network, and what was asked). The same
request replaces the folder whole; a different one is refused unless ``replace``, and then also
replaces it whole: nothing of two requests ever sits in one folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError
from sim.files import LOCK_NAME, file_stamp, foreign_message, replace_folder, write_text

IDENTITY_FILE = "identity.json"
SUB_OUTPUT_PREFIXES = ("sweep-", "optimize-")
MAPS_FOLDER = "maps"
_SWAP_PARTS = (".new-", ".old-")  # a result set being swapped in (sim.files.replace_folder)
_WORDS = {"optimize": "optimisation", "sweep": "sweep"}   # a command's output, in words


def read_identity(folder: Path) -> dict | None:
    """``{"command": ..., "identity": ...}`` recorded in ``folder`` (None: none, or unreadable)."""
    try:
        record = json.loads((Path(folder) / IDENTITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "command" in record and "identity" in record else None


def identity_text(command: str, identity: Mapping[str, Any]) -> str:
    """The text of ``IDENTITY_FILE``: canonical JSON, so the same request writes the same bytes."""
    return json.dumps({"command": command, "identity": identity}, indent=2, sort_keys=True, default=str) + "\n"


def _canonical(identity: Any) -> str:
    return json.dumps(identity, sort_keys=True, default=str)


def _entries(folder: Path) -> list[Path]:
    try:
        return [entry for entry in folder.iterdir() if entry.name != LOCK_NAME]
    except (FileNotFoundError, NotADirectoryError):
        return []


def sub_outputs(folder: str | Path) -> tuple[list[str], list[str]]:
    """The sub-folders of a results folder that other commands wrote for it: (sweeps and
    optimisations, each with its identity recorded; ``maps/`` when every file in it carries
    patrolsim's mark). Names in sorted order."""
    runs, derived = [], []
    for entry in sorted(_entries(Path(folder))):
        if not entry.is_dir() or entry.is_symlink():
            continue
        if entry.name.startswith(SUB_OUTPUT_PREFIXES) and read_identity(entry) is not None:
            runs.append(entry.name)
        elif entry.name == MAPS_FOLDER and _all_marked(entry):
            derived.append(entry.name)
    return runs, derived


def _all_marked(folder: Path) -> bool:
    files = [path for path in folder.rglob("*") if path.is_file() and path.name != LOCK_NAME]
    return all(file_stamp(path) is not None for path in files)


def check_command_folder(folder: Path, command: str, identity: Mapping[str, Any], replace: bool = False,
                         names: OptionNames = API_NAMES, differs: Callable[[Mapping, Mapping], str] | None = None,
                         ) -> str:
    """Whether ``command`` may write its output of ``identity`` into ``folder``: "new" (missing or
    empty), "same" (this command's output of the same identity: replaced whole), or "replace" (another
    output of patrolsim, with ``replace``). InputError for another identity without ``replace`` (what
    differs said by ``differs(held, new)``, if given), and for a folder holding what patrolsim did not write."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{names.out} {folder}: is a file; give a folder")
    entries = [entry for entry in _entries(folder) if not any(part in entry.name for part in _SWAP_PARTS)]
    if not entries:
        return "new"
    held = read_identity(folder)
    if held is None:
        raise InputError(foreign_message(folder, sorted(entry.name for entry in entries), names.out))
    if held["command"] == command and _canonical(held["identity"]) == _canonical(identity):
        return "same"
    if replace:
        return "replace"
    what = (differs(held["identity"], identity) if differs is not None and held["command"] == command else "")
    kind = f"another {_WORDS.get(command, command)}" if held["command"] == command else \
        f"the output of {_WORDS.get(held['command'], held['command'])}"
    raise InputError(f"{names.out} {folder}: holds {kind}{f' ({what})' if what else ''}; keep it by giving another "
                     f"{names.out}, or replace it with {names.replace}")


def replace_command_folder(folder: str | Path, command: str, identity: Mapping[str, Any],
                           write: Callable[[Path], object], replace: bool = False,
                           names: OptionNames = API_NAMES,
                           differs: Callable[[Mapping, Mapping], str] | None = None) -> Path:
    """Write a command's whole output with ``write(folder)`` into a new folder that then takes
    ``folder``'s place in one step (``sim.files.replace_folder``), with ``IDENTITY_FILE``; refused
    first as ``check_command_folder`` says. Returns the folder."""
    folder = Path(folder)
    check_command_folder(folder, command, identity, replace, names, differs)
    allowed = [entry.name for entry in _entries(folder)]

    def write_all(new: Path) -> None:
        write(new)
        write_text(new / IDENTITY_FILE, identity_text(command, identity))

    def recheck(locked: Path) -> None:  # under the folder's lock: another run may have written it meanwhile
        check_command_folder(locked, command, identity, replace, names, differs)

    return replace_folder(folder, write_all, allowed, what=names.out, check=recheck)


def claim_command_folder(folder: str | Path, command: str, identity: Mapping[str, Any], replace: bool = False,
                         names: OptionNames = API_NAMES,
                         differs: Callable[[Mapping, Mapping], str] | None = None) -> str:
    """For a command that fills its folder over time (a sweep, run value by value, resumable): check
    the folder as ``check_command_folder`` does; when another output is replaced, delete all of it
    first; then record this identity, so a later different request is refused. Call under the
    folder's lock (``sim.files.FolderLock``); returns ``check_command_folder``'s answer."""
    folder = Path(folder)
    state = check_command_folder(folder, command, identity, replace, names, differs)
    if state == "replace":
        for entry in _entries(folder):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    write_text(folder / IDENTITY_FILE, identity_text(command, identity))
    return state

