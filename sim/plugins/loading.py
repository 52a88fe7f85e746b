"""Plug-ins that live outside the package: the modules a scenario names (``plugins:``), those a
``Study`` is given (``plugins=[...]``), and those installed packages declare in the entry-point group
``patrolsim.plugins``. Importing such a module runs its ``@register...`` decorators, which is all a
plug-in needs; the scenario schema reads the registries when it validates.

Importing a module runs its code: a scenario's ``plugins:`` is code you run, like a Makefile.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path

ENTRY_POINT_GROUP = "patrolsim.plugins"
MAX_PLUGINS = 20            # modules one scenario or Study names: a handful is plenty
MAX_PLUGIN_CHARS = 300      # a module name or a path
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
FILE_MODULE_PREFIX = "patrolsim_plugin_"


def _where(error: BaseException) -> str:
    """`` (file.py:12)`` of the innermost frame of a traceback (or of a SyntaxError), else ""."""
    if isinstance(error, SyntaxError) and error.filename:
        return f" ({Path(error.filename).name}:{error.lineno})"
    frames = traceback.extract_tb(error.__traceback__)
    return f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def _failed(what: str, error: BaseException) -> ValueError:
    text = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return ValueError(f"importing {what} failed: {type(error).__name__}{': ' + text if text else ''}{_where(error)}")


def plugin_file(text: str, folder: Path | None) -> Path | None:
    """The file a ``plugins:`` entry names (a ``.py`` path, relative to ``folder``), else None (a module)."""
    if not text.endswith(".py"):
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else (folder or Path.cwd()) / path


def check_plugin_entry(text: object) -> str:
    """``text`` if it can name a plug-in (a module name or a ``.py`` path within the bounds), else ValueError."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a module name (my_plugins) or a .py file (plugins/mine.py)")
    if len(text) > MAX_PLUGIN_CHARS:
        raise ValueError(f"{len(text):,} characters, more than the {MAX_PLUGIN_CHARS} a module name or path may have")
    if not text.endswith(".py") and not _MODULE_NAME.match(text):
        raise ValueError(f"{text!r} is neither a module name (my_plugins, package.module) nor a .py file")
    return text


def load_plugin(text: str, folder: Path | None = None) -> str:
    """Import the plug-in ``text``: a module name, or a ``.py`` file relative to ``folder`` (default:
    the current folder). Returns the module's name; ValueError naming what failed. Idempotent."""
    check_plugin_entry(text)
    path = plugin_file(text, folder)
    if path is None:
        try:
            importlib.import_module(text)
        except ModuleNotFoundError as error:
            if error.name is not None and (text == error.name or text.startswith(error.name + ".")):
                raise ValueError(f"no module named {error.name!r} on the Python path (a file is written "
                                 "with its .py, relative to the scenario: plugins/mine.py)") from None
            raise _failed(repr(text), error) from None
        except Exception as error:  # noqa: BLE001 - the user's module may raise anything while it runs
            raise _failed(repr(text), error) from None
        return text
    return _load_file(path.resolve())


def _load_file(path: Path) -> str:
    """Import a ``.py`` file as a module named after it and its place (so that two files called
    ``mine.py`` stay apart); the module stays in ``sys.modules`` (forked workers and pickles find it)."""
    if not path.is_file():
        raise ValueError(f"file not found: {path}" if not path.exists() else f"{path} is not a regular file")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"{FILE_MODULE_PREFIX}{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}_{digest}"
    if name in sys.modules:
        return name
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before it runs: its classes must be found by name (pickle, dataclasses)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - the user's module may raise anything while it runs
        del sys.modules[name]
        raise _failed(path.name, error) from None
    return name


_entry_points_read = False


def load_entry_points(*, again: bool = False) -> list[str]:
    """Import every module of the ``patrolsim.plugins`` entry-point group (once per process unless
    ``again``); returns one line per entry point that failed (the others are loaded)."""
    global _entry_points_read
    if _entry_points_read and not again:
        return []
    _entry_points_read = True
    problems = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            point.load()
        except Exception as error:  # noqa: BLE001 - an installed plug-in may raise anything while it loads
            problems.append(f"plug-in {point.name!r} ({point.value}, entry point of {ENTRY_POINT_GROUP}): "
                            + str(_failed(repr(point.value.split(":")[0]), error)))
    return problems
