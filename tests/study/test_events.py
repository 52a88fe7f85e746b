"""What an event does to everyone else: a replication run again without an event's incidents
(simulate(left_out_event=)) keeps every other incident and its draws, so before the event nothing
moves and, once the event's effect is gone, nothing differs; events.csv is the hand count of the
two runs, and --no-event-effects skips them."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim import Study
from sim.cli import main
from sim.model import build_world, incident_rows, simulate
from sim.study.events import AFTER_MAX_H, EVENT_COLUMNS, MIN_REPS_NOISE, recovered_after
from sim.study.options import RunOptions
from sim.study.runner import run_plans
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import network_from_edges

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
EVENT_START_MIN = 600.0  # 10:00 on the clock's first day
REPS = 4


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """hq (node 0); far (node 1) 20 min from hq; near (node 2) 2 min and side (node 3, 400 m from
    near) 3 min from hq. Fights at near and side (0.8 an hour, 30 min on scene); a demonstration at
    far from 10:00 for 2 h brings 3 fights an hour. One car waits at hq, one stands at near, where it
    deters (multiplier 0.5) and sees; side's fights the public reports after an exponential delay
    (5 min). While the cars are away at far, the other fights wait."""
    network = network_from_edges(4, [0, 1, 0, 2, 0, 3], [1, 0, 2, 0, 3, 0], [1200.0, 1200.0, 120.0, 120.0, 180.0, 180.0],
                                 x_m=[0.0, 10_000.0, 0.0, 0.0], y_m=[0.0, 0.0, 1000.0, 1400.0])
    tmp = tmp_path_factory.mktemp("town")
    sites = [site_at(network, 0, "hq"), site_at(network, 1, "far"), site_at(network, 2, "near"),
             site_at(network, 3, "side")]
    fight = {"type": "fight", "rate_per_hour": 0.8, "sites": {"near": 1, "side": 1}, "priority": 1,
             "on_scene_min": {"dist": "fixed", "value": 30}}
    units = [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}},
             {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "post", "at": "near"}}]
    data = base_scenario(
        sites, [fight], units, hours=48, reps=REPS, warmup=1.0,
        events=[{"id": "demo", "name": "A demonstration", "start": "2024-10-23T10:00", "hours": 2,
                 "sites": {"far": 1}, "rate_per_hour": {"fight": 3.0}}],
        detection={"report_delay_min": {"dist": "exponential", "mean": 5}, "patrol_sight_m": 50},
        deterrence={"radius_m": 100, "presence_multiplier": 0.5, "residual_min": 30, "residual_multiplier": 0.8})
    scenario = scenario_file(tmp, data)
    return SimpleNamespace(scenario=scenario, world=build_world(scenario, network, cache_dir=tmp))


def test_other_incidents_before_the_event_are_unchanged_to_the_last_digit(town):
    for rep in range(REPS):
        with_event = incident_rows(simulate(town.scenario, town.world, "plan", rep))
        without = incident_rows(simulate(town.scenario, town.world, "plan", rep, left_out_event="demo"))
        assert [r["incident_id"] for r in with_event] == [r["incident_id"] for r in without]
        before = [(a, b) for a, b in zip(with_event, without) if a["t_created_min"] < EVENT_START_MIN]
        assert before and all(a == b for a, b in before), f"replication {rep}: an incident before the event moved"
        left_out = [b for b in without if b["event"] == "demo"]
        assert left_out and all(b["units_sent"] == 0 and b["t_reported_min"] is None for b in left_out), \
            "the event's incidents never arise"


def test_leaving_the_event_out_keeps_every_other_incidents_draws(town):
    """Report delays (stream 7) and deterrence draws (stream 8) are one per incident in creation order.
    Left out by never arising, the event's incidents still take their draws, so once the effect is
    gone every other incident is the same to the last digit, report delay and deterrence included;
    dropped from the list instead, every later incident would take another's draws."""
    changed_later = 0
    for rep in range(REPS):
        result = simulate(town.scenario, town.world, "plan", rep)
        with_event = incident_rows(result)
        without = incident_rows(simulate(town.scenario, town.world, "plan", rep, left_out_event="demo"))
        others = [(a, b) for a, b in zip(with_event, without) if a["event"] != "demo"]
        differing = [a["t_created_min"] for a, b in others if a != b]
        assert not differing or min(differing) >= EVENT_START_MIN
        settled = max(differing, default=EVENT_START_MIN)
        after = [(a, b) for a, b in others if a["t_created_min"] > settled]
        assert len(after) > 5 and all(a == b for a, b in after)
        assert {a["detected_by"] for a, _ in after} >= {"public", "patrol"} and any(a["deterred"] for a, _ in after)
        dropped = [i.spec for i in result.incidents if i.spec.event != "demo"]
        naive = {r["incident_id"]: r for r in incident_rows(simulate(town.scenario, town.world, "plan", rep,
                                                                     incident_specs=dropped))}
        changed_later += sum(naive[a["incident_id"]] != a for a, _ in after)
    assert changed_later > 0, "dropping the event's incidents from the list would move the others' draws"


