"""``python run_sim.py optimize``: place the fleet by an integer program, optionally refine the
placement by simulation, run it against the scenario's plans, and write the files. With a goal,
the smallest fleet that reaches it (``goal_command``).

Every input is checked first; everything is computed before the first file is written, so a
refused, failed or interrupted solve or simulation leaves no file; each file is written whole or
not at all.
"""
from __future__ import annotations

from pathlib import Path

from sim.files import write_text
from sim.i18n import messages
from sim.optimize import outputs
from sim.optimize.curve import curve_csv, with_added, write_curve_figure
from sim.optimize.goal_command import run_goal
from sim.optimize.proposal import Proposal, new_sites, plan_name, propose, say
from sim.optimize.request import Request, units_text
from sim.optimize.setting import Setting, base_record, goal_kind, plan_comment, prepare, proposal_record
from sim.optimize.verify import paired_rows, study_with


def run_optimize(request: Request, command_line: list[str]) -> int:
    """Do what the request asks; print the outcome (or one JSON object); return the exit code."""
    setting = prepare(request)
    if request.goal is not None:
        return run_goal(goal_kind(request, setting.study.scenario), setting, command_line)
    from sim.viz.maps import write_map

    study, problem, chosen, reps = setting.study, setting.problem, setting.objective, setting.reps
    scenario = study.scenario
    out = Path(request.out) if request.out is not None else outputs.default_folder(request, scenario.name, chosen.name)
    outputs.check_folder(out, request, scenario, study.world().network)   # before any work
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
    # -- everything is known: write the files ------------------------------------------------------
    network = study.world().network
    refine_text = _refine_text(proposals[-1].moves, request) if request.refine else ""
    words = setting.fleets[-1][1] if not request.curve else f"{units_text(request.units)} units"
    paired = paired_rows(results, names[0], hand) if not request.curve else []
    curve = with_added([curve_row(p, summary[p.plan["name"]], network.source_label) for p in proposals], names,
                       {(row["plan"], row["other"]): row for row in results.pair_rows})
    record = {**base_record(request, setting),
              "proposals": [proposal_record(p, summary) for p in proposals],
              "verification": {"reps": reps, "seed": scenario.seed, "folder": str(out / "verification"),
                               "plans": {plan: {key: summary[plan][key] for key in
                                                ("within_target_pct", "within_target_ci95", "response_mean_min",
                                                 "response_mean_ci95")} for plan in summary},
                               "proposal_minus_plan": [{**item.__dict__, "verdict": item.verdict} for item in paired]}}
    if setting.phase is not None:
        record["phase_verification"] = phase_shares(results, setting.phase, reps)

    def write(folder: Path) -> None:
        # The map first: it takes longest to draw (one proposal: after the plan whose vehicles it
        # places, as the map counts the second minus the first; a curve: the largest fleet alone).
        map_plans = ([] if request.curve else [request.fleet or scenario.plans[0].name]) + [names[-1]]
        # The simulated share beside the drive-time figures: the map agrees with the verification.
        write_map(verified.scenario, verified.world(), map_plans, folder / "coverage_map.png", setting.bands,
                  summary=summary, lang=request.lang)
        results.to_dir(folder / "verification", command_line=command_line, started=setting.started, lang=request.lang)
        write_text(folder / "proposed_plan.yaml", outputs.proposed_plan_yaml(
            plan_comment(setting, proposals, words, refine_text), added, [p.plan for p in proposals]))
        if request.curve:
            write_text(folder / "fleet_curve.csv", curve_csv(curve))
            write_curve_figure(folder / "fleet_curve.png", scenario.name, network.synthetic,
                               scenario.target_response_min, chosen.name, curve,
                               [{"plan": plan, "units": scenario.plan(plan).n_units, **summary[plan]} for plan in hand],
                               m=messages(request.lang))
        write_text(folder / "optimize.json", outputs.json_text(record))

    # The optimiser's folder is its own: replaced whole, so nothing of an earlier request stays.
    outputs.write_folder(out, request, scenario, network, write)
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
    if setting.phase is not None:
        target = scenario.target_response_min
        print(f"\nduring phase {setting.phase} only (the run covers the whole clock): within {target:g} min")
        for plan, figures in record["phase_verification"].items():
            print(f"  {plan:24s} {100 * figures['share']:5.1f} ± {100 * (figures['share_ci95'] or 0):.1f} % "
                  f"of {figures['incidents']} incidents")
    return 0


def phase_shares(results, phase: str, reps: int) -> dict:
    """Each plan's share within target of the incidents created in ``phase``, over replications."""
    from sim.optimize.goal import judged, rep_shares

    out = {}
    for plan in results.plans:
        shares, incidents = rep_shares(results.rows[plan][0], reps, results.scenario.target_response_min,
                                       lambda row: row.get("phase") == phase)
        tried = judged(0, plan, shares, incidents, 1.0, "mean")
        out[plan] = {"share": tried.mean, "share_ci95": tried.half, "incidents": incidents}
    return out


def _refine_text(moves, request: Request) -> str:
    accepted = sum(move.accepted for move in moves)
    return (f"Refined by simulation: {len(moves)} moves tried (budget {request.refine_budget}), {accepted} made "
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
            print(f"  refined by simulation: {kept} of {len(proposal.moves)} moves made (the figures are of the "
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
