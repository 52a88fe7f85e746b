"""A scenario as a location problem: demand sites, candidate posts and the travel minutes between
them, and what a placement achieves on it (the figures every output gives)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.errors import InputError
from sim.optimize.candidates import Candidate, build_candidates
from sim.optimize.demand import Demand, site_demand
from sim.optimize.metrics import Instance, covered_share, expected_covered_share, mean_travel_min
from sim.optimize.programs import Solution
from sim.optimize.travel import travel_min

SHOWN_SITES = 20  # a message lists at most this many sites by name


@dataclass(frozen=True)
class Problem:
    """Demand at the scenario's sites, candidate posts, and the travel minutes between them."""

    demand: Demand
    candidates: list[Candidate]
    instance: Instance
    candidate_kind: str
    horizon_min: float = np.inf  # travel beyond it is inf

    @property
    def n_candidates(self) -> int:
        return len(self.candidates)


def build_problem(scenario, world, kind: str, k: int = 0, demand: Demand | None = None,
                  flag: str = "candidates", horizon_min: float = np.inf) -> Problem:
    """The location problem of a scenario on its world, with candidates of ``kind``; ``demand``
    default: the scenario's over its measured clock. Travel beyond ``horizon_min`` is inf (a
    covering objective needs it only up to the target)."""
    demand = site_demand(scenario) if demand is None else demand
    if len(demand.site_ids) == 0:
        raise InputError("no site has incidents (every disturbance rate or weight is 0): nothing to cover")
    candidates = build_candidates(kind, k, scenario, world, demand)
    if not candidates:
        raise InputError(f"{flag} {kind}: the scenario has no such sites")
    demand_nodes = [world.site_node[site] for site in demand.site_ids]
    travel = travel_min(world.network, demand_nodes, [c.node for c in candidates], horizon_min)
    instance = Instance(demand.per_hour, travel, scenario.target_response_min)
    return Problem(demand, candidates, instance, kind if kind != "nodes" else f"nodes:{k}", horizon_min)


@dataclass(frozen=True)
class Unreachable:
    """A site with incidents that no candidate reaches within the target."""

    site: str
    nearest_min: float


def unreachable_sites(problem: Problem) -> list[Unreachable]:
    """The sites with incidents that no candidate post reaches within the target, in scenario order."""
    instance = problem.instance
    never = np.flatnonzero(~instance.covers.any(axis=1) & (instance.weight > 0))
    nearest = instance.travel_min[never].min(axis=1) if len(never) else np.empty(0)
    return [Unreachable(problem.demand.site_ids[i], float(m)) for i, m in zip(never, nearest)]


def unreachable_text(unreachable: list[Unreachable], problem: Problem) -> str:
    """One line naming them (at most SHOWN_SITES) and how far the nearest candidate is."""
    named = [f"{u.site} ({u.nearest_min:.1f} min)" if np.isfinite(u.nearest_min) else
             f"{u.site} (more than {problem.horizon_min:g} min)" for u in unreachable[:SHOWN_SITES]]
    more = f" and {len(unreachable) - SHOWN_SITES} more" if len(unreachable) > SHOWN_SITES else ""
    return (f"{len(unreachable)} site(s) with incidents no {problem.candidate_kind} candidate reaches within "
            f"{problem.instance.target_min:g} min (nearest candidate): {', '.join(named)}{more}")


def check_units(problem: Problem, units: int, flags=lambda name: name) -> None:
    """InputError unless units <= the number of candidates (``flags(name)``: how settings are spelt)."""
    if units > problem.n_candidates:
        raise InputError(f"{flags('units')} {units}: more units than the {problem.n_candidates} candidate posts of "
                         f"{flags('candidates')} {problem.candidate_kind}; use fewer units or more candidates "
                         "(towns, nodes:K)")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def figures(problem: Problem, solution: Solution, busy: float) -> dict:
    """The figures of one placement: all three metrics, whatever the objective."""
    counts = solution.counts
    return {
        "objective": solution.objective,
        "units": int(counts.sum()),
        "posts": sorted(problem.candidates[c].id for c in solution.posts),
        "covered_share": covered_share(problem.instance, counts),
        "mean_travel_min": _finite(mean_travel_min(problem.instance, counts)),
        "expected_covered_share": expected_covered_share(problem.instance, counts, busy),
        "busy": busy,
        "optimal": bool(solution.optimal),
        "gap": solution.gap,
        "seconds": round(solution.seconds, 3),
        "solver": solution.solver,
    }
