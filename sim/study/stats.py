"""Statistics across replications: per-plan summaries and paired plan comparisons.

Replications are the independent observations: each replication gives one mean response, one
within-target share and one p90 response per plan, and intervals are Student-t over those. Plans are compared
pairwise by replication, since replication k of every plan sees the same incidents (common
random numbers), which removes most of the noise from the difference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.special import stdtrit  # what scipy.stats.t.ppf computes, without importing scipy.stats (a second)

from sim.study.incident_columns import IncidentColumns, first_seen_order, runs

SUMMARY_COLUMNS = [
    "plan", "reps", "incidents", "response_mean_min", "response_mean_ci95", "response_p50_min",
    "response_p90_min", "within_target_pct", "within_target_ci95", "busy_fraction_mean",
]
COMPARISON_COLUMNS = [
    "plan", "reference", "reps", "response_diff_min", "response_diff_ci95", "within_target_diff_pct",
    "within_target_diff_ci95", "verdict",
]
# Appended after the network column, so the columns comparison.csv always had keep their places.
COMPARISON_PAIRED_COLUMNS = [
    "within_target_verdict", "p90_diff_min", "p90_diff_ci95", "p90_verdict", "paired_reps",
]
NO_INCIDENTS = "no counted incidents"
ONE_REPLICATION = "1 replication: no interval"


@cache
def _t975(dof: int) -> float:
    """Student-t 97.5% quantile; cached because per-site tables ask for it thousands of times."""
    return float(stdtrit(dof, 0.975))


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% Student-t interval, NaNs dropped (NaN half-width for one value)."""
    if len(values) == 1:  # without numpy's calls, which cost more than the rest for many small groups
        return float(values[0]), math.nan
    array = np.asarray(values, float)
    array = array[~np.isnan(array)]
    if len(array) == 0:
        return math.nan, math.nan
    if len(array) == 1:
        return float(array[0]), math.nan
    half = _t975(len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array))
    return float(array.mean()), float(half)


def p90(values: np.ndarray) -> float:
    """The 90th percentile of ``values`` (np.percentile's), NaN for none; one value is its own."""
    if len(values) <= 1:
        return float(values[0]) if len(values) else math.nan
    return float(np.percentile(values, 90))


def rep_figures(responses: Sequence[float], target_min: float) -> tuple[float, float, float]:
    """(mean response min, % within target, p90 min) of one replication's counted responses; NaN
    for none. A response never reached (NaN) counts as missing the target and stays out of the
    mean and p90."""
    mean, within, reached = _mean_within(responses, target_min)
    return mean, within, p90(reached)


def rep_mean_within(responses: Sequence[float], target_min: float) -> tuple[float, float]:
    """rep_figures' first two, without the p90 (a percentile costs more than the rest together)."""
    return _mean_within(responses, target_min)[:2]


def _mean_within(responses: Sequence[float], target_min: float) -> tuple[float, float, np.ndarray]:
    array = np.asarray(responses, float)
    if len(array) == 0:
        return math.nan, math.nan, array
    within = 100.0 * float(np.mean(array <= target_min))
    reached = array[~np.isnan(array)]
    return (float(reached.mean()) if len(reached) else math.nan), within, reached


def _counted_by_rep(columns: IncidentColumns, reps: Iterable[int] = ()) -> dict[int, np.ndarray]:
    """Counted responses (min; never reached: NaN) of each replication in row order, for every
    replication in ``reps`` and every one the rows name (those without counted incidents: empty),
    in replication order."""
    counted = columns.counted
    rep_of = columns.rep[counted]
    order = np.argsort(rep_of, kind="stable")
    rep_of, responses = rep_of[order], columns.response_min[counted][order]
    wanted = sorted(set(reps) | set(np.unique(columns.rep).tolist()))
    starts = np.searchsorted(rep_of, wanted)
    stops = np.searchsorted(rep_of, wanted, side="right")
    return {rep: responses[start:stop] for rep, start, stop in zip(wanted, starts, stops)}


