"""Files that appear whole or not at all: write beside the target, then rename over it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from sim.errors import InputError


class UnwritableFolder(InputError, OSError):
    """A folder that cannot be made or written to: bad input for an output path (exit 2), and
    still an OSError for callers that tolerate a failed write (the network and table caches)."""


def make_folder(path: str | Path) -> Path:
    """Create folder ``path`` (and its parents) if needed; UnwritableFolder if it cannot be."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UnwritableFolder(f"{path}: cannot write there (it is a file, not a folder)") from None
    except OSError as error:
        raise UnwritableFolder(f"{path}: cannot write there ({error.strerror or error})") from None
    return path


def write_whole(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary path)`` beside ``path``, then rename it over ``path``.

    The temporary name ends like ``path`` (so numpy, matplotlib and Pillow pick the right
    format); on any failure it is removed and ``path`` is left as it was. A folder that cannot
    be made or written to raises UnwritableFolder naming it.
    """
    path = Path(path)
    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    except OSError as error:
        raise UnwritableFolder(f"{path.parent}: cannot write there ({error.strerror or error})") from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text whole or not at all."""
    return write_whole(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))
