"""``python run_sim.py optimize``: place the fleet by an integer program, optionally refine the
placement by simulation, run it against the scenario's plans, and write the files. With a goal,
the smallest fleet that reaches it (``goal_command``).

Every input is checked first; everything is computed before the first file is written, so a
refused, failed or interrupted solve or simulation leaves no file; each file is written whole or
not at all.
"""
from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sim.errors import InputError
from sim.files import make_folder, write_text
from sim.optimize import outputs
from sim.optimize.curve import curve_csv, write_curve_figure
from sim.optimize.demand import Window, measured_window, phase_window, site_demand
from sim.optimize.objectives import Objective, objective
from sim.optimize.problem import Problem, Unreachable, build_problem, check_units, unreachable_sites, unreachable_text
from sim.optimize.proposal import Proposal, fleets, new_sites, plan_name, propose, say
from sim.optimize.request import Request, units_text
from sim.optimize.verify import check_run_work, paired_rows, study_with


@dataclass(frozen=True)
class Setting:
    """What every mode shares: the study, objective, problem, demand window, bands, sites no
    candidate reaches, fleets and replications."""

    study: object
    objective: Objective
    problem: Problem
    window: Window
    phase: str | None
    bands: tuple[float, ...]
    unreachable: list[Unreachable]
    fleets: list
    reps: int
    started: float


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _phase(request: Request, scenario):
    """The calendar phase asked for (by name or by a date-time in it), or None."""
    if request.phase is None and request.at is None:
        return None
    calendar = getattr(scenario, "calendar", None)
    what = request.flag("phase") if request.phase is not None else request.flag("at")
    if calendar is None:
        raise InputError(f"{what}: scenario '{scenario.name}' has no calendar (no phases to choose from)")
    names = [phase.name for phase in calendar.phases]
    if request.phase is not None:
        found = next((phase for phase in calendar.phases if phase.name == request.phase), None)
        if found is None:
            raise InputError(f"{what} {request.phase[:40]!r}: no such phase; one of {', '.join(names)}"
                             + did_you_mean(request.phase, names))
        return found
    from sim.config.calendar import iso_datetime
    try:
        when = iso_datetime(request.at)
    except ValueError as error:
        raise InputError(f"{what} {request.at[:40]!r}: {error}") from None
    found = next((phase for phase in calendar.phases if phase.start <= when < phase.end), None)
    if found is None:
        raise InputError(f"{what} {request.at}: in no phase of the calendar ({', '.join(names)})")
    return found


def _check_goal(request: Request, scenario) -> None:
    goal = request.goal
    if goal is None:
        return
    if goal.kind is not None:
        kinds = sorted({site.kind for site in scenario.sites if site.kind})
        if goal.kind not in kinds:
            raise InputError(f"{request.flag('for_kind')} {goal.kind[:40]!r}: no site of that kind; kinds: "
                             f"{', '.join(kinds)}" + did_you_mean(goal.kind, kinds))
    if goal.type is not None:
        types = [d.type for d in scenario.disturbances]
        if goal.type not in types:
            raise InputError(f"{request.flag('for_type')} {goal.type[:40]!r}: no such disturbance type; one of "
                             f"{', '.join(types)}" + did_you_mean(goal.type, types))


def _goal_kind(request: Request, scenario) -> Request:
    """A goal's kind may name a site set by its id prefix (``tps``): the kind of that set."""
    goal = request.goal
    if goal is None or goal.kind is None or any(site.kind == goal.kind for site in scenario.sites):
        return request
    for site_set in getattr(scenario, "site_sets", ()) or ():
        if getattr(site_set, "id_prefix", None) == goal.kind:
            return replace(request, goal=replace(goal, kind=site_set.kind))
    return request


