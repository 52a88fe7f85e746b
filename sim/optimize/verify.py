"""The proposal in the simulation: the scenario with the new sites and plans added, run against
the hand-written plans, and the paired differences a planner reads.

Adding sites must not change what the hand-written plans see, so the scenario data is made
explicit first: every disturbance's site weights as validated (``sites: all`` would otherwise take
in the new sites) and every random patrol without a site list gets the original sites. Replication
k then draws the same incidents as ``run`` does, and the hand-written plans behave as in ``run``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from sim.config.limits import Work, check_work, incidents_per_replication
from sim.config.option_names import API_NAMES
from sim.study.stats import mean_ci95

METRICS = {"within_target": ("within_target_pct", True), "response": ("response_mean_min", False)}


def _explicit_plans(scenario) -> list[dict]:
    plans = copy.deepcopy(scenario.raw["plans"])
    for plan in plans:
        for group in plan.get("units", []):
            patrol = group.get("patrol", {})
            if patrol.get("mode") == "random" and "sites" not in patrol and "road_nodes" not in patrol:
                patrol["sites"] = list(scenario.site_ids)
    return plans


def study_with(study, new_sites: list[dict], plans: list[dict]):
    """A Study of the same scenario with ``new_sites`` and ``plans`` added (validated as the file)."""
    scenario = study.scenario
    disturbances = copy.deepcopy(scenario.raw["disturbances"])
    for data, validated in zip(disturbances, scenario.disturbances):
        data["sites"] = dict(validated.site_weights)
    taken = {plan["name"] for plan in plans}
    kept = [plan for plan in _explicit_plans(scenario) if plan["name"] not in taken]
    return study.with_overrides({
        "sites": copy.deepcopy(scenario.raw["sites"]) + copy.deepcopy(new_sites),
        "disturbances": disturbances,
        "plans": kept + copy.deepcopy(plans),
    })


def check_run_work(scenario, plan_units: list[int], reps: int, force: bool = False,
                   force_name: str = API_NAMES.force) -> None:
    """InputError (before anything runs) if plans with these unit counts x ``reps`` replications
    exceed the work bounds of a run, unless ``force`` (``force_name``: how the user asks for it)."""
    hours = scenario.clock.duration_hours
    check_work(Work(incidents=incidents_per_replication(scenario) * reps * len(plan_units),
                    unit_hours=sum(plan_units) * hours * reps, replications=reps, plans=len(plan_units)),
               force, force_name)


def per_rep(results, plan: str, metric: str) -> dict[int, float]:
    """Replication -> the metric's value (within-target % or mean response min) for one plan."""
    column = METRICS[metric][0]
    table = results.replications
    rows = table[table["plan"] == plan]
    return dict(zip(rows["rep"].astype(int), rows[column].astype(float)))


@dataclass(frozen=True)
class Paired:
    """One plan against the proposal, paired by replication: proposal minus plan, 95% half-width."""

    plan: str
    within_target_diff_pct: float
    within_target_diff_ci95: float
    response_diff_min: float
    response_diff_ci95: float

    @property
    def verdict(self) -> str:
        """On the within-target share: the proposal is better, worse, or not clearly different."""
        low = self.within_target_diff_pct - self.within_target_diff_ci95
        high = self.within_target_diff_pct + self.within_target_diff_ci95
        if low > 0:
            return "proposal better"
        if high < 0:
            return "proposal worse"
        return "no clear difference"


def paired_difference(a: dict[int, float], b: dict[int, float]) -> tuple[float, float]:
    """Mean of a[k] - b[k] over the replications both have, and its 95% half-width."""
    return mean_ci95([a[k] - b[k] for k in sorted(set(a) & set(b))])


def paired_rows(results, proposal: str, plans: list[str]) -> list[Paired]:
    """The proposal against each plan, paired by replication (common random numbers)."""
    rows = []
    for plan in plans:
        within = paired_difference(per_rep(results, proposal, "within_target"), per_rep(results, plan, "within_target"))
        response = paired_difference(per_rep(results, proposal, "response"), per_rep(results, plan, "response"))
        rows.append(Paired(plan, *within, *response))
    return rows
