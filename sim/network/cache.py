"""The patrolsim cache: entries of numpy arrays (``.npz``), written whole, read back checked.

One helper for the two caches of the network layer, the road networks (``networks/``, arrays
plus a JSON file of facts beside them) and the travel tables (``travel_tables/``, one ``.npz``).
An entry is written whole or not at all (temporary name, then rename). Reading checks the
format version and that every expected array is there; anything wrong with an entry (a
truncated zip, bad JSON, a missing array, another format version, a caller's own check) gives
one warning and None, and the caller rebuilds the entry. A cache that cannot be written costs a
rebuild next time, not the run.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from sim.config.settings import cache_dir  # noqa: F401 (cache.cache_dir(): a parameter shadows the name)
from sim.files import write_text, write_whole

T = TypeVar("T")

#: Name of the array that holds the format version in an entry without a JSON file.
VERSION_ARRAY = "format_version"
#: Key that holds the format version in an entry's JSON file.
VERSION_KEY = "format"


class CacheWarning(UserWarning, RuntimeWarning):
    """A cache entry was unusable (and is rebuilt) or could not be written.

    A UserWarning (what the network cache gave) and a RuntimeWarning (what the travel-table
    cache gave), so warning filters written for either still apply."""


class DamagedEntry(ValueError):
    """A cache entry that cannot be used; the message says why."""


def _meta_path(npz: Path) -> Path:
    """The JSON file beside an entry's arrays."""
    return npz.with_suffix(".json")


def save_entry(npz: str | Path, arrays: Mapping[str, np.ndarray], version: int,
               meta: Mapping[str, Any] | None = None) -> None:
    """Write ``arrays`` to ``npz`` and, if given, ``meta`` as JSON beside it, each whole or not at all.

    The format version goes into the JSON file (key ``format``, first), or without one into the
    arrays (``format_version``). The arrays are written first, so a JSON file is never newer than
    the arrays it describes. OSError (UnwritableFolder included) if the folder cannot be written.
    """
    npz = Path(npz)
    if meta is None:
        arrays = {VERSION_ARRAY: np.int64(version), **arrays}
    write_whole(npz, lambda tmp: np.savez(tmp, **arrays))
    if meta is not None:
        write_text(_meta_path(npz), json.dumps({VERSION_KEY: version, **meta}, indent=1))


def read_entry(npz: str | Path, names: Iterable[str], version: int, *,
               with_meta: bool = False) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays ``names`` of an entry written by :func:`save_entry`, and its meta ({} without one).

    Raises DamagedEntry (a ValueError) if the entry is missing, unreadable, of another format
    version or lacks one of the arrays.
    """
    npz = Path(npz)
    try:
        meta = json.loads(_meta_path(npz).read_text(encoding="utf-8")) if with_meta else {}
        with np.load(npz, allow_pickle=False) as data:
            found = meta.get(VERSION_KEY) if with_meta else int(data[VERSION_ARRAY])
            if found != version:
                raise DamagedEntry(f"format version {found}, expected {version}")
            arrays = {name: data[name] for name in names}
    except DamagedEntry:
        raise
    except Exception as e:  # any damage: truncated zip, bad JSON, a missing array or file, ...
        raise DamagedEntry(f"{type(e).__name__}: {e}") from e
    return arrays, meta


def load_cached(npz: str | Path, names: Iterable[str], version: int,
                build: Callable[[dict[str, np.ndarray], dict[str, Any]], T], *,
                what: str, with_meta: bool = False, stacklevel: int = 3) -> T | None:
    """``build(arrays, meta)`` from the cache entry ``npz``, or None if there is no entry.

    A damaged entry, or one that ``build`` rejects by raising, gives a CacheWarning naming
    ``what`` and the entry, and None: the caller rebuilds the entry and saves it over the old
    one. ``stacklevel`` 3 points the warning at the caller of the function that asked.
    """
    npz = Path(npz)
    if not (npz.exists() or (with_meta and _meta_path(npz).exists())):
        return None
    try:
        arrays, meta = read_entry(npz, names, version, with_meta=with_meta)
        return build(arrays, meta)
    except Exception as e:  # whatever is wrong with an entry, the answer is: rebuild it
        reason = str(e) if isinstance(e, DamagedEntry) else f"{type(e).__name__}: {e}"
        warnings.warn(f"{what} {npz} is unusable ({reason}); rebuilding it", CacheWarning,
                      stacklevel=stacklevel)
        return None


def save_cached(npz: str | Path, arrays: Mapping[str, np.ndarray], version: int,
                meta: Mapping[str, Any] | None = None, *, what: str, stacklevel: int = 3) -> bool:
    """:func:`save_entry`, but a folder that cannot be written gives a CacheWarning, not an error.

    Returns whether the entry was written.
    """
    try:
        save_entry(npz, arrays, version, meta)
    except OSError as e:  # a read-only or full disk costs a rebuild next time, not this run
        warnings.warn(f"could not write the {what} {npz} ({e})", CacheWarning, stacklevel=stacklevel)
        return False
    return True
