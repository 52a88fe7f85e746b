"""The package's shape: layers import only downwards, no import cycles, modules of a readable size.

The layers are those of docs/design.md. Every ``import`` in a module counts, at the top or inside a
function; only imports under ``if TYPE_CHECKING:`` (type hints, never run) are left out.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sim"

#: bottom to top; a module may import its own layer and the layers below it
LAYERS = [
    ("foundation", ["sim.errors", "sim.files", "sim.streams", "sim.i18n"]),
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