def per_rep_figures(
    incident_rows: Iterable[dict], target_min: float, reps: Iterable[int] = ()
) -> dict[int, tuple[float, float]]:
    """(mean response min, % within target) of each replication (those in ``reps`` and those the
    rows name); NaN for one without counted incidents."""
    by_rep = _counted_by_rep(IncidentColumns(_listed(incident_rows)), reps)
    return {rep: rep_mean_within(responses, target_min) for rep, responses in by_rep.items()}


def summary_row(plan: str, incident_rows: Sequence[dict], unit_rows: Sequence[dict], target_min: float) -> dict:
    """The per-plan line of summary.csv: across-replication means with 95% intervals.

    ``reps`` is the number of replications run (every replication has unit rows); one without
    counted incidents adds no figure to the means.
    """
    reps = {row["rep"] for row in unit_rows}
    by_rep = _counted_by_rep(IncidentColumns(_listed(incident_rows)), reps)
    figures = {rep: rep_mean_within(responses, target_min) for rep, responses in by_rep.items()}
    pooled = np.concatenate([np.zeros(0), *by_rep.values()])
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


def verdict(diff: float, half_width: float, lower_is_better: bool = True, paired: int | None = None) -> str:
    """Plain words for a paired difference and its 95% interval; when there is none, why:
    ``paired`` replications had figures in both plans (0: no counted incidents, 1: no interval)."""
    if paired == 0:
        return NO_INCIDENTS
    if paired == 1:
        return ONE_REPLICATION
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
    """One plan against the reference, paired by replication: mean response (``verdict``), share
    within target and p90 response, each a mean of per-replication differences with its 95%
    interval and verdict.

    ``reps``: the replications run (those without counted incidents in either plan count in
    ``reps`` but give no paired difference; ``paired_reps`` counts those that do).
    """
    run = list(reps)
    mine = rep_figures_of(IncidentColumns(_listed(plan_rows)), target_min, run)
    theirs = mine if reference_rows is plan_rows else \
        rep_figures_of(IncidentColumns(_listed(reference_rows)), target_min, run)
    return paired_row(plan, reference, mine, theirs)


def paired_row(plan: str, reference: str, mine: Mapping[int, tuple], theirs: Mapping[int, tuple]) -> dict:
    """comparison_row from the two plans' rep_figures by replication (rep_figures_of)."""
    both = sorted(set(mine) & set(theirs))
    # Replications with counted incidents in both plans; the mean is NaN only when there are none.
    paired = [r for r in both if not math.isnan(mine[r][1]) and not math.isnan(theirs[r][1])]
    diffs = [mean_ci95([mine[r][k] - theirs[r][k] for r in paired]) for k in range(3)]
    (response_diff, response_ci), (within_diff, within_ci), (p90_diff, p90_ci) = diffs
    is_reference = plan == reference

    def say(diff: float, half: float, lower_is_better: bool) -> str:
        return "reference" if is_reference else verdict(diff, half, lower_is_better, len(paired))

    return {
        "plan": plan,
        "reference": reference,
        "reps": len(both),
        "response_diff_min": response_diff,
        "response_diff_ci95": response_ci,
        "within_target_diff_pct": within_diff,
        "within_target_diff_ci95": within_ci,
        "verdict": say(response_diff, response_ci, True),
        "within_target_verdict": say(within_diff, within_ci, False),
        "p90_diff_min": p90_diff,
        "p90_diff_ci95": p90_ci,
        "p90_verdict": say(p90_diff, p90_ci, True),
        "paired_reps": len(paired),
    }


def _listed(rows: Iterable[dict]) -> Sequence[dict]:
    return rows if isinstance(rows, (list, tuple)) else list(rows)


def rep_figures_of(columns: IncidentColumns, target_min: float, reps: Iterable[int]) -> dict[int, tuple]:
    """rep_figures of each replication (those in ``reps`` and those the rows name, in order), from
    its counted responses in row order."""
    return {rep: rep_figures(responses, target_min) for rep, responses in _counted_by_rep(columns, reps).items()}


