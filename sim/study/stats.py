"""Statistics across replications: per-plan summaries and paired plan comparisons.

Replications are the independent observations: each replication gives one mean response and
one within-target share per plan, and intervals are Student-t over those. Plans are compared
pairwise by replication, since replication k of every plan sees the same incidents (common
random numbers), which removes most of the noise from the difference.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

SUMMARY_COLUMNS = [
    "plan", "reps", "incidents", "response_mean_min", "response_mean_ci95", "response_p50_min",
    "response_p90_min", "within_target_pct", "within_target_ci95", "busy_fraction_mean",
]
COMPARISON_COLUMNS = [
    "plan", "reference", "reps", "response_diff_min", "response_diff_ci95", "within_target_diff_pct",
    "within_target_diff_ci95", "verdict",
]


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% Student-t interval, NaNs dropped (NaN half-width for one value)."""
    array = np.asarray(values, float)
    array = array[~np.isnan(array)]
    if len(array) == 0:
        return math.nan, math.nan
    if len(array) == 1:
        return float(array[0]), math.nan
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array))
    return float(array.mean()), float(half)


def _counted_responses(incident_rows: Iterable[dict], reps: Iterable[int] = ()) -> dict[int, list[float]]:
    """Counted responses (min) by replication, for every replication in ``reps`` (an empty list
    for one without counted incidents) and every replication the incident rows name."""
    by_rep: dict[int, list[float]] = {rep: [] for rep in reps}
    for row in incident_rows:
        responses = by_rep.setdefault(row["rep"], [])
        if row["counted"]:
            responses.append(row["response_min"])
    return by_rep


def per_rep_figures(
    incident_rows: Iterable[dict], target_min: float, reps: Iterable[int] = ()
) -> dict[int, tuple[float, float]]:
    """(mean response min, % within target) of each replication (those in ``reps`` and those the
    rows name); NaN for one without counted incidents."""
    figures = {}
    for rep, responses in sorted(_counted_responses(incident_rows, reps).items()):
        if responses:
            array = np.asarray(responses, float)
            figures[rep] = (float(array.mean()), 100.0 * float(np.mean(array <= target_min)))
        else:
            figures[rep] = (math.nan, math.nan)
    return figures


def summary_row(plan: str, incident_rows: Sequence[dict], unit_rows: Sequence[dict], target_min: float) -> dict:
    """The per-plan line of summary.csv: across-replication means with 95% intervals.

    ``reps`` is the number of replications run (every replication has unit rows); one without
    counted incidents adds no figure to the means.
    """
    reps = {row["rep"] for row in unit_rows}
    by_rep = _counted_responses(incident_rows, reps)
    figures = per_rep_figures(incident_rows, target_min, reps)
    pooled = np.array([r for rep in sorted(by_rep) for r in by_rep[rep]], float)
    response_mean, response_ci = mean_ci95([figures[rep][0] for rep in figures])
    within_mean, within_ci = mean_ci95([figures[rep][1] for rep in figures])
    busy = [row["busy_fraction"] for row in unit_rows]
    return {
        "plan": plan,
        "reps": len(by_rep),
        "incidents": len(pooled),
        "response_mean_min": response_mean,
        "response_mean_ci95": response_ci,
        "response_p50_min": float(np.percentile(pooled, 50)) if len(pooled) else math.nan,
        "response_p90_min": float(np.percentile(pooled, 90)) if len(pooled) else math.nan,
        "within_target_pct": within_mean,
        "within_target_ci95": within_ci,
        "busy_fraction_mean": float(np.mean(busy)) if busy else math.nan,
    }


def verdict(diff: float, half_width: float, lower_is_better: bool = True) -> str:
    """Plain words for a paired difference and its 95% interval."""
    if math.isnan(diff) or math.isnan(half_width):
        return "not enough replications"
    if diff + half_width < 0:
        return "better" if lower_is_better else "worse"
    if diff - half_width > 0:
        return "worse" if lower_is_better else "better"
    return "no clear difference"


def comparison_row(
    plan: str, reference: str, plan_rows: Sequence[dict], reference_rows: Sequence[dict], target_min: float,
    reps: Iterable[int] = (),
) -> dict:
    """One plan against the reference, paired by replication; the verdict is on mean response.

    ``reps``: the replications run (those without counted incidents in either plan count in
    ``reps`` but give no paired difference).
    """
    run = list(reps)
    mine = per_rep_figures(plan_rows, target_min, run)
    theirs = per_rep_figures(reference_rows, target_min, run)
    paired = sorted(set(mine) & set(theirs))
    response_diff, response_ci = mean_ci95([mine[r][0] - theirs[r][0] for r in paired])
    within_diff, within_ci = mean_ci95([mine[r][1] - theirs[r][1] for r in paired])
    return {
        "plan": plan,
        "reference": reference,
        "reps": len(paired),
        "response_diff_min": response_diff,
        "response_diff_ci95": response_ci,
        "within_target_diff_pct": within_diff,
        "within_target_diff_ci95": within_ci,
        "verdict": "reference" if plan == reference else verdict(response_diff, response_ci),
    }


def precision_reached(summary: Sequence[dict], relative_half_width: float) -> bool:
    """Whether every plan's mean-response interval is narrower than the given share of its mean."""
    for row in summary:
        mean, half = row["response_mean_min"], row["response_mean_ci95"]
        if math.isnan(half) or half > relative_half_width * abs(mean):
            return False
    return True



def summaries(rows: Mapping[str, tuple[Sequence[dict], Sequence[dict]]], plans: Sequence[str],
              target_min: float) -> list[dict]:
    """summary_row of each plan, in the order given; ``rows[plan]`` is (incident rows, unit rows)."""
    return [summary_row(plan, rows[plan][0], rows[plan][1], target_min) for plan in plans]


def comparisons(rows: Mapping[str, tuple[Sequence[dict], Sequence[dict]]], plans: Sequence[str],
                target_min: float, reps: int) -> list[dict]:
    """comparison_row of each plan against the first (the reference), over replications 0..reps-1."""
    reference = plans[0]
    return [comparison_row(plan, reference, rows[plan][0], rows[reference][0], target_min, range(reps))
            for plan in plans]
