"""The package's shape: layers import only downwards, no import cycles, modules of a readable size.

The layers are those of docs/design.md. Every ``import`` in a module counts, at the top or inside a
function; only imports under ``if TYPE_CHECKING:`` (type hints, never run) are left out.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sim"

#: bottom to top; a module may import its own layer and the layers below it
LAYERS = [
    ("foundation", ["sim.errors", "sim.files", "sim.forked", "sim.streams", "sim.i18n"]),
    ("plugins", ["sim.plugins"]),
    ("config", ["sim.config"]),
    ("network", ["sim.network"]),
    ("model", ["sim.model"]),
    ("viz", ["sim.viz"]),
    ("study", ["sim.study"]),
    ("analytic", ["sim.analytic"]),
    ("optimize", ["sim.optimize"]),
    ("front doors", ["sim.cli", "sim.serve", "sim"]),
]
MAX_LINES = 500
#: modules allowed over MAX_LINES, with the reason (also in docs/design.md)
LONG_MODULES: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    best, rank = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS and docs/design.md"
    return rank


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, module: str) -> set[str]:
    """The sim modules that ``module`` imports when it runs."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                package = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(path, module) for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_it(module: str) -> None:
    upward = [f"{other} ({LAYERS[_layer(other)][0]})" for other in sorted(GRAPH[module])
              if _layer(other) > _layer(module)]
    assert not upward, f"{module} ({LAYERS[_layer(module)][0]}) imports {', '.join(upward)}"


def test_no_import_cycles() -> None:
    # Package __init__ modules re-export their own modules; a module importing its package's
    # __init__ is a cycle Python tolerates only by luck of order, so it counts too.
    done: set[str] = set()
    path: list[str] = []

    def walk(module: str) -> None:
        if module in path:
            cycle = path[path.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for other in sorted(GRAPH[module]):
            walk(other)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        walk(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_of_a_readable_size(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    if module in LONG_MODULES:
        return
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES}, or a reason in LONG_MODULES)"


def test_the_walker_sees_imports_inside_functions_but_not_type_hints(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.study import api\n"
                      "def f():\n    from sim.model import world\n    import sim.errors\n")
    assert _imports(source, "sim.probe") == {"sim.model.world", "sim.errors"}


# -- no reach into another module's private names ------------------------------------------------------

#: modules allowed to set or read private names of another module's objects, with the reason.
PRIVATE_ACCESS_ALLOWED: dict[str, str] = {}
#: names with a leading underscore that are public API (namedtuple's methods)
PUBLIC_UNDERSCORE_NAMES = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.endswith("__") and name.startswith("__")) \
        and name not in PUBLIC_UNDERSCORE_NAMES


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_reaches(source: str, module: str) -> list[str]:
    """Where ``module`` reads or sets a private name of an object it does not own: ``obj._name`` and
    ``f(_name=...)`` unless ``obj`` is ``self``/``cls``, a name defined at the top of this module, or
    an instance of a class of this module that defines ``_name`` (read inside that class); and
    ``from sim.x import _name``. Private names of third-party modules (``osmnx._errors``) are left to
    the pins in pyproject.toml."""
    tree = ast.parse(source)
    top_level: set[str] = set()
    foreign: set[str] = set()  # names bound to modules or objects from outside sim
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top_level.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                top_level.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            foreign.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] != "sim")
        elif isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or (node.module or "").split(".")[0] == "sim"
            if not ours:
                foreign.update(a.asname or a.name for a in node.names)
            else:
                found += [f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import {a.name}"
                          for a in node.names if _private(a.name)]

    def own_names(cls: ast.ClassDef) -> set[str]:
        names = set()
        for node in ast.walk(cls):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node in cls.body:
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                    isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(node.attr)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node in cls.body:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        return names

    def visit(node: ast.AST, owned: frozenset[str]) -> None:
        if isinstance(node, ast.ClassDef):
            owned = owned | own_names(node)
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = _root_name(node.value)
            direct = isinstance(node.value, ast.Name)
            if not (direct and root in ("self", "cls")) and root not in foreign \
                    and not (direct and root in top_level) and node.attr not in owned:
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Call):
            callee = node.func.id if isinstance(node.func, ast.Name) else None
            found.extend(f"line {node.lineno}: keyword {k.arg}=" for k in node.keywords
                         if k.arg is not None and _private(k.arg) and k.arg not in owned and callee not in top_level)
        for child in ast.iter_child_nodes(node):
            visit(child, owned)

    visit(tree, frozenset())
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reaches_into_another_modules_private_names(module: str) -> None:
    found = private_reaches(MODULES[module].read_text(encoding="utf-8"), module)
    if module in PRIVATE_ACCESS_ALLOWED:
        assert found, f"{module} no longer reaches into private names: remove it from PRIVATE_ACCESS_ALLOWED"
        return
    assert not found, f"{module} reads or sets private names it does not own (make them public): " + "; ".join(found)


