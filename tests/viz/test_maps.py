"""Coverage maps: the coverage figures, the PNG and HTML files, the command line, the page in a browser."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from sim.config import load_scenario
from sim.network.routing import build_travel_tables
from sim.viz.coverage import coverage, drawn_edges, incident_sites, plan_spots
from sim.viz.map_html import draw_map_html
from sim.viz.map_png import COMPARE_SIZE_PX, SIZE_PX, draw_map_png
from tests.browser import chromium_driver, js_errors
from tests.commands import in_process
from tests.graphs import network_from_edges, random_grid_network

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
BANDS_MIN = (5.0, 10.0, 15.0, 20.0)
# "mixed" has every patrol mode: posts, a circuit, both kinds of random patrol, units at base.
PLAN = "mixed"
OTHER_PLAN = "all-at-hq"


@pytest.fixture(scope="module")
def demo(demo_world):
    """(scenario, world) of the default scenario on the demo network."""
    return demo_world


def image_variance(path: Path) -> float:
    pixels = matplotlib.image.imread(path)
    return float(pixels[..., :3].var())


# ------------------------------------------------------------------ the pure coverage function


def line_network():
    """0 <-> 1 <-> 2 <-> 3, 100 m apart, every edge 60 s."""
    tails = [0, 1, 1, 2, 2, 3]
    heads = [1, 0, 2, 1, 3, 2]
    return network_from_edges(4, np.array(tails), np.array(heads), np.full(6, 60.0))


def test_coverage_counts_nodes_sites_and_directed_road_length():
    network = line_network()
    cov = coverage(network, sources=[0], speed_factors=[1.0], target_min=1.5, site_nodes=[1, 3])
    assert cov.time_min.tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert (cov.sites_covered, cov.n_sites) == (1, 2)
    # Heads reached within 1.5 min are nodes 0 and 1: edges 1->0, 0->1, 2->1, each 100 m of 600 m.
    assert cov.covered_length_m == pytest.approx(300.0)
    assert cov.road_share == pytest.approx(0.5)


def test_coverage_divides_by_speed_and_takes_the_fastest_unit():
    network = line_network()
    slow = coverage(network, [0], [0.5], target_min=1.5, site_nodes=[1])
    assert slow.time_min.tolist() == pytest.approx([0.0, 2.0, 4.0, 6.0])
    assert slow.sites_covered == 0
    both = coverage(network, [0, 3], [0.5, 2.0], target_min=1.5, site_nodes=[1, 2])
    # Node 2: 1 min from the fast unit at 3; node 1: 1 min from it too, 2 min from the slow one.
    assert both.time_min.tolist() == pytest.approx([0.0, 1.0, 0.5, 0.0])
    assert both.site_share == 1.0


def test_drawn_edges_are_each_road_once_a_two_way_road_in_its_upward_direction():
    network = random_grid_network(12, 12, seed=3, one_way_share=0.3)
    tails, heads = network.edge_tails.tolist(), network.indices.tolist()
    pairs = set(zip(tails, heads))
    expected = [e for e, (t, h) in enumerate(zip(tails, heads)) if t < h or (h, t) not in pairs]
    drawn = drawn_edges(network)
    assert drawn.tolist() == expected, "a two-way road drawn twice or a one-way road left out"
    assert len(drawn) == len({frozenset(pair) for pair in pairs}) < len(tails), "not one edge per road"


# ------------------------------------------------------------------ PNG


def test_png_has_the_size_is_drawn_and_its_site_share_matches_the_travel_tables(demo, tmp_path):
    scenario, world = demo
    out = tmp_path / "map.png"
    result = draw_map_png(scenario, world, [PLAN], out, BANDS_MIN)

    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (SIZE_PX[1], SIZE_PX[0])
    assert image_variance(out) > 0.01
    assert "synthetic road network" in (result.title + result.subtitle).lower()

    # Independently: the reverse trees toward each incident site, read at every unit position.
    site_nodes = [world.site_node[s] for s in incident_sites(scenario)]
    tables = build_travel_tables(world.network, site_nodes)
    positions = [(n, spot.speed_factor) for spot in plan_spots(scenario, world, PLAN) for n in spot.nodes]
    covered = sum(
        min(tables.time_s_to(site, node) / 60.0 / speed for node, speed in positions) <= scenario.target_response_min
        for site in site_nodes
    )
    expected = f"{covered} of {len(site_nodes)} ({covered / len(site_nodes):.0%})"
    assert 0 < covered < len(site_nodes)   # a figure that can be wrong either way
    assert expected in result.legend[0]
    assert f"within {scenario.target_response_min:g} min" in result.legend[0]


@pytest.mark.slow
def test_compare_draws_two_panels_and_the_difference_of_the_two_coverages(demo, tmp_path):
    scenario, world = demo
    first = draw_map_png(scenario, world, [OTHER_PLAN], tmp_path / "a.png", BANDS_MIN)
    second = draw_map_png(scenario, world, [PLAN], tmp_path / "b.png", BANDS_MIN)
    out = tmp_path / "compare.png"
    both = draw_map_png(scenario, world, [OTHER_PLAN, PLAN], out, BANDS_MIN)

    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (COMPARE_SIZE_PX[1], COMPARE_SIZE_PX[0])
    half = pixels.shape[1] // 2
    assert pixels[:, :half, :3].var() > 0.01 and pixels[:, half:, :3].var() > 0.01
    assert both.legend == first.legend + second.legend   # each panel prints its own plan's figures
    expected_km = (second.coverages[PLAN].covered_length_m - first.coverages[OTHER_PLAN].covered_length_m) / 1000
    assert both.difference_km == pytest.approx(expected_km)
    assert expected_km != 0


# ------------------------------------------------------------------ command line


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    """The command line in this process, on the session's network cache (``cache``)."""
    assert os.environ["PATROLSIM_CACHE"] == str(cache)
    return in_process(*args)


