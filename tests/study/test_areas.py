"""Results by kecamatan: which area each site is in, areas.csv against a hand count of incidents.csv,
the drive from the nearest post, the `area:` key's refusals and the voting-day report (the maps'
kecamatan layer: tests/viz/test_regency_maps.py)."""
from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.sparse.csgraph import dijkstra

from sim.cli import main
from sim.config import load_scenario
from sim.config.kecamatan import load_kecamatan
from sim.errors import InputError
from sim.study.areas import DRAWN, GIVEN, NEAREST, site_areas

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "scenarios" / "jember_pilkada_2024.yaml"
VOTING_DAY = ROOT / "scenarios" / "jember_voting_day_2024.yaml"
TARGET_MIN = 15.0
# alun_alun's nearest centre is Sumbersari's; the scenario below puts it in Patrang by hand.
GIVEN_AREA = {"alun_alun": "Patrang"}


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _nearest_by_hand(lat: float, lon: float) -> str:
    return min(load_kecamatan(), key=lambda k: _haversine_m(lat, lon, k.lat, k.lon)).name


def _with_areas(text: str, areas: dict[str, str]) -> str:
    """The scenario text with ``area: NAME`` added to the flow-style entries of these site ids."""
    for site, area in areas.items():
        text, done = re.subn(rf"(\{{id: {site},)", rf"\1 area: {area},", text)
        assert done == 1, site
    return text


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- which area a site is in -----------------------------------------------------------------------------


def _scenario_data(sites: list[dict], **extra) -> dict:
    return {
        "name": "areas", "network": {"source": "demo"},
        "clock": {"start": "2024-11-27T05:00", "duration_hours": 24}, "replications": 1, "seed": 1,
        "target_response_min": 15, "sites": sites,
        "disturbances": [{"type": "dispute", "rate_per_hour": 1.0, "on_scene_min": {"dist": "fixed", "value": 30},
                          "priority": 2}],
        "unit_types": {"car": {"agency": "Polri"}},
        "plans": [{"name": "p", "units": [{"type": "car", "count": 2, "base": sites[0]["id"],
                                           "patrol": {"mode": "base"}}]}],
        **extra,
    }


def test_a_sites_own_area_wins_by_name_or_code_and_any_other_site_takes_the_nearest_centre():
    kalisat = next(k for k in load_kecamatan() if k.name == "Kalisat")
    sites = [
        # at Patrang's centre, but said to be in Silo (by name, any case) and in Silo (by code)
        {"id": "a", "lat": -8.1354, "lon": 113.6998, "area": "silo"},
        {"id": "b", "lat": -8.1354, "lon": 113.6998, "area": 350930},
        {"id": "c", "lat": kalisat.lat + 0.01, "lon": kalisat.lon - 0.01},
        {"id": "d", "lat": -8.30, "lon": 113.50},
    ]
    areas = site_areas(load_scenario(_scenario_data(sites)))
    assert (areas["a"].kecamatan.name, areas["a"].rule) == ("Silo", GIVEN)
    assert (areas["b"].kecamatan.name, areas["b"].rule) == ("Silo", GIVEN)
    assert (areas["c"].kecamatan.name, areas["c"].rule) == ("Kalisat", NEAREST)
    assert (areas["d"].kecamatan.name, areas["d"].rule) == (_nearest_by_hand(-8.30, 113.50), NEAREST)
    assert load_scenario(_scenario_data(sites)).sites[1].area == "Silo", "a code is kept as the kecamatan's name"


def test_generated_sites_keep_the_kecamatan_they_were_drawn_in():
    generated = {"kind": "polling_station", "id_prefix": "tps", "count": 600, "generate": "by_population", "seed": 1}
    scenario = load_scenario(_scenario_data([{"id": "hq", "lat": -8.1712, "lon": 113.7005}], site_sets=[generated]))
    areas = site_areas(scenario)
    tps = [s for s in scenario.sites if s.kind == "polling_station"]
    assert len(tps) == 600
    moved = 0
    for site in tps:
        drawn_in = site.name.split("(")[-1].rstrip(")")
        assert (areas[site.id].kecamatan.name, areas[site.id].rule) == (drawn_in, DRAWN), site.id
        moved += _nearest_by_hand(site.lat, site.lon) != drawn_in
    # The boxes overlap: some points lie nearer another centre, and still count where they were drawn.
    assert moved > 0


