"""Files that appear whole or not at all (write beside the target, then rename over it), single-file
outputs that replace only what patrolsim wrote for the same thing (``write_output``), result folders
replaced as one set, and the lock that keeps two runs out of one folder."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Callable, Collection, Sequence

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


def read_at_most(path: str | Path, limit: int) -> bytes:
    """The bytes of ``path``, at most ``limit`` + 1 (one more tells a file that is longer), read in
    chunks: ``read(limit)`` would take ``limit`` bytes of memory at once, however short the file."""
    data = bytearray()
    with open(path, "rb") as handle:
        while len(data) <= limit and (chunk := handle.read(min(1 << 20, limit + 1 - len(data)))):
            data += chunk
    return bytes(data)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text whole or not at all."""
    return write_whole(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


# -- result folders: one run at a time, the whole set replaced at once ----------------------------

LOCK_NAME = ".lock"
_HELD: dict[str, "FolderLock"] = {}  # folder (resolved) -> the lock this process holds on it


class FolderLock:
    """An exclusive lock on a folder for one process (``FOLDER/.lock``, which holds its pid).

    The kernel drops the lock when the process ends, however it ends (``kill -9`` included), so
    a stale ``.lock`` file blocks nothing. Re-entrant within a process. Another process holding
    it is bad input (InputError naming that process): two runs must not write one folder.
    """

    def __init__(self, folder: str | Path, what: str = "folder"):
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None
        self._depth = 0

    @property
    def _key(self) -> str:
        return os.path.realpath(self.folder)

    def __enter__(self) -> "FolderLock":
        held = _HELD.get(self._key)
        if held is not None:
            held._depth += 1
            return held
        make_folder(self.folder)
        self._acquire()
        self._depth = 1
        _HELD[self._key] = self
        return self

    def __exit__(self, *exc: object) -> None:
        held = _HELD.get(self._key, self)
        held._depth -= 1
        if held._depth == 0:
            _HELD.pop(self._key, None)
            if held._fd is not None:
                held._unlink()
                os.close(held._fd)  # closing the file releases the lock
                held._fd = None

    def _unlink(self) -> None:
        """Remove ``.lock`` while it is still held, if it is this lock's file: no lock file outlives its run
        (another process that opened it meanwhile finds it gone and tries again, see _acquire)."""
        path = self.folder / LOCK_NAME
        try:
            mine, there = os.fstat(self._fd), os.stat(path)
            if (mine.st_ino, mine.st_dev) == (there.st_ino, there.st_dev):
                os.unlink(path)
        except OSError:
            pass  # the folder is gone or read-only: the lock still ends when the file is closed

    def _acquire(self) -> None:
        import fcntl

        path = self.folder / LOCK_NAME
        for _ in range(10):  # the file may be replaced under us (a finishing run swaps its folder)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise UnwritableFolder(f"{self.folder}: cannot write there ({error.strerror or error})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f"process {holder}" if holder else "another process"
                raise InputError(f"{self.what} {self.folder}: another patrolsim run ({who}) is writing there; "
                                 f"wait for it to finish, or choose another {self.what}") from None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                self._fd = fd
                return
            os.close(fd)
        raise InputError(f"{self.what} {self.folder}: the folder keeps changing under this run; is another "
                         "program writing there?")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    if sys.platform != "linux":
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # old kernel, a filesystem without it
        return False
    raise OSError(error, os.strerror(error), str(a))


def foreign_entries(folder: Path, allowed: Collection[str]) -> list[str]:
    """Names in ``folder`` that are not among ``allowed`` (its result set): what replacing the
    whole folder would delete."""
    try:
        return sorted(entry.name for entry in folder.iterdir() if entry.name not in allowed)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise UnwritableFolder(f"{folder}: cannot write there (it is a file, not a folder)") from None
    except OSError as error:
        raise UnwritableFolder(f"{folder}: cannot write there ({error.strerror or error})") from None


def replace_folder(folder: str | Path, write: Callable[[Path], object], allowed: Collection[str],
                   keep: Collection[str] = (), what: str = "folder",
                   check: Callable[[Path], object] | None = None) -> Path:
    """Replace the result set in ``folder`` as one: ``write(new folder)`` fills a temporary folder
    beside it, the entries named in ``keep`` (e.g. ``.parts``) move into it, and it takes the
    folder's place in one step. On any failure before that step the old set is untouched.

    A folder holding names outside ``allowed`` is refused (InputError) rather than deleted;
    ``check(folder)``, called under the folder's lock before anything is written, may refuse more.
    """
    folder = Path(os.path.realpath(folder))  # a symlinked folder: its target is replaced, not the link
    allowed = {*allowed, *keep, LOCK_NAME}
    foreign = foreign_entries(folder, allowed)
    if foreign:
        raise InputError(foreign_message(folder, foreign, what))
    with FolderLock(folder, what):
        if check is not None:
            check(folder)
        parent = folder.parent
        try:
            new = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.new-"))
        except OSError as error:
            raise UnwritableFolder(f"{parent}: cannot write there ({error.strerror or error})") from None
        try:
            write(new)
            os.chmod(new, 0o755)  # mkdtemp makes folders private; results are meant to be shared
            with _signals_held():
                new = _swap_in(new, folder, keep)
        finally:
            shutil.rmtree(new, ignore_errors=True)  # the old set after the swap, else the unfinished new one
    return folder


def _swap_in(new: Path, folder: Path, keep: Collection[str]) -> Path:
    """Move ``keep`` from ``folder`` into ``new``, then put ``new`` in ``folder``'s place; return
    where the old set now is (to delete). On failure everything moved is put back."""
    try:  # linked, not moved: the folder has its (locked) .lock at every moment
        os.link(folder / LOCK_NAME, new / LOCK_NAME)
    except OSError:
        pass  # a filesystem without hard links: the new set goes in without the lock file
    moved = []
    try:
        for name in keep:
            if (folder / name).exists():
                os.replace(folder / name, new / name)
                moved.append(name)
        if _exchange(new, folder):
            return new
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        os.replace(folder, old / "set")  # where renameat2 is missing: two renames, a moment apart
        try:
            os.replace(new, folder)
        except BaseException:
            os.replace(old / "set", folder)
            raise
        return old
    except BaseException:
        for name in moved:
            if (new / name).exists() and not (folder / name).exists():
                os.replace(new / name, folder / name)
        raise


def foreign_message(folder: Path, foreign: Sequence[str], what: str = "folder") -> str:
    """Why a folder with other files in it is not used for results."""
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    return (f"{what} {folder}: holds files that are not patrolsim results ({shown}); a result set replaces "
            "its whole folder, so give a new or empty folder, or one patrolsim wrote")


class _signals_held:
    """Hold back Ctrl-C and SIGTERM for the few renames that swap a result set in."""

    def __enter__(self) -> None:
        import signal
        import threading

        self._mask = None
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask"):
            self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)


