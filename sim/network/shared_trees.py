"""Reverse trees shared by the processes of one run: one memory-mapped file, each tree made once.

A run on several worker processes meets the same destinations in every process (replication k
of each plan has the same incident sites). ``SharedTrees`` keeps the trees made on first need in
a file mapped into every process (on ``/dev/shm``, memory, where there is one): a tree one
process made and put there, the others read in place, without copying and without making it
again. The file holds up to ``capacity`` trees; past that, each process keeps its own as before.

Layout (little-endian): a header of ``HEADER_BYTES`` (magic, format, node count, capacity, trees
held, the network's content hash), the slot of each node's tree (int32, -1 for none), then the
slots: the times of every tree (float64 rows), then their next hops (int32 rows).

A tree is published under an exclusive ``fcntl`` lock on the file (and a thread lock, for threads
of one process): its rows are written first, then the node's slot. Readers take the lock too
when they first look a node up, so they never see a slot before its rows. Two processes that
need one tree at the same moment may both make it (the second copy is dropped): no process ever
waits for another's Dijkstra, so one that dies leaves nothing half-done behind.

Where ``fcntl`` is missing (Windows) nothing is shared (``SharedTrees.create`` returns None).
"""
from __future__ import annotations

import mmap
import os
import struct
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no sharing
    fcntl = None  # type: ignore[assignment]

MAGIC = b"PSIMTREE"
FORMAT = 1
HEADER_BYTES = 4096
_HEADER = struct.Struct("<8sIqqq32s")  # magic, format, nodes, capacity, trees held, content hash (hex, 32)
_SHM = Path("/dev/shm")


def _folder() -> Path:
    """Memory-backed /dev/shm where it can be written, else the temporary folder."""
    return _SHM if _SHM.is_dir() and os.access(_SHM, os.W_OK) else Path(tempfile.gettempdir())


class SharedTrees:
    """Trees of one network (``n_nodes``, ``content_hash``) in a file every process of a run maps.

    ``create`` makes the file (the run's first process, which removes it with ``close``);
    ``attach`` maps an existing one (a process that was not forked from the first). A forked
    process uses the object it inherited as it is: the mapping is shared.
    """

    def __init__(self, path: Path, n_nodes: int, capacity: int, content_hash: str, owner: bool):
        self.path, self.n_nodes, self.capacity, self.owner = path, n_nodes, capacity, owner
        self.content_hash = content_hash
        self._thread_lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR)
        size = _size(n_nodes, capacity)
        self._map = mmap.mmap(self._fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        offset = HEADER_BYTES
        self._slot_of = np.frombuffer(self._map, np.int32, n_nodes, offset)
        offset += _rounded(4 * n_nodes)
        self._times = np.frombuffer(self._map, np.float64, capacity * n_nodes, offset).reshape(capacity, n_nodes)
        offset += 8 * capacity * n_nodes
        self._next = np.frombuffer(self._map, np.int32, capacity * n_nodes, offset).reshape(capacity, n_nodes)

    @classmethod
    def create(cls, n_nodes: int, capacity: int, content_hash: str, folder: Path | None = None) -> SharedTrees | None:
        """A new, empty file for ``capacity`` trees (None where sharing is not possible: no
        fcntl, no room for even one tree, or the file cannot be made)."""
        if fcntl is None or capacity < 1 or n_nodes < 1:
            return None
        folder = folder or _folder()
        try:
            fd, name = tempfile.mkstemp(prefix="patrolsim-trees-", dir=folder)
        except OSError:
            return None
        try:
            # A sparse file: pages are taken only as trees are written into them.
            os.ftruncate(fd, _size(n_nodes, capacity))
            header = _HEADER.pack(MAGIC, FORMAT, n_nodes, capacity, 0, content_hash[:32].encode())
            os.pwrite(fd, header, 0)
            os.pwrite(fd, np.full(n_nodes, -1, np.int32).tobytes(), HEADER_BYTES)
        except OSError:
            os.close(fd)
            os.unlink(name)
            return None
        os.close(fd)
        return cls(Path(name), n_nodes, capacity, content_hash, owner=True)

    @classmethod
    def attach(cls, path: str | Path, n_nodes: int, content_hash: str) -> SharedTrees | None:
        """The file at ``path`` if it holds trees of this network (None if not, or if it is gone)."""
        if fcntl is None:
            return None
        try:
            with open(path, "rb") as handle:
                head = handle.read(_HEADER.size)
            magic, fmt, nodes, capacity, _, stamp = _HEADER.unpack(head)
        except (OSError, struct.error):
            return None
        if magic != MAGIC or fmt != FORMAT or nodes != n_nodes or stamp != content_hash[:32].encode():
            return None
        try:
            return cls(Path(path), n_nodes, capacity, content_hash, owner=False)
        except (OSError, ValueError):
            return None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    @property
    def held(self) -> int:
        """Trees in the file now."""
        return _HEADER.unpack_from(self._map, 0)[4]

    def get(self, dest: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The tree of ``dest`` (read-only views into the file), or None if no process made it yet."""
        with self._locked():
            slot = int(self._slot_of[dest])
        return None if slot < 0 else self._rows(slot)

    def put(self, dest: int, time_s: np.ndarray, next_node: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Publish the tree of ``dest``; its rows in the file (those another process put first, if
        it did), or None when the file is full."""
        with self._locked():
            slot = int(self._slot_of[dest])
            if slot < 0:
                held = self.held
                if held >= self.capacity:
                    return None
                slot = held
                self._times[slot] = time_s
                self._next[slot] = next_node
                self._slot_of[dest] = slot
                self._map[:_HEADER.size] = _HEADER.pack(MAGIC, FORMAT, self.n_nodes, self.capacity, held + 1,
                                                        self.content_hash[:32].encode())
        return self._rows(slot)

    def _rows(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        time_s, next_node = self._times[slot], self._next[slot]
        time_s.flags.writeable = False
        next_node.flags.writeable = False
        return time_s, next_node

    def close(self) -> None:
        """Stop using the file here; the process that made it also removes it (mappings other
        processes hold stay valid until they let go)."""
        if self.owner:
            try:
                os.unlink(self.path)
            except OSError:
                pass
        try:
            os.close(self._fd)
        except OSError:
            pass
        self._fd = -1

    def __getstate__(self) -> dict:
        raise TypeError("SharedTrees is shared by fork or by path (SharedTrees.attach), not pickled")


def _rounded(nbytes: int) -> int:
    return -(-nbytes // 8) * 8


def _size(n_nodes: int, capacity: int) -> int:
    return HEADER_BYTES + _rounded(4 * n_nodes) + 12 * capacity * n_nodes
