"""From simulation records to table rows and per-plan summaries (SPEC §5)."""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

from sim.model import RepResult

INCIDENT_COLUMNS = [
    "plan", "rep", "incident_id", "type", "site", "priority", "t_created_min",
    "t_first_dispatch_min", "t_first_arrival_min", "wait_min", "travel_min", "response_min",
    "full_response_min", "on_scene_min", "units_required", "units_sent", "escalated", "counted",
    "escalated_to",
]
UNIT_COLUMNS = [
    "plan", "rep", "unit_id", "type", "agency", "busy_fraction", "km_driven", "incidents_served",
    "base", "patrol",
]
SUMMARY_COLUMNS = [
    "plan", "reps", "incidents", "response_mean_min", "response_mean_ci95", "response_p50_min",
    "response_p90_min", "within_target_pct", "within_target_ci95", "busy_fraction_mean",
]


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def incident_rows(result: RepResult) -> list[dict]:
    """One row per incident of a replication, in order of creation."""
    rows = []
    for incident in result.incidents:
        spec, stage = incident.spec, incident.stage
        created = spec.t_created_min
        rows.append({
            "plan": result.plan,
            "rep": result.rep,
            "incident_id": spec.incident_id,
            "type": spec.stages[0].type,
            "site": spec.site,
            "priority": stage.priority,
            "t_created_min": created,
            "t_first_dispatch_min": incident.t_first_dispatch_min,
            "t_first_arrival_min": incident.t_first_arrival_min,
            "wait_min": _minus(incident.t_first_dispatch_min, created),
            "travel_min": _minus(incident.t_first_arrival_min, incident.t_first_dispatch_min),
            "response_min": _minus(incident.t_first_arrival_min, created),
            "full_response_min": _minus(incident.t_full_arrival_min, created),
            "on_scene_min": stage.on_scene_min,
            "units_required": stage.units_required,
            "units_sent": incident.units_sent,
            "escalated": int(incident.escalated),
            "counted": int(incident.counted),
            "escalated_to": stage.type if incident.escalated else "",
        })
    return rows


def unit_rows(result: RepResult) -> list[dict]:
    """One row per unit of a replication; figures cover the measurement window."""
    return [
        {
            "plan": result.plan,
            "rep": result.rep,
            "unit_id": unit.unit_id,
            "type": unit.unit_type,
            "agency": unit.agency,
            "busy_fraction": unit.busy_fraction(),
            "km_driven": unit.stats.driven_m / 1000.0,
            "incidents_served": unit.stats.incidents_served,
            "base": unit.base_site,
            "patrol": unit.patrol.mode,
        }
        for unit in result.units
    ]


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% Student-t interval (NaN half-width for one value)."""
    array = np.asarray(values, float)
    array = array[~np.isnan(array)]
    if len(array) == 0:
        return math.nan, math.nan
    if len(array) == 1:
        return float(array[0]), math.nan
    half = stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array))
    return float(array.mean()), float(half)


def summary_row(plan: str, incident_rows_: Iterable[dict], unit_rows_: Iterable[dict], target_min: float) -> dict:
    """The per-plan line of summary.csv: across-replication means with 95% intervals."""
    by_rep: dict[int, list[float]] = {}
    for row in incident_rows_:
        by_rep.setdefault(row["rep"], [])
        if row["counted"]:
            by_rep[row["rep"]].append(row["response_min"])
    busy = [row["busy_fraction"] for row in unit_rows_]
    reps = sorted(by_rep)
    pooled = np.array([r for rep in reps for r in by_rep[rep]], float)
    rep_means = [np.mean(by_rep[rep]) if by_rep[rep] else math.nan for rep in reps]
    rep_within = [
        100.0 * np.mean(np.asarray(by_rep[rep]) <= target_min) if by_rep[rep] else math.nan for rep in reps
    ]
    response_mean, response_ci = mean_ci95(rep_means)
    within_mean, within_ci = mean_ci95(rep_within)
    return {
        "plan": plan,
        "reps": len(reps),
        "incidents": len(pooled),
        "response_mean_min": response_mean,
        "response_mean_ci95": response_ci,
        "response_p50_min": float(np.percentile(pooled, 50)) if len(pooled) else math.nan,
        "response_p90_min": float(np.percentile(pooled, 90)) if len(pooled) else math.nan,
        "within_target_pct": within_mean,
        "within_target_ci95": within_ci,
        "busy_fraction_mean": float(np.mean(busy)) if busy else math.nan,
    }
