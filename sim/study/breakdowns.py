"""Where and for whom a plan fails: the figures of summary.csv per site (sites.csv) and per
priority as handled (priorities.csv), with the same interval method, and each group's pooled share within target with a Wilson interval
and its late count (``sim.study.shares``), which the worst lists rank by.

Each replication gives one mean response and one within-target share per plan and site (or
priority), from its counted incidents there; the figure is their mean over the replications that
have any, and the ± its 95% Student-t half-width over those. p90 and the escalated share are
pooled over every counted incident. A site or priority without counted incidents keeps its row,
with ``incidents`` 0 and empty figures, so every plan lists every site.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

from sim.study.shares import SHARE_COLUMNS, Worst, share_columns, worst_by_late
from sim.study.stats import mean_ci95, presence_figures, rep_mean_within

FIGURE_COLUMNS = [
    "incidents", "response_mean_min", "response_mean_ci95", "response_p90_min", "within_target_pct",
    "within_target_ci95", "escalated_pct",
]
SITE_COLUMNS = ["plan", "site", "site_name", "kind", *FIGURE_COLUMNS]
PRIORITY_COLUMNS = ["plan", "priority", *FIGURE_COLUMNS]
# priorities.csv: its first columns as they were, then the pooled share (sim.study.shares)
PRIORITY_FILE_COLUMNS = [*PRIORITY_COLUMNS, *SHARE_COLUMNS]


def _figures(by_rep: Mapping[int, list[float]], escalated: int, target_min: float) -> dict:
    """The figure columns from counted responses by replication and how many of them escalated."""
    pooled = np.array([t for responses in by_rep.values() for t in responses], float)
    in_target = int(np.count_nonzero(pooled <= target_min))  # never reached (NaN) is late
    shares = share_columns(in_target, len(pooled) - in_target)
    if len(pooled) == 0:
        return {"incidents": 0} | {column: math.nan for column in FIGURE_COLUMNS[1:]} | shares
    per_rep = [rep_mean_within(responses, target_min) for responses in by_rep.values()]
    response_mean, response_ci = mean_ci95([figures[0] for figures in per_rep])
    within_mean, within_ci = mean_ci95([figures[1] for figures in per_rep])
    reached = pooled[~np.isnan(pooled)]
    return {
        "incidents": len(pooled),
        "response_mean_min": response_mean,
        "response_mean_ci95": response_ci,
        "response_p90_min": float(np.percentile(reached, 90)) if len(reached) else math.nan,
        "within_target_pct": within_mean,
        "within_target_ci95": within_ci,
        "escalated_pct": 100.0 * escalated / len(pooled),
    } | shares


def _grouped(incident_rows: Iterable[dict], key: str) -> tuple[dict, dict]:
    """Counted responses by (plan, group, rep), and escalated counts by (plan, group)."""
    responses: dict[tuple[str, Hashable], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    escalated: dict[tuple[str, Hashable], int] = defaultdict(int)
    for row in incident_rows:
        if not row["counted"]:
            continue
        group = (row["plan"], row[key])
        response = row["response_min"]
        responses[group][row["rep"]].append(math.nan if response is None else response)
        escalated[group] += int(row["escalated"])
    return responses, escalated


def site_rows(incident_rows: Iterable[dict], plans: Sequence[str], sites: Sequence, target_min: float) -> list[dict]:
    """One row per plan and site (scenario order), the columns of sites.csv; ``sites`` are the
    scenario's (``id``, ``name``, ``kind``)."""
    responses, escalated = _grouped(incident_rows, "site")
    return [
        {"plan": plan, "site": site.id, "site_name": site.name, "kind": site.kind}
        | _figures(responses.get((plan, site.id), {}), escalated.get((plan, site.id), 0), target_min)
        for plan in plans for site in sites
    ]


def priority_rows(incident_rows: Iterable[dict], plans: Sequence[str], priorities: Iterable[int],
                  target_min: float) -> list[dict]:
    """One row per plan and priority as handled (an escalated incident at the priority it was
    handled at), most urgent first; ``priorities`` are those the scenario can give, and any
    other the rows hold is added."""
    responses, escalated = _grouped(incident_rows, "priority")
    levels = sorted(set(priorities) | {level for _, level in responses})
    return [
        {"plan": plan, "priority": level}
        | _figures(responses.get((plan, level), {}), escalated.get((plan, level), 0), target_min)
        for plan in plans for level in levels
    ]


def worst_sites(rows: Sequence[dict], plan: str, n: int = 3) -> Worst:
    """The ``n`` sites of ``plan`` with the most late incidents (sim.study.shares.worst_by_late)."""
    return worst_by_late([row for row in rows if row["plan"] == plan], n)


SITE_DETERRENCE_COLUMNS = ["deterred", "deterred_pct"]  # sites.csv's columns after SITE_COLUMNS with a deterrence block


def site_file_columns(deterrence: bool) -> list[str]:
    """sites.csv's columns: as they were (with a deterrence block its two), then the pooled share."""
    return [*SITE_COLUMNS, *SITE_DETERRENCE_COLUMNS * deterrence, *SHARE_COLUMNS]


def with_deterred(site_rows: Sequence[dict], incident_rows: Iterable[dict], warmup_min: float) -> list[dict]:
    """sites.csv's rows with each site's deterred candidates after the warm-up (count, % of its candidates)."""
    by_site: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in incident_rows:
        by_site[row["plan"], row["site"]].append(row)
    return [row | presence_figures(by_site.get((row["plan"], row["site"]), []), warmup_min, SITE_DETERRENCE_COLUMNS)
            for row in site_rows]
