"""The objectives the optimiser can place a fleet by, one class per model, in a registry.

An objective names itself and its sources, values a placement (``value``), places greedily
(``greedy``), solves its program (``solve``) and says in words what its value means. The rest
of the optimiser asks the objective and names none: a new one is a subclass with
``@register_objective``.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.optimize.metrics import (Instance, covered_share, expected_covered_share, greedy_cover, greedy_median,
                                  mean_travel_min)
from sim.optimize.programs import DEFAULT_REL_GAP, Solution, mexclp_levels, solve_mclp, solve_mexclp, solve_pmedian

OBJECTIVES: dict[str, type[Objective]] = {}


def register_objective(cls: type[Objective]) -> type[Objective]:
    """Class decorator: make an objective choosable by its ``name``."""
    OBJECTIVES[cls.name] = cls
    return cls


def objective(name: str) -> Objective:
    """The objective called ``name``; ValueError naming the choices for any other."""
    if name not in OBJECTIVES:
        raise ValueError(f"objective {name!r}: one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]()


class Objective:
    """What a location program maximises or minimises."""

    name: ClassVar[str]
    label: ClassVar[str]              # short, for plan descriptions ("MCLP")
    title: ClassVar[str]              # with its sources, for the plan's comment
    higher_is_better: ClassVar[bool] = True
    stacks: ClassVar[bool] = False    # several units may share a post
    uses_coverage: ClassVar[bool] = True  # reads the target (a site no post reaches adds nothing)
    uses_busy: ClassVar[bool] = False

    def value(self, instance: Instance, counts: np.ndarray, busy: float) -> float:
        raise NotImplementedError

    def greedy(self, instance: Instance, units: int, busy: float) -> np.ndarray:
        raise NotImplementedError

    def solve(self, instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
              rel_gap: float = DEFAULT_REL_GAP) -> Solution:
        raise NotImplementedError

    def value_text(self, value: float, target_min: float) -> str:
        raise NotImplementedError

    def assumption(self, busy: float) -> str:
        """What the objective assumes beyond the demand and the target, for the plan's comment."""
        return ""


@register_objective
class MCLP(Objective):
    """The maximal covering location problem: the most demand within the target of a post."""

    name = "mclp"
    label = "MCLP"
    title = "MCLP, the maximal covering location problem (Church & ReVelle 1974; ties: most backup cover)"

    def value(self, instance: Instance, counts: np.ndarray, busy: float) -> float:
        return covered_share(instance, counts)

    def greedy(self, instance: Instance, units: int, busy: float) -> np.ndarray:
        return greedy_cover(instance, units, np.ones(1), stack=False)

    def solve(self, instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
              rel_gap: float = DEFAULT_REL_GAP) -> Solution:
        return solve_mclp(instance, units, time_limit_s=time_limit_s, rel_gap=rel_gap)

    def value_text(self, value: float, target_min: float) -> str:
        return f"covered within {target_min:g} min {value:.1%}"


@register_objective
class MEXCLP(Objective):
    """The maximum expected covering location problem: units busy with probability ``busy``."""

    name = "mexclp"
    label = "MEXCLP"
    title = "MEXCLP, the maximum expected covering location problem (Daskin 1983)"
    stacks = True
    uses_busy = True

    def value(self, instance: Instance, counts: np.ndarray, busy: float) -> float:
        return expected_covered_share(instance, counts, busy)

    def greedy(self, instance: Instance, units: int, busy: float) -> np.ndarray:
        return greedy_cover(instance, units, mexclp_levels(units, busy), stack=True)

    def solve(self, instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
              rel_gap: float = DEFAULT_REL_GAP) -> Solution:
        return solve_mexclp(instance, units, busy, time_limit_s=time_limit_s, rel_gap=rel_gap)

    def value_text(self, value: float, target_min: float) -> str:
        return f"expected covered share {value:.1%}"

    def assumption(self, busy: float) -> str:
        return f"busy probability {busy:.3f}"


@register_objective
class PMedian(Objective):
    """The p-median problem: the least demand-weighted travel time from the nearest post."""

    name = "pmedian"
    label = "p-median"
    title = "p-median, least demand-weighted travel time (Hakimi 1964; ReVelle & Swain 1970)"
    higher_is_better = False
    uses_coverage = False

    def value(self, instance: Instance, counts: np.ndarray, busy: float) -> float:
        return mean_travel_min(instance, counts)

    def greedy(self, instance: Instance, units: int, busy: float) -> np.ndarray:
        return greedy_median(instance, units)

    def solve(self, instance: Instance, units: int, busy: float, *, time_limit_s: float = 60.0,
              rel_gap: float = DEFAULT_REL_GAP) -> Solution:
        return solve_pmedian(instance, units, time_limit_s=time_limit_s, rel_gap=rel_gap)

    def value_text(self, value: float, target_min: float) -> str:
        return f"mean travel {value:.2f} min"