@pytest.mark.parametrize("value, words", [
    ("Patrnag", "unknown kecamatan 'Patrnag'; did you mean 'Patrang'?"),
    ("350999", "unknown kecamatan '350999'"),
    ("[1]", "input should be a valid string"),
])
def test_a_bad_area_is_refused_with_its_file_line_and_a_suggestion(tmp_path, capsys, value, words):
    text = DEFAULT.read_text(encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(_with_areas(text, {"polsek_patrang": value}), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "id: polsek_patrang" in row)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: sites[1].area: {words}" in err, err
    assert "Traceback" not in err


def test_a_bad_area_in_data_given_in_code_names_its_path():
    with pytest.raises(InputError) as caught:
        load_scenario(_scenario_data([{"id": "a", "lat": -8.13, "lon": 113.70, "area": "Sumbersar"}]))
    assert any("sites[0].area: unknown kecamatan 'Sumbersar'; did you mean 'Sumbersari'?" in p
               for p in caught.value.problems), caught.value.problems


# -- areas.csv against incidents.csv ------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(cache, tmp_path_factory) -> Path:
    """A short run of the default scenario with one site put in another kecamatan by hand."""
    folder = tmp_path_factory.mktemp("areas")
    scenario = folder / "scenario.yaml"
    scenario.write_text(_with_areas(DEFAULT.read_text(encoding="utf-8"), GIVEN_AREA), encoding="utf-8")
    out = folder / "out"
    assert main(["run", str(scenario), "--hours", "24", "--reps", "2", "--workers", "1", "--out", str(out)]) == 0
    return out


def test_areas_csv_counts_equal_a_hand_count_of_incidents_csv(run_folder):
    raw = yaml.safe_load((ROOT / "scenarios" / "jember_pilkada_2024.yaml").read_text())
    where = {s["id"]: GIVEN_AREA.get(s["id"]) or _nearest_by_hand(s["lat"], s["lon"]) for s in raw["sites"]}
    counted, in_time = Counter(), Counter()
    for row in _csv(run_folder / "incidents.csv"):
        if row["counted"] == "1":
            key = (row["plan"], where[row["site"]])
            counted[key] += 1
            in_time[key] += row["response_min"] != "" and float(row["response_min"]) <= TARGET_MIN
    rows = _csv(run_folder / "areas.csv")
    assert {(r["plan"], r["area"]) for r in rows if int(r["incidents"])} == set(counted)
    for r in rows:
        key = (r["plan"], r["area"])
        n, hits, late = int(r["incidents"]), int(r["in_target"]), int(r["late"])
        assert (n, hits, late) == (counted[key], in_time[key], counted[key] - in_time[key]), key
        if n:
            share, low, high = (float(r[c]) for c in ("within_target_pooled_pct", "within_target_low_pct",
                                                      "within_target_high_pct"))
            assert share == pytest.approx(100 * hits / n, abs=1e-4), key
            assert 0.0 <= low <= share <= high <= 100.0, key
    # Patrang holds alun_alun by hand and bawaslu_office by its nearest centre.
    patrang = next(r for r in rows if r["area"] == "Patrang")
    assert int(patrang["sites"]) == 2 and int(patrang["sites_by_nearest_centre"]) == 1


def test_the_drive_from_the_nearest_post_is_the_road_time_from_the_plans_posts(run_folder, cache):
    from sim.study.api import Study

    study = Study(json.loads((run_folder / "manifest.json").read_text())["scenario"], network="demo")
    scenario, world = study.scenario, study.world()
    network = world.network
    graph = network.csr()
    for plan in scenario.plans:
        posts = {}
        for group in plan.units:
            post = group.patrol.standing_site(group.base) or group.base
            factor = scenario.unit_types[group.type].speed_factor
            posts[post] = max(factor, posts.get(post, 0.0))
        minutes = np.min([dijkstra(graph, indices=world.site_node[post]) / 60.0 / factor
                          for post, factor in posts.items()], axis=0)
        for row in _csv(run_folder / "areas.csv"):
            if row["plan"] == plan.name and row["area"] in ("Tanggul", "Kalisat", "Ambulu"):  # one site each
                site = {"Tanggul": "tanggul", "Kalisat": "kalisat", "Ambulu": "ambulu"}[row["area"]]
                expected = minutes[world.site_node[site]]
                assert float(row["post_drive_mean_min"]) == pytest.approx(expected, abs=1e-3), (plan.name, site)
                assert float(row["post_drive_max_min"]) == pytest.approx(expected, abs=1e-3), (plan.name, site)
    fixed = {r["area"]: r for r in _csv(run_folder / "areas.csv") if r["plan"] == "fixed-posts"}
    assert float(fixed["Ajung"]["post_drive_max_min"]) == 0.0, "a car is posted at Terminal Tawang Alun in Ajung"


# -- the voting day: kecamatan, not polling stations ----------------------------------------------------


@pytest.mark.slow
def test_the_voting_day_report_and_table_list_kecamatan_not_polling_stations(cache, tmp_path, capsys):
    out = tmp_path / "vote"
    # A short, tight run: 3 hours (1 of warm-up), one replication, a 3-minute target so some are late.
    assert main(["run", str(VOTING_DAY), "--hours", "3", "--reps", "1", "--workers", "1",
                 "--set", "target_response_min=3", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "Worst kecamatan per plan" in table and "Worst sites" not in table
    assert not re.search(r"tps-\d+", table.split("Worst kecamatan")[1].split("Areas are kecamatan")[0])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="areas">' in page and "Its kecamatan with the most incidents reached late" in page
    assert not re.search(r"tps-\d+", page), "the report names single polling stations"
    rows = _csv(out / "areas.csv")
    assert {r["area"] for r in rows} == {k.name for k in load_kecamatan()}
    section = page.split('<section id="areas">')[1].split("</section>")[0]
    listed = re.findall(r'<td class="name">([^<]+)<', section)
    assert sorted(listed) == sorted({r["area"] for r in rows})


# -- the map layer -----------------------------------------------------------------------------------------


def test_the_kecamatan_cells_tile_the_networks_box_and_hold_the_points_nearest_their_centre(cache):
    from sim.network import load_network
    from sim.network.geo import project_m
    from sim.viz.map_areas import area_cells

    network = load_network(load_scenario(DEFAULT).network)
    cells = area_cells(network)
    west, south, east, north = network.bbox()
    origin = ((west + east) / 2, (south + north) / 2)

    def area_m2(cell) -> float:
        x, y = project_m(cell.lon, cell.lat, origin)
        return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))

    bx, by = project_m(np.array([west, east]), np.array([south, north]), origin)
    box_m2 = (bx[1] - bx[0]) * (by[1] - by[0])
    assert sum(area_m2(c) for c in cells) == pytest.approx(box_m2, rel=1e-9), "cells overlap or leave gaps"
    rng = np.random.default_rng(3)
    centres = {k.name: project_m(np.array(k.lon), np.array(k.lat), origin) for k in load_kecamatan()}
    for _ in range(200):
        x, y = rng.uniform(bx[0], bx[1]), rng.uniform(by[0], by[1])
        nearest = min(centres, key=lambda n: math.hypot(centres[n][0] - x, centres[n][1] - y))
        holding = [c.name for c in cells if _inside(x, y, *project_m(c.lon, c.lat, origin))]
        assert holding == [nearest]


def _inside(x: float, y: float, xs: np.ndarray, ys: np.ndarray) -> bool:
    """Whether (x, y) is inside the convex counter-clockwise polygon (xs, ys)."""
    n = len(xs)
    return all((xs[(i + 1) % n] - xs[i]) * (y - ys[i]) - (ys[(i + 1) % n] - ys[i]) * (x - xs[i]) >= 0
               for i in range(n))


def test_a_site_files_area_column_gives_its_sites_their_kecamatan_and_a_typo_names_the_line(tmp_path):
    (tmp_path / "tps.csv").write_text("id,name,lat,lon,area\n"
                                      "t1,TPS 1,-8.1354,113.6998,Silo\n"        # at Patrang's centre
                                      "t2,TPS 2,-8.1354,113.6998,350909\n"      # Bangsalsari by code
                                      "t3,TPS 3,-8.1354,113.6998,\n", encoding="utf-8")
    data = _scenario_data([{"id": "hq", "lat": -8.1712, "lon": 113.7005}],
                          site_sets=[{"kind": "polling_station", "file": "tps.csv"}])
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    areas = site_areas(load_scenario(path))
    assert [(areas[s].kecamatan.name, areas[s].rule) for s in ("t1", "t2", "t3")] == [
        ("Silo", GIVEN), ("Bangsalsari", GIVEN), ("Patrang", NEAREST)]
    (tmp_path / "tps.csv").write_text("id,name,lat,lon,area\nt1,TPS 1,-8.1354,113.6998,Sukowno\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert any("tps.csv line 2: unknown kecamatan 'Sukowno'; did you mean 'Sukowono'?" in p
               for p in caught.value.problems), caught.value.problems
