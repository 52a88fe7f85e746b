"""Counts per week beside the shares, and fair rankings: the identities of the counts on every
replication, a case where deterrence makes the share and the counts disagree (the counts point the
right way), the headline that never compares unequal fleets without saying so, every ordered pair
of plans, and --reference."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from sim import Study
from sim.cli import main
from sim.model import build_world
from sim.i18n import messages
from sim.study.ranking import best_plan, headline, headline_measure, share_misleads
from sim.study.runner import run_plans
from sim.study.stats import COUNTS, MIN_PER_WEEK, Window, rep_counts
from sim.study.tables import WIDTH
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import network_from_edges

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
DETERRENCE = {"radius_m": 200, "presence_multiplier": 0.3, "residual_min": 60, "residual_multiplier": 0.7}
DETECTION = {"report_delay_min": {"dist": "exponential", "mean": 12}, "patrol_sight_m": 150}
OVERRIDES = {"deterrence": DETERRENCE, "detection": DETECTION, "clock.warmup_hours": 8}
REPS, HOURS = 3, 24
# Student-t 97.5% quantile for 2 degrees of freedom (3 replications), from a printed table.
T975_2 = 4.302652730


def read(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def presence_dir(cache, tmp_path_factory) -> Path:
    """The main job for a day with detection and deterrence and an 8-hour warm-up, 3 replications, all plans."""
    study = Study(SCENARIO, OVERRIDES)
    return study.run(reps=REPS, hours=HOURS).to_dir(tmp_path_factory.mktemp("presence") / "out", figures=False)


def hand_counts(rows: list[dict], warmup_min: float, end_min: float, target_min: float) -> dict:
    """(plan, rep) -> counts, from incidents.csv's text as a reader would count them."""
    out: dict = {}
    for row in rows:
        mine = out.setdefault((row["plan"], int(row["rep"])), dict.fromkeys([*COUNTS, "warmup", "rows"], 0))
        mine["rows"] += 1
        if float(row["t_created_min"]) < warmup_min:
            mine["warmup"] += 1
            continue
        mine["candidates"] += 1
        mine["prevented"] += row.get("deterred") == "1"
        if row["counted"] != "1":
            continue
        mine["incidents"] += 1
        late = row["response_min"] == "" or float(row["response_min"]) > target_min
        mine["late" if late else "in_target"] += 1
        mine["unanswered"] += row["t_first_arrival_min"] == "" or float(row["t_first_arrival_min"]) > end_min
    return out


def test_counts_per_week_hold_their_identities_on_every_replication(presence_dir):
    scenario = Study(SCENARIO, OVERRIDES).scenario
    warmup_min, end_min = scenario.clock.warmup_hours * 60, HOURS * 60.0
    counts = hand_counts(read(presence_dir / "incidents.csv"), warmup_min, end_min, scenario.target_response_min)
    plans = [p.name for p in scenario.plans]
    assert sorted(counts) == [(plan, rep) for plan in sorted(plans) for rep in range(REPS)]
    for (plan, rep), c in counts.items():
        where = f"{plan} replication {rep}"
        assert c["rows"] == c["prevented"] + c["incidents"] + c["warmup"], where
        assert c["candidates"] == c["prevented"] + c["incidents"], where
        assert c["incidents"] == c["in_target"] + c["late"], where
    assert sum(c["prevented"] for c in counts.values()) > 0 and sum(c["warmup"] for c in counts.values()) > 0
    # Every plan sees the same candidates (common random numbers); only what happens to them differs.
    for rep in range(REPS):
        assert len({counts[plan, rep]["candidates"] for plan in plans}) == 1
    # summary.csv: each count per week of the measured window, mean and 95% interval over the replications.
    weeks = (end_min - warmup_min) / MIN_PER_WEEK
    summary = read(presence_dir / "summary.csv")
    for row in summary:
        for name in COUNTS:
            values = [counts[row["plan"], rep][name] / weeks for rep in range(REPS)]
            mean = sum(values) / REPS
            half = T975_2 * math.sqrt(sum((v - mean) ** 2 for v in values) / (REPS - 1)) / math.sqrt(REPS)
            assert float(row[f"{name}_per_week"]) == pytest.approx(mean, abs=1e-4), (row["plan"], name)
            assert float(row[f"{name}_per_week_ci95"]) == pytest.approx(half, abs=1e-4), (row["plan"], name)
        got = {name: float(row[f"{name}_per_week"]) for name in COUNTS}
        assert got["candidates"] == pytest.approx(got["prevented"] + got["incidents"], abs=2e-4)
        assert got["incidents"] == pytest.approx(got["in_target"] + got["late"], abs=2e-4)
        assert int(row["units"]) == Study(SCENARIO).plan(row["plan"]).n_units


