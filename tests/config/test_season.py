"""The election season (issue #11): calendar phases, events, weekly profiles; their validation."""
from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.config import load_scenario
from sim.model.incidents import MIN_PER_HOUR, draw_incidents
from sim.streams import STREAM_ARRIVALS, STREAM_ON_SCENE, STREAM_SITES, stream

START = datetime(2024, 11, 20)  # a Wednesday

SEASON = {
    "name": "season-test",
    "network": {"source": "demo"},
    "clock": {"start": "2024-11-20T00:00", "duration_hours": 240},
    "replications": 1,
    "seed": 11,
    "target_response_min": 15,
    "sites": [{"id": "kpu", "lat": -8.1655, "lon": 113.7125}, {"id": "dprd", "lat": -8.17, "lon": 113.70},
              {"id": "alun", "lat": -8.1700, "lon": 113.7022}],
    "disturbances": [
        {"type": "provocation", "rate_per_hour": 0.5, "priority": 2, "on_scene_min": {"dist": "fixed", "value": 20},
         "hourly_profile": [0.2] * 6 + [1.0] * 12 + [1.5] * 6,
         "weekly_profile": [0.8, 0.8, 0.8, 0.8, 1.2, 1.4, 1.2]},
        {"type": "crowd_unrest", "rate_per_hour": 0.2, "priority": 1, "sites": {"kpu": 1, "dprd": 2},
         "on_scene_min": {"dist": "fixed", "value": 40}},
    ],
    "calendar": {"phases": [
        {"name": "campaign", "start": "2024-11-20T00:00", "end": "2024-11-24T00:00",
         "rate_multiplier": {"provocation": 2.0}},
        {"name": "quiet", "start": "2024-11-24T00:00", "end": "2024-11-27T00:00", "rate_multiplier": {"all": 0.3}},
        {"name": "voting_day", "start": "2024-11-27T00:00", "end": "2024-11-28T00:00",
         "rate_multiplier": {"crowd_unrest": 3.0}},
    ]},
    "events": [{"id": "protest", "name": "March on DPRD and KPU", "start": "2024-11-22T10:00", "hours": 4,
                "sites": {"dprd": 1, "kpu": 2}, "rate_per_hour": {"crowd_unrest": 1.5, "provocation": 2.0}}],
    "unit_types": {"car": {"agency": "Polri"}},
    "plans": [{"name": "plan", "units": [{"type": "car", "count": 1, "base": "kpu",
                                          "patrol": {"mode": "post", "at": "kpu"}}]}],
}


def _draw(scenario, rep: int):
    n = len(scenario.disturbances)
    streams = {purpose: [stream(scenario.seed, rep, code, t) for t in range(n)]
               for purpose, code in (("arrivals", STREAM_ARRIVALS), ("sites", STREAM_SITES),
                                     ("on_scene", STREAM_ON_SCENE))}
    return draw_incidents(scenario, scenario.clock.duration_hours * MIN_PER_HOUR, streams)


def _expected(data: dict) -> Counter:
    """The rate integrated hour by hour with datetime arithmetic (not the model's code): the
    expected count per (type, phase, event)."""
    phases = [(p["name"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]),
               p.get("rate_multiplier", {})) for p in data["calendar"]["phases"]]
    out: Counter = Counter()
    for hour in range(int(data["clock"]["duration_hours"])):
        when = START + timedelta(hours=hour)
        name, mult = next(((n, m) for n, s, e, m in phases if s <= when < e), ("", {}))
        for d in data["disturbances"]:
            rate = d["rate_per_hour"] * (d.get("hourly_profile") or [1] * 24)[when.hour]
            rate *= (d.get("weekly_profile") or [1] * 7)[when.weekday()] * mult.get(d["type"], mult.get("all", 1.0))
            out[(d["type"], name, "")] += rate
    for event in data["events"]:
        when = datetime.fromisoformat(event["start"])
        name = next(n for n, s, e, _ in phases if s <= when < e)
        for type_name, rate in event["rate_per_hour"].items():
            out[(type_name, name, event["id"])] += rate * event["hours"]
    return out


