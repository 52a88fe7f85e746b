"""Whose results a folder holds: a run into a folder of another run's results is refused, never a
silent overwrite; the same run replaces its own.

The identity of a run is what makes its numbers: the scenario's content, its seed, its hours, its
replications (a number, or ``auto``), the plans in order and the road network's content. It is read
back from ``manifest.json`` (``SavedResults``); a folder with only the finished replications of an
interrupted run (``.parts/``) is checked against the record kept with them. Where it runs (workers, a
cluster), the command line and the version of patrolsim are not part of it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.config import scenario_hash
from sim.errors import InputError
from sim.config.option_names import API_NAMES, OptionNames
from sim.study.parts import PARTS, RUN_FILE
from sim.study.saved import MANIFEST, SavedResults

_MAX_SHOWN = 60  # characters of a value shown in a message


def _plain(raw: Mapping[str, Any]) -> dict:
    """The scenario as manifest.json holds it (dates and the like as text)."""
    return json.loads(json.dumps(dict(raw), default=str))


def auto_replications(precision: Any, max_reps: Any) -> str:
    """How automatic replications are named in an identity: their aim and bound make their count."""
    return f"auto (precision {_shown(precision)}, at most {_shown(max_reps)})"


def run_identity(raw: Mapping[str, Any], plans: Sequence[str], replications: int | str,
                 network_hash: str) -> dict[str, Any]:
    """The identity of a run: ``raw`` the scenario as run, ``replications`` a number or
    ``auto_replications(...)``."""
    plain = _plain(raw)
    clock = plain.get("clock") if isinstance(plain.get("clock"), dict) else {}
    content = {key: value for key, value in plain.items() if key not in ("replications", "seed")}
    content["clock"] = {key: value for key, value in clock.items() if key != "duration_hours"}
    return {"scenario": scenario_hash(content), "seed": plain.get("seed"), "hours": clock.get("duration_hours"),
            "replications": replications, "plans": list(plans), "network": network_hash}


def manifest_identity(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The identity of the run that wrote ``manifest`` (KeyError/TypeError if it is not a manifest)."""
    auto = manifest.get("precision")  # with automatic replications, their aim and bound (null with a fixed count)
    replications = (auto_replications(auto["aim_share"], auto["max_reps"]) if isinstance(auto, dict)
                    else manifest["replications"])
    return run_identity(manifest["scenario"], manifest["plans"], replications, manifest["network"]["content_hash"])


def _shown(value: Any) -> str:
    text = (", ".join(map(str, value)) if isinstance(value, list) else f"{value:g}" if isinstance(value, float)
            else str(value))
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 3] + "..."


def differences(held: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two identities, in words (empty if they are the same run)."""
    found = []
    for field in ("scenario", "seed", "hours", "replications", "plans", "network"):
        if held.get(field) == new.get(field):
            continue
        if field == "scenario":
            found.append("another scenario content")
        elif field == "network":
            found.append("another road network")
        else:
            found.append(f"{field} {_shown(held.get(field))}, not {_shown(new.get(field))}")
    return found


def _refusal(out_dir: Path, held: str, resume: bool, names: OptionNames) -> InputError:
    hint = (f" ({names.resume} adds to a run only while its finished replications are kept: {names.keep_parts})"
            if resume else "")
    return InputError(f"{names.out} {out_dir}: holds the results of {held}; keep them by giving another "
                      f"{names.out}, or replace them with {names.replace}{hint}")


def check_same_run(out_dir: Path, identity: Mapping[str, Any], parts_key: Mapping[str, str], *,
                   replace: bool = False, resume: bool = False, names: OptionNames = API_NAMES) -> None:
    """InputError unless a run of ``identity`` may write its results into ``out_dir``: the folder
    is new, empty, or holds this same run's results (or its finished replications), or ``replace``.

    ``parts_key`` is the run's resume key (``sim.study.parts.resume_key``): with ``resume``, finished
    replications on disk are checked against it by the parts themselves, so only a folder without
    them is checked here. ``names``: how the user gives the options, for the message.
    """
    if replace:
        return
    record = out_dir / PARTS / RUN_FILE
    if resume and record.exists():
        return
    if (out_dir / MANIFEST).exists():
        try:
            held = manifest_identity(SavedResults.open(out_dir).manifest)
        except (InputError, KeyError, TypeError, AttributeError):
            raise _refusal(out_dir, f"a run whose {MANIFEST} cannot be read", resume, names) from None
        found = differences(held, identity)
        if found:
            raise _refusal(out_dir, f"a different run ({'; '.join(found)})", resume, names)
        return
    parts = list((out_dir / PARTS).glob("plan*-rep*.json"))
    if parts and record.exists():
        try:
            saved = json.loads(record.read_text(encoding="utf-8"))
            same = (saved["scenario_sha256"] == parts_key["scenario_sha256"]
                    and saved["network_hash"] == parts_key["network_hash"])
        except (OSError, ValueError, KeyError, TypeError):
            same = False
        if not same:
            raise _refusal(out_dir, f"an interrupted run ({len(parts)} finished replications of another scenario, "
                           "seed, hours or road network)", resume, names)


def holds_run(folder: Path, identity: Mapping[str, Any]) -> bool:
    """Whether ``folder`` holds the results of the run of ``identity`` (its manifest.json says so)."""
    try:
        return not differences(manifest_identity(SavedResults.open(folder).manifest), identity)
    except (InputError, KeyError, TypeError, AttributeError):
        return False
