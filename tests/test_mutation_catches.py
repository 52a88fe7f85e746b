"""Tests that catch the small deliberate bugs a mutation run slipped past the suite (issue #15).

Each answer is computed independently of the code under test: by hand from the scenario, from
the documented random-stream contract, or by another algorithm (networkx for travel times).
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from sim.model import build_world, simulate
from sim.model.incidents import IncidentSpec, Stage
from sim.model.records import incident_rows, unit_rows
from sim.streams import STREAM_ON_SCENE, stream
from tests.builders import base_scenario, digraph_from_network, scenario_file, site_at
from tests.graphs import network_from_edges

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"


def fixed(minutes: float) -> dict:
    return {"dist": "fixed", "value": minutes}


# -- the hour-of-day profile ------------------------------------------------------------------------------


def test_incidents_per_hour_of_day_follow_rate_times_profile(tmp_path):
    """360 days at 3 incidents an hour times a profile with quiet, zero and busy hours: the count
    in each hour of the day is Poisson with mean rate x profile[h] x 360."""
    line = network_from_edges(2, [0, 1], [1, 0], [10.0, 10.0])
    profile = [0.0, 0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 1.0, 0.5, 0.5, 0.5,
               1.5, 1.5, 0.5, 0.5, 1.0, 2.5, 3.0, 2.0, 1.0, 0.5, 0.2, 0.0]
    rate, days = 3.0, 360
    data = base_scenario([site_at(line, 0, "square")],
                         [{"type": "fight", "rate_per_hour": rate, "sites": "all", "hourly_profile": profile,
                           "on_scene_min": fixed(0.5), "priority": 1}],
                         [{"type": "car", "count": 3, "base": "square", "patrol": {"mode": "post", "at": "square"}}],
                         hours=24 * days, reps=1)
    data["clock"]["start"] = "2024-10-23T05:00"  # the clock's hour 0 is 05:00
    scenario = scenario_file(tmp_path, data)
    result = simulate(scenario, build_world(scenario, line, cache_dir=tmp_path), "plan", 0)
    counts = np.zeros(24, int)
    for row in incident_rows(result):
        counts[int((5 * 60 + row["t_created_min"]) // 60) % 24] += 1
    for hour, value in enumerate(profile):
        expected = rate * value * days
        if expected == 0:
            assert counts[hour] == 0, f"{hour:02d}:00 has a profile of 0 but {counts[hour]} incidents"
            continue
        # Two-sided Poisson interval at 1 - 1e-4 per hour (about 0.2% for all 24 at once).
        low, high = stats.poisson.ppf([0.5e-4, 1 - 0.5e-4], expected)
        assert low <= counts[hour] <= high, f"{hour:02d}:00: {counts[hour]} incidents, expected {expected:.0f}"


# -- common random numbers for every drawn quantity ----------------------------------------------------------


def test_every_drawn_on_scene_time_is_the_same_whatever_the_fleet(tmp_path):
    """Replication k of a one-car plan and of a six-car plan: the same incidents, and each
    incident's on-scene time is the draw the stream contract gives for its final stage
    (docs/design.md: stream (rep, 2, t) draws every stage of type t's incidents at creation)."""
    line = network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [120.0] * 4, x_m=np.array([0.0, 1000.0, 2000.0]))
    sites = [site_at(line, 0, "hq", "police_hq"), site_at(line, 2, "market")]
    disturbances = [
        {"type": "provocation", "rate_per_hour": 1.2, "sites": {"market": 1},
         "on_scene_min": {"dist": "lognormal", "mean": 30, "sd": 15}, "priority": 2,
         "escalation": {"after_min": 3, "to": "unrest"}},
        {"type": "unrest", "rate_per_hour": 0.3, "sites": "all",
         "on_scene_min": {"dist": "triangular", "low": 20, "mode": 40, "high": 90}, "priority": 1},
    ]
    data = base_scenario(sites, disturbances,
                         [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}], hours=72, reps=2)
    data["plans"].append({"name": "six", "units": [{"type": "car", "count": 6, "base": "hq", "patrol": {"mode": "base"}}]})
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, line, cache_dir=tmp_path)
    dists = {d.type: d.on_scene_min for d in scenario.disturbances}
    chain = {"provocation": ["provocation", "unrest"], "unrest": ["unrest"]}
    for rep in range(2):
        by_plan = {plan: incident_rows(simulate(scenario, world, plan, rep)) for plan in ("plan", "six")}
        one, six = by_plan["plan"], by_plan["six"]
        assert [(r["incident_id"], r["type"], r["site"], r["t_created_min"]) for r in one] == \
               [(r["incident_id"], r["type"], r["site"], r["t_created_min"]) for r in six]
        assert sum(r["escalated"] for r in one) > sum(r["escalated"] for r in six) >= 0
        # By hand from the contract: per created type, a stream; per incident, one draw per stage.
        drawn: dict[int, dict[str, float]] = {}
        for t, created in enumerate(("provocation", "unrest")):
            rng = stream(scenario.seed, rep, STREAM_ON_SCENE, t)
            for row in (r for r in one if r["type"] == created):
                drawn[row["incident_id"]] = {stage: float(dists[stage].sample(rng)) for stage in chain[created]}
        for rows in (one, six):
            for row in rows:
                final = row["escalated_to"] or row["type"]
                assert row["on_scene_min"] == drawn[row["incident_id"]][final]


