"""YAML in, plain Python data out, with the line of every key and list item.

ruamel.yaml reads YAML 1.2 (``1e12`` is a number, ``010`` is 10, ``yes`` is text, merge keys may be
overridden) and keeps each node's line. The data handed on is plain ``dict``/``list``/``str``/
``int``/``float``/``bool``/``None``: dates stay text (the schema parses them, with a YAML path).
Aliases are expanded with a bound, so a small file cannot unfold into millions of values.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Union

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from sim.config.reading import NotARegularFile, TooBig, read_bounded
from sim.errors import InputError

YamlPath = tuple[Union[str, int], ...]
Lines = dict[YamlPath, int]

MAX_VALUES = 1_000_000  # keys, items and scalars after aliases are expanded
MAX_DEPTH = 64          # nesting of mappings and lists
MAX_FILE_BYTES = 20_000_000


class _Constructor(RoundTripConstructor):
    """Dates and times stay text: ``2024-13-01`` is then a schema error with a path, not a crash."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp",
                             lambda self, node: str(self.construct_scalar(node)))


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    return yaml


def _problem(error: YAMLError) -> str:
    if isinstance(error, MarkedYAMLError):
        return " ".join(part for part in (error.context, error.problem) if part)
    return str(error)


def _load(text: str, label: str) -> Any:
    try:
        return _yaml().load(text)
    except DuplicateKeyError:
        raise InputError(_duplicate_keys(text, label)) from None
    except ReaderError as error:  # a control character (NUL, BEL, form feed, ...): YAML allows none
        line = text.count("\n", 0, max(error.position, 0)) + 1
        raise InputError(f"{label}:{line}: YAML cannot hold the control character {error.character:#04x} "
                         f"at column {error.position - text.rfind(chr(10), 0, error.position)}; "
                         "remove it (is this a text file?)") from None
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark is not None else label
        raise InputError(f"{where}: YAML syntax error: {_problem(error)}") from None
    except RecursionError:
        raise InputError(f"{label}: nested too deeply to read (at most {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError) as error:  # a value the constructor cannot build, e.g. "!!int abc"
        raise InputError(f"{label}: unreadable YAML value: {error}") from None


def _duplicate_keys(text: str, label: str) -> list[str]:
    """Every key given twice in one mapping, with its path and both lines (from the node tree)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    problems: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key, line = str(key_node.value), key_node.start_mark.line + 1
                child = f"{path}.{key}" if path else key
                if key in seen:
                    problems.append(f"{label}:{line}: {child}: duplicate key '{key}' (also on line {seen[key]})")
                else:
                    seen[key] = line
                walk(value_node, child)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    walk(_yaml().compose(text), "")
    return problems or [f"{label}: a key is given twice in one mapping"]


def _check_size(root: Any, label: str) -> None:
    """InputError if ``root`` expands to more than MAX_VALUES values or holds an alias inside
    itself. Counted once per distinct node (aliases share nodes), so a 300-byte alias bomb is
    refused at once instead of being unfolded first."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (CommentedMap, CommentedSeq)):
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in busy:
            raise InputError(f"{label}: an alias (*name) is used inside the value it names, so it never ends")
        if depth > MAX_DEPTH:
            raise InputError(f"{label}:{node.lc.line + 1}: nested more than {MAX_DEPTH} levels deep")
        busy.add(id(node))
        items = [x for pair in node.items() for x in pair] if isinstance(node, CommentedMap) else list(node)
        total = 1
        for item in items:
            total += size(item, depth + 1)
            if total > MAX_VALUES:
                raise InputError(f"{label}: more than {MAX_VALUES:,} values once aliases are expanded; "
                                 "is an alias (*name) repeated inside another many times over?")
        busy.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root, 0)


class _Plain:
    """Converts ruamel's nodes to plain data, recording lines, bounded in size and depth."""

    def __init__(self, label: str):
        self.label = label
        self.lines: Lines = {}
        self.values = 0

    def convert(self, value: Any, path: YamlPath, line: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise InputError(f"{self.label}: more than {MAX_VALUES:,} values once aliases are expanded; "
                             "is an alias (*name) repeated inside itself?")
        if len(path) > MAX_DEPTH:
            raise InputError(f"{self.label}:{line}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, CommentedMap):
            out = {}
            for key, item in value.items():
                key = self.convert(key, path, line) if not isinstance(key, str) else str(key)
                where = value.lc.data.get(key)  # merged keys (<<: *x) have no line of their own
                item_line = where[0] + 1 if where else line
                self.lines.setdefault(path + (key,), item_line)
                out[key] = self.convert(item, path + (key,), item_line)
            return out
        if isinstance(value, CommentedSeq):
            out_list = []
            for i, item in enumerate(value):
                where = value.lc.data.get(i)
                item_line = where[0] + 1 if where else line
                self.lines.setdefault(path + (i,), item_line)
                out_list.append(self.convert(item, path + (i,), item_line))
            return out_list
        if isinstance(value, bool) or value is None:
            return value
        if type(value).__name__ == "ScalarBoolean":
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        return value


def read_yaml(path: Path, label: str) -> tuple[dict[str, Any], Lines]:
    """The file's data (a mapping) and the 1-based line of every key and list item."""
    try:
        text = read_bounded(path, MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{label}: scenario file not found") from None
    except TooBig:
        raise InputError(f"{label}: larger than {MAX_FILE_BYTES // 1_000_000} MB: not a scenario file") from None
    except NotARegularFile as error:
        raise InputError(f"{label}: {error}; a scenario is a YAML file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{label}: cannot read the scenario file ({error})") from None
    loaded = _load(text, label)
    if loaded is None:
        raise InputError(f"{label}: the scenario file is empty")
    root_line = loaded.lc.line + 1 if isinstance(loaded, (CommentedMap, CommentedSeq)) else 1
    _check_size(loaded, label)
    plain = _Plain(label)
    data = plain.convert(loaded, (), root_line)
    if not isinstance(data, dict):
        raise InputError(f"{label}:{root_line}: a scenario must be a mapping of keys "
                         f"(name, network, clock, ...), not a {type(data).__name__}")
    plain.lines[()] = root_line
    return data, plain.lines


def read_yaml_value(text: str, label: str) -> Any:
    """One value written as YAML (``0.3``, ``[a, b]``, ``{x: 1}``, ``Jember 2024``) as plain data."""
    loaded = _load(text, label)
    _check_size(loaded, label)
    return _Plain(label).convert(loaded, (), 1)