def test_cli_unknown_plan_is_bad_input_with_a_suggestion(cache, tmp_path):
    out = tmp_path / "x.png"
    done = run_cli("map", str(SCENARIO), "--plan", "mixd", "--out", str(out), cache=cache)
    assert done.returncode == 2
    assert "did you mean 'mixed'" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("map", str(SCENARIO), "--plan", "nope", "--out", str(out), cache=cache)
    assert done.returncode == 2
    assert "no plan 'nope'" in done.stderr and PLAN in done.stderr   # lists the plans there are
    assert list(tmp_path.iterdir()) == []


def test_cli_unsupported_extension_is_bad_input(cache, tmp_path):
    done = run_cli("map", str(SCENARIO), "--plan", PLAN, "--out", str(tmp_path / "x.jpg"), cache=cache)
    assert done.returncode == 2 and ".png or .html" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_writes_the_map_whole(demo, cache, tmp_path):
    out = tmp_path / "maps" / "mixed.png"
    done = run_cli("map", str(SCENARIO), "--plan", PLAN, "--compare", OTHER_PLAN, "--out", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and image_variance(out) > 0.01
    assert [p.name for p in out.parent.iterdir()] == ["mixed.png"]   # no temporary file left behind
    assert "difference in covered road length" in done.stdout


# ------------------------------------------------------------------ HTML in a real browser


@pytest.fixture(scope="module")
def html_map(demo, tmp_path_factory):
    scenario, world = demo
    out = tmp_path_factory.mktemp("html") / "map.html"
    return draw_map_html(scenario, world, [PLAN, OTHER_PLAN], out, BANDS_MIN)


def test_html_is_self_contained_and_small(html_map):
    page = html_map.path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page   # no CDN, no tiles
    assert "synthetic road network" in page.lower()
    assert html_map.path.stat().st_size < 2_000_000


@pytest.mark.slow
def test_html_runs_in_a_browser_with_zoom_hover_and_plan_switch(html_map, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    with chromium_driver(1280, 900) as driver:
        driver.get(html_map.path.as_uri())
        canvas = driver.find_element("id", "map")
        assert js_errors(driver) == []

        shot = tmp_path / "page.png"
        driver.save_screenshot(str(shot))
        assert image_variance(shot) > 0.01
        body = driver.find_element("tag name", "body").text
        assert "synthetic road network" in body.lower()
        legend = driver.find_element("id", "legend").text
        assert html_map.legend[0] in legend and html_map.legend[1] in legend   # same figures as the PNG

        # Hover a site: its name and minutes appear in the tooltip (offsets are from the canvas centre).
        x, y = driver.execute_script("return window.patrolMap.siteScreen('kpu_warehouse');")
        width, height = canvas.size["width"], canvas.size["height"]
        ActionChains(driver).move_to_element_with_offset(canvas, x - width / 2, y - height / 2).perform()
        tooltip = driver.find_element("id", "tooltip")
        assert "Gudang logistik KPU Jember" in tooltip.text and "min from the nearest unit" in tooltip.text

        # Wheel zoom changes the scale; a second plan changes the legend figures.
        scale_before = driver.execute_script("return window.patrolMap.scale;")
        ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(canvas, 0, 0), 0, -600).perform()
        deadline = time.monotonic() + 5
        while driver.execute_script("return window.patrolMap.scale;") == scale_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.execute_script("return window.patrolMap.scale;") > scale_before
        driver.find_element("css selector", "#legend button[data-plan='1']").click()
        assert html_map.legend[2] in driver.find_element("id", "legend").text
        assert js_errors(driver) == []


def test_cli_bands_follow_the_scenarios_target_by_default(cache, tmp_path):
    """A 3-minute target: bands 1, 2, 3, 4 minutes (not the 5-minute steps of a 15-minute target)."""
    text = SCENARIO.read_text(encoding="utf-8").replace("target_response_min: 15", "target_response_min: 3")
    assert "target_response_min: 3 " in text
    scenario = tmp_path / "three_minutes.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "map.html"
    done = run_cli("map", str(scenario), "--plan", PLAN, "--out", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert '"bands_min":[1.0,2.0,3.0,4.0]' in page
    assert "within 3 min drive" in done.stdout


# ------------------------------------------------------------------ labels and simulated results


def test_labels_never_overlap_and_those_left_out_are_counted():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.viz.map_labels import LabelPlacer

    fig = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    rng = np.random.default_rng(7)
    points = rng.random((4000, 2))
    placer = LabelPlacer(ax)
    placed = [placer.add(x, y, f"TPS {i:04d}", 8) for i, (x, y) in enumerate(points)]
    assert placer.placed == sum(placed) and placer.skipped == len(points) - sum(placed)
    assert 30 < placer.placed < len(points)   # some fit, most cannot on an 800 x 600 picture
    from matplotlib.text import Text

    # The text's own box as drawn (an annotation's extent would add its leader line).
    fig.canvas.draw()
    boxes = [Text.get_window_extent(text, fig.canvas.get_renderer()) for text in ax.texts]
    assert len(boxes) == placer.placed
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1:]), "two labels overlap"


