"""The command line for tests, in this process or as a process of its own.

``in_process`` calls ``sim.cli.main`` (what ``python run_sim.py`` runs) with stdout and stderr
captured: no interpreter start-up, for refusals and runs whose process boundary is not what the
test checks. ``as_process`` starts ``python run_sim.py``: for what only a real process shows
(its exit code as the shell sees it, signals, worker processes, the folder it is started in).
Both return a ``subprocess.CompletedProcess`` (returncode, stdout, stderr).
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _working_folder(path: Path | None):
    if path is None:
        yield
        return
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def in_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``main(args)`` in this process, its printed output captured."""
    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _working_folder(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def as_process(*args: str, cwd: Path = ROOT, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """``python run_sim.py ARGS`` in a process of its own."""
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **popen)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one ``error:`` line of a refused command: exit 2, no traceback (progress lines aside)."""
    return error_line(result.returncode, result.stderr)


def error_line(returncode: int, stderr: str) -> str:
    """one_error_line of a command's exit code and standard error."""
    assert returncode == 2, (returncode, stderr[-2000:])
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


def copy_folder(folder: Path, tmp_path: Path) -> Path:
    """A copy of a shared result folder (``tmp_path/NAME``), for a test that changes it."""
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return copy
