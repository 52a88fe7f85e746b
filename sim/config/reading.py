"""Reading a file the user names, bounded by what is read rather than by what the file system says.

A device (``/dev/zero``, ``/dev/urandom``) reports a size of 0 and never ends; a FIFO blocks whoever
opens it until a writer comes. So a file is opened without blocking, refused unless it is a regular
file, and read only up to its bound plus one: one byte (or character) more than the bound means too big.
"""
from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path


class NotARegularFile(ValueError):
    """The path is a device, a pipe, a socket or a folder."""


class TooBig(ValueError):
    """The file holds more than its bound."""


def _open_regular(path: str | Path) -> int:
    """A read-only descriptor of ``path`` if it is a regular file (a FIFO is not waited for)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    kind = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else \
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket or other special file"
    raise NotARegularFile(f"{kind}, not a regular file")


def read_bounded(path: str | Path, limit_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit_bytes`` of them.

    NotARegularFile or TooBig (both ValueErrors, with a message without the path), or OSError
    (FileNotFoundError included) from opening or reading it.
    """
    fd = _open_regular(path)
    chunks, size = [], 0
    try:
        while size <= limit_bytes:
            chunk = os.read(fd, min(1 << 20, limit_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit_bytes:
        raise TooBig(f"larger than {limit_bytes / 1e6:g} MB")
    return b"".join(chunks)


@contextlib.contextmanager
def bounded_lines(path: str | Path, limit_chars: int, encoding: str = "utf-8-sig") -> Iterator[Iterator[str]]:
    """The lines of the regular text file ``path``, read one at a time (for ``csv``: newlines kept as
    written), TooBig once more than ``limit_chars`` were read: a reader may stop early at its own bound."""
    with open(_open_regular(path), encoding=encoding, newline="") as handle:
        yield _lines(handle, limit_chars)


def _lines(handle, limit_chars: int) -> Iterator[str]:
    size = 0
    while True:
        line = handle.readline(limit_chars + 1 - size)
        if not line:
            return
        size += len(line)
        if size > limit_chars:
            raise TooBig(f"larger than {limit_chars / 1e6:g} MB")
        yield line
