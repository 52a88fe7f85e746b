"""Detection and deterrence (issue #12) against answers known in advance: a fixed report delay, a
posted unit that sees or deters everything, a circuit's detection formulas, thinning by a uniform."""
from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world, simulate
from sim.model.incidents import IncidentSpec, Stage
from sim.model.presence import presence_draws
from sim.model.records import incident_rows
from tests.builders import base_scenario, scenario_file, site_at
from tests.graphs import network_from_edges

FIGHT = {"type": "fight", "rate_per_hour": 1.0, "on_scene_min": {"dist": "fixed", "value": 0}, "priority": 1}
NEVER_MIN = 500_000.0  # a public report delay beyond any clock here: only patrols report


def _incidents(times_min, sites) -> list[IncidentSpec]:
    """Incidents replayed at given times and sites (one fight stage, no escalation)."""
    return [IncidentSpec(k + 1, site, float(t), (Stage("fight", 1, 1, 0.0, None),))
            for k, (t, site) in enumerate(zip(times_min, sites))]


# -- detection ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def circuit_network():
    """A (node 0) is a site; A' (node 1) is 50 m from it, without a road between them. A circuit
    drives A' <-> B (node 2, 5 km off), 5 min each way; C (node 3, 5 km off) is 1 min from A by road.
    B and C are joined by a slow road so the network is one piece."""
    x_m, y_m = [0.0, 50.0, 5000.0, 0.0], [0.0, 0.0, 0.0, 5000.0]
    tails, heads, times_s = [1, 2, 0, 3, 2, 3], [2, 1, 3, 0, 3, 2], [300.0, 300.0, 60.0, 60.0, 1e5, 1e5]
    return network_from_edges(4, tails, heads, times_s, x_m=x_m, y_m=y_m)


def _circuit_scenario(tmp_path, network, dwell_min: float, delay: dict, units: list | None = None):
    sites = [site_at(network, 0, "a"), site_at(network, 1, "a_near"), site_at(network, 2, "b"),
             site_at(network, 3, "c")]
    units = units or [
        {"type": "car", "count": 1, "base": "a_near",
         "patrol": {"mode": "circuit", "route": ["a_near", "b"], "dwell_min": dwell_min}},
        {"type": "car", "count": 1, "base": "c", "patrol": {"mode": "post", "at": "c"}},
    ]
    data = base_scenario(sites, [FIGHT | {"sites": {"a": 1}}], units, hours=3000, reps=1,
                         detection={"report_delay_min": delay, "patrol_sight_m": 100})
    return scenario_file(tmp_path, data)


def test_a_circuit_detects_as_its_period_and_dwell_say(tmp_path, circuit_network):
    """Circuit A' -> B -> A', 5 min each way, dwell d: period T = 10 + 2d, at A' during [kT, kT + d].
    An incident at A at a uniform phase of the cycle is seen at once with probability d/T, else at the
    unit's next arrival, so its detection delay is 0 or uniform on (0, T - d): mean (T - d)^2 / (2T)."""
    dwell = 4.0
    period = 10.0 + 2 * dwell
    scenario = _circuit_scenario(tmp_path, circuit_network, dwell, {"dist": "fixed", "value": NEVER_MIN})
    world = build_world(scenario, circuit_network, cache_dir=tmp_path)
    rng = np.random.default_rng(12)
    n = 2000  # one incident per 4 periods, at a uniform phase: each is found before the next arises
    times = (np.arange(n) * 4 + rng.random(n)) * period
    rows = incident_rows(simulate(scenario, world, "plan", 0, incident_specs=_incidents(times, ["a"] * n)))
    assert {row["detected_by"] for row in rows} == {"patrol"}
    delay = np.array([row["report_delay_min"] for row in rows])
    share_at_once, mean_delay = dwell / period, (period - dwell) ** 2 / (2 * period)
    second_moment = (period - dwell) ** 3 / (3 * period)
    se_share = math.sqrt(share_at_once * (1 - share_at_once) / n)
    se_mean = math.sqrt((second_moment - mean_delay**2) / n)
    assert abs(np.mean(delay == 0.0) - share_at_once) <= 3 * se_share
    assert abs(delay.mean() - mean_delay) <= 3 * se_mean
    assert delay.max() <= period - dwell + 1e-9
    # dispatch starts at the report: the unit at C, 1 min from A, arrives a minute after it
    for row in rows:
        assert row["t_first_dispatch_min"] == row["t_reported_min"]
        assert row["t_first_arrival_min"] - row["t_reported_min"] == pytest.approx(1.0)
        assert row["response_min"] == pytest.approx(row["report_delay_min"] + 1.0)


