"""Overrides (``--set`` on the command line, ``overrides`` in Python): dotted paths set in the data
before validation."""
from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from sim.config.problems import Report, dotted, suggest
from sim.config.yaml_reader import YamlPath

_SEGMENT = re.compile(r"^([^\[\]]*)((?:\[\d+\])*)$")
_ITEM_NOUN = {"sites": "site", "disturbances": "disturbance type", "plans": "plan",
              "units": "unit group"}


class _OverrideError(Exception):
    pass


def _item_label(item: object) -> str | None:
    """The value a list item is addressed by: its ``id``, else ``name``, else ``type``."""
    if isinstance(item, dict):
        for key in ("id", "name", "type"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


def _override_steps(key: str) -> list[str | int]:
    steps: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT.match(segment)
        if match is None or (not match.group(1) and not match.group(2)):
            raise _OverrideError(f"cannot read '{segment}' in the path")
        if match.group(1):
            steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return steps


def _child(container: Any, step: str | int, parent_key: str | int, where: YamlPath,
           last: bool) -> tuple[Any, str | int]:
    """Where ``step`` leads inside ``container``: (the child, its index or key)."""
    if isinstance(container, list):
        if isinstance(step, int):
            if not 0 <= step < len(container):
                raise _OverrideError(f"{dotted(where)}[{step}]: index out of range "
                                     f"({len(container)} items)")
            return container[step], step
        found = [i for i, item in enumerate(container) if _item_label(item) == step]
        noun = _ITEM_NOUN.get(str(parent_key), "item")
        if not found:
            known = [label for label in map(_item_label, container) if label is not None]
            raise _OverrideError(f"no {noun} '{step}'" + suggest(step, known))
        if len(found) > 1:
            raise _OverrideError(f"{len(found)} {noun}s are called '{step}' in {dotted(where)}; "
                                 f"address one by position, e.g. {dotted(where)}[{found[0]}]")
        return container[found[0]], found[0]
    if isinstance(container, dict):
        if isinstance(step, int):
            raise _OverrideError(f"{dotted(where)} is not a list")
        if step not in container and not last:
            container[step] = {}  # e.g. dispatch.queue when the file has no dispatch section
        return container.get(step), step
    raise _OverrideError(f"{dotted(where)} is a value, not a section")


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, object],
                     report: Report) -> dict[str, Any]:
    """``data`` with each dotted path set; a path that leads nowhere is reported, not applied."""
    for key, value in overrides.items():
        # on a copy: a path that fails half-way must not leave the sections it created behind
        trial = copy.deepcopy(data)
        try:
            steps = _override_steps(key)
            container: Any = trial
            where: YamlPath = ()
            parent_key: str | int = ""
            for n, step in enumerate(steps):
                last = n == len(steps) - 1
                child, index = _child(container, step, parent_key, where, last)
                if last:
                    container[index] = copy.deepcopy(value)
                container, parent_key, where = child, step, where + (index,)
        except _OverrideError as exc:
            report.general(f"{report.names.sets} {key}: {exc}")
            continue
        data = trial
        report.overridden.append((where, key))
    return data
