"""The columnar view of incident rows the result tables share (sim.study.incident_columns): each
column holds the rows' values in row order, and figures grouped from it have the float bits of
figures made from lists filled row by row (what the files held before the columns)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.study.breakdowns import priority_rows, site_rows
from sim.study.incident_columns import IncidentColumns, first_seen_order, plan_columns, runs
from sim.study.stats import mean_ci95, p90, rep_mean_within

TARGET_MIN = 10.0


def random_rows(seed: int = 3, n: int = 600) -> list[dict]:
    """Incident rows of two plans, replications interleaved out of order, some never reached,
    some not counted, three sites and three priorities."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        reached = rng.random() > 0.1
        rows.append({"plan": "ab"[k % 2], "rep": int(rng.choice([3, 0, 2, 1])), "site": ["s1", "s2", "s3"][k % 3],
                     "priority": int(rng.integers(1, 4)), "counted": int(rng.random() > 0.2),
                     "escalated": int(rng.random() > 0.7), "t_created_min": float(rng.uniform(0, 900)),
                     "response_min": float(rng.exponential(9.0)) if reached else None,
                     "t_first_arrival_min": float(rng.uniform(0, 990)) if reached else None})
    return rows


def test_each_column_holds_the_rows_values_in_row_order():
    rows = random_rows()
    found = IncidentColumns(rows)
    assert len(found) == len(rows)
    assert found.rep.tolist() == [row["rep"] for row in rows], "rep column out of row order"
    assert found.priority.tolist() == [row["priority"] for row in rows]
    assert found.counted.tolist() == [bool(row["counted"]) for row in rows]
    assert found.escalated.tolist() == [bool(row["escalated"]) for row in rows]
    assert not found.deterred.any(), "rows without the optional deterred column must read as not deterred"
    for name in ("response_min", "t_first_arrival_min", "t_created_min"):
        column = getattr(found, name)
        assert column.dtype == np.float64
        expected = [math.nan if row[name] is None else row[name] for row in rows]
        assert np.array_equal(column, expected, equal_nan=True), f"{name}: None must be NaN, values kept bit for bit"
    assert found.equals("site", "s2").tolist() == [row["site"] == "s2" for row in rows]
    codes = found.codes("site", ["s3", "s1"])
    assert codes.tolist() == [{"s3": 0, "s1": 1}.get(row["site"], 2) for row in rows], \
        "a code is the value's index in the keys, len(keys) for a value not among them"


def test_plan_columns_split_rows_by_plan_in_order():
    rows = random_rows()
    by_plan = plan_columns(rows)
    assert list(by_plan) == ["a", "b"]
    assert by_plan["b"].rows == [row for row in rows if row["plan"] == "b"]


def test_first_seen_order_is_that_of_a_dict_of_lists_filled_row_by_row():
    rng = np.random.default_rng(5)
    groups, reps = rng.integers(0, 4, 300), rng.integers(0, 6, 300)
    filled: dict[int, dict[int, list[int]]] = {}
    for k, (group, rep) in enumerate(zip(groups.tolist(), reps.tolist())):
        filled.setdefault(group, {}).setdefault(rep, []).append(k)
    expected = [k for group in sorted(filled) for by_rep in [filled[group]] for rep in by_rep for k in by_rep[rep]]
    assert first_seen_order(groups, reps).tolist() == expected
    assert runs(np.array([4, 4, 7, 9, 9, 9])) == [(0, 2), (2, 3), (3, 6)]
    assert runs(np.array([], np.int64)) == []


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 40, 257])
def test_p90_is_numpys_percentile(n):
    values = np.random.default_rng(n).exponential(7.0, n)
    expected = float(np.percentile(values, 90)) if n else math.nan
    assert p90(values) == expected or (math.isnan(expected) and math.isnan(p90(values)))


def _figures_from_lists(rows: list[dict], key: str, plan: str, group) -> tuple:
    """(response mean, its half-width, within mean, its half-width, p90) from lists filled row by
    row, replications in the order they first appear: how the tables were made before the columns."""
    by_rep: dict[int, list[float]] = {}
    for row in rows:
        if row["counted"] and row["plan"] == plan and row[key] == group:
            by_rep.setdefault(row["rep"], []).append(math.nan if row["response_min"] is None else row["response_min"])
    per_rep = [rep_mean_within(responses, TARGET_MIN) for responses in by_rep.values()]
    pooled = np.array([t for responses in by_rep.values() for t in responses], float)
    reached = pooled[~np.isnan(pooled)]
    return (*mean_ci95([f[0] for f in per_rep]), *mean_ci95([f[1] for f in per_rep]),
            float(np.percentile(reached, 90)))


def _same_bits(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_site_and_priority_figures_have_the_bits_of_lists_filled_row_by_row():
    rows = random_rows()
    columns = plan_columns(rows)
    sites = [SimpleNamespace(id=f"s{k}", name=f"Site {k}", kind="crowd_point") for k in (1, 2, 3, 4)]
    names = ["response_mean_min", "response_mean_ci95", "within_target_pct", "within_target_ci95", "response_p90_min"]
    for row in site_rows(columns, ["a", "b"], sites, TARGET_MIN):
        if row["site"] == "s4":
            assert row["incidents"] == 0 and math.isnan(row["response_mean_min"]), "a site without incidents keeps its row"
            continue
        expected = _figures_from_lists(rows, "site", row["plan"], row["site"])
        got = tuple(row[name] for name in names)
        assert all(map(_same_bits, got, expected)), f"{row['plan']} {row['site']}: {got} != {expected}"
    for row in priority_rows(columns, ["a", "b"], [1], TARGET_MIN):
        expected = _figures_from_lists(rows, "priority", row["plan"], row["priority"])
        assert all(map(_same_bits, (row[name] for name in names), expected)), f"{row['plan']} P{row['priority']}"
