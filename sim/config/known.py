"""The names a scenario declares, recorded as its sections validate: a symbol table for the one pass.

``Scenario``'s fields are declared in the order of what refers to what (sites before the plans that
name them); when a section has validated, its names are recorded here (in the validation context
``load_scenario`` gives), and a later part checks its references in its own field's validator, so a
problem elsewhere in the same unit group or plan does not hide them. A name set left None is unknown
(its section failed and says so itself, or the part is validated outside a scenario): not checked.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationInfo

from sim.config.problems import suggest
from sim.config.yaml_reader import YamlPath

Problem = tuple[YamlPath, str]

#: ``Known.phases`` of a scenario without a calendar (a phase fleet then names nothing).
NO_CALENDAR: dict[str, None] = {}


@dataclass
class Known:
    """What the sections validated so far declare (None: not known)."""

    sites: dict[str, str] | None = None          # site id -> kind, in file order (site sets' after)
    unit_types: dict[str, str] | None = None     # unit type -> agency
    has_detection: bool | None = None            # a `detection:` block was given
    types: dict[str, None] | None = None         # disturbance types
    phases: dict[str, None] | None = None        # calendar phases (NO_CALENDAR: there is no calendar)
    clock: Any = None                            # the validated Clock
    clock_set_on_command_line: bool = False      # --hours / --set clock...: later phases and events may fall outside

    @property
    def agencies(self) -> list[str] | None:
        return sorted(set(self.unit_types.values())) if self.unit_types is not None else None


def known(info: ValidationInfo) -> Known:
    """The scenario's names so far (an empty ``Known`` outside a scenario's validation)."""
    found = (info.context or {}).get("known")
    return found if isinstance(found, Known) else Known()


def unknown(path: YamlPath, name: str, names: Collection[str] | None, kind: str) -> list[Problem]:
    """A problem if ``name`` is not among ``names`` (None: not known, so not checked; a dict finds a
    name at once, where a list of thousands of sites is read through)."""
    if names is None or name in names:
        return []
    return [(path, f"unknown {kind} '{name}'" + suggest(name, list(names)))]


def unknown_keys(keys: Iterable[str], names: Collection[str] | None, kind: str) -> list[Problem]:
    """A problem for each of ``keys`` (a mapping's, each at its own path) not among ``names``."""
    return [problem for key in keys for problem in unknown((key,), key, names, kind)]
