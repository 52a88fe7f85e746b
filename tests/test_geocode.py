"""``sites geocode``: placeholder sites looked up through OSMnx's geocoder, against the loopback
Nominatim stand-in of the network tests (no internet)."""
from __future__ import annotations

import socket

import pytest

from sim.cli import main
from sim.config import load_scenario
from tests.test_osm_import import PLACE, _StandIn, stand_in  # noqa: F401 (stand_in is a fixture)

SCENARIO = f"""# a comment that must survive
name: geo
network: {{source: demo}}
clock: {{start: "2024-10-23T00:00", duration_hours: 24}}
replications: 1
seed: 1
target_response_min: 15
sites:
  - {{id: hq, name: "{PLACE}", lat: -8.0, lon: 113.0, approximate: true, note: "placeholder"}}   # look me up
  - {{id: atlantis, name: Atlantis, lat: -8.1, lon: 113.1, approximate: true}}
  - {{id: square, name: Alun-alun, lat: -8.17, lon: 113.70}}
disturbances:
  - {{type: fight, rate_per_hour: 0.1, priority: 1, on_scene_min: {{dist: fixed, value: 10}}}}
unit_types: {{car: {{agency: Polri}}}}
plans:
  - {{name: p, units: [{{type: car, count: 1, base: hq, patrol: {{mode: base}}}}]}}
"""


def test_scenario_sites_are_geocoded_in_place(stand_in, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "geo.yaml"
    path.write_text(SCENARIO)
    assert main(["sites", "geocode", str(path), "--place", ""]) == 0
    out = capsys.readouterr().out
    assert "hq: -8.175, 113.71" in out and "atlantis: not found" in out
    text = path.read_text()
    assert text.startswith("# a comment that must survive") and "# look me up" in text
    site = {s.id: s for s in load_scenario(path).sites}
    assert (site["hq"].lat, site["hq"].lon, site["hq"].source) == (-8.175, 113.71, "nominatim")
    assert site["hq"].display_name == PLACE and site["hq"].approximate  # stays approximate until confirmed
    assert (site["atlantis"].lat, site["atlantis"].source) == (-8.1, "")
    assert (site["square"].lat, site["square"].source) == (-8.17, "")  # not a placeholder: never asked
    asked = len(_StandIn.requests)
    assert main(["sites", "geocode", str(path), "--place", ""]) == 0  # hq is done: only atlantis again
    assert len(_StandIn.requests) == asked + 1


def test_site_file_is_geocoded(stand_in, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "tps.csv"
    path.write_text(f'id,name,lat,lon\ntps-1,"{PLACE}",-8.0,113.0\ntps-2,Nowhere,-8.2,113.2\n')
    assert main(["sites", "geocode", str(path)]) == 0
    lines = path.read_text().splitlines()
    assert lines[0] == "id,name,lat,lon,approximate,source,display_name"
    assert lines[1].startswith(f'tps-1,"{PLACE}",-8.175,113.71,true,nominatim,')
    assert lines[2] == "tps-2,Nowhere,-8.2,113.2,,,"


def test_offline_is_one_line(stand_in, tmp_path, capsys):  # noqa: F811
    import osmnx as ox

    with socket.socket() as s:                   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        ox.settings.nominatim_url = f"http://127.0.0.1:{s.getsockname()[1]}/"
    path = tmp_path / "geo.yaml"
    path.write_text(SCENARIO)
    assert main(["sites", "geocode", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the geocoder" in err[0] and "offline" in err[0]
    assert path.read_text() == SCENARIO  # nothing written


@pytest.mark.parametrize("name, text, says", [
    ("x.txt", "a", "expected a scenario (.yaml) or a site file (.csv)"),
    ("x.csv", "id,lat\n1,2\n", "needs the columns id,name,lat,lon"),
])
def test_bad_input_is_one_line(tmp_path, capsys, name, text, says):
    path = tmp_path / name
    path.write_text(text)
    assert main(["sites", "geocode", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
