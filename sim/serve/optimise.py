"""``POST /api/optimize``: "optimise from here": the plan's own vehicles placed by the optimiser.

The same integer programs as ``python run_sim.py optimize --fleet PLAN`` (``sim.optimize``): the
plan's vehicles (types, bases) over the scenario's sites and kecamatan centres as candidate
posts, on the scenario with the page's posts added. The answer is a plan and the new sites it
needs, for the page to draw as a proposal and the planner to accept or not; accepted, it is
evaluated like any other change.
"""
from __future__ import annotations

from sim.optimize.objectives import objective as objective_named
from sim.optimize.placement import assign_units, fleet_of_plan, plan_dict
from sim.optimize.problem import build_problem, check_units, figures

CANDIDATES = "towns"         # the sites and Jember's kecamatan centres
SOLVER_TIME_LIMIT_S = 30.0   # per integer program; the server's time limit still applies


def propose(engine, evaluation) -> dict:
    """The optimiser's placement of the evaluation's plan's vehicles: plan, new sites, figures."""
    study = engine.run_study(evaluation)
    scenario, world = study.scenario, study.world()
    plan = evaluation.variant.name
    fleet = fleet_of_plan(scenario, plan)
    problem = build_problem(scenario, world, CANDIDATES)
    check_units(problem, len(fleet))
    objective = evaluation.extra.get("objective", "mclp")
    busy = problem.demand.default_busy(len(fleet))
    solution = objective_named(objective).solve(problem.instance, len(fleet), busy, time_limit_s=SOLVER_TIME_LIMIT_S)
    placed = assign_units(problem.instance, solution.posts, fleet, problem.candidates, world)
    proposal = plan_dict(plan, f"{plan} placed by the optimiser ({objective}, candidates: sites and kecamatan centres)",
                         placed, problem.candidates)
    used = {problem.candidates[item.post].id for item in placed}
    page_sites = {site["id"] for site in evaluation.variant.sites}
    new_sites = [c.site_dict() for c in problem.candidates if c.new and c.id in used]
    kept = [site for site in evaluation.variant.sites if site["id"] in used and site["id"] in page_sites]
    result = figures(problem, solution, busy)
    return {"plan": proposal, "sites": kept + new_sites, "units": len(fleet), "objective": objective,
            "figures": {**result, "covered_demand_pct": 100.0 * result["covered_share"]}}