# -- escalation timing ----------------------------------------------------------------------------------------


def test_an_escalation_timer_runs_from_the_present_stage_not_from_creation(tmp_path):
    """The one car is 25 minutes away. A provocation unanswered 10 minutes becomes unrest, and
    unrest unanswered 20 more minutes (30 after creation) a riot: the car, on scene at 25
    minutes, finds unrest. Counted from creation, the riot would come at 20 minutes."""
    line = network_from_edges(2, [0, 1], [1, 0], [1500.0, 1500.0], x_m=np.array([0.0, 20000.0]))
    data = base_scenario([site_at(line, 0, "hq", "police_hq"), site_at(line, 1, "village")],
                         [{"type": "provocation", "rate_per_hour": 0.0, "sites": "all", "on_scene_min": fixed(5),
                           "priority": 3, "escalation": {"after_min": 10, "to": "unrest"}},
                          {"type": "unrest", "rate_per_hour": 0.0, "sites": "all", "on_scene_min": fixed(20),
                           "priority": 2, "escalation": {"after_min": 20, "to": "riot"}},
                          {"type": "riot", "rate_per_hour": 0.0, "sites": "all", "on_scene_min": fixed(40),
                           "priority": 1}],
                         [{"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "base"}}], hours=24, reps=1)
    scenario = scenario_file(tmp_path, data)
    world = build_world(scenario, line, cache_dir=tmp_path)
    stages = (Stage("provocation", 3, 1, 5.0, 10.0), Stage("unrest", 2, 1, 20.0, 20.0), Stage("riot", 1, 1, 40.0, None))
    specs = [IncidentSpec(1, "village", 60.0, stages),                       # car at base: 25 min away
             IncidentSpec(2, "village", 600.0, stages[1:]),                  # created as unrest: riot at 20 < 25
             IncidentSpec(3, "hq", 900.0, stages)]                           # car at base: 0 min away
    rows = {r["incident_id"]: r for r in incident_rows(simulate(scenario, world, "plan", 0, incident_specs=specs))}
    assert rows[1]["response_min"] == pytest.approx(25.0)
    assert (rows[1]["escalated_to"], rows[1]["priority"], rows[1]["on_scene_min"]) == ("unrest", 2, 20.0)
    assert (rows[2]["escalated_to"], rows[2]["on_scene_min"]) == ("riot", 40.0)
    assert (rows[3]["escalated"], rows[3]["escalated_to"]) == (0, "")


def one_posted_car(tmp_path, network, sites: list[dict], post: str, hours: float, **dispatch: str):
    """A scenario of one car based at the first site and posted at ``post``, whose incidents the
    test gives (the one type's rate is 0), with ``dispatch`` settings; and its world."""
    data = base_scenario(sites, [{"type": "fight", "rate_per_hour": 0.0, "sites": "all", "on_scene_min": fixed(10),
                                  "priority": 1}],
                         [{"type": "car", "count": 1, "base": sites[0]["id"], "patrol": {"mode": "post", "at": post}}],
                         hours=hours, reps=1)
    data["dispatch"].update(dispatch)
    scenario = scenario_file(tmp_path, data)
    return scenario, build_world(scenario, network, cache_dir=tmp_path)


# -- after service ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("after_service, km_per_job", [("resume", 4 + 4), ("return_to_base", 4 + 1 + 5)])
def test_after_service_the_unit_resumes_or_drives_back_to_base_first(tmp_path, after_service, km_per_job):
    """Base at 0 km, post at 5 km, incidents at 1 km. After a job the car drives back to its post
    (4 km), or to base and then out to its post (1 + 5 km); it first drove base -> post (5 km)."""
    line = network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [60.0, 60.0, 240.0, 240.0],
                              x_m=np.array([0.0, 1000.0, 5000.0]))
    sites = [site_at(line, 0, "hq", "police_hq"), site_at(line, 1, "market"), site_at(line, 2, "post")]
    scenario, world = one_posted_car(tmp_path, line, sites, "post", 48, after_service=after_service)
    fight = (Stage("fight", 1, 1, 15.0, None),)
    specs = [IncidentSpec(k + 1, "market", 120.0 + 300.0 * k, fight) for k in range(7)]  # far apart
    result = simulate(scenario, world, "plan", 0, incident_specs=specs)
    rows = incident_rows(result)
    assert all(r["travel_min"] == pytest.approx(4.0) for r in rows), "each job starts from the post"
    assert unit_rows(result)[0]["km_driven"] == pytest.approx(5 + 7 * km_per_job)


# -- queue disciplines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue, order", [("priority", [2, 4, 3, 1, 5]), ("fifo", [1, 2, 3, 4, 5])])
def test_waiting_incidents_are_served_in_the_order_of_the_queue_discipline(tmp_path, queue, order):
    """The one posted car is busy 30 minutes from minute 0; five incidents arrive meanwhile with
    priorities 3, 1, 2, 1, 3. Each job lasts 10 minutes on the spot, so the k-th served is sent at
    30 + 10 (k - 1): most urgent first then oldest, or strictly oldest first."""
    line = network_from_edges(2, [0, 1], [1, 0], [10.0, 10.0])
    scenario, world = one_posted_car(tmp_path, line, [site_at(line, 0, "square")], "square", 3, queue=queue)
    specs = [IncidentSpec(0, "square", 0.0, (Stage("long", 1, 1, 30.0, None),))] + [
        IncidentSpec(k, "square", float(k), (Stage("fight", p, 1, 10.0, None),))
        for k, p in zip(range(1, 6), (3, 1, 2, 1, 3))]
    rows = {r["incident_id"]: r for r in incident_rows(simulate(scenario, world, "plan", 0, incident_specs=specs))}
    for k, incident in enumerate(order):
        assert rows[incident]["t_first_dispatch_min"] == pytest.approx(30.0 + 10.0 * k), incident


# -- resume reuses what is finished --------------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_does_not_rewrite_finished_replications(cache, tmp_path):
    from tests.commands import in_process as cli
    out = tmp_path / "out"
    args = ["run", str(SCENARIO), "--hours", "24", "--workers", "1", "--out", str(out)]
    assert cli(*args, "--reps", "3", "--keep-parts").returncode == 0  # kept for --resume to add to
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
              for p in (out / ".parts").glob("plan*.json")}
    assert len(before) == 15
    resumed = cli(*args, "--reps", "5", "--resume", "--keep-parts")
    assert resumed.returncode == 0, resumed.stderr
    after = {p.name: p for p in (out / ".parts").glob("plan*.json")}
    assert len(after) == 25
    for name, (inode, mtime_ns, content) in before.items():
        stat = after[name].stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (inode, mtime_ns), f"{name} was written again"
        assert after[name].read_bytes() == content
    reference = tmp_path / "reference"
    assert cli(*args[:-1], str(reference), "--reps", "5").returncode == 0
    for name in ("incidents.csv", "summary.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes()


# -- one more unit -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_extra_car_of_a_plan_is_dispatched_and_shortens_responses(cache):
    """Under four times the provocation rate, a plan and its copy with one more car at Polres:
    the extra car serves incidents, and the paired 95% interval of the difference in mean response
    lies below zero."""
    from sim import Study

    study = Study(SCENARIO, {"disturbances.provocation.rate_per_hour": 1.0})
    mixed = study.plan_data("mixed")
    extra = {"type": "polri_car", "count": 1, "base": "polres", "patrol": {"mode": "base"}}
    study = study.with_plan(dict(mixed, name="mixed-plus-car", units=[*mixed["units"], extra]))
    res = study.run(plans=["mixed", "mixed-plus-car"], reps=10, hours=168, workers=2)
    units = res.units
    new_unit = set(units[units.plan == "mixed-plus-car"].unit_id) - set(units[units.plan == "mixed"].unit_id)
    assert new_unit == {"polri_car-5"}
    assert units[units.unit_id.isin(new_unit)].incidents_served.sum() > 0
    row = res.comparison.set_index("plan").loc["mixed-plus-car"]
    assert row.response_diff_min + row.response_diff_ci95 < 0  # the interval's upper end
    assert row.verdict == "better"


# -- the map's bands and colours ----------------------------------------------------------------------------------------


BANDS_MIN = (5.0, 10.0, 15.0, 20.0)


@pytest.fixture(scope="module")
def demo(demo_world):
    return demo_world


def independent_node_minutes(world, spots) -> np.ndarray:
    """Minutes from the nearest unit position to every node, by networkx's Dijkstra."""
    graph = digraph_from_network(world.network)
    best = np.full(world.network.n_nodes, np.inf)
    for spot in spots:
        seconds = nx.multi_source_dijkstra_path_length(graph, set(spot.nodes), weight="travel_time")
        for node, s in seconds.items():
            best[node] = min(best[node], s / 60.0 / spot.speed_factor)
    return best


def test_the_html_map_embeds_each_nodes_band_from_its_travel_time(demo, tmp_path):
    from sim.viz.coverage import plan_spots
    from sim.viz.map_html import draw_map_html

    scenario, world = demo
    out = tmp_path / "map.html"
    result = draw_map_html(scenario, world, ["mixed"], out, BANDS_MIN)
    page = out.read_text(encoding="utf-8")
    start = page.index('<script id="map-data" type="application/json"')
    data = json.loads(page[page.index(">", start) + 1:page.index("</script>", start)].replace("<\\/", "</"))
    minutes = independent_node_minutes(world, plan_spots(scenario, world, "mixed"))
    expected = "".join(str(sum(m > b for b in BANDS_MIN)) for m in minutes)
    assert data["plans"][0]["band"] == expected
    assert len(set(expected)) == len(BANDS_MIN) + 1, "every band has roads: a map of one band cannot pass"
    assert len(set(data["band_colours"])) == len(BANDS_MIN) + 1
    # The legend's road share is the covered length computed from the same independent minutes.
    network = world.network
    covered = network.length_m[minutes[network.indices] <= scenario.target_response_min].sum()
    total = network.length_m.sum()
    assert f"{covered / total:.1%} ({covered / 1000:,.0f} of {total / 1000:,.0f} km" in result.legend[1]


def colour_pixels(pixels: np.ndarray, colours) -> dict[str, int]:
    """Pixels within 4% of each colour (antialiased edges aside)."""
    found = {}
    for colour in colours:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
        found[colour] = int((np.abs(pixels[..., :3] - rgb).max(axis=2) < 0.04).sum())
    return found


# A legend swatch is at most a few hundred pixels; a band's roads are thousands.
ROAD_PIXELS = 1000


@pytest.mark.slow
def test_the_png_map_draws_roads_in_every_band_colour(demo, tmp_path):
    import matplotlib.image

    from sim.viz.map_png import draw_map_png
    from sim.viz.map_style import BEYOND_COLOUR
    from sim.viz.palette import band_colours

    scenario, world = demo
    draw_map_png(scenario, world, ["mixed"], tmp_path / "map.png", BANDS_MIN)
    colours = band_colours(BANDS_MIN, scenario.target_response_min) + [BEYOND_COLOUR]
    counts = colour_pixels(matplotlib.image.imread(tmp_path / "map.png"), colours)
    assert all(n > ROAD_PIXELS for n in counts.values()), counts


@pytest.mark.slow
def test_the_html_map_in_a_browser_draws_roads_in_every_band_colour(demo, tmp_path):
    import matplotlib.image

    from sim.viz.map_html import draw_map_html
    from sim.viz.map_style import BEYOND_COLOUR
    from sim.viz.palette import band_colours
    from tests.browser import chromium_driver, js_errors

    scenario, world = demo
    out = tmp_path / "map.html"
    draw_map_html(scenario, world, ["mixed"], out, BANDS_MIN)
    with chromium_driver(1280, 900) as driver:
        driver.get(out.as_uri())
        assert js_errors(driver) == []
        driver.save_screenshot(str(tmp_path / "page.png"))
    colours = band_colours(BANDS_MIN, scenario.target_response_min) + [BEYOND_COLOUR]
    counts = colour_pixels(matplotlib.image.imread(tmp_path / "page.png"), colours)
    assert all(n > ROAD_PIXELS for n in counts.values()), counts