def test_rep_counts_count_unanswered_at_the_end_of_the_clock_and_replications_without_incidents():
    window = Window(warmup_min=60.0, end_min=600.0, target_min=15.0)

    def row(rep, created, response=None, counted=1, deterred=0):
        arrival = None if response is None else created + response
        return {"rep": rep, "t_created_min": created, "response_min": response, "t_first_arrival_min": arrival,
                "counted": counted, "deterred": deterred}

    rows = [row(0, 10.0, 5.0, counted=0), row(0, 100.0, 5.0), row(0, 200.0, 30.0), row(0, 590.0, 12.0),
            row(0, 595.0), row(0, 300.0, counted=0, deterred=1)]
    counts = rep_counts(rows, window, reps=range(2))
    assert counts[0] == {"candidates": 5, "prevented": 1, "incidents": 4, "in_target": 2, "late": 2,
                         "unanswered": 2, "warmup": 1}
    # 590 + 12 = 602 > 600: in time, yet no unit was there before the clock ended; 595: never reached.
    assert counts[1] == dict.fromkeys([*COUNTS, "warmup"], 0), "a replication without incidents counts zeros"


# -- deterrence: the share and the counts disagree --------------------------------------------------------


@pytest.fixture(scope="module")
def far_post(tmp_path_factory):
    """hq (node 0); far (node 1) 20 min from hq, 10 km off; near (node 2) 2 min from hq. Plan hq keeps
    its one car at hq: far's incidents are late, near's in time. Plan post stands it at far, where it
    deters every incident (multiplier 0, also long after it leaves): near's incidents, 22 min away,
    are now late. Far has twice near's rate."""
    network = network_from_edges(3, [0, 1, 0, 2], [1, 0, 2, 0], [1200.0, 1200.0, 120.0, 120.0],
                                 x_m=[0.0, 10_000.0, 0.0], y_m=[0.0, 0.0, 1000.0])
    tmp = tmp_path_factory.mktemp("far_post")
    sites = [site_at(network, 0, "hq"), site_at(network, 1, "far"), site_at(network, 2, "near")]
    fight = {"type": "fight", "on_scene_min": {"dist": "fixed", "value": 0}, "priority": 1}
    disturbances = [fight | {"rate_per_hour": 0.3, "sites": {"far": 2, "near": 1}}]
    data = base_scenario(sites, disturbances, [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}],
                         hours=500, reps=4, warmup=1.0,
                         deterrence={"radius_m": 200, "presence_multiplier": 0.0, "residual_min": 100_000,
                                     "residual_multiplier": 0.0})
    data["plans"] = [{"name": "hq", "units": [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}]},
                     {"name": "post", "units": [{"type": "car", "count": 1, "base": "hq",
                                                 "patrol": {"mode": "post", "at": "far"}}]}]
    scenario = scenario_file(tmp, data)
    world = build_world(scenario, network, cache_dir=tmp)
    study = SimpleNamespace(scenario=scenario, world=lambda: world, world_key=lambda: "far-post", source_path=None)
    return run_plans(study, ["hq", "post"])


