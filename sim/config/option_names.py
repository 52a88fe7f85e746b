"""How the user named each option: ``--out`` on the command line, ``out_dir`` in Python.

A message from below the command line names an option through the ``OptionNames`` it is handed,
so that it reads as the user wrote it; no layer below the command line names a flag. The defaults
are the Python API's names; the command line hands down its flags (``sim.cli.common.cli_names``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptionNames:
    """How each option is named in messages; by default as the Python API names it."""

    out: str = "out_dir"
    replace: str = "force=True"
    resume: str = "resume=True"
    keep_parts: str = "keep_parts=True"
    reps: str = "reps"
    precision: str = "precision"
    max_reps: str = "max_reps"
    workers: str = "workers"
    scheduler: str = "scheduler"
    scheduler_timeout: str = "scheduler_timeout_s"
    values: str = "values"
    reference: str = "reference"
    plans: str = "plans"
    sets: str = "overrides"               # scenario values set by dotted path
    set_where: str = "in overrides"       # "(value given in overrides for seed)"
    network: str = "network"
    force: str = "force=True"             # run above the work bounds
    approximate: str = "allow_approximate=True"
    lang: str = "lang"


API_NAMES = OptionNames()
