"""The base of every piece of a scenario: frozen, strict pydantic models.

Strict: YAML already gives real numbers and booleans, so nothing is coerced ("3" is not 3).
Frozen: a validated scenario is a value; the simulation never changes or re-checks it.
"""
from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

Item = TypeVar("Item")


class Spec(BaseModel):
    """A validated, immutable part of a scenario; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _list_to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: A YAML list held as a tuple (strict pydantic takes only tuples for tuple fields).
Tuple = Annotated[tuple[Item, ...], BeforeValidator(_list_to_tuple)]
