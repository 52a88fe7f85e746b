"""Animations: GIF files, the movement trace they draw, the HTML page in a real browser, bad input."""
from __future__ import annotations

import dataclasses
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageSequence

from sim.cli import main
from sim.config import load_scenario
from sim.model import build_world, simulate
from sim.viz.animate_frames import (
    ON_SCENE,
    STANDING,
    TO_INCIDENT,
    build_frames,
    frame_count,
    frame_times_min,
    unit_positions,
    unit_targets,
)
from sim.viz.animate_gif import gif_map_aspect, write_gif
from tests.browser import chromium_driver, js_errors
from tests.graphs import random_grid_network

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
EPS_M = 1e-6


def _site(network, node: int, site_id: str) -> dict:
    return {"id": site_id, "name": f"Site {site_id}", "kind": "crowd_point", "lat": float(network.lat[node]),
            "lon": float(network.lon[node]), "approximate": False}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 12 x 12 street grid, a busy scenario on it, and one traced replication."""
    network = random_grid_network(12, 12, seed=3)
    corners = {"hq": 0, "north": network.n_nodes - 1, "east": 11, "west": network.n_nodes - 12, "mid": network.n_nodes // 2}
    data = {
        "name": "grid-test",
        "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T09:00", "duration_hours": 1.0, "warmup_hours": 0},
        "replications": 1,
        "seed": 11,
        "target_response_min": 5,
        "sites": [_site(network, node, site) for site, node in corners.items()],
        "disturbances": [{"type": "provocation", "rate_per_hour": 8.0, "sites": "all",
                          "on_scene_min": {"dist": "fixed", "value": 6}, "units_required": 1, "priority": 1}],
        "unit_types": {"car": {"agency": "Polri", "speed_factor": 1.0},
                       "slow_car": {"agency": "Satpol PP", "speed_factor": 0.8}},
        "plans": [{"name": "mixed", "units": [
            {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "circuit", "route": ["north", "east", "west"],
                                                                  "dwell_min": 2}},
            {"type": "slow_car", "count": 1, "base": "hq", "patrol": {"mode": "random", "dwell_min": 1}},
            {"type": "car", "count": 1, "base": "mid", "patrol": {"mode": "base"}},
        ]}],
        "dispatch": {"policy": "nearest", "queue": "fifo", "after_service": "return_to_base"},
    }
    path = tmp_path_factory.mktemp("grid") / "grid.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = load_scenario(path)
    world = build_world(scenario, network, cache_dir=tmp_path_factory.mktemp("tables"))
    result = simulate(scenario, world, "mixed", 0, trace=True)
    assert len(result.incidents) >= 3, "the scenario should keep the units busy"
    return scenario, world, result


# -- GIF ---------------------------------------------------------------------------------------


def test_gif_has_the_asked_size_and_one_frame_per_sampled_minute(grid, tmp_path):
    scenario, world, result = grid
    hours, frames_per_min, fps, size_px = 1.0, 2.0, 20.0, (480, 360)
    times = frame_times_min(hours, frames_per_min)
    frames = build_frames(scenario, world, result, times, frames_per_min, gif_map_aspect(size_px))
    out = tmp_path / "grid.gif"
    write_gif(frames, out, fps, size_px)

    with Image.open(out) as gif:
        assert gif.size == size_px
        decoded = [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]
        durations_ms = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations_ms.append(gif.info["duration"])
        comment = gif.info.get("comment", b"").decode()
    # Frame k shows minute k / frames_per_min for k < hours * 60 * frames_per_min: start shown, end not.
    assert frame_count(hours, frames_per_min) == 120
    assert len(decoded) == 120
    assert sum(durations_ms) == pytest.approx(120 / fps * 1000.0)
    assert np.asarray(decoded[60], dtype=float).std() > 10.0, "a frame is blank"
    # Units move: frames differ over time even where identical pixels would be merged by an encoder.
    assert any(not np.array_equal(np.asarray(decoded[0]), np.asarray(frame)) for frame in decoded[1:])
    assert "synthetic road network" in comment


def test_a_failed_gif_leaves_no_file_behind(grid, tmp_path):
    scenario, world, result = grid
    frames = build_frames(scenario, world, result, frame_times_min(0.5, 2.0), 2.0, gif_map_aspect((320, 240)))
    # A state code with no colour fails while drawing the last frame, after the others were written.
    broken_state = frames.unit_state.copy()
    broken_state[0, -1] = 99
    out = tmp_path / "broken.gif"
    with pytest.raises(IndexError):
        write_gif(dataclasses.replace(frames, unit_state=broken_state), out, 20.0, (320, 240))
    assert list(tmp_path.iterdir()) == []


# -- the movement trace -----------------------------------------------------------------------


def _distance_to_segments_m(px: float, py: float, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> float:
    """Shortest distance (m) from a point to any of the segments a->b."""
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    f = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
    return float(np.min(np.hypot(ax + f * dx - px, ay + f * dy - py)))


def test_traced_positions_stay_on_the_route_at_a_possible_speed(grid):
    scenario, world, result = grid
    network = world.network
    dt_min = 0.05
    times = np.arange(0.0, result.end_min, dt_min)
    x_m, y_m, state = unit_positions(result, network, times)
    max_speed_m_per_min = float(np.max(network.length_m / network.travel_time_s)) * 60.0

    for u, unit in enumerate(result.units):
        assert unit.trace, f"{unit.unit_id} never drove"
        # Before its first leg a unit stands at its base.
        assert (x_m[u, 0], y_m[u, 0]) == (network.x_m[unit.base], network.y_m[unit.base])
        # The legs it drove, and the one it was still driving when the run stopped.
        legs = [traced.leg for traced in unit.trace] + ([unit.leg] if unit.leg is not None else [])
        route_pairs = np.concatenate([np.column_stack([leg.nodes[:-1], leg.nodes[1:]]) for leg in legs])
        a, b = route_pairs[:, 0], route_pairs[:, 1]
        for t in range(len(times)):
            distance = _distance_to_segments_m(x_m[u, t], y_m[u, t], network.x_m[a], network.y_m[a],
                                               network.x_m[b], network.y_m[b])
            assert distance < EPS_M, f"{unit.unit_id} off its route at {times[t]:.2f} min"
        step_m = np.hypot(np.diff(x_m[u]), np.diff(y_m[u]))
        allowed_m = max_speed_m_per_min * unit.speed_factor * dt_min + EPS_M
        assert step_m.max() <= allowed_m, f"{unit.unit_id} moved {step_m.max():.1f} m in {dt_min} min"
        assert (state[u] != STANDING).any()


def test_units_on_scene_are_at_their_incident_and_dispatch_lines_lead_there(grid):
    scenario, world, result = grid
    network = world.network
    times = np.arange(0.0, result.end_min, 0.1)
    x_m, y_m, state = unit_positions(result, network, times)
    target = unit_targets(result, times)
    assert (state == ON_SCENE).any() and (state == TO_INCIDENT).any()
    by_id = {incident.spec.incident_id: incident for incident in result.incidents}
    for u, unit in enumerate(result.units):
        for job in unit.stats.jobs:
            node = world.site_node[by_id[job.incident_id].spec.site]
            on_scene = (times >= job.t_arrival_min) & (times < job.t_leave_min)
            assert (state[u, on_scene] == ON_SCENE).all()
            assert np.allclose(x_m[u, on_scene], network.x_m[node]) and np.allclose(y_m[u, on_scene], network.y_m[node])
            driving = (times >= job.t_dispatch_min) & (times < job.t_arrival_min)
            assert [result.incidents[i].spec.incident_id for i in target[u, driving]] == [job.incident_id] * driving.sum()
    # A dispatch line is drawn exactly while a unit drives to an incident.
    assert ((target >= 0) == (state == TO_INCIDENT)).all()


# -- the demo network, end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory):
    """The default scenario animated as HTML on the demo network, through the command line."""
    saved = os.environ.get("PATROLSIM_CACHE")
    os.environ["PATROLSIM_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        out = tmp_path_factory.mktemp("html") / "joint.html"
        # Half an hour from midnight: shorter than the scenario's warm-up, which must then not fail.
        code = main(["animate", str(DEFAULT_SCENARIO), "--plan", "joint-circuit", "--hours", "0.5",
                     "--out", str(out), "--network", "demo"])
        assert code == 0
        yield out
    finally:
        if saved is None:
            os.environ.pop("PATROLSIM_CACHE", None)
        else:
            os.environ["PATROLSIM_CACHE"] = saved


def test_html_is_self_contained_and_says_the_network_is_synthetic(demo_html):
    page = demo_html.read_text(encoding="utf-8")
    assert "synthetic road network" in page
    for outside in ("http://", "https://", "<script src", "<link "):
        assert outside not in page


def test_html_plays_in_a_real_browser(demo_html):
    with chromium_driver() as driver:
        driver.get(demo_html.as_uri())
        assert js_errors(driver) == []
        screenshot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L"), dtype=float)
        assert screenshot.std() > 10.0, "the page looks blank"
        assert "synthetic road network" in driver.find_element("id", "note").text
        clock = driver.find_element("id", "clock")
        before = clock.text
        assert before.startswith("Wed 23 Oct 2024 00:00")
        driver.find_element("id", "play").click()
        time.sleep(1.0)
        assert clock.text != before, "pressing play did not advance the clock"
        assert js_errors(driver) == []


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--plan", "joint-circuits", "--hours", "1", "--out", "a.gif"], "did you mean 'joint-circuit'"),
        (["--plan", "joint-circuit", "--hours", "0", "--out", "a.gif"], "--hours"),
        (["--plan", "joint-circuit", "--hours", "-2", "--out", "a.html"], "--hours"),
        (["--plan", "joint-circuit", "--hours", "1", "--out", "a.mp4"], "FILE.gif or FILE.html"),
        (["--plan", "joint-circuit", "--hours", "1", "--out", "a.gif", "--fps", "0"], "--fps"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, capsys, flags, words):
    out_dir = tmp_path / "out"
    flags = [str(out_dir / f) if f.startswith("a.") else f for f in flags]
    code = main(["animate", str(DEFAULT_SCENARIO), *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