def test_with_deterrence_the_share_says_worse_and_late_incidents_say_better(far_post):
    compared = {row["plan"]: row for row in far_post.comparison.to_dict("records")}
    post = compared["post"]
    assert post["within_target_verdict"] == "worse", "post loses every in-time incident at near: its share falls"
    assert post["late_per_week_verdict"] == "better", "yet it prevents far's incidents, twice as many, all late"
    summary = {row["plan"]: row for row in far_post.summary.to_dict("records")}
    assert summary["post"]["within_target_pct"] < summary["hq"]["within_target_pct"]
    assert summary["post"]["late_per_week"] < summary["hq"]["late_per_week"]
    assert summary["post"]["prevented_per_week"] > 0 == summary["hq"]["prevented_per_week"]
    # So the headline ranks by late incidents a week and says why, and the table leads with them.
    assert far_post.measure == headline_measure(True, 15.0, messages("en")) and far_post.measure.column == "late_per_week"
    text = far_post.table()
    lede = " ".join(text.split("\n\n")[0].split())
    assert lede.startswith("Best plan by late incidents a week (after 15 min or never) with 1 unit, as many as the "
                           "reference hq: post,")
    assert " ".join(share_misleads(messages("en")).split()) in " ".join(text.split())
    header = next(line for line in text.splitlines() if line.startswith("plan "))
    assert header.split()[1:3] == ["units", "late/week"], header
    assert max(len(line) for line in text.splitlines()) <= WIDTH


# -- fair rankings -------------------------------------------------------------------------------------------


def summary_row(plan: str, units: int, share: float, late: float) -> dict:
    return {"plan": plan, "units": units, "within_target_pct": share, "within_target_ci95": 1.0,
            "late_per_week": late, "late_per_week_ci95": 0.5}


def test_the_headline_never_calls_a_larger_fleet_best_and_says_what_its_extra_units_buy():
    summary = [summary_row("base", 8, 70.0, 12.0), summary_row("good", 8, 78.0, 10.0),
               summary_row("bigger", 9, 84.0, 7.0), summary_row("biggest", 11, 90.0, 4.0)]
    pairs = [{"plan": "bigger", "other": "good", "within_target_diff_pct": 5.3, "within_target_diff_ci95": 2.1,
              "late_per_week_diff": -2.5, "late_per_week_diff_ci95": 1.0}]
    share = headline_measure(False, 15.0, messages("en"))
    assert best_plan(summary, "base", share) == "good", "the best of the reference's 8 units, not the 9-unit plan"
    lines = headline(summary, pairs, "base", share, 15.0, messages("en"))
    assert lines[0].startswith("Best plan by share within 15 min with 8 units, as many as the reference base: good")
    assert lines[1] == ("bigger has more units (9, 1 more than good): 84.0 ± 1.0% within 15 min; against good, "
                        "paired, its extra unit buys +5.3 ± 2.1 points within 15 min and -2.5 ± 1.0 late incidents a "
                        "week.")
    assert lines[2] == "biggest has more units (11, 3 more than good): 90.0 ± 1.0% within 15 min."
    # A reference with 9 units: the 9-unit plans compete, the 8-unit ones are not named.
    assert best_plan(summary, "bigger", share) == "bigger"
    assert [line.split(" has")[0] for line in headline(summary, pairs, "bigger", share, 15.0, messages("en"))[1:]] == \
        ["biggest"]
    # With deterrence the fewest late incidents a week win, among the same fleet size, and what the
    # extra units buy is said in late incidents first.
    late = headline_measure(True, 15.0, messages("en"))
    assert best_plan(summary, "base", late) == "good"
    assert headline(summary, pairs, "base", late, 15.0, messages("en"))[1].endswith(
        "paired, its extra unit buys -2.5 ± 1.0 late incidents a week and +5.3 ± 2.1 points within 15 min."), \
        "with deterrence the extra unit's gain leads with the ranking's own measure, late incidents a week"


def test_the_main_jobs_table_and_report_say_each_plans_units(cache, tmp_path):
    results = Study(SCENARIO).run(reps=2, hours=12)
    text = results.table()
    first = text.splitlines()[0]
    assert "with 8 units" in first and "mixed-plus-one" not in first
    assert "mixed-plus-one has more units (9, 1 more than" in " ".join(text.split())
    for line in [line for line in text.splitlines() if line.startswith("mixed-plus-one  ")]:
        assert line.split()[1] == "9", line  # every table of plans: the units beside the name
    assert len([line for line in text.splitlines() if line.startswith("mixed-plus-one  ")]) == 3


