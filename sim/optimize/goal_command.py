"""``optimize`` with a goal: the smallest fleet whose simulated share within target reaches the goal
(the search is ``sim.optimize.goal``), and its files."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sim.files import write_text
from sim.i18n import messages
from sim.optimize import outputs
from sim.optimize.curve import curve_csv, write_curve_figure
from sim.optimize.goal import Search, Tried, judged, model_start, rep_shares, search
from sim.optimize.metrics import Instance, greedy_order
from sim.optimize.placement import fleet_of_units
from sim.optimize.proposal import Proposal, new_sites, plan_name, propose, say
from sim.optimize.request import MAX_OPT_UNITS, Request
from sim.optimize.setting import base_record, plan_comment, proposal_record
from sim.optimize.verify import study_with


def _goal_weights(request: Request, setting) -> np.ndarray:
    """Per demand point of the problem, the weight of the goal's incidents there."""
    goal, problem, scenario = request.goal, setting.problem, setting.study.scenario
    ids = problem.demand.site_ids
    weight = problem.demand.per_hour.copy()
    if goal.kind is not None:
        kinds = {site.id: site.kind for site in scenario.sites}
        weight = weight * np.array([kinds[site] == goal.kind for site in ids])
    if goal.type is not None:
        chosen = next(d for d in scenario.disturbances if d.type == goal.type)
        total = sum(chosen.site_weights.values()) or 1.0
        weight = np.array([chosen.site_weights.get(site, 0.0) / total for site in ids])
    if goal.exclude_unreachable:
        unreachable = {u.site for u in setting.unreachable}
        weight = weight * np.array([site not in unreachable for site in ids])
    return weight


def _selector(request: Request, setting):
    """Whether an incident row counts for the goal."""
    goal, scenario = request.goal, setting.study.scenario
    kinds = {site.id: site.kind for site in scenario.sites}
    left_out = {u.site for u in setting.unreachable} if goal.exclude_unreachable else set()

    def select(row: dict) -> bool:
        if row["site"] in left_out:
            return False
        if goal.kind is not None:
            return kinds.get(row["site"]) == goal.kind
        return goal.type is None or row["type"] == goal.type

    return select


def _expected_by_size(problem, goal_instance: Instance, largest: int) -> np.ndarray:
    """For 1..largest units on the greedy (MCLP) placement: the goal's demand covered, each point
    with probability 1 - q^n (n units reach it, q = offered load / units: MEXCLP's busy probability)."""
    order = greedy_order(Instance(problem.instance.weight, problem.instance.travel_min, goal_instance.target_min),
                         largest)
    weights = goal_instance.weight
    n = np.zeros(len(weights))
    out = []
    for k, candidate in enumerate(order, start=1):
        n += goal_instance.covers[:, candidate]
        busy = problem.demand.default_busy(k)
        out.append(float(weights @ (1.0 - busy ** n)) / float(weights.sum()))
    return np.array(out)


def _sizes(request: Request, setting) -> list[int]:
    if request.units:
        return list(request.units)
    low = max(d.units_required for d in setting.study.scenario.disturbances)
    return list(range(low, min(MAX_OPT_UNITS, setting.problem.n_candidates) + 1))