def test_a_fixed_delay_reports_after_it_unless_a_unit_stands_in_sight(tmp_path, circuit_network):
    """report_delay_min fixed 7: at B, where no unit stands or passes, every incident is reported
    exactly 7 min after it arose, by the public; at C, where a unit stands on post, at once, by patrol."""
    units = [{"type": "car", "count": 1, "base": "c", "patrol": {"mode": "post", "at": "c"}}]
    scenario = _circuit_scenario(tmp_path, circuit_network, 0.0, {"dist": "fixed", "value": 7}, units)
    world = build_world(scenario, circuit_network, cache_dir=tmp_path)
    times = np.arange(30) * 5000.0 + 13.25  # far apart: the unit is back on post (~56 h there and back)
    sites = ["b", "c"] * 15
    rows = incident_rows(simulate(scenario, world, "plan", 0, incident_specs=_incidents(times, sites)))
    at_b, at_c = [r for r in rows if r["site"] == "b"], [r for r in rows if r["site"] == "c"]
    assert all(r["report_delay_min"] == 7.0 and r["detected_by"] == "public" for r in at_b)
    assert all(r["report_delay_min"] == 0.0 and r["detected_by"] == "patrol" for r in at_c)
    assert all(r["response_min"] == 0.0 for r in at_c)


def test_a_type_may_have_its_own_delay(tmp_path, circuit_network):
    scenario = _circuit_scenario(tmp_path, circuit_network, 0.0, {"dist": "fixed", "value": 7})
    data = dict(scenario.raw)
    data["disturbances"] = [dict(data["disturbances"][0], report_delay_min={"dist": "fixed", "value": 3})]
    own = scenario_file(tmp_path, data)
    delays, uniforms = presence_draws(own, _incidents([1.0, 2.0], ["a", "a"]), rep=0)
    assert delays.tolist() == [3.0, 3.0] and len(uniforms) == 0


# -- deterrence --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def post_network():
    """post (node 0) and other (node 1) 2 km apart, 10 min by road; hq (node 2) 300 m from other, 6 s."""
    return network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [600.0, 600.0, 6.0, 6.0],
                              x_m=[0.0, 2000.0, 2300.0], y_m=[0.0, 0.0, 0.0])


def _post_scenario(tmp_path, network, deterrence: dict | None, hq_unit: bool = True, on_scene_min: float = 0.0,
                   rate_per_hour: float = 3.0):
    sites = [site_at(network, 0, "post"), site_at(network, 1, "other"), site_at(network, 2, "hq")]
    units = [{"type": "car", "count": 1, "base": "post", "patrol": {"mode": "post", "at": "post"}},
             {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "post", "at": "hq"}}][:1 + hq_unit]
    disturbance = FIGHT | {"rate_per_hour": rate_per_hour, "sites": {"post": 1, "other": 1},
                           "on_scene_min": {"dist": "fixed", "value": on_scene_min}}
    extra = {} if deterrence is None else {"deterrence": deterrence}
    return scenario_file(tmp_path, base_scenario(sites, [disturbance], units, hours=400, reps=1, **extra))


