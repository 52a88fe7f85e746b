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
from typing import Iterable, Mapping, Sequence

import numpy as np

from sim.study.shares import SHARE_COLUMNS, Worst, share_columns, worst_by_late
from sim.study.incident_columns import IncidentColumns, first_seen_order, runs
from sim.study.stats import deterred_figures, mean_ci95, p90, rep_mean_within

FIGURE_COLUMNS = [
    "incidents", "response_mean_min", "response_mean_ci95", "response_p90_min", "within_target_pct",
    "within_target_ci95", "escalated_pct",
]
SITE_COLUMNS = ["plan", "site", "site_name", "kind", *FIGURE_COLUMNS]
PRIORITY_COLUMNS = ["plan", "priority", *FIGURE_COLUMNS]
# priorities.csv: its first columns as they were, then the pooled share (sim.study.shares)
PRIORITY_FILE_COLUMNS = [*PRIORITY_COLUMNS, *SHARE_COLUMNS]


def _figures(responses: np.ndarray, reps: np.ndarray, escalated: int, target_min: float) -> dict:
    """The figure columns of one group from its counted responses (NaN: never reached), sorted by
    replication in the order each first appears (rows in order within one), and how many of them
    escalated."""
    n = len(responses)
    in_target = int(np.count_nonzero(responses <= target_min))  # never reached (NaN) is late
    shares = share_columns(in_target, n - in_target)
    if n == 0:
        return _EMPTY_FIGURES | shares
    per_rep = [rep_mean_within(responses[start:stop], target_min) for start, stop in runs(reps)]
    response_mean, response_ci = mean_ci95([figures[0] for figures in per_rep])
    within_mean, within_ci = mean_ci95([figures[1] for figures in per_rep])
    return {
        "incidents": n,
        "response_mean_min": response_mean,
        "response_mean_ci95": response_ci,
        "response_p90_min": p90(responses[~np.isnan(responses)]),
        "within_target_pct": within_mean,
        "within_target_ci95": within_ci,
        "escalated_pct": 100.0 * escalated / n,
    } | shares


_EMPTY_FIGURES = {"incidents": 0} | {column: math.nan for column in FIGURE_COLUMNS[1:]}


def group_figures(columns: IncidentColumns, codes: np.ndarray, n_groups: int, target_min: float) -> list[dict]:
    """The figure columns of each group 0..n_groups-1 of one plan's counted incidents, ``codes``
    giving each row's group (a code from n_groups on: in no group)."""
    counted = columns.counted
    groups, reps = codes[counted], columns.rep[counted]
    order = first_seen_order(groups, reps)
    groups, reps, responses = groups[order], reps[order], columns.response_min[counted][order]
    escalated = np.bincount(codes[counted & columns.escalated], minlength=n_groups + 1)
    where = {int(groups[start]): (start, stop) for start, stop in runs(groups)}
    empty = _EMPTY_FIGURES | share_columns(0, 0)
    out = []
    for group in range(n_groups):
        if group not in where:
            out.append(empty)
            continue
        start, stop = where[group]
        out.append(_figures(responses[start:stop], reps[start:stop], int(escalated[group]), target_min))
    return out


def site_rows(columns: Mapping[str, IncidentColumns], plans: Sequence[str], sites: Sequence,
              target_min: float) -> list[dict]:
    """One row per plan and site (scenario order), the columns of sites.csv; ``columns``: each plan's
    incident rows (plan_columns); ``sites`` are the scenario's (``id``, ``name``, ``kind``)."""
    ids = [site.id for site in sites]
    rows = []
    for plan in plans:
        figures = _plan_groups(columns, plan, lambda found: found.codes("site", ids), len(ids), target_min)
        rows += [{"plan": plan, "site": site.id, "site_name": site.name, "kind": site.kind} | found
                 for site, found in zip(sites, figures)]
    return rows


def _plan_groups(columns: Mapping[str, IncidentColumns], plan: str, codes, n_groups: int,
                 target_min: float) -> list[dict]:
    """group_figures of a plan's incidents (every group empty for a plan without rows)."""
    found = columns.get(plan)
    if found is None:
        return [_EMPTY_FIGURES | share_columns(0, 0)] * n_groups
    return group_figures(found, codes(found), n_groups, target_min)


def priority_rows(columns: Mapping[str, IncidentColumns], plans: Sequence[str], priorities: Iterable[int],
                  target_min: float) -> list[dict]:
    """One row per plan and priority as handled (an escalated incident at the priority it was
    handled at), most urgent first; ``priorities`` are those the scenario can give, and any
    other the counted incidents hold is added."""
    held = {int(level) for found in columns.values() for level in np.unique(found.priority[found.counted])}
    levels = sorted(set(priorities) | held)
    rows = []
    for plan in plans:
        figures = _plan_groups(columns, plan, lambda found: np.searchsorted(levels, found.priority), len(levels),
                               target_min)
        rows += [{"plan": plan, "priority": level} | found for level, found in zip(levels, figures)]
    return rows


def worst_sites(rows: Sequence[dict], plan: str, n: int = 3) -> Worst:
    """The ``n`` sites of ``plan`` with the most late incidents (sim.study.shares.worst_by_late)."""
    return worst_by_late([row for row in rows if row["plan"] == plan], n)


SITE_DETERRENCE_COLUMNS = ["deterred", "deterred_pct"]  # sites.csv's columns after SITE_COLUMNS with a deterrence block


def site_file_columns(deterrence: bool) -> list[str]:
    """sites.csv's columns: as they were (with a deterrence block its two), then the pooled share."""
    return [*SITE_COLUMNS, *SITE_DETERRENCE_COLUMNS * deterrence, *SHARE_COLUMNS]


def with_deterred(site_rows: Sequence[dict], columns: Mapping[str, IncidentColumns], warmup_min: float) -> list[dict]:
    """sites.csv's rows with each site's deterred candidates after the warm-up (count, % of its
    candidates: the deterred and the counted incidents); ``columns``: each plan's incident rows."""
    ids = list(dict.fromkeys(row["site"] for row in site_rows))
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for plan, found in columns.items():
        codes = found.codes("site", ids)
        deterred = np.bincount(codes[found.deterred & (found.t_created_min >= warmup_min)], minlength=len(ids) + 1)
        counted = np.bincount(codes[found.counted], minlength=len(ids) + 1)
        counts |= {(plan, site): (int(d), int(c)) for site, d, c in zip(ids, deterred.tolist(), counted.tolist())}
    return [row | deterred_figures(*counts.get((row["plan"], row["site"]), (0, 0))) for row in site_rows]
