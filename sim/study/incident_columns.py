"""One plan's incident rows as numpy columns, for the result tables that read every incident.

Each column is made on first use, one pass over the rows, and holds the rows' values in row order:
numbers as float64 (None, a time never reached, as NaN), flags as bool, whole numbers as int64,
text as codes into a list of its values. The tables then group incidents by sorting codes
instead of walking the rows once per plan, site or priority.
"""
from __future__ import annotations

import math
from functools import cached_property
from operator import itemgetter, methodcaller
from typing import Hashable, Iterable, Sequence

import numpy as np


class IncidentColumns:
    """The incident rows of one plan (sim.model.records) as columns, each made when first asked for."""

    def __init__(self, rows: Sequence[dict]) -> None:
        self.rows = rows
        self._codes: dict[tuple, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def floats(self, name: str) -> np.ndarray:
        """Column ``name`` as float64, None as NaN."""
        return np.fromiter((math.nan if value is None else value for value in map(itemgetter(name), self.rows)),
                           np.float64, count=len(self.rows))

    def _ints(self, name: str) -> np.ndarray:
        return np.fromiter(map(itemgetter(name), self.rows), np.int64, count=len(self.rows))

    def _flags(self, name: str) -> np.ndarray:
        """Whether column ``name`` is truthy; False in rows without it (an optional column)."""
        try:
            return np.fromiter(map(itemgetter(name), self.rows), bool, count=len(self.rows))
        except KeyError:
            return np.fromiter(map(methodcaller("get", name, 0), self.rows), bool, count=len(self.rows))

    @cached_property
    def rep(self) -> np.ndarray:
        return self._ints("rep")

    @cached_property
    def counted(self) -> np.ndarray:
        return self._flags("counted")

    @cached_property
    def escalated(self) -> np.ndarray:
        return self._flags("escalated")

    @cached_property
    def deterred(self) -> np.ndarray:
        return self._flags("deterred")

    @cached_property
    def priority(self) -> np.ndarray:
        return self._ints("priority")

    @cached_property
    def response_min(self) -> np.ndarray:
        return self.floats("response_min")

    @cached_property
    def t_created_min(self) -> np.ndarray:
        return self.floats("t_created_min")

    @cached_property
    def t_first_arrival_min(self) -> np.ndarray:
        return self.floats("t_first_arrival_min")

    def equals(self, name: str, value: Hashable) -> np.ndarray:
        """Whether column ``name`` equals ``value``, row by row."""
        return np.fromiter((found == value for found in map(itemgetter(name), self.rows)), bool, count=len(self.rows))

    def codes(self, name: str, keys: Sequence[Hashable]) -> np.ndarray:
        """Column ``name`` as each value's index in ``keys``; ``len(keys)`` for a value not among them
        (made once for the same name and keys)."""
        made = (name, tuple(keys))
        if made not in self._codes:
            values = list(map(itemgetter(name), self.rows))
            index = {key: k for k, key in enumerate(keys)}
            index |= {value: len(keys) for value in dict.fromkeys(values) if value not in index}
            self._codes[made] = np.fromiter(map(index.__getitem__, values), np.int64, count=len(values))
        return self._codes[made]


def plan_columns(incident_rows: Iterable[dict]) -> dict[str, IncidentColumns]:
    """Incident rows of any plans -> each plan's columns (plans in order of first appearance)."""
    by_plan: dict[str, list[dict]] = {}
    for row in incident_rows:
        by_plan.setdefault(row["plan"], []).append(row)
    return {plan: IncidentColumns(rows) for plan, rows in by_plan.items()}


def first_seen_order(groups: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """The order that sorts rows by group, then by replication in the order each first appears in
    that group, keeping row order within a (group, replication): what a dict of lists filled row by
    row gives."""
    if len(groups) == 0:
        return np.zeros(0, np.intp)
    span = int(reps.max()) - int(reps.min()) + 1
    pair = groups * span + (reps - reps.min())
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    return np.lexsort((first[inverse], groups))


def runs(sorted_keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values in ``sorted_keys``, in order."""
    if len(sorted_keys) == 0:
        return []
    bounds = [0, *(np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1).tolist(), len(sorted_keys)]
    return list(zip(bounds[:-1], bounds[1:]))
