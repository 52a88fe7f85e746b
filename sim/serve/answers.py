"""``POST /api/evaluate``'s answer: the Results of the run as JSON rows, the paired differences, the
coverage layer and the response distribution.

Rows are those of the result files (``summary``, ``sites``, ``priorities`` and, where Results
offers them, ``areas``) at full precision, with NaN as null. New columns of those tables reach
the page without a change here.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.study.shares import worst_by_late
from sim.study.stats import comparison_row, late_comparison, mean_ci95, rep_counts, rep_figures
from sim.viz.coverage import node_bands, plan_layer
from sim.viz.maps import target_bands

#: Results tables sent with every evaluation (each one row per plan, site, priority or area).
TABLES = ("summary", "sites", "priorities", "areas")
WORST_SHOWN = 5        # rows of each worst list
MAX_RESPONSES = 4_000  # response times sent for the distribution; more are sent as this many quantiles


def plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python numbers, NaN and infinities as None."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def records(frame) -> list[dict]:
    """A DataFrame's rows as JSON-ready dicts."""
    return [plain(row) for row in frame.to_dict("records")]


def tables(results) -> dict[str, list[dict]]:
    """Every table of TABLES that the Results offer, as rows."""
    found = {}
    for name in TABLES:
        frame = getattr(results, name, None)
        if frame is not None and hasattr(frame, "to_dict"):
            found[name] = records(frame)
    return found


def worst(rows: list[dict] | None, key: str, name: str) -> dict | None:
    """The worst list of the result files (most late incidents first), and what it leaves unsaid:
    ``tied`` more groups as late as its last row, ``small`` the names shown resting on fewer than
    ``small_n`` incidents."""
    if rows is None:
        return None
    found = worst_by_late(rows, count=WORST_SHOWN, key=key)
    return {"rows": [dict(row) for row in found.rows], "tied": found.tied,
            "small": [row[name] for row in found.small], "small_n": found.small_n}


def responses(results) -> list[float]:
    """Counted incidents' response times (min), sorted; at most MAX_RESPONSES (then as quantiles)."""
    times = np.sort(np.array([row["response_min"] for row in results.incident_rows
                              if row["counted"] and row["response_min"] is not None], float))
    if len(times) > MAX_RESPONSES:
        times = np.quantile(times, np.linspace(0, 1, MAX_RESPONSES))
    return np.round(times, 3).tolist()


def p90_interval(results) -> dict:
    """The half-width of the 95% interval of the replications' own 90th percentiles (Student-t, as
    every interval of the summary): how far the pooled p90 of summary.csv may move with other
    replications. ``reps``: the replications with a p90 (none without counted responses)."""
    target = results.scenario.target_response_min
    by_rep: dict[int, list[float]] = {rep: [] for rep in range(results.reps)}
    for row in results.incident_rows:
        if row["counted"]:
            by_rep.setdefault(row["rep"], []).append(math.nan if row["response_min"] is None else row["response_min"])
    p90s = [rep_figures(times, target)[2] for times in by_rep.values()]
    mean, half = mean_ci95(p90s)
    return {"ci95": plain(half), "reps_mean_min": plain(mean), "reps": sum(1 for v in p90s if not math.isnan(v))}


def paired(results, label: str, other, reps: int) -> dict:
    """The plan against another (``other``: its Results of the same replications and seed), paired
    by replication: plan minus other, each difference with its 95% interval (comparison_pairs.csv's
    columns: mean, share within target, p90, late incidents per week)."""
    plan = results.plans[0]
    target = results.scenario.target_response_min
    mine = results.rows[plan][0]
    theirs = other.rows[other.plans[0]][0]
    row = comparison_row(plan, label, mine, theirs, target, range(reps))
    late = late_comparison(rep_counts(mine, results.window, range(reps)), rep_counts(theirs, results.window, range(reps)),
                           results.window)
    return plain({**row, **late, "label": label})


def coverage(study, plan: str) -> dict:
    """The drive-time coverage of the plan's standing positions: a band per road node (digits,
    ``bands_min`` as edges; the last band is beyond the last edge), circuits along the roads."""
    scenario = study.scenario
    layer = plan_layer(scenario, study.world(), plan)
    bands = target_bands(scenario.target_response_min)
    return {
        "bands_min": list(bands),
        "band": "".join(map(str, node_bands(layer.coverage.time_min, bands).tolist())),
        "road_share": plain(layer.coverage.road_share),
        "site_share": plain(layer.coverage.site_share),
        "circuits": [np.asarray(path, dtype=np.int64).tolist() for path in layer.circuits],
    }


def evaluation_answer(results, study, evaluation, pairs: list[dict], elapsed_s: float) -> dict:
    """The whole answer to one evaluation."""
    plan = evaluation.variant.name
    rows = tables(results)
    return {
        "id": evaluation.digest,
        "plan": plan,
        "reps": evaluation.reps,
        "seed": evaluation.seed,
        "hours": evaluation.hours,
        **rows,
        "worst_sites": worst(rows.get("sites"), "site", "site_name"),
        "worst_areas": worst(rows.get("areas"), "area", "area"),
        "replications": records(results.replications),
        "p90_interval": p90_interval(results),
        "responses_min": responses(results),
        "paired": pairs,
        "coverage": coverage(study, plan),
        "warnings": list(study.scenario.warnings),
        "network": results.network_label,
        "seconds": round(elapsed_s, 3),
    }