def sites_rows(plan: str) -> list[dict]:
    """A hand-written sites.csv of one plan (text values, as csv.DictReader gives them)."""
    return [
        {"plan": plan, "site": "tanggul", "incidents": "28", "response_mean_min": "30.1", "response_p90_min": "38.9",
         "within_target_pct": "3.57", "within_target_ci95": "5.1"},
        {"plan": plan, "site": "rambipuji", "incidents": "16", "response_mean_min": "14.0", "response_p90_min": "23.3",
         "within_target_pct": "62.5", "within_target_ci95": "20"},
        {"plan": plan, "site": "kpu_office", "incidents": "82", "response_mean_min": "4.0", "response_p90_min": "8.0",
         "within_target_pct": "98.8", "within_target_ci95": "2"},
        {"plan": plan, "site": "polres", "incidents": "0", "response_mean_min": "", "response_p90_min": "",
         "within_target_pct": "", "within_target_ci95": ""},
        {"plan": "other", "site": "tanggul", "incidents": "1", "response_mean_min": "1", "response_p90_min": "1",
         "within_target_pct": "100", "within_target_ci95": "0"},
    ]


def test_site_results_classes_and_the_sites_that_miss_the_target():
    from sim.viz.map_results import NO_RESULT_COLOUR, missed, share_colour, site_results
    from sim.viz.palette import share_classes

    results = site_results(sites_rows(PLAN), PLAN)
    assert set(results) == {"tanggul", "rambipuji", "kpu_office", "polres"}   # the other plan's row left out
    assert results["tanggul"].within_target_pct == pytest.approx(3.57) and results["tanggul"].incidents == 28
    assert [r.site for r in missed(results)] == ["tanggul", "rambipuji"]     # worst first; no incidents: not missing
    colours = {site: share_colour(r) for site, r in results.items()}
    under_50, from_50, _, from_90 = (c.colour for c in share_classes())
    assert colours == {"tanggul": under_50, "rambipuji": from_50, "kpu_office": from_90, "polres": NO_RESULT_COLOUR}