def test_comparison_pairs_hold_every_ordered_pair_paired_by_replication(cache, tmp_path):
    folder = Study(SCENARIO).run(reps=REPS, hours=HOURS).to_dir(tmp_path / "out", figures=False)
    pairs = read(folder / "comparison_pairs.csv")
    plans = [row["plan"] for row in read(folder / "summary.csv")]
    assert [(row["plan"], row["other"]) for row in pairs] == [(a, b) for a in plans for b in plans if a != b]
    by_pair = {(row["plan"], row["other"]): row for row in pairs}
    for (a, b), row in by_pair.items():
        back = by_pair[b, a]
        for column, ci in (("response_diff_min", "response_diff_ci95"), ("within_target_diff_pct", "within_target_diff_ci95"),
                           ("p90_diff_min", "p90_diff_ci95"), ("late_per_week_diff", "late_per_week_diff_ci95")):
            assert float(row[column]) == pytest.approx(-float(back[column]), abs=2e-4), (a, b, column)
            assert row[ci] == back[ci], (a, b, ci)
    # Against the reference, a pair is comparison.csv's row.
    for row in read(folder / "comparison.csv")[1:]:
        pair = by_pair[row["plan"], row["reference"]]
        for column in ("response_diff_min", "response_diff_ci95", "within_target_diff_pct", "within_target_verdict",
                       "late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict"):
            assert pair[column] == row[column], column
        assert pair["response_verdict"] == row["verdict"]
        assert (pair["units"], pair["other_units"]) == (row["units"], row["reference_units"])


@pytest.mark.slow
def test_reference_best_compares_with_the_best_plan_of_the_first_plans_fleet(cache, tmp_path, capsys):
    out = tmp_path / "best"
    args = ["run", str(SCENARIO), "--hours", str(HOURS), "--reps", str(REPS), "--workers", "1", "--out", str(out)]
    assert main([*args, "--reference", "best"]) == 0
    summary = read(out / "summary.csv")
    eight = [row for row in summary if row["units"] == summary[0]["units"]]
    best = max(eight, key=lambda row: float(row["within_target_pct"]))["plan"]
    comparison = read(out / "comparison.csv")
    assert {row["reference"] for row in comparison} == {best}
    assert next(row for row in comparison if row["plan"] == best)["verdict"] == "reference"
    capsys.readouterr()
    assert main([*args[:-1], str(tmp_path / "other"), "--reference", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--reference nope: not a plan of this run; give one of all-at-hq" in err and "Traceback" not in err
    assert not (tmp_path / "other").exists(), "refused before the output folder is made"


def test_a_clock_shorter_than_a_week_shows_counts_as_counted_not_scaled_to_a_week(presence_dir, cache, tmp_path):
    """A 24-hour clock with an 8-hour warm-up: 16 h measured. The terminal table and the report
    show each replication's counts in those 16 h (summary.csv's figure a week times 16/168), and
    say so, so a voting day's incidents are never read as seven times as many."""
    summary = read(presence_dir / "summary.csv")
    share_of_week = 16 * 60 / MIN_PER_WEEK
    expected = {row["plan"]: f"{float(row['late_per_week']) * share_of_week:.1f}" for row in summary}
    # The terminal table of the same run (summary.csv above is that run's, written by to_dir).
    text = Study(SCENARIO, OVERRIDES).run(reps=REPS, hours=HOURS).table()
    heading = next(line for line in text.splitlines() if line.startswith("Incidents "))
    assert heading.startswith("Incidents in the 16 h measured of each replication"), heading
    lines = text.split(heading)[1].splitlines()
    for plan, late in expected.items():
        row = next(line for line in lines if line.startswith(plan + " "))
        # candidates, prevented, incidents, in time, late: each "value ± half", late the fifth.
        assert row.split("±")[4].split()[-1] == late, (plan, row, "late in 16 h")
    assert main(["report", str(presence_dir)]) == 0
    page = (presence_dir / "report.html").read_text(encoding="utf-8")
    assert "Incidents in the 16 h measured" in page and "Incidents a week" not in page
    for late in expected.values():
        assert f">{late} ±" in page, f"the report's late count in 16 h, {late}"