def prepare(request: Request) -> Setting:
    """Everything checked and the location problem built, before any program runs."""
    from sim.study.api import Study
    from sim.study.experiment import scenario_overrides
    from sim.viz.maps import check_bands, target_bands

    started = time.perf_counter()
    study = Study(request.scenario, scenario_overrides(None, None, None, request.sets), network=request.network)
    scenario = study.scenario
    request = _goal_kind(request, scenario)
    chosen = objective(request.objective)
    phase = _phase(request, scenario)
    fleet_list = fleets(request, scenario, phase.name if phase is not None else None)  # unknown --fleet: here
    _check_goal(request, scenario)
    bands = target_bands(scenario.target_response_min)
    try:
        check_bands(bands)
    except InputError:
        raise InputError(f"{request.flag('target_response_min')} {scenario.target_response_min:g}: too small "
                         "to draw the coverage map's bands (tenths of a minute)") from None
    reps = request.verify_reps or scenario.replications
    sizes = [len(f) for f, _ in fleet_list]
    check_run_work(scenario, (sizes[:1] * 8 if request.goal is not None else sizes)
                   + ([] if request.goal is not None else [p.n_units for p in scenario.plans]), reps, request.force)
    window = phase_window(scenario, phase) if phase is not None else measured_window(scenario)
    if window.to_min <= window.from_min:
        raise InputError(f"{request.flag('phase')} {phase.name}: outside the measured clock")
    world = study.world()
    kind, k = request.candidates
    problem = build_problem(scenario, world, kind, k, site_demand(scenario, window), request.flag("candidates"))
    unreachable = unreachable_sites(problem) if chosen.uses_coverage or request.goal is not None else []
    if unreachable:
        say(f"{unreachable_text(unreachable, problem)}: they count as late"
            + ("; left out of the goal" if request.goal is not None and request.goal.exclude_unreachable else ""))
    check_units(problem, max(sizes), request.flag)
    say(f"{scenario.name}: {chosen.name} over {problem.n_candidates} candidates ({problem.candidate_kind}), demand "
        f"{problem.demand.total_per_hour:.3f} incidents/h at {len(problem.demand.site_ids)} sites over {window.words}, "
        f"on the {world.network.source_label}")
    return Setting(study, chosen, problem, window, phase.name if phase is not None else None, bands, unreachable,
                   fleet_list, reps, started)


def run_optimize(request: Request, command_line: list[str]) -> int:
    """Do what the request asks; print the outcome (or one JSON object); return the exit code."""
    setting = prepare(request)
    if request.goal is not None:
        from sim.optimize.goal_command import run_goal

        return run_goal(_goal_kind(request, setting.study.scenario), setting, command_line)
    from sim.viz.maps import write_map

    study, problem, chosen, reps = setting.study, setting.problem, setting.objective, setting.reps
    scenario = study.scenario
    hand = [plan.name for plan in scenario.plans]
    taken = set(hand)
    proposals = []
    for fleet, _ in setting.fleets:
        busy = request.busy if request.busy is not None else problem.demand.default_busy(len(fleet))
        name = plan_name(chosen, len(fleet) if request.curve else None, taken)
        taken.add(name)
        proposals.append(propose(request, chosen, study, problem, fleet, name, busy, reps))
        say(f"  {len(fleet)} units: {proposals[-1].figures['covered_share']:.1%} covered in the model")
    added = new_sites(problem, proposals)
    verified = study_with(study, added, [p.plan for p in proposals])
    names = [p.plan["name"] for p in proposals]
    say(f"simulating {len(names) + len(hand)} plans x {reps} replications")
    results = verified.run(plans=names + hand, reps=reps, workers=request.workers, force=request.force)
    summary = {row["plan"]: row for row in results.summary_rows}
    out = Path(request.out) if request.out is not None else Path("results") / scenario.name / f"optimize-{chosen.name}"
    # -- everything is known: write the files ------------------------------------------------------
    make_folder(out)
    # The map first: it takes longest to draw (one proposal: after the plan whose vehicles it
    # places, as the map counts the second minus the first; a curve: the largest fleet alone).
    map_plans = ([] if request.curve else [request.fleet or scenario.plans[0].name]) + [names[-1]]
    write_map(verified.scenario, verified.world(), map_plans, out / "coverage_map.png", setting.bands)
    results.to_dir(out / "verification", command_line=command_line, started=setting.started)
    network = study.world().network
    refine_text = _refine_text(proposals[-1].moves, request) if request.refine else ""
    words = setting.fleets[-1][1] if not request.curve else f"{units_text(request.units)} units"
    write_text(out / "proposed_plan.yaml", outputs.proposed_plan_yaml(
        plan_comment(setting, proposals, words, refine_text), added, [p.plan for p in proposals]))
    paired = paired_rows(results, names[0], hand) if not request.curve else []
    curve = [curve_row(p, summary[p.plan["name"]], network.source_label) for p in proposals]
    if request.curve:
        write_text(out / "fleet_curve.csv", curve_csv(curve))
        write_curve_figure(out / "fleet_curve.png", scenario.name, network.synthetic, scenario.target_response_min,
                           chosen.name, curve,
                           [{"plan": plan, "units": scenario.plan(plan).n_units, **summary[plan]} for plan in hand])
    record = {**base_record(request, setting),
              "proposals": [proposal_record(p, summary) for p in proposals],
              "verification": {"reps": reps, "seed": scenario.seed, "folder": str(out / "verification"),
                               "plans": {plan: {key: summary[plan][key] for key in
                                                ("within_target_pct", "within_target_ci95", "response_mean_min",
                                                 "response_mean_ci95")} for plan in summary},
                               "proposal_minus_plan": [{**item.__dict__, "verdict": item.verdict} for item in paired]}}
    write_text(out / "optimize.json", outputs.json_text(record))
    # -- tell --------------------------------------------------------------------------------------
    if request.json:
        keys = ("objective", "units", "posts", "covered_share", "mean_travel_min", "expected_covered_share",
                "optimal", "gap", "seconds", "solver", "busy")
        picked = [{key: p.figures[key] for key in keys} for p in proposals]
        obj = picked[0] if not request.curve else {"objective": chosen.name, "units": list(request.units),
                                                   "curve": picked}
        print(outputs.json_text(obj, indent=None), end="\n")
        return 0
    _print_text(setting, proposals, summary, paired, network, out, request.time_limit_s)
    return 0