def test_counts_per_type_phase_and_event_match_the_rate_integral():
    scenario = load_scenario(SEASON)
    reps = 300
    counts = [Counter((s.stages[0].type, s.phase, s.event) for s in _draw(scenario, rep)) for rep in range(reps)]
    expected = _expected(SEASON)
    assert len(expected) == 2 * 4 + 2  # both types in three phases and after them; the event's two types
    for key, mean_expected in expected.items():
        sample = np.array([c[key] for c in counts], float)
        se = max(sample.std(ddof=1), 1.0) / np.sqrt(reps)
        assert abs(sample.mean() - mean_expected) < 3 * se, (key, sample.mean(), mean_expected, se)
    # event incidents only at the event's sites, inside its hours
    events = [s for rep in range(20) for s in _draw(scenario, rep) if s.event]
    assert {s.site for s in events} == {"dprd", "kpu"}
    assert all(58 * 60 <= s.t_created_min < 62 * 60 for s in events)


def test_adding_an_event_moves_no_other_incident():
    without = copy.deepcopy(SEASON)
    without["events"] = []
    with_event, without_event = load_scenario(SEASON), load_scenario(without)
    for rep in range(3):
        a = [(s.t_created_min, s.site, s.stages) for s in _draw(with_event, rep) if not s.event]
        b = [(s.t_created_min, s.site, s.stages) for s in _draw(without_event, rep)]
        assert a == b and len(a) > 50
    # and a second event leaves the first one's incidents where they were
    two = copy.deepcopy(SEASON)
    two["events"].insert(0, {"id": "rally", "start": "2024-11-21T08:00", "hours": 2, "sites": {"alun": 1},
                             "rate_per_hour": {"provocation": 3.0}})
    first = [(s.t_created_min, s.site) for s in _draw(with_event, 0) if s.event == "protest"]
    again = [(s.t_created_min, s.site) for s in _draw(load_scenario(two), 0) if s.event == "protest"]
    assert first == again and first


BAD = [
    ("overlapping phases", ("calendar", "phases", 1, "start"), "2024-11-23T00:00",
     "calendar.phases[1].start: phase 'quiet' starts before calendar.phases[0] ends"),
    ("phase outside the clock", ("calendar", "phases", 2, "end"), "2024-12-28T00:00",
     "calendar.phases[2]: phase 'voting_day' (2024-11-27T00:00 to 2024-12-28T00:00) is outside the clock"),
    ("weekly profile of 6", ("disturbances", 0, "weekly_profile"), [1, 1, 1, 1, 1, 1],
     "disturbances[0].weekly_profile: needs exactly 7 numbers (Monday to Sunday), got 6"),
    ("event at an unknown site", ("events", 0, "sites"), {"dprd_ofice": 1},
     "events[0].sites.dprd_ofice: unknown site 'dprd_ofice'"),
    ("event of an unknown type", ("events", 0, "rate_per_hour"), {"riot": 1.0},
     "events[0].rate_per_hour.riot: unknown disturbance type 'riot'"),
    ("multiplier beyond its bound", ("calendar", "phases", 0, "rate_multiplier"), {"all": 5000},
     "calendar.phases[0].rate_multiplier.all: input should be less than or equal to 1000"),
    ("unknown phase in by_phase", ("plans", 0, "by_phase"),
     {"votingday": {"units": [{"type": "car", "count": 2, "base": "kpu", "patrol": {"mode": "base"}}]}},
     "plans[0].by_phase.votingday: unknown phase 'votingday'; did you mean 'voting_day'?"),
    ("on_duty 25:00-26:00", ("plans", 0, "units", 0, "on_duty"), ["25:00-26:00"],
     "plans[0].units[0].on_duty: '25:00-26:00' is not a daily window \"HH:MM-HH:MM\""),
    ("phase fleet at an unknown base", ("plans", 0, "by_phase"),
     {"quiet": {"units": [{"type": "car", "count": 1, "base": "kpuu", "patrol": {"mode": "base"}}]}},
     "plans[0].by_phase.quiet.units[0].base: unknown site 'kpuu'; did you mean 'kpu'?"),
]


@pytest.mark.parametrize("label, path, value, message", BAD, ids=[b[0] for b in BAD])
def test_bad_season_input_is_one_line_naming_the_place(tmp_path, capsys, label, path, value, message):
    data = copy.deepcopy(SEASON)
    holder = data
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value
    file = tmp_path / "season.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "season.yaml:" in err[0], err
    assert "Traceback" not in "".join(err)


def test_expected_work_counts_the_season():
    from sim.config.limits import incidents_per_replication

    assert incidents_per_replication(load_scenario(SEASON)) == pytest.approx(sum(_expected(SEASON).values()), rel=1e-9)