def _standing_at(result, unit_index: int, node: int):
    """When the unit stands at ``node``, from its trace: between legs, after one that ended there."""
    legs = sorted((t.leg.t_start_min, t.t_end_min, int(t.leg.nodes[-1])) for t in result.units[unit_index].trace)

    def standing(t_min: float) -> bool:
        at = result.units[unit_index].base
        for start, end, dest in legs:
            if start <= t_min < end:
                return False
            if end <= t_min:
                at = dest
        return at == node

    return standing


@pytest.mark.parametrize("multiplier", [0.0, 0.5])
def test_a_posted_unit_deters_by_its_multiplier_and_leaves_other_sites_alone(tmp_path, post_network, multiplier):
    deterrence = {"radius_m": 200, "presence_multiplier": multiplier}
    scenario = _post_scenario(tmp_path, post_network, deterrence)
    plain = _post_scenario(tmp_path, post_network, None)
    world = build_world(scenario, post_network, cache_dir=tmp_path)
    result = simulate(scenario, world, "plan", 0, trace=True)
    rows = incident_rows(result)
    without = incident_rows(simulate(plain, build_world(plain, post_network, cache_dir=tmp_path), "plan", 0))
    # every plan sees the same candidates: deterrence only marks them
    assert [(r["incident_id"], r["t_created_min"], r["site"]) for r in rows] == \
        [(r["incident_id"], r["t_created_min"], r["site"]) for r in without]
    other = [r for r in rows if r["site"] == "other"]
    assert other and not any(r["deterred"] for r in other)
    assert all(r["counted"] and r["response_min"] is not None for r in other)
    _, uniforms = presence_draws(scenario, [i.spec for i in result.incidents], rep=0)
    standing = _standing_at(result, 0, world.site_node["post"])
    at_post = [(r, u) for r, u in zip(rows, uniforms) if r["site"] == "post" and standing(r["t_created_min"])]
    assert len(at_post) > 400
    for row, u in at_post:  # kept exactly when the candidate's own draw is below the multiplier
        assert row["deterred"] == int(not u < multiplier)
        assert (row["response_min"] is None) == bool(row["deterred"]) and row["counted"] == 1 - row["deterred"]
    kept = np.mean([1 - row["deterred"] for row, _ in at_post])
    assert abs(kept - multiplier) <= 3 * math.sqrt(0.25 / len(at_post))
    if multiplier == 0.0:
        assert kept == 0.0


def test_the_residual_effect_lasts_residual_min_after_the_unit_leaves(tmp_path, post_network):
    """presence 0, residual 0 for 30 min: a candidate at post is kept only when the unit has been
    away (driving, or 40 min on scene at other) for 30 min or more."""
    deterrence = {"radius_m": 200, "presence_multiplier": 0.0, "residual_min": 30, "residual_multiplier": 0.0}
    scenario = _post_scenario(tmp_path, post_network, deterrence, hq_unit=False, on_scene_min=40.0,
                              rate_per_hour=1.0)
    world = build_world(scenario, post_network, cache_dir=tmp_path)
    result = simulate(scenario, world, "plan", 0, trace=True)
    legs = sorted((t.leg.t_start_min, int(t.leg.nodes[0])) for t in result.units[0].trace)
    post = world.site_node["post"]
    standing = _standing_at(result, 0, post)
    seen = {"standing": 0, "residual": 0, "neither": 0}
    for row in incident_rows(result):
        if row["site"] != "post":
            continue
        left = [start for start, origin in legs if origin == post and start <= row["t_created_min"]]
        recent = bool(left) and row["t_created_min"] - left[-1] < 30.0
        case = "standing" if standing(row["t_created_min"]) else "residual" if recent else "neither"
        seen[case] += 1
        assert row["deterred"] == int(case != "neither"), case
    assert min(seen.values()) > 0, seen