def test_the_private_name_check_sees_reaches_but_not_own_names(tmp_path: Path) -> None:
    source = (
        "import osmnx as ox\nfrom sim.network.osm import _settings\nfrom osmnx._errors import E\n"
        "_CACHE = {}\n"
        "class Lock:\n    def __init__(self):\n        self._depth = 0\n"
        "    def enter(self, held):\n        held._depth += 1\n        return self._depth\n"
        "def f(unit, event):\n    unit._stop_leg()\n    event._ok = True\n    ox._overpass.x()\n"
        "    _CACHE._x\n    g(_hash=None)\n    Lock(_depth=1)\n    return unit._replace(a=1)\n"
    )
    assert private_reaches(source, "sim.probe") == [
        "line 2: from sim.network.osm import _settings", "line 12: unit._stop_leg", "line 13: event._ok",
        "line 16: keyword _hash="]


def _imports_with_type_hints(path: Path, module: str) -> set[str]:
    """The sim modules ``module`` names in any import, type-only ones included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    return {name for name in found if name in MODULES and name != module}


def test_the_model_has_no_import_circle_even_in_type_hints() -> None:
    """The model's modules depend one way (units -> eligibility -> dispatch -> joint ...), type hints
    included: an observer or a protocol instead of a module that names its caller."""
    model = {m: p for m, p in MODULES.items() if m.startswith("sim.model.")}
    graph = {m: _imports_with_type_hints(p, m) & set(model) for m, p in model.items()}
    done: set[str] = set()
    path: list[str] = []

    def walk(module: str) -> None:
        if module in path:
            pytest.fail("import circle in the model: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            walk(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        walk(module)


#: every layer below the front doors: its messages name no command-line flag (the command line hands its
#: flags down, sim.config.option_names, or says them itself)
WITHOUT_FLAGS = tuple(prefix for layer, prefixes in LAYERS if layer != "front doors" for prefix in prefixes)
_FLAG = re.compile(r"(?<![\w-])(?<!var\()--[a-z](?:[a-z-]*[a-z])?(?![\w:-])")  # not a CSS custom property


def _flags_in_strings(path: Path) -> list[str]:
    """Command-line flags in the string literals of a module (docstrings aside: they may tell where a
    value comes from)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [f"line {node.lineno}: {flag}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            for flag in _FLAG.findall(node.value)]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(WITHOUT_FLAGS)))
def test_no_command_line_flag_is_named_below_the_command_line(module: str) -> None:
    found = _flags_in_strings(MODULES[module])
    assert not found, f"{module} names command-line flags in its strings: {', '.join(found)}"


def test_the_flag_finder_sees_f_strings_but_not_docstrings(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text('"""Read with --resume."""\ndef f(x):\n    """--out"""\n    return f"{x} --max-reps 3" + "a-b"'
                      ' + f"--share-{x}: red; var(--share-none)"\n')
    assert _flags_in_strings(source) == ["line 4: --max-reps"]