def test_season_result_files(tmp_path):
    from sim import Study

    data = copy.deepcopy(SEASON)
    data["clock"]["duration_hours"] = 200  # runs 8 h past the last phase: incidents outside every phase
    results = Study(data).run(reps=2)
    out = results.to_dir(tmp_path / "out")
    incidents = (out / "incidents.csv").read_text().splitlines()
    assert incidents[0].endswith(",phase,event")
    assert any(line.endswith(",protest") for line in incidents[1:])
    by_phase = (out / "summary_by_phase.csv").read_text().splitlines()
    assert by_phase[0].startswith("plan,phase,reps,incidents,")
    assert [line.split(",")[1] for line in by_phase[1:]] == ["campaign", "quiet", "voting_day", "(no phase)"]
    counts = {line.split(",")[1]: int(line.split(",")[3]) for line in by_phase[1:]}
    assert sum(counts.values()) == sum(1 for line in incidents[1:] if line.split(",")[17] == "1")
    assert (out / "figures" / "response_by_hour_and_phase.png").stat().st_size > 10_000
    # the Python API's tables are the files' columns
    assert list(results.incidents.columns) == incidents[0].split(",")
    assert list(results.units.columns) == (out / "units.csv").read_text().splitlines()[0].split(",")


def test_a_speed_factor_of_half_exactly_doubles_legs_started_in_the_period():
    from types import SimpleNamespace

    from sim import Study
    from sim.model.movement import Position

    data = copy.deepcopy(SEASON)
    data["travel"] = {"periods": [{"from": "06:00", "to": "09:00", "speed_factor": 0.5}]}
    world = Study(data).world()
    env = SimpleNamespace(now=0.0)
    roads = world.roads_for(env)
    a, b = world.site_node["kpu"], world.site_node["alun"]
    for t_min, factor in ((5 * 60.0, 1.0), (6 * 60.0, 2.0), (8 * 60 + 59.0, 2.0), (9 * 60.0, 1.0),
                          (24 * 60 + 7 * 60.0, 2.0), (24 * 60 + 12 * 60.0, 1.0)):
        env.now = t_min
        leg, base = roads.leg(Position(a), b, t_min, 1.0), world.roads.leg(Position(a), b, t_min, 1.0)
        assert np.array_equal(leg.nodes, base.nodes)
        assert np.array_equal(leg.cum_min, base.cum_min * factor), t_min
        assert roads.time_s(Position(a), b) == world.roads.time_s(Position(a), b) * factor
        assert roads.tables.time_s_to(b, a) == world.roads.tables.time_s_to(b, a) * factor
    assert base.cum_min[-1] > 1.0  # a real drive, not a zero-length leg


def test_bad_travel_periods(tmp_path, capsys):
    data = copy.deepcopy(SEASON)
    data["travel"] = {"periods": [{"from": "06:00", "to": "09:00", "speed_factor": 0.5},
                                  {"from": "08:00", "to": "10:00", "speed_factor": 0.8}]}
    file = tmp_path / "season.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "travel.periods[1]: overlaps travel.periods[0]" in err[0]
    data["travel"]["periods"] = [{"from": "06:00", "to": "09:00", "speed_factor": 0.5, "road_classes": ["motorway"]}]
    from sim import Study

    with pytest.raises(Exception, match=r"travel.periods\[0\].road_classes: no road class 'motorway'"):
        Study(data).world()


# -- fleets by phase and duty windows (sim.model.shifts) -------------------------------------------


def _one_site(units, hours, by_phase=None, phases=None, rate=0.0, on_scene=None):
    data = {
        "name": "shifts", "network": {"source": "demo"},
        "clock": {"start": "2024-11-20T00:00", "duration_hours": hours},
        "replications": 1, "seed": 5, "target_response_min": 15,
        "sites": [{"id": "a", "lat": -8.1700, "lon": 113.7022}, {"id": "b", "lat": -8.1634, "lon": 113.7154}],
        "disturbances": [{"type": "fight", "rate_per_hour": rate, "priority": 1, "sites": {"a": 1},
                          "on_scene_min": on_scene or {"dist": "fixed", "value": 30}}],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [{"name": "plan", "units": units, **({"by_phase": by_phase} if by_phase else {})}],
    }
    if phases:
        data["calendar"] = {"phases": phases}
    return data


def _run(data, specs=None, rep=0):
    from sim import Study
    from sim.model import incident_rows, simulate, unit_rows

    study = Study(data)
    result = simulate(study.scenario, study.world(), "plan", rep, incident_specs=specs)
    return {r["incident_id"]: r for r in incident_rows(result)}, unit_rows(result), study