# -- single-file outputs: a map, an animation, a report ------------------------------------------------

STAMP_SCAN_BYTES = 65_536  # where a stamp is looked for: the head of the file
_STAMP = re.compile(rb"patrolsim-output:[0-9a-f]{32}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def output_stamp(*subject: str) -> str:
    """The mark patrolsim puts in a single-file output: a digest of what it shows (the command, the
    scenario, the plans), so a later run tells its own file from any other."""
    return "patrolsim-output:" + hashlib.sha256("\0".join(subject).encode()).hexdigest()[:32]


def file_stamp(path: str | Path) -> str | None:
    """The patrolsim mark in the file at ``path`` (None: a file patrolsim did not mark)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".gpkg":
            return _gpkg_stamp(path)
        with open(path, "rb") as handle:
            found = _STAMP.search(handle.read(STAMP_SCAN_BYTES))
    except OSError:
        return None
    return found.group().decode("ascii") if found else None


def check_output(path: str | Path, stamp: str, replace: bool = False, what: str | None = None,
                 replace_name: str = "replace=True") -> Path:
    """``path`` as a Path if a single-file output marked ``stamp`` may be written there: nothing is
    there, or a file patrolsim wrote for the same thing (same stamp), or ``replace``. InputError for
    a folder (or a name ending in a slash) and for any other file; ``what`` names the option that
    gave ``path`` (None: the path is not the user's choice), ``replace_name`` the one that replaces."""
    text = os.fspath(path)
    where = f"{what} {text}" if what else text
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise InputError(f"{where}: is a folder; give a file name")
    path = Path(text)
    if replace or not (path.exists() or path.is_symlink()):
        return path
    found = file_stamp(path)
    if found == stamp:
        return path
    held = ("a file patrolsim did not write" if found is None
            else "a file patrolsim wrote for another command, scenario or plan")
    other = f"give another {what}" if what else "move it away"
    raise InputError(f"{where}: holds {held}; {other}, or replace it with {replace_name}")


def write_output(path: str | Path, stamp: str, write: Callable[[Path], object]) -> Path:
    """``write_whole`` with ``stamp`` put into the file (PNG text chunk, GIF comment, HTML meta, GeoJSON
    member, GeoPackage description) before it takes its place; check first with ``check_output``."""
    def stamped(tmp: Path) -> None:
        write(tmp)
        _STAMPERS[Path(path).suffix.lower()](tmp, stamp)

    return write_whole(path, stamped)


def _stamp_png(path: Path, stamp: str) -> None:
    data = path.read_bytes()
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file")
    body = b"tEXt" + b"patrolsim\0" + stamp.encode("ascii")
    chunk = len(body[4:]).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    ihdr_end = 8 + 8 + int.from_bytes(data[8:12], "big") + 4  # signature, IHDR length/type, data, CRC
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


def _stamp_gif(path: Path, stamp: str) -> None:
    data = bytearray(path.read_bytes())
    if data[:3] != b"GIF":
        raise ValueError(f"{path}: not a GIF file")
    data[:6] = b"GIF89a"  # a comment extension is GIF89a
    packed = data[10]
    table_end = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    text = stamp.encode("ascii")
    comment = b"\x21\xfe" + bytes([len(text)]) + text + b"\x00"
    path.write_bytes(bytes(data[:table_end]) + comment + bytes(data[table_end:]))


def _stamp_html(path: Path, stamp: str) -> None:
    page = path.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", page[:STAMP_SCAN_BYTES], flags=re.IGNORECASE)
    if head is None:
        raise ValueError(f"{path}: no <head> to put the mark in")
    meta = f'\n<meta name="generator" content="patrolsim ({stamp})">'
    path.write_text(page[:head.end()] + meta + page[head.end():], encoding="utf-8")


def _stamp_geojson(path: Path, stamp: str) -> None:
    """A foreign member at the top of the collection (RFC 7946 allows them), the rest copied as it is."""
    stamped = path.with_name(path.name + ".stamped")
    with open(path, "rb") as source, open(stamped, "wb") as target:
        if source.read(1) != b"{":
            raise ValueError(f"{path}: not a GeoJSON object")
        target.write(b'{\n"patrolsim": "' + stamp.encode("ascii") + b'",')
        shutil.copyfileobj(source, target, 1 << 20)
    os.replace(stamped, path)


def _stamp_gpkg(path: Path, stamp: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET description = ?", (stamp,))
    db.close()


def _gpkg_stamp(path: Path) -> str | None:
    import sqlite3

    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT description FROM gpkg_contents").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    found = {row[0] for row in rows if isinstance(row[0], str) and _STAMP.fullmatch(row[0].encode())}
    return found.pop() if len(found) == 1 else None


_STAMPERS = {".png": _stamp_png, ".gif": _stamp_gif, ".html": _stamp_html, ".geojson": _stamp_geojson,
             ".gpkg": _stamp_gpkg}