def test_a_scenario_without_events_is_untouched(cache, tmp_path):
    study = Study(MAIN, {"clock.duration_hours": 12.0})
    plain = incident_rows(study.simulate("mixed", 1))
    assert incident_rows(simulate(study.scenario, study.world(), "mixed", 1, left_out_event="demo")) == plain
    results = study.run(plans=["mixed"], reps=2, event_effects=True)
    table = results.table()
    assert results.event_rows == [] and "During each event" not in table and "Calendar events" not in table
    folder = results.to_dir(tmp_path / "out", figures=False)
    assert not (folder / "events.csv").exists()


@pytest.fixture(scope="module")
def town_results(town):
    study = SimpleNamespace(scenario=town.scenario, world=lambda: town.world, world_key=lambda: "town",
                            source_path=None)
    return run_plans(study, ["plan"], RunOptions(event_effects=True))


def by_hand(town, rep: int):
    """(own responses, {window: [(counted, response with, counted, response without)]}) of one
    replication, from the run itself and a full-clock run without the event."""
    with_event = incident_rows(simulate(town.scenario, town.world, "plan", rep))
    without = {r["incident_id"]: r for r in incident_rows(simulate(town.scenario, town.world, "plan", rep,
                                                                  left_out_event="demo"))}
    end_min = EVENT_START_MIN + 120.0
    windows: dict[str, list] = {}
    for row in with_event:
        t = row["t_created_min"]
        if row["event"] == "demo" or t < EVENT_START_MIN:
            continue
        name = "during" if t < end_min else f"after_{int((t - end_min) // 60) + 1}h"
        other = without[row["incident_id"]]
        windows.setdefault(name, []).append((row["counted"], row["response_min"], other["counted"],
                                             other["response_min"]))
    own = [r["response_min"] for r in with_event if r["event"] == "demo" and r["counted"]]
    return own, windows