def _fight(i, t_min, on_scene=30.0):
    from sim.model.incidents import IncidentSpec, Stage

    return IncidentSpec(i, "a", t_min, (Stage("fight", 1, 1, on_scene, None),))


def test_an_incident_after_the_shift_waits_for_the_next_one():
    car = {"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}, "on_duty": ["07:00-15:00"]}
    rows, units, _ = _run(_one_site([car], 48), [_fight(1, 16 * 60.0), _fight(2, 24 * 60 + 14 * 60 + 45.0)])
    assert rows[1]["wait_min"] == 15 * 60 and rows[1]["response_min"] == 15 * 60  # 16:00 -> 07:00 next day
    assert rows[2]["response_min"] == 0.0  # 14:45, on duty: at once
    (unit,) = units
    assert unit["on_duty_h"] == 16.0 and unit["overtime_min"] == 15.0  # the 14:45 job ran to 15:15


def test_units_table_has_duty_columns_when_units_come_and_go():
    from sim import Study

    car = {"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}, "on_duty": ["07:00-15:00"]}
    units = Study(_one_site([car], 48)).run(reps=1).units
    assert list(units.columns[-2:]) == ["on_duty_h", "overtime_min"]
    assert 0 < units["on_duty_h"].iloc[0] <= 16.0


def test_phase_fleets_leave_after_their_job_and_join_at_their_base():
    phases = [{"name": "p", "start": "2024-11-20T10:00", "end": "2024-11-20T20:00"}]
    own = [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}}]
    fleet = {"p": {"units": [{"type": "car", "count": 1, "base": "b", "patrol": {"mode": "post", "at": "b"}}]}}
    specs = [_fight(1, 9 * 60 + 30.0, 60.0), _fight(2, 10 * 60 + 10.0), _fight(3, 20 * 60 + 5.0)]
    rows, units, study = _run(_one_site(own, 24, fleet, phases), specs)
    world = study.world()
    b_to_a = world.roads.tables.time_s_to(world.site_node["a"], world.site_node["b"]) / 60.0
    assert b_to_a > 1.0
    assert rows[1]["response_min"] == 0.0  # the plan's own car, at its post
    assert rows[2]["response_min"] == pytest.approx(b_to_a)  # the phase's car, from its base b
    assert rows[3]["response_min"] == 0.0  # the own car is back, at its base a (= its post)
    by_id = {u["unit_id"]: u for u in units}
    assert set(by_id) == {"car-1", "p/car-1"}
    assert by_id["car-1"]["overtime_min"] == 30.0  # its 09:30 job of 60 min ran past 10:00
    assert by_id["car-1"]["on_duty_h"] == 14.0 and by_id["p/car-1"]["on_duty_h"] == 10.0


@pytest.mark.slow
def test_waits_in_each_phase_match_erlang_c():
    """One site, zero travel (posts at the site), exponential service: each phase an M/M/c queue."""
    from sim.analytic.erlang import erlang_c

    hours = 1500
    phases = [{"name": "two", "start": "2024-11-20T00:00", "end": "2024-12-21T06:00", "rate_multiplier": {"all": 1.0}},
              {"name": "four", "start": "2024-12-21T06:00", "end": "2025-01-21T12:00", "rate_multiplier": {"all": 2.0}}]
    post = {"type": "car", "base": "a", "patrol": {"mode": "post", "at": "a"}}
    data = _one_site([{**post, "count": 2}], hours, {"four": {"units": [{**post, "count": 4}]}}, phases,
                     rate=1.0, on_scene={"dist": "exponential", "mean": 60})
    means: dict[str, list[float]] = {"two": [], "four": []}
    for rep in range(12):
        rows, _, _ = _run(data, rep=rep)
        for phase in means:
            # the queue left by the phase before settles within hours: negligible in 750 h
            waits = [r["wait_min"] for r in rows.values() if r["phase"] == phase]
            means[phase].append(float(np.mean(waits)))
            assert all(r["travel_min"] == 0.0 for r in rows.values())
    for phase, servers, load in (("two", 2, 1.0), ("four", 4, 2.0)):
        expected = erlang_c(servers, load) / (servers - load) * 60.0  # Wq = C / (c mu - lambda), min
        sample = np.array(means[phase])
        se = sample.std(ddof=1) / np.sqrt(len(sample))
        assert abs(sample.mean() - expected) < 3 * se, (phase, sample.mean(), expected, se)