def relative_precision(summary: Sequence[dict]) -> dict[str, float]:
    """Each plan's 95% half-width on mean response as a share of the mean (NaN when there is none)."""
    shares = {}
    for row in summary:
        mean, half = row["response_mean_min"], row["response_mean_ci95"]
        shares[row["plan"]] = half / abs(mean) if mean and not math.isnan(half) else math.nan
    return shares


def precision_reached(summary: Sequence[dict], relative_half_width: float) -> bool:
    """Whether every plan's mean-response interval is narrower than the given share of its mean."""
    return all(not math.isnan(share) and share <= relative_half_width
               for share in relative_precision(summary).values())

def summaries(rows: Mapping[str, tuple[Sequence[dict], Sequence[dict]]], plans: Sequence[str],
              target_min: float) -> list[dict]:
    """summary_row of each plan, in the order given; ``rows[plan]`` is (incident rows, unit rows)."""
    return [summary_row(plan, rows[plan][0], rows[plan][1], target_min) for plan in plans]


def comparisons(rows: Mapping[str, tuple[Sequence[dict], Sequence[dict]]], plans: Sequence[str],
                target_min: float, reps: int, reference: str | None = None) -> list[dict]:
    """comparison_row of each plan against ``reference`` (default the first), over replications 0..reps-1."""
    reference = plans[0] if reference is None else reference
    # Each plan's figures made once (comparison_row would make the reference's again for every plan).
    figures = {plan: rep_figures_of(IncidentColumns(_listed(rows[plan][0])), target_min, range(reps))
               for plan in dict.fromkeys([*plans, reference])}
    return [paired_row(plan, reference, figures[plan], figures[reference]) for plan in plans]


# -- counts per week ----------------------------------------------------------------------------------

MIN_PER_WEEK = 7 * 24 * 60.0
COUNTS = ["candidates", "prevented", "incidents", "in_target", "late", "unanswered"]
WEEK_COLUMNS = [column for name in COUNTS for column in (f"{name}_per_week", f"{name}_per_week_ci95")]
LATE_COLUMNS = ["late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict"]


@dataclass(frozen=True)
class Window:
    """The measured window of a run: counts are of incidents created in [warm-up, end of clock)."""

    warmup_min: float
    end_min: float
    target_min: float

    @property
    def weeks(self) -> float:
        return (self.end_min - self.warmup_min) / MIN_PER_WEEK

    @property
    def count_scale(self) -> float:
        """What a count a week is multiplied by where it is shown: 1 on a clock of a week or more; on a
        shorter clock (a voting day) the measured window's share of a week, so it is shown as counted."""
        return 1.0 if self.end_min >= MIN_PER_WEEK or self.weeks <= 0 else self.weeks


Counts = dict[int, dict[str, int]]  # replication -> its counts (rep_counts)


def rep_counts(incident_rows: Iterable[dict] | IncidentColumns, window: Window, reps: Iterable[int] = ()) -> Counts:
    """Each replication's counts (those in ``reps`` and those the rows name): ``candidates``
    created after the warm-up (as if nothing were deterred), ``prevented`` (deterred) among them,
    counted ``incidents``, ``in_target`` and ``late`` (after the target, or never reached) among
    those, ``unanswered`` (no unit on scene by the end of the clock) among those, and ``warmup``
    (candidates created in the warm-up). candidates = prevented + incidents; incidents = in_target
    + late; every row is a candidate after the warm-up or in it. The rows may come as their columns."""
    found = incident_rows if isinstance(incident_rows, IncidentColumns) else IncidentColumns(_listed(incident_rows))
    wanted = sorted(set(reps) | set(np.unique(found.rep).tolist()))
    code = np.searchsorted(wanted, found.rep)
    after = found.t_created_min >= window.warmup_min  # NaN never: every incident has its creation time
    counted = after & found.counted
    reached = found.response_min <= window.target_min
    arrival = found.t_first_arrival_min
    masks = {"candidates": after, "prevented": after & found.deterred, "incidents": counted,
             "in_target": counted & reached, "late": counted & ~reached,
             "unanswered": counted & (np.isnan(arrival) | (arrival > window.end_min)), "warmup": ~after}
    tallies = {name: np.bincount(code[mask], minlength=len(wanted)).tolist() for name, mask in masks.items()}
    return {rep: {name: tallies[name][k] for name in masks} for k, rep in enumerate(wanted)}