# -- bounds and rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key, block, message", [
    ("deterrence", {"radius_m": 6000, "presence_multiplier": 0.5}, "less than or equal to 5000"),
    ("deterrence", {"radius_m": 100, "presence_multiplier": 1.5}, "less than or equal to 1"),
    ("detection", {"report_delay_min": {"dist": "fixed", "value": 7}, "patrol_sight_m": 1e9}, "5000"),
    ("detection", {"report_delay_min": {"dist": "fixed", "value": 1e7}}, "bound of 527,040"),
])
def test_numbers_beyond_their_bounds_are_refused(tmp_path, post_network, key, block, message):
    data = dict(_post_scenario(tmp_path, post_network, None).raw, **{key: block})
    with pytest.raises(InputError, match=message) as caught:
        scenario_file(tmp_path, data)
    assert key in str(caught.value)


def test_a_types_delay_needs_a_detection_block(tmp_path, post_network):
    data = dict(_post_scenario(tmp_path, post_network, None).raw)
    data["disturbances"] = [dict(data["disturbances"][0], report_delay_min={"dist": "fixed", "value": 3})]
    with pytest.raises(InputError, match="needs a 'detection' block"):
        scenario_file(tmp_path, data)


def test_load_scenario_reads_the_blocks(tmp_path, post_network):
    scenario = _post_scenario(tmp_path, post_network, {"radius_m": 200, "presence_multiplier": 0.3,
                                                       "residual_min": 60, "residual_multiplier": 0.7})
    assert scenario.deterrence.residual_multiplier == 0.7 and scenario.detection is None
    assert load_scenario(scenario.raw).deterrence == scenario.deterrence


# -- result files --------------------------------------------------------------------------------------

def test_result_files_carry_the_columns_and_figures_counted_by_hand(tmp_path):
    import csv
    from pathlib import Path

    from sim import Study

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "jember_pilkada_2024.yaml"
    blocks = {"detection": {"report_delay_min": {"dist": "exponential", "mean": 12}, "patrol_sight_m": 150},
              "deterrence": {"radius_m": 200, "presence_multiplier": 0.3, "residual_min": 60,
                             "residual_multiplier": 0.7}}
    study = Study(scenario, blocks)
    results = study.run(plans=["all-at-hq", "fixed-posts"], reps=2, hours=48)
    results.to_dir(tmp_path / "out", figures=False)
    read = {name: list(csv.DictReader((tmp_path / "out" / f"{name}.csv").open())) for name in ("incidents", "summary", "sites")}
    warmup_min = study.scenario.clock.warmup_hours * 60.0
    for summary in read["summary"]:
        rows = [r for r in read["incidents"] if r["plan"] == summary["plan"]]
        counted = [r for r in rows if r["counted"] == "1"]
        deterred = [r for r in rows if r["deterred"] == "1" and float(r["t_created_min"]) >= warmup_min]
        assert all(r["response_min"] == "" and r["t_reported_min"] == "" for r in rows if r["deterred"] == "1")
        assert int(summary["deterred"]) == len(deterred) > 0
        assert float(summary["deterred_pct"]) == pytest.approx(100 * len(deterred) / (len(deterred) + len(counted)),
                                                                abs=1e-4)
        patrol = sum(r["detected_by"] == "patrol" for r in counted)
        assert float(summary["detected_by_patrol_pct"]) == pytest.approx(100 * patrol / len(counted), abs=1e-4)
        per_rep = [np.mean([float(r["t_first_arrival_min"]) - float(r["t_reported_min"])
                            for r in counted if r["rep"] == rep]) for rep in ("0", "1")]
        assert float(summary["response_from_report_mean_min"]) == pytest.approx(np.mean(per_rep), abs=2e-3)
        for r in counted:  # response from creation = report delay + response from the report
            assert float(r["response_min"]) == pytest.approx(
                float(r["report_delay_min"]) + float(r["t_first_arrival_min"]) - float(r["t_reported_min"]), abs=2e-3)
        sites = [s for s in read["sites"] if s["plan"] == summary["plan"]]
        assert sum(int(s["deterred"]) for s in sites) == len(deterred)
    posts = {r["plan"]: int(r["deterred"]) for r in read["summary"]}
    assert posts["fixed-posts"] > posts["all-at-hq"]  # units standing at the sites deter there
    # the terminal table says how many were deterred, since the incident counts leave them out
    table = " ".join(results.table().split())
    summary = {r["plan"]: r for r in read["summary"]}
    assert ("candidate incidents deterred (not counted above): "
            f"all-at-hq {posts['all-at-hq']:,} ({float(summary['all-at-hq']['deterred_pct']):.1f}%); "
            f"fixed-posts {posts['fixed-posts']:,}") in table
    assert f"fixed-posts {float(summary['fixed-posts']['detected_by_patrol_pct']):.1f}% (" in table


