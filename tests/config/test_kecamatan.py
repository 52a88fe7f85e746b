"""The kecamatan table: one reader, nearest centre for one point and for many."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from sim.config.kecamatan import find_kecamatan, load_kecamatan, nearest_kecamatan, nearest_kecamatan_many


def test_the_table_has_jembers_31_kecamatan_with_population_and_a_box_around_each_centre():
    table = load_kecamatan()
    assert len(table) == 31 and len({k.code for k in table}) == 31 and len({k.name for k in table}) == 31
    for k in table:
        west, south, east, north = k.bbox
        assert west < k.lon < east and south < k.lat < north, f"{k.name}: centre outside its box"
        assert k.population > 0 and k.area_km2 > 0, k.name
    # The two files are paired by code: their names must agree too.
    text = (Path(__file__).resolve().parents[2] / "sim" / "data" / "jember_kecamatan_population.csv").read_text()
    names = {int(r["code"]): r["name"] for r in csv.DictReader(io.StringIO(text))}
    assert {k.code: k.name for k in table} == names


def test_a_centre_is_its_own_nearest_at_zero_distance():
    for k in load_kecamatan():
        found, dist_m = nearest_kecamatan(k.lat, k.lon)
        assert found == k and dist_m == 0.0


def test_nearest_is_the_smallest_great_circle_distance_and_the_vectorised_form_agrees():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-8.45, -8.0, 200), rng.uniform(113.3, 113.95, 200)
    index, dist_m = nearest_kecamatan_many(lat, lon)
    table = load_kecamatan()
    for i in range(len(lat)):
        by_hand = [_haversine_m(lat[i], lon[i], k.lat, k.lon) for k in table]
        assert index[i] == int(np.argmin(by_hand))
        assert math.isclose(dist_m[i], min(by_hand), rel_tol=1e-9)
        one, one_m = nearest_kecamatan(lat[i], lon[i])
        assert one == table[index[i]] and math.isclose(one_m, dist_m[i], rel_tol=1e-12)


def test_a_kecamatan_is_found_by_name_in_any_case_or_by_code():
    assert find_kecamatan("Patrang").code == 350920
    assert find_kecamatan("  sumber  JAMBE ") is None  # a different word, not a spacing variant
    assert find_kecamatan(" sumberjambe ").name == "Sumberjambe"
    assert find_kecamatan("350901").name == "Jombang" and find_kecamatan(350901).name == "Jombang"
    assert find_kecamatan("Patrangg") is None


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))