def test_events_csv_is_the_hand_count_of_the_runs_with_and_without_the_event(town, town_results, tmp_path):
    folder = town_results.to_dir(tmp_path / "out", figures=False)
    with (folder / "events.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == EVENT_COLUMNS
    hand = [by_hand(town, rep) for rep in range(REPS)]
    target = town.scenario.target_response_min
    # Gone: the first hour from which every other incident is the same, to the end of the compared hours.
    last_changed = 0
    for _, windows in hand:
        for name, incidents in windows.items():
            hours = 0 if name == "during" else int(name[len("after_"):-1])
            if 0 < hours <= AFTER_MAX_H and any(row[:2] != row[2:] for row in incidents):
                last_changed = max(last_changed, hours)
    assert {row["recovered_after_h"] for row in rows} == {str(last_changed)}
    assert [row["window"] for row in rows] == ["during"] + [f"after_{k}h" for k in range(1, last_changed + 2)]
    assert last_changed >= 1, "the demonstration keeps both cars away: near's fights wait after it too"
    own = [r for o, _ in hand for r in o]
    for row in rows:
        assert (row["event"], row["event_name"], row["plan"], row["reps"]) == ("demo", "A demonstration", "plan",
                                                                               str(REPS))
        assert float(row["event_incidents"]) == pytest.approx(len(own) / REPS)
        assert float(row["event_response_mean_min"]) == pytest.approx(np.mean(own), abs=1e-4)
        incidents = [w.get(row["window"], []) for _, w in hand]
        with_side = [[r for c, r, *_ in rep if c] for rep in incidents]
        without_side = [[r for _, _, c, r in rep if c] for rep in incidents]
        assert float(row["others_incidents"]) == pytest.approx(sum(map(len, with_side)) / REPS)
        assert float(row["others_incidents_without"]) == pytest.approx(sum(map(len, without_side)) / REPS)
        late = [sum(r is None or r > target for r in rep) for rep in with_side]
        late_without = [sum(r is None or r > target for r in rep) for rep in without_side]
        assert float(row["others_late"]) == pytest.approx(sum(late) / REPS)
        assert float(row["others_late_without"]) == pytest.approx(sum(late_without) / REPS)
        pairs = [(np.mean([r for r in a if r is not None]), np.mean([r for r in b if r is not None]))
                 for a, b in zip(with_side, without_side) if a and b]
        if pairs:
            assert float(row["others_response_mean_min"]) == pytest.approx(np.mean([a for a, _ in pairs]), abs=1e-4)
            assert float(row["others_response_mean_min_without"]) == \
                pytest.approx(np.mean([b for _, b in pairs]), abs=1e-4)
            assert float(row["others_response_diff_min"]) == \
                pytest.approx(float(row["others_response_mean_min"]) - float(row["others_response_mean_min_without"]),
                              abs=2e-4)
    during = rows[0]
    assert float(during["others_late"]) > float(during["others_late_without"]), "the event makes near's fights late"


def test_recovery_is_the_last_hour_that_differs_or_noise_over_enough_replications():
    def window(pairs):
        return {"incidents": [[1, a, 1, b] for a, b in pairs]}

    same, late = window([(3.0, 3.0)]), window([(40.0, 3.0)])
    # Exact: the effect lasts into the 2nd hour after the event, the 3rd is clear.
    assert recovered_after([[late, late, late, same, same]] * 2, 15.0) == 2
    # Still differing in the last hour compared: not gone within the hours compared.
    assert recovered_after([[late, same, late]] * 2, 15.0) is None
    # Differences both ways, none late for it, over enough replications: noise, the effect is gone.
    noise = [[late, window([(4.0, 3.0)]), window([(3.0, 4.0)])], [late, window([(3.0, 5.0)]), window([(5.0, 3.0)])]]
    noisy = (noise * MIN_REPS_NOISE)[:MIN_REPS_NOISE]
    assert recovered_after(noisy, 15.0) == 0
    assert recovered_after(noisy[:MIN_REPS_NOISE - 1], 15.0) is None, "too few replications to call it noise"


@pytest.mark.slow
def test_run_writes_events_csv_and_says_what_it_costs_unless_told_not_to(cache, town, tmp_path, capsys):
    season = ROOT / "scenarios" / "jember_pilkada_2024_season.yaml"
    # The clock up to the 13 Nov protest's end and 12 h more, two replications, one plan.
    args = ["run", str(season), "--hours", str(49 * 24 + 14 + 12), "--reps", "2", "--plan", "all-at-hq", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "with")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "The runs without the events took" in out and "protest_13nov" in out
    assert "With fewer than 5 replications only an exact match counts as gone" in out
    with (tmp_path / "with" / "events.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["event"] for row in rows} == {"rally_1oct", "ballots_27oct", "protest_13nov"}  # inside the clock
    protest = [row for row in rows if row["event"] == "protest_13nov"]
    assert protest[0]["window"] == "during" and protest[0]["start"] == "2024-11-13T10:00"
    assert float(protest[0]["others_response_mean_min"]) > float(protest[0]["others_response_mean_min_without"])
    assert main([*args, "--out", str(tmp_path / "without"), "--no-event-effects"]) == 0
    assert not (tmp_path / "without" / "events.csv").exists()
    assert "their effect on the other incidents was not computed" in " ".join(capsys.readouterr().out.split())
    for name in ("incidents.csv", "summary.csv"):  # the run itself is the same either way
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes()
    assert math.isfinite(float(protest[0]["others_late"]))
    # The report: a section per event with its windows, linked from the top; said missing when skipped.
    page = (tmp_path / "with" / "report.html").read_text(encoding="utf-8")
    assert '<a href="#events">Events</a>' in page and '<section id="events">' in page
    assert "March on the DPRD, KPU and Bawaslu (about 600 people)" in page and "10:00–14:00" in page
    skipped = (tmp_path / "without" / "report.html").read_text(encoding="utf-8")
    assert "Not available: the runs without each event were not made" in skipped
