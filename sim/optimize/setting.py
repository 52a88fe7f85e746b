"""What every mode of ``optimize`` shares: the request checked against the scenario (phase, goal,
bands, work), the location problem built, and the records and comment every mode writes."""
from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, replace

from sim.errors import InputError
from sim.optimize import outputs
from sim.optimize.demand import Window, measured_window, phase_window, site_demand
from sim.optimize.objectives import Objective, objective
from sim.optimize.problem import Problem, Unreachable, build_problem, check_units, unreachable_sites, unreachable_text
from sim.optimize.proposal import Proposal, fleets, say
from sim.optimize.request import Request
from sim.optimize.verify import check_run_work

HORIZON_TARGETS = 2.0  # covering objectives search travel up to this many times the target
GOAL_SIZES_CHECKED = 8  # sizes a goal search is taken to simulate, for the work bounds checked first


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


def goal_kind(request: Request, scenario) -> Request:
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
    study = Study(request.scenario, scenario_overrides(None, None, None, request.sets, request.names),
                  network=request.network, names=request.names)
    scenario = study.scenario
    request = goal_kind(request, scenario)
    chosen = objective(request.objective)
    phase = _phase(request, scenario)
    fleet_list = fleets(request, scenario, phase.name if phase is not None else None)  # an unknown plan fails here
    _check_goal(request, scenario)
    bands = target_bands(scenario.target_response_min)
    try:
        check_bands(bands)
    except InputError:
        raise InputError(f"{request.flag('target_response_min')} {scenario.target_response_min:g}: too small "
                         "to draw the coverage map's bands (tenths of a minute)") from None
    reps = request.verify_reps or scenario.replications
    if request.goal is None:
        sizes = [len(f) for f, _ in fleet_list]
        check_run_work(scenario, sizes + [p.n_units for p in scenario.plans], reps, request.force, request.names.force)
    else:
        # A goal search simulates a handful of sizes in its range (its top capped at the candidates).
        sizes = list(request.units) or [max(d.units_required for d in scenario.disturbances)]
        check_run_work(scenario, [sizes[len(sizes) // 2]] * GOAL_SIZES_CHECKED, reps, request.force,
                       request.names.force)
    window = phase_window(scenario, phase) if phase is not None else measured_window(scenario)
    if window.to_min <= window.from_min:
        raise InputError(f"{request.flag('phase')} {phase.name}: outside the measured clock")
    world = study.world()
    kind, k = request.candidates
    # A covering objective needs travel up to the target; twice that keeps the figures beside it
    # (mean travel, the sites no post reaches) for all but far-off sites, at a fraction of the search.
    horizon = HORIZON_TARGETS * scenario.target_response_min if chosen.uses_coverage else float("inf")
    problem = build_problem(scenario, world, kind, k, site_demand(scenario, window), request.flag("candidates"),
                            horizon)
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
