"""Local search by simulation: move one unit to a nearby candidate, keep the move only when the
simulation shows it helps.

From the integer program's placement, the moves are tried unit by unit, each unit to each of
its post's ``NEIGHBOURS`` nearest candidates (straight line). A move is simulated for the same
replications as the current placement (common random numbers) and accepted only when the paired
95% interval of the metric's change lies wholly on the better side; after an accepted move the
search goes on from the new placement. It stops when every move of the current placement has
been tried in vain, or after ``budget`` simulated moves.

The search runs on other random streams than the verification (the scenario's seed + 1), so the
verification does not judge the proposal on the very incidents it was tuned on.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from sim.config.limits import MAX_SEED
from sim.optimize.candidates import Candidate
from sim.optimize.placement import PlacedUnit, plan_dict
from sim.optimize.verify import METRICS, paired_difference, per_rep, study_with

NEIGHBOURS = 3
MAX_BUDGET = 200  # simulated moves; each is a run of the verification's replications
DEFAULT_BUDGET = 30
_TRIAL = "refine-trial"  # the plan name a simulated placement runs under


@dataclass(frozen=True)
class Move:
    """One simulated move: which unit, from and to which post, the paired change and verdict."""

    unit: int
    from_post: str
    to_post: str
    change: float        # trial minus current: points within target, or minutes of mean response
    change_ci95: float
    accepted: bool


def neighbours(candidates: list[Candidate], world, count: int = NEIGHBOURS) -> list[list[int]]:
    """For each candidate, the ``count`` nearest other candidates (straight line), nearest first."""
    network = world.network
    nodes = np.array([c.node for c in candidates])
    x_m, y_m = network.x_m[nodes], network.y_m[nodes]
    found = []
    for i in range(len(candidates)):
        dist = np.hypot(x_m - x_m[i], y_m - y_m[i])
        dist[i] = np.inf
        found.append([int(j) for j in np.argsort(dist, kind="stable")[:count] if np.isfinite(dist[j])])
    return found


def improves(change: float, half_width: float, metric: str) -> bool:
    """Whether a paired change (trial minus current) is an improvement at 95%."""
    if math.isnan(change) or math.isnan(half_width):
        return False
    higher_is_better = METRICS[metric][1]
    return change - half_width > 0 if higher_is_better else change + half_width < 0


def refine_study(study):
    """The study the search simulates on: the scenario with another seed (seed + 1), so that its
    incidents are not those the verification judges the proposal on."""
    seed = study.scenario.seed
    return study.with_overrides({"seed": seed + 1 if seed < MAX_SEED else seed - 1})


class _Evaluator:
    """Simulates placements on the refine streams; keeps the world while the needed sites do not change."""

    def __init__(self, study, candidates: list[Candidate], reps: int, workers: int, metric: str):
        self.study = refine_study(study)
        self.candidates, self.reps, self.workers, self.metric = candidates, reps, workers, metric
        self._pool: set[int] = set()
        self._pool_study = None

    def _study_for(self, posts: set[int], near: list[list[int]]):
        new = {p for p in posts if self.candidates[p].new}
        if self._pool_study is None or not new <= self._pool:
            # Sites two moves around every post, so that the next moves need no new world.
            pool = set(new)
            for p in list(posts):
                for q in near[p]:
                    pool.add(q)
                    pool.update(near[q])
            self._pool = {p for p in pool if self.candidates[p].new} | self._pool
            sites = [self.candidates[p].site_dict() for p in sorted(self._pool)]
            self._pool_study = study_with(self.study, sites, [])
        return self._pool_study

    def run(self, placed: list[PlacedUnit], near: list[list[int]]) -> dict[int, float]:
        posts = {item.post for item in placed}
        study = self._study_for(posts, near).with_plan(plan_dict(_TRIAL, "", placed, self.candidates))
        results = study.run(plans=[_TRIAL], reps=self.reps, workers=self.workers)
        return per_rep(results, _TRIAL, self.metric)


def refine(study, candidates: list[Candidate], placed: list[PlacedUnit], world, *, metric: str = "within_target",
           budget: int = DEFAULT_BUDGET, reps: int = 10, workers: int = 1, stack: bool = False,
           progress: Callable[[str], None] | None = None) -> tuple[list[PlacedUnit], list[Move]]:
    """The placement after the local search, and every move simulated (see the module's docstring)."""
    say = progress or (lambda text: print(text, file=sys.stderr, flush=True))
    near = neighbours(candidates, world)
    evaluator = _Evaluator(study, candidates, reps, workers, metric)
    current = list(placed)
    current_figures = evaluator.run(current, near)
    moves: list[Move] = []
    untried = _moves_of(current, near, stack)
    while untried and len(moves) < budget:
        unit, target = untried.pop(0)
        trial = list(current)
        trial[unit] = replace(current[unit], post=target)
        figures = evaluator.run(trial, near)
        change, half = paired_difference(figures, current_figures)
        accepted = improves(change, half, metric)
        moves.append(Move(unit, candidates[current[unit].post].id, candidates[target].id, change, half, accepted))
        say(f"  refine {len(moves)}/{budget}: unit {unit + 1} {moves[-1].from_post} -> {moves[-1].to_post}: "
            f"{change:+.2f} ± {half:.2f} {'moved' if accepted else 'not moved (no clear gain)'}")
        if accepted:
            current, current_figures = trial, figures
            untried = _moves_of(current, near, stack, after=unit)
    return current, moves


def _moves_of(placed: list[PlacedUnit], near: list[list[int]], stack: bool, after: int = -1) -> list[tuple[int, int]]:
    """Every (unit, new post) move of a placement, starting with the unit after ``after``."""
    taken = {item.post for item in placed}
    order = list(range(after + 1, len(placed))) + list(range(after + 1))
    return [(u, q) for u in order for q in near[placed[u].post] if stack or q not in taken]