# -- what trainers see -------------------------------------------------------------------------------

def test_the_animation_flashes_a_patrols_spotting_and_marks_deterred_candidates_faintly(tmp_path, post_network):
    """Deterred at post (a unit stands there, multiplier 0); spotted at once at other by the unit
    standing at hq, 300 m off (sight 400 m)."""
    from sim.viz.animate_frames import (DETERRED, DETERRED_OPACITY, FADE_MIN, FLASH_MIN, NOT_SHOWN, SPOTTED,
                                        build_frames, incident_states)

    data = dict(_post_scenario(tmp_path, post_network, {"radius_m": 200, "presence_multiplier": 0.0}).raw,
                detection={"report_delay_min": {"dist": "fixed", "value": 30}, "patrol_sight_m": 400})
    data["clock"] = dict(data["clock"], duration_hours=24)
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, post_network, cache_dir=tmp_path)
    result = simulate(scenario, world, "plan", 0, trace=True)
    deterred = [k for k, i in enumerate(result.incidents) if i.deterred]
    spotted = [k for k, i in enumerate(result.incidents) if i.detected_by == "patrol"]
    assert deterred and spotted and {result.incidents[k].spec.site for k in spotted} == {"other"}
    for k in deterred:
        t0 = result.incidents[k].spec.t_created_min
        state, opacity = incident_states(result, np.array([t0 + 0.1, t0 + FADE_MIN + 0.1]))
        assert state[k].tolist() == [DETERRED, NOT_SHOWN] and 0 < opacity[k, 0] <= DETERRED_OPACITY
    for k in spotted:
        t0 = result.incidents[k].t_reported_min
        state, _ = incident_states(result, np.array([t0 + 0.1, t0 + FLASH_MIN + 0.1]))
        assert state[k, 0] == SPOTTED and state[k, 1] != SPOTTED
    frames = build_frames(scenario, world, result, np.arange(0.0, 24 * 60.0), 1.0, 1.4)
    assert frames.incident_labels[DETERRED] and frames.incident_labels[SPOTTED]
    assert frames.figures["waiting"].max() <= 1  # deterred candidates wait for nobody


def test_the_map_reads_the_deterred_share_of_sites_csv():
    from sim.i18n import messages
    from sim.viz.map_results import DETERRED_MAX_ALPHA, deterred_alpha, has_deterrence, result_text, site_results

    row = {"plan": "p", "site": "s", "incidents": "4", "response_mean_min": "5", "response_p90_min": "9",
           "within_target_pct": "75", "within_target_ci95": ""}
    plain = site_results([row], "p")
    assert not has_deterrence(plain) and deterred_alpha(plain["s"]) == 0.0
    shaded = site_results([row | {"deterred_pct": "50.0"}], "p")
    assert has_deterrence(shaded) and deterred_alpha(shaded["s"]) == pytest.approx(DETERRED_MAX_ALPHA / 2)
    assert "50% of candidates deterred" in result_text(shaded["s"], 15, messages("en"))
