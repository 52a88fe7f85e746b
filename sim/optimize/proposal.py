"""One fleet size's proposal: the program's placement, the units on it, their bases, the plan."""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import numpy as np

from sim.errors import InputError
from sim.optimize.objectives import Objective
from sim.optimize.placement import (FleetUnit, PlacedUnit, PostLabel, assign_units, based_at_nearest_post,
                                    fleet_of_plan, fleet_of_units, plan_dict, police_posts, post_label)
from sim.optimize.problem import Problem, figures
from sim.optimize.refine import Move, refine
from sim.optimize.request import Request, units_text


@dataclass
class Proposal:
    """One fleet size's answer: the program's placement, the units on it, the plan."""

    units: int
    figures: dict                 # of the final placement (after any refinement)
    program: dict                 # of the integer program's placement
    greedy_value: float
    placed: list[PlacedUnit]
    plan: dict
    moves: list[Move]
    labels: list[PostLabel]       # one per post used, in post id order


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def plan_name(objective: Objective, units: int | None, taken: set[str]) -> str:
    name = f"optimized-{objective.name}" + (f"-{units}" if units is not None else "")
    while name in taken:
        name += "-new"
    return name


def fleets(request: Request, scenario, phase: str | None = None) -> list[tuple[list[FleetUnit], str]]:
    """The fleets to place, with words for them: N units of the first type for each size asked,
    else the plan's vehicles (in ``phase``, its fleet for that phase when it has one)."""
    if request.units:
        needed = max(scenario.disturbances, key=lambda d: d.units_required)
        if request.units[0] < needed.units_required:
            flag = request.flag("units")
            fix = (f"{flag} {needed.units_required}..{request.units[-1]}" if request.units[-1] >= needed.units_required
                   else f"{flag} {needed.units_required}")
            raise InputError(f"{flag} {units_text(request.units)}: a plan of this scenario needs at least "
                             f"{needed.units_required} units ({needed.type} needs {needed.units_required} at once); "
                             f"try {fix}")
        unit_type = next(iter(scenario.unit_types))
        return [(fleet_of_units(scenario, n), f"{n} units of type {unit_type}") for n in request.units]
    plan = request.fleet or scenario.plans[0].name
    return [(fleet_of_plan(scenario, plan, phase), f"the vehicles of plan {plan}"
             + (f" in phase {phase}" if phase is not None and phase in scenario.plan(plan).by_phase else ""))]


def propose(request: Request, objective: Objective, study, problem: Problem, fleet: list[FleetUnit], name: str,
            busy: float, reps: int) -> Proposal:
    """Solve, put the fleet on the posts, base it, optionally refine by simulation; the plan."""
    instance = problem.instance
    units = len(fleet)
    solution = objective.solve(instance, units, busy, time_limit_s=request.time_limit_s)
    program = figures(problem, solution, busy)
    world = study.world()
    placed = assign_units(instance, solution.posts, fleet, problem.candidates, world)
    if request.bases == "nearest-post":
        placed = based_at_nearest_post(placed, problem.candidates, world, police_posts(study.scenario))
    moves: list[Move] = []
    final = program
    if request.refine:
        say(f"refining by simulation ({reps} replications a move, at most {request.refine_budget} moves)")
        placed, moves = refine(study, problem.candidates, placed, world, metric=request.refine_metric,
                               budget=request.refine_budget, reps=reps, workers=request.workers,
                               stack=objective.stacks, progress=say)
        if any(move.accepted for move in moves):
            counts = np.bincount([item.post for item in placed], minlength=problem.n_candidates)
            final = {**figures(problem, replace(solution, counts=counts), busy), "refined": True}
    greedy_value = objective.value(instance, objective.greedy(instance, units, busy), busy)
    description = (f"{objective.label} placement of {units} units over {problem.n_candidates} candidates "
                   f"({problem.candidate_kind}) by patrolsim optimize" + (", refined by simulation" if moves else ""))
    named = [site for site in study.scenario.sites if site.id in _hand_written(study.scenario)]
    labels = [post_label(problem.candidates[post], named) for post in sorted({item.post for item in placed},
                                                                             key=lambda c: problem.candidates[c].id)]
    return Proposal(units, final, program, greedy_value, placed,
                    plan_dict(name, description, placed, problem.candidates), moves, labels)


def _hand_written(scenario) -> set[str]:
    """The ids of the sites written in the scenario (not generated by a site set)."""
    return {site["id"] for site in scenario.raw.get("sites") or [] if isinstance(site, dict) and "id" in site}


def new_sites(problem: Problem, proposals: list[Proposal]) -> list[dict]:
    """The scenario entries of the new sites the proposals use, named by their nearest named site
    and kecamatan."""
    labels = {label.id: label for p in proposals for label in p.labels}
    used = sorted({item.post for p in proposals for item in p.placed if problem.candidates[item.post].new})
    out = []
    for c in used:
        site = problem.candidates[c].site_dict()
        label = labels.get(site["id"])
        if label is not None:
            near = f"near {label.near.split(' (')[0]}, " if label.near else ""
            site["name"] = f"Proposed post {near}Kecamatan {label.kecamatan}"
        out.append(site)
    return out