def test_a_leg_started_in_a_slow_period_takes_twice_as_long_in_a_run():
    car = {"type": "car", "count": 1, "base": "b", "patrol": {"mode": "base"}}
    data = _one_site([car], 24)
    data["travel"] = {"periods": [{"from": "06:00", "to": "09:00", "speed_factor": 0.5}]}
    rows, _, _ = _run(data, [_fight(1, 7 * 60.0), _fight(2, 12 * 60.0)])
    assert rows[2]["travel_min"] > 1.0
    assert rows[1]["travel_min"] == pytest.approx(2 * rows[2]["travel_min"], rel=1e-12)


def test_a_clock_shortened_on_the_command_line_cuts_the_season():
    scenario = load_scenario(SEASON, {"clock.duration_hours": 30})  # ends before the quiet phase and the event
    assert {s.phase for rep in range(3) for s in _draw(scenario, rep)} == {"campaign"}
    short = copy.deepcopy(SEASON)
    short["clock"]["duration_hours"] = 30  # in the file: the later phases are outside its clock
    with pytest.raises(Exception, match="is outside the clock"):
        load_scenario(short)


def test_validate_names_each_phase_fleet(capsys):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scenarios" / "jember_pilkada_2024_season.yaml"
    assert main(["validate", str(path)]) == 0
    scenario = load_scenario(path)
    line = capsys.readouterr().out
    for plan in scenario.plans:
        phase_counts = ", ".join(f"{phase} {sum(g.count for g in fleet.units)}" for phase, fleet in plan.by_phase.items())
        assert f"{plan.name}: {plan.n_units} units ({phase_counts})" in line


def test_a_clock_starting_at_07_30_45_lays_profile_duty_and_travel_periods_on_the_same_minutes():
    """08:00-09:00 is minutes 29.25 to 89.25 of a clock that starts at 07:30:45 (counted here with
    datetime arithmetic). Incidents of an 08:00-only profile arise there, a unit on duty
    "08:00-09:00" is on duty there, a travel period "08:00"-"09:00" is in force there: all three
    to the second."""
    from types import SimpleNamespace

    from sim import Study
    from sim.model import simulate
    from sim.model.movement import Position

    start = datetime(2024, 11, 20, 7, 30, 45)
    eight, nine = ((datetime(2024, 11, 20, hour) - start).total_seconds() / 60.0 for hour in (8, 9))
    car = {"type": "car", "count": 1, "base": "a", "patrol": {"mode": "post", "at": "a"}, "on_duty": ["08:00-09:00"]}
    data = _one_site([car], 3, rate=2.0, on_scene={"dist": "fixed", "value": 0.1})
    data["clock"]["start"] = start.isoformat()
    data["disturbances"][0]["hourly_profile"] = [0.0] * 8 + [24.0] + [0.0] * 15
    data["travel"] = {"periods": [{"from": "08:00", "to": "09:00", "speed_factor": 0.5}]}
    study = Study(data)

    created = [spec.t_created_min for rep in range(5) for spec in _draw(study.scenario, rep)]
    assert len(created) > 100
    assert eight <= min(created) and max(created) < nine, (
        f"incidents of the 08:00 hour arise from minute {min(created):.3f} to {max(created):.3f}, "
        f"not inside [{eight}, {nine}): the profile reads the clock's start another way")

    result = simulate(study.scenario, study.world(), "plan", 0, incident_specs=[_fight(1, eight, 0.1)])
    assert result.units[0].shift.intervals[0] == (eight, nine), (
        f"on duty 08:00-09:00 is {result.units[0].shift.intervals[0]} on this clock, not ({eight}, {nine})")
    assert result.incidents[0].t_first_dispatch_min == eight, "at 08:00:00 the posted unit is on duty"

    world = study.world()
    env = SimpleNamespace(now=0.0)
    roads = world.roads_for(env)
    a, b = world.site_node["a"], world.site_node["b"]
    for t_min, factor in ((eight - 0.01, 1.0), (eight, 2.0), (nine - 0.01, 2.0), (nine, 1.0)):
        env.now = t_min
        leg, base = roads.leg(Position(a), b, t_min, 1.0), world.roads.leg(Position(a), b, t_min, 1.0)
        assert np.array_equal(leg.cum_min, base.cum_min * factor), (
            f"at minute {t_min} (08:00 is minute {eight}) the travel period is "
            f"{'not ' if factor == 2.0 else ''}in force: the periods read the clock's start another way")
