"""The registries of the plug-in points, read when a scenario is validated (not when it is imported).

A ``Registry`` maps scenario names to plug-ins (classes or functions). ``chosen_by(registry, key)``
is the schema type of a block whose ``key`` names one of its classes (``patrol: {mode: NAME, ...}``,
``{dist: NAME, ...}``), and ``named_in(registry)`` the schema type of a plain name
(``dispatch.policy``): both look the registry up at validation time, so a plug-in registered after
``sim`` was imported (from the user's own module) is accepted like a built-in one.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Annotated, Any, Generic, TypeVar, Union

from pydantic import AfterValidator, Field, SerializeAsAny, TypeAdapter, ValidationInfo, WrapValidator
from pydantic_core import PydanticCustomError

from sim.plugins.base import Spec

Entry = TypeVar("Entry")

#: A plug-in's scenario name: what a YAML scalar holds without quoting, short enough for a table.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def origin(entry: Any) -> str:
    """Where a plug-in is defined: ``module.QualifiedName``."""
    return f"{getattr(entry, '__module__', '?')}.{getattr(entry, '__qualname__', repr(entry))}"


class Registry(Mapping[str, Entry], Generic[Entry]):
    """Scenario names of one plug-in point (``kind``: "patrol mode") -> their classes or functions.

    ``add`` refuses a name that another plug-in already holds; the same plug-in added again (its
    module imported a second time) replaces itself.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self.version = 0  # bumped by every add: cached schema types are rebuilt

    def add(self, name: str, entry: Entry) -> Entry:
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(f"{self.kind} name {name!r:.80}: use a letter, then up to 63 letters, digits, '_' or '-'")
        held = self._entries.get(name)
        if held is not None and origin(held) != origin(entry):
            raise ValueError(f"{self.kind} '{name}' is already registered by {origin(held)}; "
                             f"{origin(entry)} needs another name")
        self._entries[name] = entry
        self.version += 1
        return entry

    def remove(self, name: str) -> None:
        """Take a plug-in out (a test that registered one, a process that unloads it)."""
        del self._entries[name]
        self.version += 1

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Registry ({self.kind}): {', '.join(self._entries)}>"


def choices(names: list[str]) -> str:
    """``'a', 'b' or 'c'``: the names a value may take, as pydantic words a literal."""
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


# -- schema types that read a registry when validating -----------------------------------------------------


class Variants:
    """Marks a schema type as a tagged union of ``registry``'s classes, chosen by ``key``: what
    ``sim.config.problems`` walks to name a YAML path and the keys of each variant."""

    def __init__(self, registry: Registry, key: str):
        self.registry = registry
        self.key = key
        self._adapter: tuple[int, TypeAdapter] | None = None

    def union(self) -> Any:
        """The union of the classes registered now."""
        classes = tuple(self.registry.values())
        return Union[classes] if len(classes) > 1 else classes[0]  # noqa: UP007 (a runtime union of classes)

    def adapter(self) -> TypeAdapter:
        """A validator of the union, rebuilt when a plug-in was added since the last one."""
        if self._adapter is None or self._adapter[0] != self.registry.version:
            union = self.union()
            kind = Annotated[union, Field(discriminator=self.key)] if len(self.registry) > 1 else union
            self._adapter = (self.registry.version, TypeAdapter(kind))
        return self._adapter[1]

    def validate(self, value: Any, handler: Any, info: ValidationInfo) -> Any:
        return self.adapter().validate_python(value, context=info.context)


def chosen_by(registry: Registry, key: str) -> Any:
    """The schema type of a block whose ``key`` names one of ``registry``'s classes (``{dist: NAME, ...}``):
    that class validates the block, with the registry as it is when validating."""
    variants = Variants(registry, key)
    return Annotated[SerializeAsAny[Spec], WrapValidator(variants.validate), variants]


def _registered(registry: Registry, name: Any) -> Any:
    if name not in registry:
        raise PydanticCustomError("plugin_name", "Input should be {expected}",
                                  {"expected": choices(list(registry)), "known": tuple(registry)})
    return name


def named_in(registry: Registry) -> Any:
    """The schema type of a plug-in's name (``dispatch.policy``), checked against ``registry`` when validating."""
    return Annotated[str, AfterValidator(partial(_registered, registry))]
