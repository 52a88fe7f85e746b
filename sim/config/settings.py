"""The process's settings from the environment, read in this one module and bounded like any input.

| variable | default | bound |
|---|---|---|
| ``PATROLSIM_CACHE`` | ``~/.cache/patrolsim`` | a folder path of at most ``MAX_PATH_CHARS`` characters |
| ``PATROLSIM_TREE_CACHE_MB`` | ``DEFAULT_TREE_CACHE_MB`` | a whole number within ``TREE_CACHE_MB_BOUNDS`` |

Each is read when it is needed (not when ``sim`` is imported), so a test or a long-lived process
may change it; a value out of bounds is an InputError naming the variable.
"""
from __future__ import annotations

import os
from pathlib import Path

from sim.errors import InputError, shown

CACHE_ENV = "PATROLSIM_CACHE"
TREE_CACHE_ENV = "PATROLSIM_TREE_CACHE_MB"
MAX_PATH_CHARS = 4096          # PATH_MAX on Linux
#: Default memory for travel-time trees made on first need (MB).
DEFAULT_TREE_CACHE_MB = 1024
#: Bounds of PATROLSIM_TREE_CACHE_MB: at least a few trees of a large network, at most 1 TB.
TREE_CACHE_MB_BOUNDS = (16, 1_048_576)


def cache_dir() -> Path:
    """The cache folder: ``$PATROLSIM_CACHE`` or ``~/.cache/patrolsim``."""
    text = os.environ.get(CACHE_ENV, "")
    if not text:
        return Path.home() / ".cache" / "patrolsim"
    if len(text) > MAX_PATH_CHARS or "\0" in text:
        raise InputError(f"{CACHE_ENV}={shown(text, 80)}: expected a folder path of at most {MAX_PATH_CHARS:,} "
                         "characters")
    return Path(text).expanduser()


def tree_cache_mb() -> int:
    """The tree-cache budget in MB: ``$PATROLSIM_TREE_CACHE_MB`` if set (InputError if it is not a whole
    number inside ``TREE_CACHE_MB_BOUNDS``), else ``DEFAULT_TREE_CACHE_MB``."""
    text = os.environ.get(TREE_CACHE_ENV, "").strip()
    if not text:
        return DEFAULT_TREE_CACHE_MB
    low, high = TREE_CACHE_MB_BOUNDS
    try:
        value = int(text) if len(text) <= 20 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InputError(f"{TREE_CACHE_ENV}={text[:40]}: expected a whole number of megabytes from {low} to {high:,}")
    return value
