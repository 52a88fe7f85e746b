"""``python run_sim.py optimize``: place the fleet by an integer program, optionally refine the
placement by simulation, run it against the scenario's plans, and write the files.

Everything is computed before the first file is written, so a refused, failed or interrupted
solve or simulation leaves no file; each file is written whole or not at all.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.files import make_folder, write_text
from sim.optimize import outputs
from sim.optimize.curve import curve_csv, write_curve_figure
from sim.optimize.metrics import greedy, objective_value
from sim.optimize.placement import PlacedUnit, assign_units, fleet_of_plan, fleet_of_units, plan_dict
from sim.optimize.problem import Problem, build_problem, check_coverable, check_units, figures
from sim.optimize.programs import solve
from sim.optimize.refine import Move, refine
from sim.optimize.request import Request
from sim.optimize.verify import check_run_work, paired_rows, study_with


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


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _plan_name(objective: str, units: int | None, taken: set[str]) -> str:
    name = f"optimized-{objective}" + (f"-{units}" if units is not None else "")
    while name in taken:
        name += "-new"
    return name


def _counts(placed: list[PlacedUnit], n_candidates: int) -> np.ndarray:
    return np.bincount([item.post for item in placed], minlength=n_candidates)


def _propose(request: Request, study, problem: Problem, fleet, plan_name: str, busy: float, reps: int) -> Proposal:
    instance = problem.instance
    units = len(fleet)
    solution = solve(instance, units, request.objective, busy, time_limit_s=request.time_limit_s)
    program = figures(problem, solution, busy)
    placed = assign_units(instance, solution.posts, fleet, problem.candidates, study.world())
    moves: list[Move] = []
    final = program
    if request.refine:
        _say(f"refining by simulation ({reps} replications a move, at most {request.refine_budget} moves)")
        placed, moves = refine(study, problem.candidates, placed, study.world(), metric=request.refine_metric,
                               budget=request.refine_budget, reps=reps, workers=request.workers,
                               stack=request.objective == "mexclp", progress=_say)
        if any(move.accepted for move in moves):
            counts = _counts(placed, problem.n_candidates)
            refined = replace(solution, counts=counts)
            final = {**figures(problem, refined, busy), "refined": True}
    greedy_value = objective_value(instance, greedy(instance, units, request.objective, busy), request.objective, busy)
    description = (f"{outputs.OBJECTIVE_LABELS[request.objective]} placement of {units} units over "
                   f"{problem.n_candidates} candidates ({problem.candidate_kind}) by patrolsim optimize"
                   + (", refined by simulation" if moves else ""))
    return Proposal(units, final, program, greedy_value, placed, plan_dict(plan_name, description, placed,
                                                                           problem.candidates), moves)


def _fleets(request: Request, scenario) -> list[tuple[list, str]]:
    """The fleets to place, with words for them."""
    if request.units:
        needed = max(scenario.disturbances, key=lambda d: d.units_required)
        if request.units[0] < needed.units_required:
            fix = (f"--units {needed.units_required}..{request.units[-1]}" if request.units[-1] >= needed.units_required
                   else f"--units {needed.units_required}")
            raise InputError(f"--units {_units_text(request.units)}: a plan of this scenario needs at least "
                             f"{needed.units_required} units ({needed.type} needs {needed.units_required} at once); "
                             f"try {fix}")
        unit_type = next(iter(scenario.unit_types))
        return [(fleet_of_units(scenario, n), f"{n} units of type {unit_type}") for n in request.units]
    plan = request.fleet or scenario.plans[0].name
    return [(fleet_of_plan(scenario, plan), f"the vehicles of plan {plan}")]


def _units_text(units: tuple[int, ...]) -> str:
    return str(units[0]) if len(units) == 1 else f"{units[0]}..{units[-1]}"


def run_optimize(request: Request, command_line: list[str]) -> int:
    """Do what the request asks; print the outcome (or one JSON object); return the exit code."""
    from sim.study.api import Study
    from sim.study.experiment import scenario_overrides
    from sim.viz.maps import target_bands, write_map

    started = time.perf_counter()
    study = Study(request.scenario, scenario_overrides(None, None, None, request.sets), network=request.network)
    scenario = study.scenario
    fleets = _fleets(request, scenario)   # an unknown --fleet plan fails here, before the network loads
    reps = request.verify_reps or scenario.replications
    hand = [plan.name for plan in scenario.plans]
    check_run_work(scenario, [len(f) for f, _ in fleets] + [p.n_units for p in scenario.plans], reps,
                   request.force)
    world = study.world()
    kind, k = request.candidates
    problem = build_problem(scenario, world, kind, k)
    check_coverable(problem)
    check_units(problem, max(len(f) for f, _ in fleets))
    _say(f"{scenario.name}: {request.objective} over {problem.n_candidates} candidates ({problem.candidate_kind}), "
         f"demand {problem.demand.total_per_hour:.3f} incidents/h at {len(problem.demand.site_ids)} sites, "
         f"on the {world.network.source_label}")
    taken = set(hand)
    proposals = []
    for fleet, words in fleets:
        busy = request.busy if request.busy is not None else problem.demand.default_busy(len(fleet))
        name = _plan_name(request.objective, len(fleet) if request.curve else None, taken)
        taken.add(name)
        proposals.append(_propose(request, study, problem, fleet, name, busy, reps))
        _say(f"  {len(fleet)} units: {proposals[-1].figures['covered_share']:.1%} covered in the model")
    new_sites = _new_sites(problem, proposals)
    verified = study_with(study, new_sites, [p.plan for p in proposals])
    names = [p.plan["name"] for p in proposals]
    _say(f"simulating {len(names) + len(hand)} plans x {reps} replications")
    results = verified.run(plans=names + hand, reps=reps, workers=request.workers, force=request.force)
    summary = {row["plan"]: row for row in results.summary_rows}
    out = (Path(request.out) if request.out is not None
           else Path("results") / scenario.name / f"optimize-{request.objective}")
    # -- everything is known: write the files ------------------------------------------------------
    make_folder(out)
    # The map first: it takes longest to draw (one proposal: after the plan whose vehicles it
    # places, as the map counts the second minus the first; a curve: the largest fleet alone).
    map_plans = ([] if request.curve else [request.fleet or scenario.plans[0].name]) + [names[-1]]
    write_map(verified.scenario, verified.world(), map_plans, out / "coverage_map.png",
              target_bands(scenario.target_response_min))
    results.to_dir(out / "verification", command_line=command_line, started=started)
    network = world.network
    refine_text = _refine_text(proposals[-1].moves, request) if request.refine else ""
    comment = outputs.plan_comment(scenario.name, request.objective, problem.candidate_kind, problem.n_candidates,
                                   fleets[-1][1] if not request.curve else f"{_units_text(request.units)} units",
                                   scenario.target_response_min, proposals[-1].figures["busy"],
                                   all(p.program["optimal"] for p in proposals),
                                   max(p.program["gap"] for p in proposals), refine_text, network.synthetic,
                                   network.source_label, bool(new_sites))
    write_text(out / "proposed_plan.yaml", outputs.proposed_plan_yaml(comment, new_sites, [p.plan for p in proposals]))
    paired = paired_rows(results, names[0], hand) if not request.curve else []
    curve = [_curve_row(p, summary, network.source_label) for p in proposals]
    if request.curve:
        write_text(out / "fleet_curve.csv", curve_csv(curve))
        write_curve_figure(out / "fleet_curve.png", scenario.name, network.synthetic, scenario.target_response_min,
                           request.objective, curve,
                           [{"plan": plan, "units": scenario.plan(plan).n_units, **summary[plan]} for plan in hand])
    record = _record(request, scenario, problem, proposals, paired, summary, reps, network, out)
    write_text(out / "optimize.json", outputs.json_text(record))
    # -- tell --------------------------------------------------------------------------------------
    if request.json:
        keys = ("objective", "units", "posts", "covered_share", "mean_travel_min", "expected_covered_share",
                "optimal", "gap", "seconds", "solver", "busy")
        picked = [{key: p.figures[key] for key in keys} for p in proposals]
        obj = picked[0] if not request.curve else {"objective": request.objective, "units": list(request.units),
                                                   "curve": picked}
        print(outputs.json_text(obj, indent=None), end="\n")
        return 0
    _print_text(scenario, proposals, fleets, summary, paired, network, out, request.time_limit_s)
    return 0


def _new_sites(problem: Problem, proposals: list[Proposal]) -> list[dict]:
    used = sorted({item.post for p in proposals for item in p.placed if problem.candidates[item.post].new})
    return [problem.candidates[c].site_dict() for c in used]


def _refine_text(moves: list[Move], request: Request) -> str:
    accepted = sum(move.accepted for move in moves)
    return (f"Refined by simulation: {len(moves)} moves tried (budget {request.refine_budget}), {accepted} kept "
            f"(paired 95% interval of {request.refine_metric}; streams of seed + 1).")


def _curve_row(proposal: Proposal, summary: dict, network_label: str) -> dict:
    row = summary[proposal.plan["name"]]
    f = proposal.figures
    return {"units": proposal.units, "objective": f["objective"], "covered_share": f["covered_share"],
            "expected_covered_share": f["expected_covered_share"], "mean_travel_min": f["mean_travel_min"],
            "optimal": int(f["optimal"]), "gap": f["gap"], "within_target_pct": row["within_target_pct"],
            "within_target_ci95": row["within_target_ci95"], "response_mean_min": row["response_mean_min"],
            "response_mean_ci95": row["response_mean_ci95"], "posts": f["posts"], "network": network_label}


def _record(request: Request, scenario, problem: Problem, proposals: list[Proposal], paired, summary: dict,
            reps: int, network, out: Path) -> dict:
    """The content of optimize.json."""
    demand = problem.demand
    return {
        "scenario": scenario.name,
        "network": {"label": network.source_label, "synthetic": network.synthetic},
        "objective": request.objective,
        "candidates": {"kind": problem.candidate_kind, "count": problem.n_candidates},
        "demand": {"per_hour": dict(zip(demand.site_ids, demand.per_hour.tolist())),
                   "total_per_hour": demand.total_per_hour, "offered_load_erlang": demand.offered_load_erlang},
        "target_response_min": scenario.target_response_min,
        "time_limit_s": request.time_limit_s,
        "proposals": [{"plan": p.plan, **p.figures, "program": p.program, "greedy_value": p.greedy_value,
                       "simulated": {key: summary[p.plan["name"]][key] for key in
                                     ("within_target_pct", "within_target_ci95", "response_mean_min",
                                      "response_mean_ci95", "busy_fraction_mean")},
                       "refine_moves": [move.__dict__ for move in p.moves]} for p in proposals],
        "verification": {"reps": reps, "seed": scenario.seed, "folder": str(out / "verification"),
                         "plans": {plan: {key: summary[plan][key] for key in
                                          ("within_target_pct", "within_target_ci95", "response_mean_min",
                                           "response_mean_ci95")} for plan in summary},
                         "proposal_minus_plan": [{**item.__dict__, "verdict": item.verdict} for item in paired]},
    }


def _print_text(scenario, proposals: list[Proposal], fleets, summary: dict, paired, network, out: Path,
                time_limit_s: float) -> None:
    """What the terminal shows: each proposal in words, then the simulated comparison or curve."""
    target = scenario.target_response_min
    for proposal, (_, words) in zip(proposals, fleets):
        print(f"{proposal.plan['name']}: {words}")
        for line in outputs.figures_lines(proposal.figures, target, time_limit_s):
            print(f"  {line}")
        if proposal.moves:
            kept = sum(move.accepted for move in proposal.moves)
            print(f"  refined by simulation: {kept} of {len(proposal.moves)} moves kept (the figures are of the "
                  "refined posts; the moves are in optimize.json)")
        print(f"  greedy placement (one unit at a time), for comparison: "
              f"{outputs.objective_text(proposal.figures['objective'], proposal.greedy_value, target)}")
    if paired:
        print()
        print(outputs.comparison_table(proposals[0].plan["name"], list(summary.values()), paired, target))
    else:
        print(f"\nunits  covered (model)  within {target:g} min (simulated)")
        for p in proposals:
            row = summary[p.plan["name"]]
            print(f"{p.units:5d}  {p.figures['covered_share']:14.1%}  {row['within_target_pct']:6.1f} ± "
                  f"{row['within_target_ci95']:.1f} %")
    if network.synthetic:
        print(f"Road network: {network.described()}.")
    print(f"Files in {out}/")
