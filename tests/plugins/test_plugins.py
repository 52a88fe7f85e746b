"""The plug-in points: every registered patrol mode, distribution, dispatch policy and queue
discipline is accepted by the scenario schema and does what it says on a real world."""
from __future__ import annotations

import pytest

from sim.config import load_scenario
from sim.errors import InputError
from sim.model import build_world, incident_rows, simulate
from sim.plugins.dispatch import POLICIES, QUEUE_DISCIPLINES
from sim.plugins.patrols import PATROL_MODES
from tests.builders import base_scenario, site_at
from tests.graphs import network_from_edges

#: One example per registered mode, with what a unit of it does: (patrol block, standing site,
#: sites visited). Adding a mode to sim/plugins/patrols.py means adding its example here.
MODE_EXAMPLES = {
    "post": ({"mode": "post", "at": "b"}, "b", ("b",)),
    "base": ({"mode": "base"}, "a", ("a",)),
    "circuit": ({"mode": "circuit", "route": ["b", "c"], "dwell_min": 5}, None, ("b", "c")),
    "random": ({"mode": "random", "sites": ["c", "b"], "dwell_min": 5}, None, ("c", "b")),
}


@pytest.fixture(scope="module")
def line():
    """0 - 1 - 2 both ways: 60 s between 0 and 1, 30 s between 1 and 2."""
    return network_from_edges(3, [0, 1, 1, 2], [1, 0, 2, 1], [60.0, 60.0, 30.0, 30.0])


def _scenario(line, units, unit_types=None, **extra):
    data = base_scenario(
        sites=[site_at(line, 0, "a"), site_at(line, 1, "b"), site_at(line, 2, "c")],
        disturbances=[{"type": "fight", "rate_per_hour": 1.0, "sites": {"a": 1},
                       "on_scene_min": {"dist": "fixed", "value": 10}, "priority": 1}],
        units=units, hours=2, reps=1, **extra)
    if unit_types:
        data["unit_types"] = unit_types
    return load_scenario(data)


def test_every_registered_mode_has_an_example_here() -> None:
    assert set(MODE_EXAMPLES) == set(PATROL_MODES)


@pytest.mark.parametrize("mode", sorted(MODE_EXAMPLES))
def test_each_mode_is_read_resolved_and_says_where_its_units_are(tmp_path, line, mode) -> None:
    block, standing, visited = MODE_EXAMPLES[mode]
    scenario = _scenario(line, [{"type": "car", "count": 1, "base": "a", "patrol": block}])
    group = scenario.plans[0].units[0]
    world = build_world(scenario, line, cache_dir=tmp_path)
    assert group.patrol.standing_site(group.base) == standing
    assert group.patrol.sites_visited(group.base, world.places) == visited
    route = world.route(group)
    assert route.mode == mode
    assert set(route.stops) <= {world.site_node[s] for s in visited}
    (unit,) = [row for row in simulate(scenario, world, "plan", 0).units]
    assert unit.patrol.mode == mode


def test_a_random_patrol_over_road_nodes_draws_its_pool_within_the_radius(tmp_path, line) -> None:
    scenario = _scenario(line, [{"type": "car", "count": 1, "base": "a",
                                 "patrol": {"mode": "random", "road_nodes": 2, "radius_km": 50}}])
    world = build_world(scenario, line, cache_dir=tmp_path)
    group = scenario.plans[0].units[0]
    pool = world.route(group).stops
    assert len(pool) == 2 and len(set(pool)) == 2
    assert world.places.road_pool(world.site_node["a"], 2, 50.0) == pool  # same key, same pool


def test_dispatch_and_queue_choices_come_from_the_registries(line) -> None:
    unit = [{"type": "car", "count": 1, "base": "a", "patrol": {"mode": "base"}}]
    for policy in POLICIES:
        for queue in QUEUE_DISCIPLINES:
            dispatch = {"policy": policy, "queue": queue, "after_service": "resume"}
            assert _scenario(line, unit, dispatch=dispatch).dispatch.policy == policy
    with pytest.raises(InputError, match="dispatch.policy: input should be 'nearest' or 'coverage', got 'closest'"):
        _scenario(line, unit, dispatch={"policy": "closest"})


def test_nearest_weighs_each_units_speed(tmp_path, line) -> None:
    """A slow car 60 s of road away (at 0.4 of road speed: 2.5 min) against a fast car 90 s away
    (1.5 min): the fast one is sent, and arrives after 1.5 min."""
    types = {"car": {"agency": "Polri", "speed_factor": 1.0}, "slow_car": {"agency": "Satpol PP", "speed_factor": 0.4}}
    units = [{"type": "slow_car", "count": 1, "base": "b", "patrol": {"mode": "base"}},
             {"type": "car", "count": 1, "base": "c", "patrol": {"mode": "base"}}]
    scenario = _scenario(line, units, unit_types=types)
    result = simulate(scenario, build_world(scenario, line, cache_dir=tmp_path), "plan", 0)
    first = incident_rows(result)[0]
    assert first["travel_min"] == pytest.approx(1.5)
    assert result.incidents[0].unit_ids == ["car-1"]
