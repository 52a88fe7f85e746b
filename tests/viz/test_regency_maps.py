"""What users see agrees with itself and reads at regency scale: one colour per share in every map,
table and page; maps of many sites aggregate by kecamatan and name only listed sites and the worst
kecamatan; insets frame what they name; drive-time reach is named as such beside the simulated
share; the heat table lists kecamatan; expected incidents follow the clock's phases."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.i18n import messages
from sim.cli import main
from sim.config import load_scenario
from sim.config.expected import site_rates_per_hour
from tests.browser import chromium_driver, js_errors

ROOT = Path(__file__).resolve().parents[2]
VOTING_DAY = ROOT / "scenarios" / "jember_voting_day_2024.yaml"
POLLING_STATIONS = 400
# Listed sites: three in the city (they cluster), one far west (Tanggul), and the polling stations.
LISTED = [
    {"id": "polres", "name": "Polres Jember", "kind": "police_hq", "lat": -8.1712, "lon": 113.7005},
    {"id": "kpu", "name": "KPU Jember", "kind": "election_office", "lat": -8.1679, "lon": 113.7052},
    {"id": "alun", "name": "Alun-alun", "kind": "crowd_point", "lat": -8.1697, "lon": 113.7016},
    {"id": "tanggul", "name": "Kota Tanggul", "kind": "crowd_point", "lat": -8.0961, "lon": 113.4984},
]


def _scenario() -> dict:
    return {
        "name": "regency-test", "network": {"source": "demo"},
        "clock": {"start": "2024-11-27T06:00", "duration_hours": 8, "warmup_hours": 0},
        "replications": 2, "seed": 7, "target_response_min": 15, "sites": LISTED,
        "site_sets": [{"kind": "polling_station", "id_prefix": "tps", "count": POLLING_STATIONS,
                       "generate": "by_population", "seed": 1}],
        "disturbances": [
            {"type": "dispute", "rate_per_hour": 12.0, "sites": {"kind": "polling_station"}, "priority": 2,
             "on_scene_min": {"dist": "fixed", "value": 20}},
            {"type": "crowd", "rate_per_hour": 1.0, "sites": {"kpu": 1, "alun": 1, "tanggul": 1}, "priority": 1,
             "on_scene_min": {"dist": "fixed", "value": 30}},
        ],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [
            {"name": "at-hq", "units": [{"type": "car", "count": 6, "base": "polres", "patrol": {"mode": "base"}}]},
            {"name": "spread", "units": [
                {"type": "car", "count": 3, "base": "polres", "patrol": {"mode": "base"}},
                {"type": "car", "count": 3, "base": "tanggul", "patrol": {"mode": "base"}}]},
        ],
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _page_data(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script id="map-data" type="application/json">(.*?)</script>', text, re.S)
                      .group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def regency(cache, tmp_path_factory) -> tuple[Path, Path]:
    """(scenario file, results folder) of a short run with 400 polling stations."""
    folder = tmp_path_factory.mktemp("regency")
    scenario = folder / "regency.yaml"
    scenario.write_text(yaml.safe_dump(_scenario(), sort_keys=False), encoding="utf-8")
    out = folder / "out"
    assert main(["run", str(scenario), "--workers", "1", "--out", str(out)]) == 0
    return scenario, out


# -- one colour per share ------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.0, 12.5, 49.99, 50.0, 62.0, 74.99, 75.0, 89.99, 90.0, 100.0])
def test_a_share_has_one_colour_on_the_maps_in_the_report_and_in_the_heat_table(share):
    from matplotlib.colors import to_hex

    from sim.study.report_cells import share_style
    from sim.viz import palette
    from sim.viz.map_areas import AreaResult, area_colour
    from sim.viz.map_results import SiteResult, share_colour

    expected = next(c.colour for c in reversed(palette.share_classes()) if share >= c.low_pct)
    site = share_colour(SiteResult("s", 10, 5.0, 9.0, share, 3.0))
    area = area_colour(AreaResult("a", 10, 1, share, 0.0, 100.0))
    cmap, norm = palette.share_listed_colormap()
    heat = to_hex(cmap(norm(share)))
    report = re.search(r"background:(#[0-9a-f]{6})", share_style(share)).group(1)
    assert site == area == heat == report == expected, (share, site, area, heat, report)


def test_the_page_files_of_the_scale_hold_the_modules_values():
    """web/share_scale.json and .css (for pages that do not run Python) agree with sim.viz.palette."""
    from sim.viz import palette

    web = ROOT / "sim" / "viz" / "web"
    assert json.loads((web / "share_scale.json").read_text(encoding="utf-8")) == palette.scale_data(), \
        "run python -m sim.viz.palette to write the page files again"
    assert (web / "share_scale.css").read_text(encoding="utf-8") == palette.scale_css()
    assert palette.SHARE_COLOURMAP == "cividis" and palette.MISS_BELOW_PCT == 90.0


def test_site_kinds_are_told_apart_by_shape_in_one_neutral_ink_and_each_kind_is_listed_once():
    from sim.viz.map_style import SITE_MARKER, site_style
    from sim.viz.words import kind_words
    from sim.viz.palette import SITE_KIND_COLOUR, share_classes

    assert {site_style(kind)[1] for kind in [*SITE_MARKER, "bus_stop"]} == {SITE_KIND_COLOUR}
    assert SITE_KIND_COLOUR not in {c.colour for c in share_classes()}
    listed = {kind: site_style(kind)[0] for kind in ("police_hq", "election_office", "crowd_point", "military_post")}
    assert len(set(listed.values())) == len(listed), "each kind its own shape"
    assert kind_words("bus_stop", messages("en")) == kind_words("school", messages("en")) == "other site"


def test_the_legend_names_other_site_once(cache, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.viz.map_legend import _site_block

    data = _scenario()
    data["sites"] = LISTED + [{"id": "bus", "name": "Bus stop", "kind": "bus_stop", "lat": -8.17, "lon": 113.70},
                              {"id": "school", "name": "School", "kind": "school", "lat": -8.16, "lon": 113.69}]
    scenario = load_scenario(data)
    fig = Figure(figsize=(4, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    legend = _site_block(ax, scenario, False, 10, 40, messages("en"))(0.0, 1.0)
    words = [text.get_text() for text in legend.get_texts()]
    assert words.count("other site") == 1
    assert any(w.startswith("polling station (400)") for w in words)


# -- regency scale --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_map_of_many_sites_aggregates_by_kecamatan_coloured_by_share_and_sized_by_incidents(regency, tmp_path):
    from sim.viz.palette import share_colour

    scenario, results = regency
    page, png = tmp_path / "map.html", tmp_path / "map.png"
    for out in (page, png):
        assert main(["map", str(scenario), "--plan", "at-hq", "--results", str(results), "--out", str(out)]) == 0
    data = _page_data(page)
    assert data["many"] is True
    assert sum(1 for s in data["sites"] if s["set"]) == POLLING_STATIONS
    assert {s["id"] for s in data["sites"] if not s["set"]} == {s["id"] for s in LISTED}
    marks = {m[0]: m for m in data["areas"]["marks"]["at-hq"]}
    rows = [r for r in _csv(results / "areas.csv") if r["plan"] == "at-hq" and int(r["incidents"])]
    assert rows and set(marks) == {r["area"] for r in rows}
    for row in rows:
        name, _, _, size, colour, words, _ = marks[row["area"]]
        assert size == int(row["incidents"]), name
        assert colour == share_colour(float(row["within_target_pooled_pct"])), name
        assert f"{int(row['late'])} late of {int(row['incidents'])}" in words
    # The worst kecamatan (most late incidents) are the ones named with their figures.
    late = sorted(rows, key=lambda r: (-int(r["late"]), float(r["within_target_pooled_pct"]), r["area"]))
    worst = {m[0] for m in marks.values() if m[6]}
    assert worst == {r["area"] for r in late[:len(worst)] if int(r["late"])} and worst
    assert png.stat().st_size > 50_000


@pytest.mark.slow
def test_the_png_names_listed_sites_only_and_counts_those_left_out_of_them(regency, cache):
    from sim.model import build_world
    from sim.network import load_network
    from sim.config import network_spec
    from sim.viz.map_png import draw_map_png

    scenario_path, _ = regency
    scenario = load_scenario(scenario_path)
    world = build_world(scenario, load_network(network_spec(scenario, None)))
    result = draw_map_png(scenario, world, ["at-hq"], scenario_path.parent / "plain.png", (5.0, 10.0, 15.0, 20.0))
    assert result.nameable == len(LISTED)   # polling stations are counted by kecamatan, never named
    assert 0 <= result.unlabelled < len(LISTED)
    # Without results nothing is simulated: the map says so beside the drive-time figures.
    assert "not on this map" in result.figures[1] and "drive" in result.figures[2]


@pytest.mark.slow
def test_the_heat_table_of_a_regency_run_lists_kecamatan_not_single_sites(regency):
    from sim.viz.plots import MAX_HEAT_AREAS, site_response_figure

    _, results = regency
    rows = _csv(results / "areas.csv")
    fig = site_response_figure("regency-test", True, 15, ["at-hq", "spread"], rows, group="area",
                               max_sites=MAX_HEAT_AREAS)
    names = [label.get_text() for label in fig.axes[0].get_yticklabels()]
    assert set(names) == {r["area"] for r in rows if int(r["incidents"])}
    assert "kecamatan" in fig.get_suptitle()
    assert (results / "figures" / "site_response.png").exists()


@pytest.mark.slow
def test_the_html_map_names_sites_without_hovering_and_polling_stations_only_zoomed_in(regency, tmp_path):
    scenario, results = regency
    page = tmp_path / "map.html"
    assert main(["map", str(scenario), "--plan", "spread", "--results", str(results), "--out", str(page)]) == 0
    with chromium_driver(1280, 900) as driver:
        driver.get(page.as_uri())
        assert js_errors(driver) == []
        named = driver.execute_script("return window.patrolMap.named;")
        assert any("Kota Tanggul" in n or n.startswith("Tanggul") for n in named), named
        assert not driver.execute_script("return window.patrolMap.setNamed;")
        assert not any(n.startswith("tps-") for n in named)
        # Zoomed in on one polling station: the few in view are named.
        driver.execute_script("""
            var m = window.patrolMap, s = JSON.parse(document.getElementById('map-data').textContent)
                .sites.find(function (x) { return x.set; });
            m.scale = 0.5; var c = document.getElementById('map');
            m.tx = c.clientWidth / 3 - s.x * m.scale; m.ty = c.clientHeight / 2 + s.y * m.scale;
            window.dispatchEvent(new Event('resize'));""")
        assert driver.execute_script("return window.patrolMap.setNamed;")
        assert any(n.startswith("tps-") for n in driver.execute_script("return window.patrolMap.named;"))
        legend = driver.find_element("id", "legend").text
        assert "Kecamatan circles" in legend and "polling station (400)" in legend
        assert js_errors(driver) == []


# -- drive time named as such, beside the simulated share -------------------------------------------------


@pytest.mark.slow
def test_map_prints_the_simulated_share_beside_the_drive_time_each_block_named_by_its_plan(regency, capsys,
                                                                                              tmp_path):
    scenario, results = regency
    out = tmp_path / "compare.png"
    assert main(["map", str(scenario), "--plan", "at-hq", "--compare", "spread", "--results", str(results),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    summary = {r["plan"]: r for r in _csv(results / "summary.csv")}
    for plan in ("at-hq", "spread"):
        block = printed[printed.index(f"plan '{plan}':"):][:4]
        row = summary[plan]
        share = f"{float(row['within_target_pct']):.1f}% ± {float(row['within_target_ci95']):.1f}"
        assert block[1].strip().startswith(f"Simulated: {share} of incidents reached within 15 min"), block
        assert "drive of a post or patrol stop, units free" in block[2] and "not simulated" in block[2]


# -- insets frame what they name -------------------------------------------------------------------------


def test_the_voting_day_inset_frames_the_city_sites_and_names_their_kecamatan(cache):
    from sim.config import network_spec
    from sim.network import load_network
    from sim.viz.map_png import _city_box, _inset_title

    scenario = load_scenario(VOTING_DAY)
    network = load_network(network_spec(scenario, None))
    box = _city_box(network, scenario)
    inside = {s.id for s in scenario.sites if box[0] <= s.lon <= box[2] and box[1] <= s.lat <= box[3]}
    assert {"polres", "kpu_office", "bawaslu_office"} <= inside
    title = _inset_title(scenario, box, 200, messages("en"))
    assert "Kaliwates" in title or "Sumbersari" in title
    assert "Rambipuji" not in title and "Ajung" not in title


# -- expected incidents follow the clock ----------------------------------------------------------------


def test_sites_without_incidents_in_the_measured_clock_are_no_incident_sites():
    data = _scenario()
    data["clock"]["duration_hours"] = 30   # 06:00 on the 27th to 12:00 on the 28th
    data["calendar"] = {"phases": [
        {"name": "campaign", "start": "2024-11-27T06:00", "end": "2024-11-27T10:00", "rate_multiplier": {"dispute": 0}},
        {"name": "vote", "start": "2024-11-27T10:00", "end": "2024-11-28T10:00"}]}
    data["events"] = [{"id": "rally", "start": "2024-11-28T11:00", "hours": 1, "sites": {"kpu": 1},
                       "rate_per_hour": {"crowd": 6.0}}]
    four_hours = site_rates_per_hour(load_scenario(data, {"clock.duration_hours": 4}))
    assert not any(site.startswith("tps-") for site in four_hours), "disputes are off in the first phase"
    assert four_hours["kpu"] == pytest.approx(1.0 / 3)   # the rally lies after the clock: nothing from it
    whole = site_rates_per_hour(load_scenario(data))
    # Disputes at 12 an hour in 26 of the 30 hours (the vote phase and the 2 h after every phase); the
    # rally's 6 over 30 hours.
    assert sum(rate for site, rate in whole.items() if site.startswith("tps-")) == pytest.approx(12.0 * 26 / 30)
    assert whole["kpu"] == pytest.approx(1.0 / 3 + 6.0 / 30)
    assert np.isfinite(list(whole.values())).all()