def plan_comment(setting: Setting, proposals: list[Proposal], words: str, refine_text: str = "",
                 extra: list[str] | None = None) -> list[str]:
    """The comment heading proposed_plan.yaml."""
    problem, network = setting.problem, setting.study.world().network
    return outputs.plan_comment(
        setting.study.scenario.name, setting.objective, problem.candidate_kind, problem.n_candidates, words,
        setting.study.scenario.target_response_min, proposals[-1].figures["busy"],
        all(p.program["optimal"] for p in proposals), max(p.program["gap"] for p in proposals), refine_text,
        network.synthetic, network.source_label, any(c.new for p in proposals for c in
                                                     (problem.candidates[i.post] for i in p.placed)),
        setting.window.words, [label for p in proposals[-1:] for label in p.labels], extra or [])


def base_record(request: Request, setting: Setting) -> dict:
    """optimize.json's first keys: what was placed, on what, for which demand."""
    problem, scenario = setting.problem, setting.study.scenario
    network = setting.study.world().network
    demand = problem.demand
    return {
        "scenario": scenario.name,
        "network": {"label": network.source_label, "synthetic": network.synthetic},
        "objective": setting.objective.name,
        "candidates": {"kind": problem.candidate_kind, "count": problem.n_candidates},
        "demand": {"window": setting.window.words, "phase": setting.phase,
                   "per_hour": dict(zip(demand.site_ids, demand.per_hour.tolist())),
                   "total_per_hour": demand.total_per_hour, "offered_load_erlang": demand.offered_load_erlang},
        "target_response_min": scenario.target_response_min,
        "time_limit_s": request.time_limit_s,
        "bases": request.bases,
        "unreachable_sites": [{"site": u.site, "nearest_candidate_min": u.nearest_min} for u in setting.unreachable],
    }


def proposal_record(p: Proposal, summary: dict) -> dict:
    return {"plan": p.plan, **p.figures, "program": p.program, "greedy_value": p.greedy_value,
            "posts_named": [label.__dict__ for label in p.labels],
            "simulated": {key: summary[p.plan["name"]][key] for key in
                          ("within_target_pct", "within_target_ci95", "response_mean_min", "response_mean_ci95",
                           "busy_fraction_mean")},
            "refine_moves": [move.__dict__ for move in p.moves]}


def _refine_text(moves, request: Request) -> str:
    accepted = sum(move.accepted for move in moves)
    return (f"Refined by simulation: {len(moves)} moves tried (budget {request.refine_budget}), {accepted} kept "
            f"(paired 95% interval of {request.refine_metric}; streams of seed + 1).")


def curve_row(proposal: Proposal, row: dict, network_label: str) -> dict:
    f = proposal.figures
    return {"units": proposal.units, "objective": f["objective"], "covered_share": f["covered_share"],
            "expected_covered_share": f["expected_covered_share"], "mean_travel_min": f["mean_travel_min"],
            "optimal": int(f["optimal"]), "gap": f["gap"], "within_target_pct": row["within_target_pct"],
            "within_target_ci95": row["within_target_ci95"], "response_mean_min": row["response_mean_min"],
            "response_mean_ci95": row["response_mean_ci95"], "posts": f["posts"], "network": network_label}


def _print_text(setting: Setting, proposals: list[Proposal], summary: dict, paired, network, out: Path,
                time_limit_s: float) -> None:
    """What the terminal shows: each proposal in words, then the simulated comparison or curve."""
    target = setting.study.scenario.target_response_min
    chosen = setting.objective
    for proposal, (_, words) in zip(proposals, setting.fleets):
        print(f"{proposal.plan['name']}: {words}")
        for line in outputs.figures_lines(proposal.figures, target, time_limit_s):
            print(f"  {line}")
        if proposal.moves:
            kept = sum(move.accepted for move in proposal.moves)
            print(f"  refined by simulation: {kept} of {len(proposal.moves)} moves kept (the figures are of the "
                  "refined posts; the moves are in optimize.json)")
        print(f"  greedy placement (one unit at a time), for comparison: "
              f"{chosen.value_text(proposal.greedy_value, target)}")
    print(f"demand placed: {setting.window.words}")
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
