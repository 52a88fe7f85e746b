"""Animations: GIF files, the movement trace they draw, the HTML page in a real browser, bad input."""
from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageSequence

from sim.i18n import messages
from sim.cli import main
from sim.cli.animate import no_incident_hint
from sim.cli.common import count_text
from sim.config import load_scenario
from sim.model import build_world, simulate
from sim.viz.animate_frames import (
    ON_SCENE,
    STANDING,
    TO_INCIDENT,
    build_frames,
    stacked_markers,
    frame_count,
    frame_times_min,
    unit_positions,
    unit_targets,
)
from sim.viz.animate_gif import GIF_LABELS, gif_map_aspect, gif_picture, write_gif
from sim.viz.animate_html import write_html
from sim.viz.animate_map import SiteMark
from sim.viz.animate_paint import MarkerSizes
from tests.animation_checks import attached, gif_labels_attached, label_bounds
from tests.browser import chromium_driver, js_errors
from tests.graphs import random_grid_network

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
EPS_M = 1e-6


def _site(network, node: int, site_id: str) -> dict:
    return {"id": site_id, "name": f"Site {site_id}", "kind": "crowd_point", "lat": float(network.lat[node]),
            "lon": float(network.lon[node]), "approximate": False}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 12 x 12 street grid, a busy scenario on it, and one traced replication."""
    disturbance = {"type": "provocation", "rate_per_hour": 8.0, "sites": "all",
                   "on_scene_min": {"dist": "fixed", "value": 6}, "units_required": 1, "priority": 1}
    unit_types = {"car": {"agency": "Polri", "speed_factor": 1.0}, "slow_car": {"agency": "Satpol PP", "speed_factor": 0.8}}
    units = [
        {"type": "car", "count": 1, "base": "hq", "patrol": {"mode": "circuit", "route": ["north", "east", "west"],
                                                              "dwell_min": 2}},
        {"type": "slow_car", "count": 1, "base": "hq", "patrol": {"mode": "random", "dwell_min": 1}},
        {"type": "car", "count": 1, "base": "mid", "patrol": {"mode": "base"}},
    ]
    scenario, world, result = _traced_grid_run(tmp_path_factory, "grid-test", 1.0, disturbance, unit_types, "mixed", units)
    assert len(result.incidents) >= 3, "the scenario should keep the units busy"
    return scenario, world, result


def _traced_grid_run(tmp_path_factory, name: str, hours: float, disturbance: dict, unit_types: dict, plan: str,
                     units: list[dict]):
    """One traced replication of a one-plan scenario on a 12 x 12 street grid with five corner sites."""
    network = random_grid_network(12, 12, seed=3)
    corners = {"hq": 0, "north": network.n_nodes - 1, "east": 11, "west": network.n_nodes - 12, "mid": network.n_nodes // 2}
    data = {
        "name": name,
        "network": {"source": "demo"},
        "clock": {"start": "2024-10-23T09:00", "duration_hours": hours, "warmup_hours": 0},
        "replications": 1,
        "seed": 11,
        "target_response_min": 5,
        "sites": [_site(network, node, site) for site, node in corners.items()],
        "disturbances": [disturbance],
        "unit_types": unit_types,
        "plans": [{"name": plan, "units": units}],
        "dispatch": {"policy": "nearest", "queue": "fifo", "after_service": "return_to_base"},
    }
    path = tmp_path_factory.mktemp(name) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = load_scenario(path)
    world = build_world(scenario, network, cache_dir=tmp_path_factory.mktemp("tables"))
    return scenario, world, simulate(scenario, world, plan, 0, trace=True)


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


def test_every_gif_frame_shows_exactly_the_painted_frame(grid, tmp_path):
    """Only what was painted is mapped onto the palette, and only changed pixels are written (the
    rest transparent): decoded, each frame must still be the whole painted frame on the palette."""
    scenario, world, result = grid
    frames = build_frames(scenario, world, result, frame_times_min(0.5, 2.0), 2.0, gif_map_aspect((480, 360)))
    picture = gif_picture(frames, (480, 360), 20.0)
    out = tmp_path / "exact.gif"
    write_gif(frames, out, 20.0, (480, 360), picture)
    with Image.open(out) as gif:
        decoded = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]
        palette = Image.new("P", (1, 1))
        gif.seek(0)
        palette.putpalette(gif.getpalette()[: 3 * 255])
    for k in range(frames.n_frames):
        painted = picture.paint(k).quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
        assert np.array_equal(decoded[k], np.asarray(painted)), f"frame {k} differs from what was painted"


def test_units_at_one_spot_in_one_state_are_one_marker_named_for_all():
    names = ["car-1", "car-2", "car-3", "car-4"]
    # Frame 0: cars 1, 2 and 4 stand at one base (car 3 elsewhere); frame 1: car 2 drives off.
    x = np.array([[0.0, 0.0], [0.0, 50.0], [500.0, 500.0], [0.0, 0.0]])
    state = np.array([[STANDING, STANDING], [STANDING, TO_INCIDENT], [STANDING, STANDING], [STANDING, STANDING]],
                     dtype=np.int8)
    texts, text = stacked_markers(names, x, np.zeros_like(x), state, None, len(names), messages("en"))
    labels = names + list(texts)
    assert [labels[i] if i >= 0 else None for i in text[:, 0]] == ["car-1 +2 more", None, "car-3", None]
    assert [labels[i] if i >= 0 else None for i in text[:, 1]] == ["car-1, car-4", "car-2", "car-3", None]
    # Every unit is drawn once: alone, or inside the first one's marker.
    assert ((text >= 0).sum(axis=0) == [2, 3]).all()


@pytest.mark.parametrize("fixture", ["busy", "joint"])
def test_gif_unit_labels_stay_beside_their_markers(request, fixture):
    frames = request.getfixturevalue(fixture)
    frames = frames[0] if isinstance(frames, tuple) else frames
    picture = gif_picture(frames, (640, 480), 20.0)
    seen = sum(1 for _ in gif_labels_attached(picture, GIF_LABELS))
    assert seen > 0


@pytest.mark.slow
def test_html_unit_labels_stay_beside_their_markers_in_a_real_browser(busy, tmp_path):
    from sim.viz.animate_html import HTML_LABELS

    out = tmp_path / "busy.html"
    write_html(busy, out, 20.0)
    near_px, far_px = label_bounds(HTML_LABELS)
    with chromium_driver() as driver:
        driver.get(out.as_uri())
        seen = 0
        for k in range(busy.n_frames):
            boxes, points, leaders = driver.execute_script(
                f"frame = {k}; draw({k}); return [unitLabelBoxes, unitLabelPoints, leaderLines];")
            for box, (name, x, y, _) in zip(boxes, points):
                # The page's y runs down: the line's ends and the box alike.
                attached(name, box, (x, y), dict(leaders), HTML_LABELS.joint_px, near_px, far_px,
                          HTML_LABELS.unit_font_px, f"frame {k}")
            seen += len(boxes)
        assert seen > 0
        assert js_errors(driver) == []


# -- labels ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy(grid):
    """The grid's frames crowded on purpose: 30 units and 12 sites packed around the map's centre."""
    scenario, world, result = grid
    frames = build_frames(scenario, world, result, frame_times_min(0.25, 2.0), 2.0, gif_map_aspect((640, 480)))
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = frames.view_m
    centre, spread = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), 0.12 * (x1 - x0)
    n_units, n_frames = 30, frames.n_frames
    # Each unit wanders a little from its own spot, so the crowd shifts from frame to frame.
    start = centre + rng.normal(0.0, spread, (n_units, 2))
    walk = np.cumsum(rng.normal(0.0, spread / 20, (n_units, n_frames, 2)), axis=1)
    sites = [SiteMark(f"Site number {i}", *(centre + rng.normal(0.0, spread, 2)), i < 3) for i in range(12)]
    return dataclasses.replace(
        frames, unit_ids=[f"car-{u:02d}" for u in range(n_units)],
        unit_x_m=start[:, None, 0] + walk[..., 0], unit_y_m=start[:, None, 1] + walk[..., 1],
        unit_state=rng.integers(0, 5, (n_units, n_frames)).astype(np.int8),
        unit_target=np.full((n_units, n_frames), -1, np.int32), sites=sites, unit_text=None, joint_texts=(),
        stack_texts=())


def _overlaps(a, b) -> bool:
    """Whether the insides of two boxes (x0, y0, x1, y1) overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlapping_pairs(boxes) -> list[tuple[int, int]]:
    """Index pairs of boxes that overlap."""
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[:i]) if _overlaps(a, b)]


