"""Where and for whom a plan fails: the figures of summary.csv per site (sites.csv) and per
priority as handled (priorities.csv), with the same interval method.

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

from sim.study.stats import mean_ci95, presence_figures, rep_figures

FIGURE_COLUMNS = [
    "incidents", "response_mean_min", "response_mean_ci95", "response_p90_min", "within_target_pct",
    "within_target_ci95", "escalated_pct",
]
SITE_COLUMNS = ["plan", "site", "site_name", "kind", *FIGURE_COLUMNS]
PRIORITY_COLUMNS = ["plan", "priority", *FIGURE_COLUMNS]


def _figures(by_rep: Mapping[int, list[float]], escalated: int, target_min: float) -> dict:
    """The figure columns from counted responses by replication and how many of them escalated."""
    pooled = np.array([t for responses in by_rep.values() for t in responses], float)
    if len(pooled) == 0:
        return {"incidents": 0} | {column: math.nan for column in FIGURE_COLUMNS[1:]}
    per_rep = [rep_figures(responses, target_min) for responses in by_rep.values()]
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
    }


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


def worst_sites(rows: Sequence[dict], plan: str, n: int = 3) -> list[dict]:
    """The ``n`` sites of ``plan`` with counted incidents and the lowest within-target share
    (ties: the longer mean response first)."""
    mine = [row for row in rows if row["plan"] == plan and row["incidents"] > 0]
    return sorted(mine, key=lambda row: (row["within_target_pct"], -row["response_mean_min"], row["site"]))[:n]


SITE_DETERRENCE_COLUMNS = ["deterred", "deterred_pct"]  # sites.csv's last columns with a deterrence block


def with_deterred(site_rows: Sequence[dict], incident_rows: Iterable[dict], warmup_min: float) -> list[dict]:
    """sites.csv's rows with each site's deterred candidates after the warm-up (count, % of its candidates)."""
    by_site: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in incident_rows:
        by_site[row["plan"], row["site"]].append(row)
    return [row | presence_figures(by_site.get((row["plan"], row["site"]), []), warmup_min, SITE_DETERRENCE_COLUMNS)
            for row in site_rows]
