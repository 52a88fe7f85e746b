"""Per-site and per-priority figures, paired comparisons, --reps auto's precision record and the
terminal table: each checked against a count made here by hand from the result files."""
from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from scipy.stats import binomtest

from sim import Study
from sim.i18n import messages
from sim.study.result_notes import site_notes
from sim.study.runner import PROGRESS_EVERY_S, Progress
from sim.study.stats import NO_INCIDENTS, ONE_REPLICATION, comparison_row
from sim.study.tables import WIDTH
from tests.commands import in_process

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
PLANS = ["all-at-hq", "mixed-plus-one"]
REPS, HOURS, TARGET_MIN = 3, 24, 15.0
# Student-t 97.5% quantiles from a printed table, so the checks do not lean on scipy.
T975 = {1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105}
POOLED = ["in_target", "late", "within_target_pooled_pct", "within_target_low_pct", "within_target_high_pct"]
TOL = 2e-3  # incidents.csv rounds times to 4 decimals; the figures are computed at full precision


def read(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float:
    return math.nan if text == "" else float(text)


def by_hand(values: list[float]) -> tuple[float, float]:
    """Mean and 95% Student-t half-width (NaN for one value), as a reader would work them out."""
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T975[n - 1] * sd / math.sqrt(n)


def close(got: str, expected: float) -> bool:
    return math.isnan(expected) and got == "" or abs(number(got) - expected) <= TOL


@pytest.fixture(scope="module")
def run_dir(cache, tmp_path_factory) -> Path:
    results = Study(SCENARIO).run(plans=PLANS, reps=REPS, hours=HOURS)
    return results.to_dir(tmp_path_factory.mktemp("run") / "out", figures=False)


def hand_figures(incidents: list[dict], key: str) -> dict:
    """(plan, group) -> the figure columns, from counted incidents.csv rows grouped by ``key``."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    escalated: dict = defaultdict(int)
    for row in incidents:
        if row["counted"] == "1":
            groups[(row["plan"], row[key])][row["rep"]].append(float(row["response_min"]))
            escalated[(row["plan"], row[key])] += int(row["escalated"])
    figures = {}
    for group, reps in groups.items():
        pooled = [t for times in reps.values() for t in times]
        means = [sum(times) / len(times) for times in reps.values()]
        shares = [100 * sum(t <= TARGET_MIN for t in times) / len(times) for times in reps.values()]
        figures[group] = {
            "incidents": len(pooled),
            "response_mean": by_hand(means),
            "within": by_hand(shares),
            "p90": float(np.percentile(pooled, 90)),
            "escalated_pct": 100 * escalated[group] / len(pooled),
            "in_target": sum(t <= TARGET_MIN for t in pooled),
        }
    return figures


def check_row(row: dict, expected: dict) -> None:
    assert int(row["incidents"]) == expected["incidents"]
    # The pooled share: late and in time counted by hand, the Wilson interval from scipy's own.
    assert (int(row["in_target"]), int(row["late"])) == (expected["in_target"], expected["incidents"] - expected["in_target"])
    assert close(row["within_target_pooled_pct"], 100 * expected["in_target"] / expected["incidents"])
    low, high = binomtest(expected["in_target"], expected["incidents"]).proportion_ci(method="wilson")
    assert close(row["within_target_low_pct"], 100 * low) and close(row["within_target_high_pct"], 100 * high)
    assert close(row["response_mean_min"], expected["response_mean"][0])
    assert close(row["response_mean_ci95"], expected["response_mean"][1])
    assert close(row["within_target_pct"], expected["within"][0])
    assert close(row["within_target_ci95"], expected["within"][1])
    assert close(row["response_p90_min"], expected["p90"])
    assert close(row["escalated_pct"], expected["escalated_pct"])


def test_sites_csv_is_the_hand_count_of_incidents_csv_with_a_row_for_every_site(run_dir):
    incidents = read(run_dir / "incidents.csv")
    sites = read(run_dir / "sites.csv")
    expected = hand_figures(incidents, "site")
    scenario_sites = Study(SCENARIO).scenario.sites
    assert list(sites[0]) == ["plan", "site", "site_name", "kind", "incidents", "response_mean_min",
                              "response_mean_ci95", "response_p90_min", "within_target_pct", "within_target_ci95",
                              "escalated_pct", *POOLED]
    assert [(r["plan"], r["site"]) for r in sites] == [(p, s.id) for p in PLANS for s in scenario_sites]
    empty = 0
    for row in sites:
        if (row["plan"], row["site"]) in expected:
            check_row(row, expected[(row["plan"], row["site"])])
        else:   # no counted incident there: the row stays, its figures empty
            empty += 1
            assert row["incidents"] == "0" and all(row[c] == "" for c in list(row)[5:11])
            assert (row["in_target"], row["late"]) == ("0", "0") and all(row[c] == "" for c in POOLED[2:])
    assert empty > 0, "the 24 h run should leave some sites (the bases) without incidents"
    names = {s.id: (s.name, s.kind) for s in scenario_sites}
    assert all((r["site_name"], r["kind"]) == names[r["site"]] for r in sites)


def test_priorities_csv_is_the_hand_count_by_priority_as_handled(run_dir):
    incidents = read(run_dir / "incidents.csv")
    priorities = read(run_dir / "priorities.csv")
    expected = hand_figures(incidents, "priority")
    assert [(r["plan"], r["priority"]) for r in priorities] == [(p, level) for p in PLANS for level in ("1", "2")]
    assert list(priorities[0])[-len(POOLED):] == POOLED
    for row in priorities:
        check_row(row, expected[(row["plan"], row["priority"])])
    # Escalated incidents are handled at priority 1 (crowd unrest), so none is left at priority 2.
    assert {r["escalated_pct"] for r in priorities if r["priority"] == "2"} == {"0.0000"}
    summary = {r["plan"]: int(r["incidents"]) for r in read(run_dir / "summary.csv")}
    for plan in PLANS:
        assert sum(int(r["incidents"]) for r in priorities if r["plan"] == plan) == summary[plan]


def test_comparison_pairs_mean_within_target_and_p90_by_replication(run_dir):
    incidents = read(run_dir / "incidents.csv")
    by_rep: dict = defaultdict(list)
    for row in incidents:
        if row["counted"] == "1":
            by_rep[(row["plan"], row["rep"])].append(float(row["response_min"]))
    reps = sorted({rep for _, rep in by_rep})
    figure = {"mean": lambda ts: sum(ts) / len(ts), "within": lambda ts: 100 * sum(t <= TARGET_MIN for t in ts) / len(ts),
              "p90": lambda ts: float(np.percentile(ts, 90))}
    rows = read(run_dir / "comparison.csv")
    # The columns comparison.csv always had keep their places; the paired ones come after.
    assert list(rows[0])[:9] == ["plan", "reference", "reps", "response_diff_min", "response_diff_ci95",
                                 "within_target_diff_pct", "within_target_diff_ci95", "verdict", "network"]
    assert list(rows[0])[9:] == ["within_target_verdict", "p90_diff_min", "p90_diff_ci95", "p90_verdict", "paired_reps",
                                 "late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict", "units",
                                 "reference_units"]
    reference, plan = rows
    assert reference["verdict"] == reference["within_target_verdict"] == reference["p90_verdict"] == "reference"
    columns = {"mean": ("response_diff_min", "response_diff_ci95", "verdict", True),
               "within": ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict", False),
               "p90": ("p90_diff_min", "p90_diff_ci95", "p90_verdict", True)}
    for name, (diff_col, ci_col, verdict_col, lower_is_better) in columns.items():
        diffs = [figure[name](by_rep[(PLANS[1], r)]) - figure[name](by_rep[(PLANS[0], r)]) for r in reps]
        mean, half = by_hand(diffs)
        assert close(plan[diff_col], mean) and close(plan[ci_col], half), name
        better = mean + half < 0 if lower_is_better else mean - half > 0
        worse = mean - half > 0 if lower_is_better else mean + half < 0
        assert plan[verdict_col] == ("better" if better else "worse" if worse else "no clear difference"), name
    assert plan["paired_reps"] == str(REPS)


def incident(rep: int, response: float, counted: bool = True) -> dict:
    return {"rep": rep, "response_min": response, "counted": counted}


def test_a_verdict_that_cannot_be_given_says_why():
    uncounted = [incident(0, 3.0, counted=False), incident(1, 4.0, counted=False)]
    some = [incident(0, 3.0), incident(1, 5.0)]
    none = comparison_row("b", "a", uncounted, some, TARGET_MIN, reps=range(2))
    assert (none["verdict"], none["within_target_verdict"], none["p90_verdict"]) == (NO_INCIDENTS,) * 3
    assert none["reps"] == 2 and none["paired_reps"] == 0
    one = comparison_row("b", "a", [incident(0, 2.0)], [incident(0, 9.0)], TARGET_MIN, reps=range(1))
    assert one["verdict"] == ONE_REPLICATION == "1 replication: no interval"
    assert one["response_diff_min"] == pytest.approx(-7.0) and math.isnan(one["response_diff_ci95"])
    # Two replications, but only one with counted incidents in both plans: still one pair.
    half = comparison_row("b", "a", [incident(0, 2.0), incident(1, 1.0, counted=False)],
                          [incident(0, 9.0), incident(1, 8.0)], TARGET_MIN, reps=range(2))
    assert half["p90_verdict"] == ONE_REPLICATION and half["paired_reps"] == 1
    same = comparison_row("b", "a", some, some, TARGET_MIN, reps=range(2))
    assert same["verdict"] == same["within_target_verdict"] == same["p90_verdict"] == "no clear difference"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_without_a_terminal_prints_at_most_one_line_per_interval_and_the_last():
    clock, stream = FakeClock(), io.StringIO()   # a StringIO is not a terminal
    progress = Progress(total=200, done=0, quiet=False, clock=clock, stream=stream)
    printed_at = []
    for _ in range(200):
        clock.now += 0.13   # 26 s in all
        before = stream.getvalue().count("\n")
        progress.step()
        if stream.getvalue().count("\n") > before:
            printed_at.append(clock.now)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert all(b - a >= PROGRESS_EVERY_S for a, b in zip(printed_at, printed_at[1:]))
    assert len(printed_at) <= 1 + 26 / PROGRESS_EVERY_S
    assert len(lines) == len(printed_at) + 1 and lines[-1].startswith("  200/200 replications done")
    quiet = io.StringIO()
    silent = Progress(total=5, done=0, quiet=True, clock=clock, stream=quiet)
    for _ in range(5):
        silent.step()
    silent.close()
    assert quiet.getvalue() == ""


@pytest.mark.slow
def test_reps_auto_records_the_precision_reached_and_warns_when_max_reps_stops_it(cache, tmp_path):
    study = Study(SCENARIO)
    short = study.run(plans=PLANS, reps="auto", hours=24, precision=0.001, max_reps=4)
    block = short.precision
    assert short.reps == 4 and block["replications"] == 4
    assert block["aim_share"] == 0.001 and block["max_reps"] == 4
    assert block["reached"] is False and block["stopped_by_max_reps"] is True
    for row in short.summary_rows:
        assert block["per_plan"][row["plan"]] == pytest.approx(row["response_mean_ci95"] / row["response_mean_min"],
                                                               abs=1e-4)
    assert "Warning: reps auto stopped at max_reps 4" in short.table()  # as the Python API names them
    manifest = json.loads((short.to_dir(tmp_path / "short", figures=False) / "manifest.json").read_text())
    assert manifest["precision"] == block
    # From 2 replications, one batch of 5 more brings both plans within ±40% (2 were not enough).
    easy = Study(SCENARIO, {"replications": 2}).run(plans=PLANS, reps="auto", hours=48, precision=0.4, max_reps=12)
    assert easy.reps == 7 and easy.precision["replications"] == 7
    assert easy.precision["reached"] is True and easy.precision["stopped_by_max_reps"] is False
    assert all(share <= 0.4 for share in easy.precision["per_plan"].values())
    assert "after 7 replications every plan's 95% interval on mean response is within ±40%" in easy.table()
    assert study.run(plans=PLANS, reps=2, hours=6).precision is None   # a fixed count aims at nothing
    # The command line says it on stderr, once, in one line.
    result = in_process("run", str(SCENARIO), "--plan", PLANS[0], "--reps", "auto", "--max-reps", "3",
                        "--precision", "0.001", "--hours", "24", "--workers", "1", "--out", str(tmp_path / "cli"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "--max-reps 3" in line]
    assert len(warnings) == 1 and "all-at-hq ±" in warnings[0]


def plan_line(lines: list[str], plan: str, start: int) -> tuple[str, int]:
    """A plan's line of the worst-site list and its indented continuation lines, joined."""
    first = next(i for i in range(start, len(lines)) if lines[i].startswith(plan + " ") and " late" in lines[i])
    line = lines[first]
    for more in lines[first + 1:]:   # a plan's sites may go on over indented lines, names whole
        if not more.startswith(" " * 19):
            break
        line += " " + more.strip()
    return line, first


def test_the_table_fits_100_columns_and_names_the_sites_with_most_late_incidents(cache, run_dir):
    results = Study(SCENARIO).run(plans=PLANS, reps=REPS, hours=HOURS)
    text = results.table()
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert "P1 ≤15 min (%)" in text and "vs all-at-hq (8 units)" in text and "95% interval" in text
    sites = read(run_dir / "sites.csv")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Worst sites per plan"))
    assert "±" not in "\n".join(lines[start:])
    for plan in PLANS:
        late = [r for r in sites if r["plan"] == plan and int(r["late"]) > 0]
        worst = sorted(late, key=lambda r: (-int(r["late"]), float(r["within_target_pooled_pct"]),
                                            -int(r["incidents"]), r["site"]))[:3]
        line, _ = plan_line(lines, plan, start)
        for row in worst:
            assert (f"{row['site_name']} {row['late']}/{row['incidents']} late "
                    f"({float(row['within_target_low_pct']):.0f}–{float(row['within_target_high_pct']):.0f}% in time)"
                    ) in line
    urgent = {r["plan"]: r for r in read(run_dir / "priorities.csv") if r["priority"] == "1"}
    header = next(i for i, line in enumerate(lines) if line.startswith("plan "))
    for plan in PLANS:
        line = next(line for line in lines[header:] if line.startswith(plan + " "))
        row = urgent[plan]
        assert (f"{float(row['within_target_pooled_pct']):.0f} ({float(row['within_target_low_pct']):.0f}–"
                f"{float(row['within_target_high_pct']):.0f})") in line


def test_wilson_interval_stays_in_0_100_and_is_scipys():
    from sim.study.shares import share_columns, wilson_pct

    for n in (1, 2, 3, 7, 30, 500):
        for hits in range(n + 1):
            low, high = wilson_pct(hits, n)
            assert 0.0 <= low <= 100.0 * hits / n <= high <= 100.0, (hits, n)
            ref_low, ref_high = binomtest(hits, n).proportion_ci(method="wilson")
            assert low == pytest.approx(100 * ref_low, abs=1e-9) and high == pytest.approx(100 * ref_high, abs=1e-9)
    assert wilson_pct(0, 3)[0] == 0.0 and wilson_pct(3, 3)[1] == 100.0
    assert all(math.isnan(v) for v in wilson_pct(0, 0))
    # One incident of one in time is not "100 ± 0": the interval says how little it rests on.
    one = share_columns(in_target=1, late=0)
    assert one["within_target_pooled_pct"] == 100.0 and one["within_target_low_pct"] < 25.0


def test_worst_list_ranks_by_late_count_and_states_ties_and_small_n():
    from sim.study.shares import worst_by_late

    def row(site: str, in_target: int, late: int) -> dict:
        n = in_target + late
        return {"site": site, "site_name": site.title(), "incidents": n, "late": late,
                "within_target_pooled_pct": 100 * in_target / n if n else math.nan}

    rows = [row("one", 0, 1), row("busy", 170, 30), row("mid", 10, 12), row("tie_a", 40, 12), row("tie_b", 8, 12),
            row("fine", 50, 0), row("empty", 0, 0)]
    worst = worst_by_late(rows, 2)
    # 1 late of 1 (0% in time) is not worse than 30 late of 200; among equal counts the lower share first.
    assert [r["site"] for r in worst.rows] == ["busy", "tie_b"]
    assert worst.tied == 2   # mid and tie_a have 12 late too
    assert worst.note(messages("en")) == "2 more sites also have 12 late"
    small = worst_by_late(rows, 10)
    assert [r["site"] for r in small.rows] == ["busy", "tie_b", "mid", "tie_a", "one"]  # 0 late: not listed
    assert small.tied == 0 and [r["site"] for r in small.small] == ["one"]
    assert "fewer than 10 incidents, share uncertain: One" in small.note(messages("en"))
    # Rows read from a CSV file (text) rank the same.
    text = [{key: str(value) for key, value in r.items()} for r in rows]
    assert [r["site"] for r in worst_by_late(text, 2).rows] == ["busy", "tie_b"]


def test_site_notes_name_placeholders_and_summarise_thousands_of_approximate_sites():
    def site(i: int, note: str) -> SimpleNamespace:
        return SimpleNamespace(id=f"tps-{i:04d}", approximate=True, note=note)

    sites = [SimpleNamespace(id="kpu_office", approximate=True, note="placeholder: position not verified"),
             SimpleNamespace(id="alun_alun", approximate=True, note="five public sources agree"),
             SimpleNamespace(id="polres", approximate=False, note="")]
    sites += [site(i, "synthetic: generated by population") for i in range(4041)]
    placeholders, others = site_notes(sites)
    assert placeholders == "Placeholder positions (not verified): kpu_office."
    assert others.startswith("4,042 other sites have approximate or synthetic positions: alun_alun, tps-0000")
    assert "manifest.json" in others and "tps-4040" not in others and len(others) < 2 * WIDTH


def test_units_incidents_served_counts_finished_services_of_counted_incidents(run_dir):
    """What the README says: each unit's counted incidents it finished serving on scene, so over
    the units it is incidents.csv's units_sent of counted incidents, less services still on scene
    when the clock stops."""
    incidents = [r for r in read(run_dir / "incidents.csv") if r["counted"] == "1"]
    units = read(run_dir / "units.csv")
    end_min = HOURS * 60
    for plan in PLANS:
        for rep in map(str, range(REPS)):
            mine = [r for r in incidents if (r["plan"], r["rep"]) == (plan, rep)]
            served = sum(int(u["incidents_served"]) for u in units if (u["plan"], u["rep"]) == (plan, rep))
            sent = sum(int(r["units_sent"]) for r in mine)
            # Every unit on scene by its incident's full response and done by then + on-scene time.
            surely_done = sum(int(r["units_sent"]) for r in mine
                              if float(r["t_created_min"]) + float(r["full_response_min"])
                              + float(r["on_scene_min"]) <= end_min)
            assert surely_done <= served <= sent