def run_goal(request: Request, setting, command_line: list[str]) -> int:
    """Search, then write optimize.json, proposed_plan.yaml (the answer), fleet_curve.csv/png (the
    sizes simulated), coverage_map.png (the answer) and verification/ (every size simulated)."""
    from sim.study.parts import MemoryParts
    from sim.study.options import RunOptions
    from sim.study.runner import run_plans
    from sim.viz.maps import write_map

    goal, study, problem, chosen, reps = request.goal, setting.study, setting.problem, setting.objective, setting.reps
    scenario = study.scenario
    target = scenario.target_response_min
    out = Path(request.out) if request.out is not None else outputs.default_folder(request, scenario.name, chosen.name)
    outputs.check_folder(out, request, scenario, study.world().network)   # before any work
    sizes = _sizes(request, setting)
    weights = _goal_weights(request, setting)
    if weights.sum() <= 0:
        from sim.errors import InputError
        raise InputError(f"{request.flag('goal')}: no incident of the goal ({goal.subject}) is expected on this "
                         "scenario's clock" + (" outside the sites no candidate reaches" if goal.exclude_unreachable
                                               else ""))
    goal_instance = Instance(weights, problem.instance.travel_min, target)
    expected = _expected_by_size(problem, goal_instance, sizes[-1])
    start = model_start(sizes, lambda n: expected[min(n, len(expected)) - 1], goal.share)
    say(f"goal: {goal.share:.0%} of {goal.subject} within {target:g} min ({_rule_words(goal.rule)}); sizes "
        f"{sizes[0]}..{sizes[-1]}, starting at {start} (the first size whose greedy placement's expected cover "
        f"of the goal's demand reaches {goal.share:.0%})")
    new = [c.site_dict() for c in problem.candidates if c.new]
    pool = study_with(study, new, []).with_overrides({"replications": reps})
    parts = MemoryParts()
    select = _selector(request, setting)
    proposals: dict[int, Proposal] = {}
    taken = {plan.name for plan in scenario.plans}

    def evaluate(units: int) -> Tried:
        nonlocal pool
        fleet = fleet_of_units(scenario, units)
        busy = request.busy if request.busy is not None else problem.demand.default_busy(units)
        name = plan_name(chosen, units, taken)
        taken.add(name)
        began = time.perf_counter()
        proposal = proposals[units] = propose(request, chosen, study, problem, fleet, name, busy, reps)
        placed = time.perf_counter()
        pool = pool.with_plan(proposal.plan)
        results = run_plans(pool, [name], RunOptions(workers=request.workers), parts=parts)
        shares, incidents = rep_shares(results.rows[name][0], reps, target, select)
        tried = judged(units, name, shares, incidents, goal.share, goal.rule)
        say(f"  {units} units: model covers {_model_share(proposal, weights, goal_instance):.1%}; simulated {tried.mean:.1%} "
            f"(95% interval {tried.lower:.1%} to {tried.upper:.1%}, {incidents} incidents): "
            f"{'meets' if tried.meets else 'short of'} {goal.share:.0%} (placed in {placed - began:.1f} s, "
            f"{'proven' if proposal.program['optimal'] else 'gap ' + format(proposal.program['gap'], '.2%')}; "
            f"simulated in {time.perf_counter() - placed:.1f} s)")
        return tried

    found = search(sizes, start, evaluate, goal.share)
    names = [t.plan for t in found.tried]
    results = run_plans(pool, names, parts=parts)  # every replication is in parts: no simulation
    summary = {row["plan"]: row for row in results.summary_rows}
    answer = proposals[found.answer] if found.answer is not None else proposals[found.tried[-1].units]
    record = _record(request, setting, found, proposals, weights, goal_instance, summary)
    rows = [_curve_row(t, proposals[t.units], problem, weights, goal_instance, summary[t.plan],
                       study.world().network.source_label) for t in found.tried]
    # -- everything is known: write the files ------------------------------------------------------
    network = study.world().network
    words = f"{answer.units} units of type {next(iter(scenario.unit_types))}"

    def write(folder: Path) -> None:
        write_map(pool.scenario, pool.world(), [answer.plan["name"]], folder / "coverage_map.png", setting.bands,
                  summary=summary, lang=request.lang)
        # The sizes' result files without figures: a figure per size adds little to fleet_curve.png.
        results.to_dir(folder / "verification", figures=False, command_line=command_line, started=setting.started,
                       lang=request.lang)
        write_text(folder / "proposed_plan.yaml", outputs.proposed_plan_yaml(
            plan_comment(setting, [answer], words, extra=_goal_lines(record)), new_sites(problem, [answer]),
            [answer.plan]))
        write_text(folder / "fleet_curve.csv", curve_csv(rows))
        m = messages(request.lang)
        write_curve_figure(folder / "fleet_curve.png", scenario.name, network.synthetic, target, chosen.name, rows, [],
                           goal_pct=100 * goal.share, subject=goal.subject_words(m), answer=found.answer, m=m)
        write_text(folder / "optimize.json", outputs.json_text(record))

    # The optimiser's folder is its own: replaced whole, so nothing of an earlier request stays.
    outputs.write_folder(out, request, scenario, network, write)
    if request.json:
        keys = ("goal", "for", "rule", "units", "verified_share", "verified_share_ci95", "verified_share_lower",
                "units_by_mean", "curve", "out_of_order", "search_seconds")
        print(outputs.json_text({key: record[key] for key in keys}, indent=None), end="\n")
        return 0
    _print(record, target, out, network, request.flag("units"), setting.started)
    return 0


def _rule_words(rule: str) -> str:
    return "the lower bound of the 95% interval decides" if rule == "lower" else "the mean decides"


def _by_mean(found: Search, goal: float) -> int | None:
    """The answer by the mean alone, when the sizes simulated show it (the next smaller simulated
    and short by the mean), else None."""
    by_size = {t.units: t for t in found.tried}
    for t in found.tried:
        if t.mean >= goal and (t.units - 1 in by_size and by_size[t.units - 1].mean < goal):
            return t.units
    return None


