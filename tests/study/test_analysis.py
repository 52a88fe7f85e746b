"""Statistics across replications, on rows made by hand whose answers are worked out here."""
from __future__ import annotations

import math

import pytest

from sim.study.stats import comparison_row, mean_ci95, summary_row, verdict

# Student-t 97.5% quantiles from a printed table, so the tests do not lean on scipy.
T975 = {1: 12.706204736, 2: 4.302652730, 4: 2.776445105}


def incident(rep: int, response: float, counted: bool = True) -> dict:
    return {"rep": rep, "response_min": response, "counted": counted}


def unit(rep: int, busy: float) -> dict:
    return {"rep": rep, "busy_fraction": busy}


def test_mean_ci95_is_the_student_t_interval_without_nans():
    mean, half = mean_ci95([1.0, 2.0, math.nan, 3.0, 4.0, 5.0])
    assert mean == pytest.approx(3.0)
    assert half == pytest.approx(T975[4] * math.sqrt(2.5) / math.sqrt(5))
    one_mean, one_half = mean_ci95([7.0, math.nan])
    assert one_mean == 7.0 and math.isnan(one_half)
    assert all(math.isnan(x) for x in mean_ci95([]))


def test_summary_counts_every_replication_run_even_those_without_incidents():
    # Rep 0: responses 4 and 8; rep 1: only an incident from the warm-up (not counted);
    # rep 2: 10, 20, 30; rep 3: no incident at all. Target 10 min.
    incidents = [incident(0, 4.0), incident(0, 8.0), incident(1, 2.0, counted=False),
                 incident(2, 10.0), incident(2, 20.0), incident(2, 30.0)]
    units = [unit(rep, busy) for rep, busy in ((0, 0.1), (0, 0.3), (1, 0.2), (1, 0.2), (2, 0.5), (2, 0.1),
                                               (3, 0.0), (3, 0.2))]
    row = summary_row("plan-a", incidents, units, target_min=10.0)

    assert row["reps"] == 4
    assert row["incidents"] == 5
    # Only reps 0 and 2 have figures: means 6 and 20, within target 100% and 33.3%.
    assert row["response_mean_min"] == pytest.approx(13.0)
    assert row["response_mean_ci95"] == pytest.approx(T975[1] * (14 / math.sqrt(2)) / math.sqrt(2))
    assert row["within_target_pct"] == pytest.approx((100.0 + 100.0 / 3) / 2)
    assert row["response_p50_min"] == pytest.approx(10.0)  # median of 4, 8, 10, 20, 30
    assert row["busy_fraction_mean"] == pytest.approx(0.2)


def test_summary_of_a_plan_without_any_counted_incident():
    row = summary_row("quiet", [incident(0, 3.0, counted=False)], [unit(0, 0.0), unit(1, 0.0)], 15.0)
    assert row["reps"] == 2 and row["incidents"] == 0
    assert math.isnan(row["response_mean_min"]) and math.isnan(row["response_p90_min"])


@pytest.mark.parametrize("diff, half, lower_is_better, expected", [
    (-2.0, 1.0, True, "better"),
    (2.0, 1.0, True, "worse"),
    (0.5, 1.0, True, "no clear difference"),
    (-0.5, 1.0, True, "no clear difference"),
    (3.0, 1.0, False, "better"),
    (-3.0, 1.0, False, "worse"),
    (-2.0, math.nan, True, "not enough replications"),
])
def test_verdict_reads_the_interval(diff, half, lower_is_better, expected):
    assert verdict(diff, half, lower_is_better) == expected


def test_verdict_says_why_there_is_none():
    assert verdict(math.nan, math.nan, paired=0) == "no counted incidents"
    assert verdict(-2.0, math.nan, paired=1) == "1 replication: no interval"
    assert verdict(-2.0, 1.0, paired=2) == "better"


def test_comparison_pairs_replications_and_skips_one_without_figures():
    # One incident per replication; target 10 min. Rep 3: the plan's only incident is not counted.
    plan = [incident(0, 5.0), incident(1, 7.0), incident(2, 9.0), incident(3, 1.0, counted=False)]
    reference = [incident(0, 8.0), incident(1, 9.0), incident(2, 12.0), incident(3, 4.0)]
    row = comparison_row("plan-b", "plan-a", plan, reference, 10.0, reps=range(4))

    assert row["reps"] == 4
    # Paired differences over reps 0..2: -3, -2, -3.
    diffs = [-3.0, -2.0, -3.0]
    mean = sum(diffs) / 3
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 2)
    assert row["response_diff_min"] == pytest.approx(-8 / 3)
    assert row["response_diff_ci95"] == pytest.approx(T975[2] * sd / math.sqrt(3))
    assert row["verdict"] == "better"  # -2.67 + 1.43 < 0
    # Within target: plan 100, 100, 100; reference 100, 100, 0 -> differences 0, 0, 100.
    assert row["within_target_diff_pct"] == pytest.approx(100 / 3)
    assert row["within_target_diff_ci95"] == pytest.approx(T975[2] * math.sqrt(10_000 / 3) / math.sqrt(3))

    # One incident per replication, so each replication's p90 is its response: the same pairs.
    assert row["p90_diff_min"] == pytest.approx(-8 / 3)
    assert row["p90_diff_ci95"] == pytest.approx(row["response_diff_ci95"])
    assert row["p90_verdict"] == "better" and row["paired_reps"] == 3
    # Within target the interval straddles 0: 33.3 - 143.4 < 0 < 33.3 + 143.4.
    assert row["within_target_verdict"] == "no clear difference"

    same = comparison_row("plan-a", "plan-a", reference, reference, 10.0, reps=range(4))
    assert same["verdict"] == "reference" and same["response_diff_min"] == 0.0