def test_gif_labels_of_a_busy_frame_never_overlap_each_other_or_a_unit(busy):
    picture = gif_picture(busy, (640, 480), 20.0)
    unit_half_px = MarkerSizes().unit_radius_px   # the unit dot's radius
    sites = [box for _, box in picture.fixed_boxes]   # the site names as drawn on the background
    shown, left_out = 0, 0
    for k in range(0, busy.n_frames, 5):
        picture.paint(k)
        units = picture.painter.drawn_labels
        boxes = sites + [box for _, box, _ in units]
        assert _overlapping_pairs(boxes) == [], f"labels overlap in frame {k}"
        # Unit names keep off every unit marker (site names are drawn once; units may drive over them).
        x_px, y_px = picture.labels[0].panel.to_px(busy.unit_x_m[:, k], busy.unit_y_m[:, k])
        for x, y, unit in zip(x_px, y_px, busy.unit_ids):
            marker = (x - unit_half_px, y - unit_half_px, x + unit_half_px, y + unit_half_px)
            assert not any(_overlaps(marker, box) for _, box, _ in units), f"a label covers {unit} in frame {k}"
        shown += len(units)
        left_out += len(busy.unit_ids) - len(units)
    # Crowded on purpose: many names fit, some cannot and are left out rather than printed over others.
    assert shown > 0 and left_out > 0
    assert sum(text.startswith("Site") for text, _ in picture.fixed_boxes) >= 3


