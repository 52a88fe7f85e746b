"""Where animations look: the whole regency with its towns (those beyond reach named clearly) and the
city beside it, or the city alone; on the default scenario's demo network, in the GIF and the page."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.config import load_scenario
from sim.model import build_world, simulate
from sim.network import load_network
from sim.viz.animate import window_overrides
from sim.viz.animate_frames import build_frames, frame_times_min
from sim.viz.animate_gif import GIF_LABELS, gif_map_aspect, gif_picture
from sim.viz.animate_html import write_html
from sim.viz.animate_views import CITY, REGENCY, arrange, city_box
from tests.animation_checks import gif_labels_attached
from tests.browser import chromium_driver, js_errors

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
SIZE_PX = (800, 600)
# Plan mixed leaves these towns beyond the 15-minute drive from every post, base and patrol stop.
BEYOND_REACH = ("Kota Tanggul", "Kota Ambulu", "Kota Balung")


@pytest.fixture(scope="module")
def demo(cache):
    """The default scenario on the demo network, plan mixed, one traced hour from 10:00."""
    scenario = load_scenario(DEFAULT_SCENARIO, window_overrides(load_scenario(DEFAULT_SCENARIO), 1.0, 10.0))
    world = build_world(scenario, load_network(scenario.network))
    return scenario, world, simulate(scenario, world, "mixed", 0, trace=True)


def _frames(demo, view: str):
    scenario, world, result = demo
    return build_frames(scenario, world, result, 600.0 + frame_times_min(1.0, 2.0), 2.0, gif_map_aspect(SIZE_PX), view)


def _inside(x: float, y: float, box) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def test_the_regency_view_frames_every_site_and_post_with_the_city_beside_it(demo):
    scenario, world, _ = demo
    frames = _frames(demo, REGENCY)
    assert [p.role for p in frames.panels] == [REGENCY, CITY]
    picture = gif_picture(frames, SIZE_PX, 20.0)
    regency = picture.labels[0].panel
    map_box = (0.0, 0.0, SIZE_PX[0], SIZE_PX[1])
    assert _inside(*regency.box_px[:2], map_box) and _inside(*regency.box_px[2:], map_box)
    network = world.network
    for site in scenario.sites:   # sites and posts alike (posts and bases are sites)
        node = world.site_node[site.id]
        x, y = regency.to_px(network.x_m[node], network.y_m[node])
        assert _inside(float(x), float(y), regency.box_px), f"{site.id} is outside the regency panel"
    # Every unit, wherever it drives, stays in the picture.
    x, y = regency.to_px(frames.unit_x_m, frames.unit_y_m)
    assert (x >= regency.box_px[0]).all() and (x <= regency.box_px[2]).all()
    assert (y >= regency.box_px[1]).all() and (y <= regency.box_px[3]).all()


def test_the_towns_beyond_reach_are_named_in_the_gif_with_their_drive_time(demo):
    frames = _frames(demo, REGENCY)
    assert set(BEYOND_REACH) <= set(frames.beyond_reach)
    drawn = [text for text, _ in gif_picture(frames, SIZE_PX, 20.0).fixed_boxes]
    for town in BEYOND_REACH:
        minutes = next(s.drive_min for s in frames.sites if s.name == town)
        assert minutes > frames.target_min
        assert f"{town}: {minutes:.0f} min drive" in drawn, f"{town} is not named on the GIF"
    # Towns of the regency are named too (kecamatan names where no site carries them).
    assert len(frames.towns) >= 10 and any(name == "Wuluhan" for name, *_ in frames.towns)
    assert not any(name == "Ambulu" for name, *_ in frames.towns)   # "Kota Ambulu" names it already


@pytest.mark.slow
def test_the_towns_beyond_reach_are_named_on_the_page_in_a_real_browser(demo, tmp_path):
    frames = _frames(demo, REGENCY)
    out = tmp_path / "regency.html"
    write_html(frames, out, 20.0)
    with chromium_driver() as driver:
        driver.get(out.as_uri())
        assert js_errors(driver) == []
        texts, roles = driver.execute_script("return [siteLabelTexts, panels.map(p => p.role)];")
        assert roles == [REGENCY, CITY]
        for town in BEYOND_REACH:
            assert any(text.startswith(f"{town}: ") and text.endswith(" min drive") for text in texts), town


def test_unit_names_stay_beside_their_markers_in_the_panel_that_names_them(demo):
    frames = _frames(demo, REGENCY)
    picture = gif_picture(frames, SIZE_PX, 20.0)
    panels = [labels.panel for labels in picture.labels]
    named_in = {REGENCY: 0, CITY: 0}
    for k, name, box, point in gif_labels_attached(picture, GIF_LABELS):
        home = [p for p in panels if _inside(*point, p.box_px)]
        assert len(home) == 1 and _inside(*box[:2], home[0].box_px) and _inside(*box[2:], home[0].box_px), \
            f"frame {k}: {name}'s label leaves its panel"
        named_in[home[0].panel.role] += 1
    # The city's units are named in the city panel; a unit driving out of it, in the regency's.
    assert named_in[CITY] > 0


def test_the_city_view_frames_the_city_alone(demo):
    scenario, world, _ = demo
    frames = _frames(demo, CITY)
    assert [p.role for p in frames.panels] == [CITY]
    names = {site.name for site in frames.sites}
    assert "Polres Jember" in names and "Alun-alun Jember" in names
    assert not names & set(BEYOND_REACH), "the city view shows the outer towns"


def test_a_city_gets_its_own_panel_only_when_it_is_small_in_the_regency():
    regency = (0.0, 0.0, 40_000.0, 30_000.0)
    small, large = (1_000.0, 1_000.0, 6_000.0, 7_000.0), (0.0, 0.0, 20_000.0, 20_000.0)
    panels = arrange(REGENCY, regency, small, 1.8)
    assert [p.role for p in panels] == [REGENCY, CITY]
    # Side by side, filling the map area, each view at its panel's shape and holding its box.
    assert panels[0].rect[2] == pytest.approx(panels[1].rect[0]) and panels[1].rect[2] == 1.0
    for panel, box in zip(panels, (regency, small)):
        view, rect = panel.view_m, panel.rect
        assert (view[2] - view[0]) / (view[3] - view[1]) == pytest.approx((rect[2] - rect[0]) / (rect[3] - rect[1]) * 1.8)
        assert view[0] <= box[0] and view[1] <= box[1] and view[2] >= box[2] and view[3] >= box[3]
    assert [p.role for p in arrange(REGENCY, regency, large, 1.8)] == [REGENCY]
    with pytest.raises(ValueError):
        arrange("kota", regency, small, 1.8)


def test_the_city_is_the_densest_cluster_of_sites_not_their_middle():
    rng = np.random.default_rng(3)
    # Six sites in a town at (20 km, 0), four spread far apart: the median point lies between them.
    town = rng.normal(0.0, 800.0, (6, 2)) + (20_000.0, 0.0)
    spread = np.array([(-30_000.0, -20_000.0), (-25_000.0, 20_000.0), (0.0, 25_000.0), (5_000.0, -25_000.0)])
    xy = np.vstack([town, spread])
    box = city_box(xy[:, 0], xy[:, 1])
    assert all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in town)
    assert not any(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in spread)