def week_figures(counts: Counts, window: Window) -> dict:
    """WEEK_COLUMNS from each replication's counts (rep_counts): each count per week of the measured
    window, mean over the replications and the half-width of its 95% interval."""
    per_week = 1.0 / window.weeks
    out = {}
    for name in COUNTS:
        mean, half = mean_ci95([rep[name] * per_week for rep in counts.values()])
        out |= {f"{name}_per_week": mean, f"{name}_per_week_ci95": half}
    return out


def late_comparison(mine: Counts, theirs: Counts, window: Window, is_reference: bool = False) -> dict:
    """LATE_COLUMNS from two plans' counts (rep_counts): late incidents per week of the plan minus the
    reference's, paired by replication."""
    paired = sorted(set(mine) & set(theirs))
    diff, half = mean_ci95([(mine[r]["late"] - theirs[r]["late"]) / window.weeks for r in paired])
    word = "reference" if is_reference else verdict(diff, half, True, len(paired))
    return {"late_per_week_diff": diff, "late_per_week_diff_ci95": half, "late_per_week_verdict": word}


# Detection and deterrence (sim.model.presence): summary.csv's columns after the network, with their block.
PRESENCE_SUMMARY_COLUMNS = {"detection": ["response_from_report_mean_min", "detected_by_patrol_pct"],
                            "deterrence": ["deterred", "deterred_pct"]}


def presence_columns(scenario) -> list[str]:
    """The summary columns of the scenario's detection and deterrence blocks (none without them)."""
    return [column for block, columns in PRESENCE_SUMMARY_COLUMNS.items()
            if getattr(scenario, block, None) is not None for column in columns]


def presence_figures(found: IncidentColumns, warmup_min: float, columns: Sequence[str]) -> dict:
    """Detection and deterrence figures of a plan's incident rows (as columns):
    mean response from the report (min; mean over replications of each one's mean, as
    response_mean_min, and the half-width of its 95% interval), share of counted incidents detected
    by patrol (%), deterred candidates created after the warm-up (count, and % of those candidates)."""
    counted = found.counted
    n_counted = int(np.count_nonzero(counted))
    out: dict = {}
    if "response_from_report_mean_min" in columns:
        arrival = found.t_first_arrival_min
        reached = counted & ~np.isnan(arrival)
        from_report = (arrival - found.floats("t_reported_min"))[reached]
        reps = found.rep[reached]
        order = first_seen_order(np.zeros(len(reps), np.int64), reps)  # replications as they first appear
        from_report = from_report[order]
        out["response_from_report_mean_min"], out["response_from_report_mean_ci95"] = \
            mean_ci95([float(np.mean(from_report[start:stop])) for start, stop in runs(reps[order])])
        patrol = int(np.count_nonzero(counted & found.equals("detected_by", "patrol")))
        out["detected_by_patrol_pct"] = (100.0 * patrol / n_counted) if n_counted else math.nan
    if "deterred" in columns:
        out |= deterred_figures(int(np.count_nonzero(found.deterred & (found.t_created_min >= warmup_min))), n_counted)
    return out


def deterred_figures(deterred: int, counted: int) -> dict:
    """``deterred`` candidates created after the warm-up, and their % of those candidates (the
    deterred and the ``counted`` incidents)."""
    candidates = deterred + counted
    return {"deterred": deterred, "deterred_pct": 100.0 * deterred / candidates if candidates else math.nan}