def _record(request: Request, setting, found: Search, proposals: dict, weights, goal_instance, summary) -> dict:
    goal = request.goal
    answer = next((t for t in found.tried if t.units == found.answer), None)
    return {
        **base_record(request, setting),
        "goal": goal.share, "for": goal.subject, "rule": goal.rule, "rule_words": _rule_words(goal.rule),
        "excluded_unreachable": goal.exclude_unreachable,
        "units": found.answer,
        "verified_share": answer.mean if answer else None,
        "verified_share_ci95": answer.half if answer else None,
        "verified_share_lower": answer.lower if answer else None,
        "units_by_mean": _by_mean(found, goal.share),
        "curve": [{"units": t.units, "plan": t.plan, "model_share": _model_share(proposals[t.units], weights,
                                                                                  goal_instance),
                   "share": t.mean, "share_ci95": t.half, "share_lower": t.lower, "incidents": t.incidents,
                   "meets": t.meets, "optimal": proposals[t.units].program["optimal"],
                   "gap": proposals[t.units].program["gap"], "per_rep": [t.shares[r] for r in sorted(t.shares)]}
                  for t in found.tried],
        "out_of_order": [{"meets": a, "fails": b} for a, b in found.out_of_order],
        "search_seconds": time.perf_counter() - setting.started,  # from the scenario read to the last size simulated
        "verification": {"reps": setting.reps, "seed": setting.study.scenario.seed,
                         "common_random_numbers": True},
        "proposals": [proposal_record(proposals[t.units], summary) for t in found.tried],
    }


def _model_share(proposal: Proposal, weights, goal_instance) -> float:
    posts = sorted({item.post for item in proposal.placed})
    return float(weights @ goal_instance.covers[:, posts].any(axis=1)) / float(weights.sum())


def _curve_row(t: Tried, proposal: Proposal, problem, weights, goal_instance, row: dict, network_label: str) -> dict:
    f = proposal.figures
    return {"units": t.units, "objective": f["objective"], "covered_share": _model_share(proposal, weights, goal_instance),
            "expected_covered_share": f["expected_covered_share"], "mean_travel_min": f["mean_travel_min"],
            "optimal": int(f["optimal"]), "gap": f["gap"], "within_target_pct": 100 * t.mean,
            "within_target_ci95": 100 * t.half, "response_mean_min": row["response_mean_min"],
            "response_mean_ci95": row["response_mean_ci95"], "posts": f["posts"], "network": network_label}


def _goal_lines(record: dict) -> list[str]:
    if record["units"] is None:
        return [f"Goal {record['goal']:.0%} of {record['for']}: not reached in the sizes searched; this is the "
                "largest size simulated."]
    return [f"Goal {record['goal']:.0%} of {record['for']} within target ({record['rule_words']}): "
            f"{record['units']} units, simulated {record['verified_share']:.1%} ± {record['verified_share_ci95']:.1%}."]


def _print(record: dict, target: float, out: Path, network, units_flag: str, started: float) -> None:
    print(f"goal: {record['goal']:.0%} of {record['for']} reached within {target:g} min ({record['rule_words']})")
    print(f"{'units':>5}  {'model covers':>12}  {'simulated (mean)':>16}  {'95% interval':>15}  incidents  meets")
    for c in record["curve"]:
        interval = f"{c['share_lower']:.1%}-{min(c['share'] + (c['share_ci95'] or 0), 1):.1%}"
        print(f"{c['units']:5d}  {c['model_share']:12.1%}  {c['share']:16.1%}  {interval:>15}  {c['incidents']:9d}  "
              f"{'yes' if c['meets'] else 'no'}")
    if record["units"] is None:
        print(f"no size searched reaches {record['goal']:.0%}: widen {units_flag}, or add candidates")
    else:
        mean = record["units_by_mean"]
        print(f"answer: {record['units']} units (simulated {record['verified_share']:.1%}, lower bound "
              f"{record['verified_share_lower']:.1%}); by the mean alone: "
              + (f"{mean} units" if mean is not None else "not shown by the sizes simulated"))
    for pair in record["out_of_order"]:
        print(f"note: {pair['meets']} units meet the goal but {pair['fails']} do not (chance, or other posts)")
    if record["unreachable_sites"]:
        print(f"{len(record['unreachable_sites'])} site(s) no candidate reaches within {target:g} min count as late"
              + (" and are left out of the goal" if record["excluded_unreachable"] else "")
              + " (optimize.json lists them)")
    print(f"demand placed: {record['demand']['window']}")
    if network.synthetic:
        print(f"Road network: {network.described()}.")
    print(f"Files in {out}/ (searched in {record['search_seconds']:.0f} s, files written in "
          f"{time.perf_counter() - started - record['search_seconds']:.0f} s more)")