@pytest.mark.slow
def test_html_labels_of_a_busy_frame_never_overlap_in_a_real_browser(busy, tmp_path):
    out = tmp_path / "busy.html"
    write_html(busy, out, 20.0)
    with chromium_driver() as driver:
        driver.get(out.as_uri())
        assert js_errors(driver) == []
        shown = 0
        for k in range(0, busy.n_frames, 5):
            # The boxes the page measured for the texts it drew (site labels, then this frame's unit labels).
            sites, units = driver.execute_script(f"frame = {k}; draw({k}); return [siteLabelBoxes, unitLabelBoxes];")
            assert _overlapping_pairs(sites + units) == [], f"labels overlap in frame {k}"
            shown += len(units)
        assert shown > 0 and len(sites) >= 3
        # A name left out shows when the pointer rests on its unit.
        hovered = driver.execute_script("""
            const p = panels[0], left = p.spots.findIndex(spot => spot < 0), u = left % U;
            frame = Math.floor(left / U); draw(frame);
            const at = quantised(p, unitX[frame * U + u], unitY[frame * U + u]), r = canvas.getBoundingClientRect();
            canvas.dispatchEvent(new MouseEvent("mousemove", {clientX: r.left + at[0] * r.width / W,
                                                               clientY: r.top + at[1] * r.height / H}));
            return [D.unit_names[u], canvas.title];""")
        assert hovered[0].startswith("car-") and hovered[1] == hovered[0]
        assert js_errors(driver) == []


def test_incident_counts_are_singular_only_for_one():
    assert [count_text(n, "incident") for n in (0, 1, 2)] == ["0 incidents", "1 incident", "2 incidents"]


def test_the_no_incident_hint_suggests_the_morning_only_before_it():
    midnight = datetime(2024, 10, 23, 0, 0)
    assert "--from 10 " in no_incident_hint(0.0, 0, midnight)
    assert "--from 4 " in no_incident_hint(0.0, 0, datetime(2024, 10, 23, 6, 0))
    for from_hours in (10.0, 12.5, 30.0):
        hint = no_incident_hint(from_hours, 0, midnight)
        assert "--from" not in hint and "--rep 1" in hint
    assert "--rep 9998" in no_incident_hint(12.0, 9999, midnight)   # the last replication there is


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
def demo_html(cache, tmp_path_factory):
    """The default scenario animated as HTML on the demo network, through the command line."""
    out = tmp_path_factory.mktemp("html") / "joint.html"
    # Half an hour from midnight: shorter than the scenario's warm-up, which must then not fail.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["animate", str(DEFAULT_SCENARIO), "--plan", "joint-circuit", "--hours", "0.5",
                     "--out", str(out), "--network", "demo"])
    assert code == 0
    out.with_suffix(".printed.txt").write_text(printed.getvalue(), encoding="utf-8")
    return out


def test_html_is_self_contained_and_says_the_network_is_synthetic(demo_html):
    page = demo_html.read_text(encoding="utf-8")
    assert "synthetic road network" in page
    for outside in ("http://", "https://", "<script src", "<link "):
        assert outside not in page


def test_the_command_says_what_it_drew_in_words_that_agree_with_the_counts(demo_html):
    printed = demo_html.with_suffix(".printed.txt").read_text(encoding="utf-8").splitlines()
    summary = re.fullmatch(r".*joint\.html: 60 frames, 8 units, (\d+) (incidents?); synthetic road network.*", printed[0])
    assert summary, printed[0]
    assert (summary[2] == "incident") == (summary[1] == "1")
    if summary[1] == "0":   # from midnight: the hint points at the morning
        assert "--from 10 " in printed[1]


@pytest.mark.slow
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
        (["--plan", "joint-circuit", "--hours", "1", "--out", "a.gif", "--view", "kota"], "--view kota: say regency or city"),
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