@pytest.mark.slow
def test_png_with_results_lists_the_sites_that_miss_the_target(demo, tmp_path):
    from sim.viz.map_results import site_results

    scenario, world = demo
    results = {p: site_results(sites_rows(p), p) for p in (OTHER_PLAN, PLAN)}
    out = tmp_path / "compare.png"
    result = draw_map_png(scenario, world, [OTHER_PLAN, PLAN], out, BANDS_MIN, results=results)
    assert image_variance(out) > 0.01
    text = "\n".join(result.missed)
    assert f"plan '{PLAN}': 2 site(s)" in text and "Kota Tanggul" in text and "4% ± 5" in text
    assert text.index("Kota Tanggul") < text.index("Kota Rambipuji")


def write_results(folder: Path, scenario_name: str = "jember-pilkada-2024", plans=(PLAN,), rows=True) -> Path:
    """A results folder as run writes it, as far as map reads it: sites.csv and manifest.json, which
    records it (size and sha256)."""
    import csv
    import json

    from sim.study.saved import file_records

    scenario = load_scenario(SCENARIO)
    raw = dict(scenario.raw, name=scenario_name)
    folder.mkdir(parents=True)
    if rows:
        from sim.viz.map_results import SITE_COLUMNS

        with open(folder / "sites.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=SITE_COLUMNS, restval="")
            writer.writeheader()
            for plan in plans:
                for row in sites_rows(plan)[:4]:
                    writer.writerow(row)
    manifest = {"scenario": raw, "plans": list(plans), "scenario_sha256": "x" * 64,
                "network": {"source_label": "synthetic demo network"}, "files": file_records(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest, default=str), encoding="utf-8")
    return folder


def test_cli_results_of_another_scenario_or_lacking_the_plan_are_bad_input(cache, tmp_path):
    out = tmp_path / "out" / "map.png"
    cases = [
        (write_results(tmp_path / "other", scenario_name="another-place"), "results of scenario 'another-place'"),
        (write_results(tmp_path / "noplan", plans=(OTHER_PLAN,)), f"plan '{PLAN}' was not run there"),
        (write_results(tmp_path / "nocsv", rows=False), "cannot read sites.csv"),
        (tmp_path / "missing", "not a folder"),
    ]
    for folder, words in cases:
        done = in_process("map", str(SCENARIO), "--plan", PLAN, "--results", str(folder), "--out", str(out))
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not out.parent.exists()


@pytest.mark.slow
def test_cli_run_then_map_with_its_results(cache, tmp_path):
    """End to end: a short run, then the map of its results (sites.csv is written by run)."""
    results = tmp_path / "run"
    done = run_cli("run", str(SCENARIO), "--plan", OTHER_PLAN, "--plan", PLAN, "--reps", "2", "--hours", "24",
                   "--workers", "1", "--out", str(results), cache=cache)
    assert done.returncode == 0, done.stderr
    if not (results / "sites.csv").exists():
        pytest.skip("run does not write sites.csv yet")
    out = tmp_path / "map.html"
    done = run_cli("map", str(SCENARIO), "--plan", OTHER_PLAN, "--compare", PLAN, "--results", str(results),
                   "--out", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    assert f"plan '{PLAN}'" in done.stdout and "(simulated)" in done.stdout
    page = out.read_text(encoding="utf-8")
    assert '"results":{"sites"' in page


def test_the_legend_names_each_joint_patrol_with_its_agencies_and_where_it_drives():
    from sim.i18n import messages
    from sim.viz.coverage import joint_groups

    def joint_lines(scenario, plan):
        return [group.words(messages("en")) for group in joint_groups(scenario, plan)]

    scenario = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "jember_pilkada_2024_joint.yaml")
    # Named as the animation names the patrols' markers (joint-1, joint-2 in plan order).
    assert joint_lines(scenario, "joint-patrols-together") == [
        ("Joint patrol joint-1: Polri+TNI+Satpol PP+Dishub (circuit Kantor KPU Kabupaten Jember → "
         "Kantor Bawaslu Kabupaten Jember → Gudang logistik KPU Jember, together)"),
        ("Joint patrol joint-2: Polri+TNI (circuit Gudang logistik KPU Jember → Alun-alun Jember → "
         "Kantor KPU Kabupaten Jember, together)"),
    ]
    assert joint_lines(scenario, "joint-circuit") == []


def grid_and_diagonals(rng) -> tuple[np.ndarray, np.ndarray]:
    """Road segments (n, 2, 2) as a town grid draws them, across and up at fractions of a pixel: first
    the streets across in long runs of one colour (longer than Agg snaps in one path), then the streets
    up in short runs with a diagonal road every 37 segments; and a colour index per segment."""
    xs = np.arange(0.0, 40.0, 1.37)
    across = [((x, y), (x + 1.37, y)) for y in xs for x in xs]
    diagonal = [((x, 0.5), (x + 7.0, 39.0)) for x in np.arange(0.0, 33.0, 3.3)]
    up = [((x, y), (x, y + 1.37)) for x in xs for y in xs]
    up = [segment for k, street in enumerate(up) for segment in
          ([street, diagonal[k // 37 % len(diagonal)]] if k % 37 == 36 else [street])]
    colour = np.r_[np.repeat([0, 1, 2], 400)[:len(across)],
                   np.repeat(rng.integers(0, 3, len(up) // 5 + 1), 5)[:len(up)]]
    return np.array(across + up, dtype=float), colour


def test_road_runs_hold_every_segment_once_in_order_by_colour_and_snapping():
    from sim.viz.map_png import SNAP_VERTICES, road_runs

    segments, colour = grid_and_diagonals(np.random.default_rng(3))
    lines, line_colour = road_runs(segments, colour, lambda xy: xy * 10.0)
    assert len(lines) < len(segments) / 4, "consecutive segments of one colour were not joined"
    back, back_colour = [], []
    for line, c in zip(lines, line_colour):
        assert len(line) <= SNAP_VERTICES, "a run longer than Agg snaps"
        parts = np.r_[line, [[np.nan, np.nan]]].reshape(-1, 3, 2)[:, :2]   # (end, end, NaN) a segment
        upright = [(a[0] == b[0]) or (a[1] == b[1]) for a, b in parts]
        assert len(set(upright)) == 1, "a run mixes straight and slanted roads (Agg would not snap it)"
        back += list(parts)
        back_colour += [c] * len(parts)
    np.testing.assert_array_equal(np.array(back), segments)   # every segment once, in the drawing order
    np.testing.assert_array_equal(back_colour, colour)
    assert road_runs(segments[:0], colour[:0], lambda xy: xy)[0] == []


@pytest.mark.parametrize("width_pt", [0.45, 2.0])
def test_roads_drawn_in_runs_look_as_drawn_one_by_one(width_pt):
    """The map's roads as runs give the picture of the roads drawn one by one: a pixel differs only where
    two roads' antialiased edges overlap (drawn once instead of twice: at most a quarter of the contrast,
    a - a^2 <= 1/4 for coverage a), never along a road (a snapped road left unsnapped moves by half a pixel)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba_array
    from matplotlib.figure import Figure

    from sim.viz.map_png import road_runs

    segments, colour = grid_and_diagonals(np.random.default_rng(4))
    rgba = to_rgba_array(["#006d2c", "#fdae6b", "#bdbdbd"])

    def picture(runs: bool) -> np.ndarray:
        fig = Figure(figsize=(4.3, 4.1), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes([0.013, 0.017, 0.97, 0.96])
        ax.set_xlim(-1, 41)
        ax.set_ylim(-1, 41)
        ax.set_axis_off()
        lines, colours = road_runs(segments, colour, ax.transData.transform) if runs else (segments, colour)
        ax.add_collection(LineCollection(lines, colors=rgba[colours], linewidths=width_pt, capstyle="round"))
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)

    one_by_one, in_runs = picture(False), picture(True)
    difference = np.abs(one_by_one - in_runs).max(axis=2)
    assert difference.max() <= 255 // 4, f"a pixel differs by {difference.max()} of 255"
    assert (difference > 0).mean() < 0.05


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_long_title_ends_before_the_synthetic_badge_and_above_the_subtitle(demo, lang):
    from sim.i18n import messages
    from sim.viz.map_png import MIN_TITLE_PT, TITLE_PT, WRAPPED_TITLE_PT, map_figure
    from sim.viz.words import synthetic_badge

    scenario, world = demo
    named = {"short": scenario, "longer": scenario.model_copy(update={"name": "jember-pilkada-2024-kecamatan-standby"}),
             "longest": scenario.model_copy(update={"name": "jember-pilkada-2024-kecamatan-standby-and-every-"
                                                            "polling-station-of-the-regency-on-voting-day-2024"})}
    sizes = {}
    for case, named_scenario in named.items():
        fig = map_figure(named_scenario, world, [OTHER_PLAN, PLAN], BANDS_MIN, m=messages(lang))
        renderer = fig.canvas.get_renderer()
        title, subtitle = fig.texts[0], fig.texts[1]
        badge = next(t for t in fig.texts if t.get_text() == synthetic_badge(messages(lang)))
        box = title.get_window_extent(renderer)
        assert box.x1 < badge.get_window_extent(renderer).x0, f"the {case} title runs into the synthetic badge"
        assert box.y0 > subtitle.get_window_extent(renderer).y1, f"the {case} title runs into the subtitle"
        sizes[case] = (title.get_fontsize(), title.get_text().count("\n") + 1)
    assert sizes["short"] == (TITLE_PT, 1), "a title that fits beside the badge was changed"
    assert sizes["longest"] == (WRAPPED_TITLE_PT, 2), "a title too long for one line is not in two"
    assert MIN_TITLE_PT <= sizes["longer"][0] <= TITLE_PT and sizes["longer"][1] == 1, sizes


@pytest.mark.parametrize("lang", ["en", "id"])
def test_hyphenated_plan_names_are_never_broken_across_lines(demo, lang):
    from matplotlib.text import Text

    from sim.i18n import messages
    from sim.viz.map_png import map_figure

    scenario, world = demo
    plans = [OTHER_PLAN, "fixed-posts"]
    fig = map_figure(scenario, world, plans, BANDS_MIN, m=messages(lang))
    texts = [text.get_text() for text in fig.findobj(Text)]
    broken = [(plan, text) for plan in plans for text in texts for k, char in enumerate(plan)
              if char == "-" and f"{plan[:k + 1]}\n" in text]
    assert broken == [], f"a plan's name is broken at a hyphen: {broken[:3]}"


@pytest.mark.slow
def test_html_hover_names_every_site_under_the_pointer(demo, html_map):
    from selenium.webdriver.common.action_chains import ActionChains

    scenario, _ = demo
    names = {site.id: site.name for site in scenario.sites}
    with chromium_driver(1280, 900) as driver:
        driver.get(html_map.path.as_uri())
        canvas = driver.find_element("id", "map")
        screen = {site: driver.execute_script("return window.patrolMap.siteScreen(arguments[0]);", site)
                  for site in names}

        def under(x: float, y: float, px: float) -> list[str]:
            return [site for site, (sx, sy) in screen.items() if abs(sx - x) < px and abs(sy - y) < px]

        # The spot where most sites sit within the hover box (10 px each way; 9 px: clear of rounding).
        x, y = screen[max(screen, key=lambda site: len(under(*screen[site], 9)))]
        shared = under(x, y, 9)
        assert len(shared) >= 2, f"no two sites share a spot at the first zoom ({len(screen)} sites): nothing to test"
        width, height = canvas.size["width"], canvas.size["height"]
        ActionChains(driver).move_to_element_with_offset(canvas, round(x - width / 2), round(y - height / 2)).perform()
        tooltip = driver.find_element("id", "tooltip").text
        named = [site for site in names if names[site] in tooltip]
        assert len(named) <= 5, f"the tooltip names more than 5 sites: {named}"
        if len(shared) <= 5:
            assert set(shared) <= set(named), f"sites under the pointer missing from the tooltip: {set(shared) - set(named)}"
        else:
            assert "more sites here" in tooltip, "the sites past the fifth are not counted"
        assert js_errors(driver) == []