# -- joint patrols (issue #12) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def joint(tmp_path_factory):
    """A grid with one joint patrol of three agencies (split on dispatch) and Polri-only incidents:
    the Polri car leaves the patrol for each job and comes back."""
    disturbance = {"type": "provocation", "rate_per_hour": 2.0, "sites": "all", "agencies": ["Polri"],
                   "on_scene_min": {"dist": "fixed", "value": 6}, "units_required": 1, "priority": 1}
    unit_types = {"polri_car": {"agency": "Polri"}, "tni_car": {"agency": "TNI"}, "pp_car": {"agency": "Satpol PP"}}
    units = [
        {"joint": ["polri_car", "tni_car", "pp_car"], "count": 1, "base": "hq", "on_dispatch": "split",
         "patrol": {"mode": "circuit", "route": ["north", "east", "west"], "dwell_min": 5}},
        {"type": "polri_car", "count": 1, "base": "mid", "patrol": {"mode": "base"}},
    ]
    scenario, world, result = _traced_grid_run(tmp_path_factory, "grid-joint", 2.0, disturbance, unit_types, "joint", units)
    frames = build_frames(scenario, world, result, frame_times_min(2.0, 1.0), 1.0, gif_map_aspect((640, 480)))
    members = [u for u, unit in enumerate(result.units) if unit.joint_patrol]
    assert len(members) == 3 and len(result.incidents) >= 2
    return frames, members


def test_a_joint_patrol_together_is_one_marker_and_a_vehicle_sent_off_its_own(joint):
    frames, (polri, tni, pp) = joint
    texts, text = frames.label_texts, frames.marker_text()
    x, y, state = frames.unit_x_m, frames.unit_y_m, frames.unit_state
    together = np.ones(frames.n_frames, bool)
    for u in (tni, pp):
        together &= (np.hypot(x[u] - x[polri], y[u] - y[polri]) < 1.0) & (state[u] == state[polri])
    # Together: one marker (the first vehicle's), labelled with the patrol and its agencies.
    assert together.sum() > 10
    assert (text[polri, together] == texts.index("joint-1: Polri+TNI+Satpol PP")).all()
    assert (text[[tni, pp]][:, together] == -1).all()
    # Sent to a job, the Polri car is its own marker with its own name; the other two stay one marker.
    sent = state[polri] == TO_INCIDENT
    assert sent.any() and not together[sent].any()
    assert (np.array(texts)[text[polri, sent]] == "joint-1 Polri").all()
    assert (text[tni, sent] == texts.index("joint-1: TNI+Satpol PP")).all() and (text[pp, sent] == -1).all()
    # ... and it rejoins the marker when back with the patrol.
    assert together[np.flatnonzero(sent)[-1]:].any()
    # Every vehicle is drawn, alone or in a joint marker, exactly once per frame.
    drawn = text >= 0
    assert (drawn[polri] | (text[tni] >= 0) | (text[pp] >= 0)).all()


def test_gif_draws_one_joint_marker_and_label_and_no_labels_overlap(joint):
    frames, _ = joint
    picture = gif_picture(frames, (640, 480), 20.0)
    painter = picture.painter
    sites = [box for _, box in picture.fixed_boxes]
    text = frames.marker_text()
    seen_joint_label = 0
    for k in range(frames.n_frames):
        picture.paint(k)
        markers = [kind for kind, _ in painter.drawn_markers]
        labels = [name for name, _, _ in painter.drawn_labels]
        assert _overlapping_pairs(sites + [box for _, box, _ in painter.drawn_labels]) == [], k
        patrol_labels = [name for name in labels if name.startswith("joint-1:")]
        assert len(patrol_labels) <= 1
        seen_joint_label += len(patrol_labels)
        # One dot per marker, one ring per joint marker.
        assert markers.count("dot") == (text[:, k] >= 0).sum()
        assert markers.count("ring") == frames.is_joint(text[:, k]).sum()
    assert seen_joint_label > 0


@pytest.mark.slow
def test_html_draws_one_joint_marker_and_its_labels_never_overlap(joint, tmp_path):
    frames, _ = joint
    out = tmp_path / "joint.html"
    write_html(frames, out, 20.0)
    with chromium_driver() as driver:
        driver.get(out.as_uri())
        assert js_errors(driver) == []
        names = driver.execute_script("return D.unit_names;")
        seen = 0
        for k in range(frames.n_frames):
            sites, units, drawn = driver.execute_script(
                f"frame = {k}; draw({k}); return [siteLabelBoxes, unitLabelBoxes,"
                f" [...Array(U).keys()].filter(u => unitText[{k} * U + u] >= 0).length];")
            assert _overlapping_pairs(sites + units) == [], f"labels overlap in frame {k}"
            assert drawn == (frames.marker_text()[:, k] >= 0).sum()
            seen += len(units)
        assert seen > 0 and "joint-1: Polri+TNI+Satpol PP" in names
        assert js_errors(driver) == []
