"""``sites geocode``: placeholder sites looked up through OSMnx's geocoder, against the loopback
Nominatim stand-in of the network tests (no internet)."""
from __future__ import annotations

import socket

import pytest

from sim.cli import main
from sim.config import load_scenario
from tests.network.test_osm_import import PLACE, _StandIn, stand_in  # noqa: F401 (stand_in is a fixture)

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


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- a site file is checked as a scenario reads it, before anything is asked (issue #21, item 13) ----------


def test_a_site_file_saved_with_a_byte_order_mark_is_read(stand_in, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "tps.csv"
    path.write_bytes(f'\ufeffid,name,lat,lon\ntps-1,"{PLACE}",-8.0,113.0\n'.encode("utf-8"))  # as spreadsheets save
    assert main(["sites", "geocode", str(path)]) == 0, capsys.readouterr().err
    assert path.read_text(encoding="utf-8").splitlines()[1].startswith(f'tps-1,"{PLACE}",-8.175,113.71,true')


@pytest.mark.parametrize("rows, says", [
    ('tps-1,"Alun,-8.1,113.7\ntps-2,x,-8.2,113.2\n', "tps.csv line 2: not readable as CSV (unexpected end of data: "
                                                    "a quoted field is not closed)"),
    ("tps-1,Alun,95,113.7\n", "tps.csv line 2: lat 95.0, lon 113.7 is not a position"),
    ("tps-1,Alun,nan,113.7\n", "tps.csv line 2: lat nan, lon 113.7 is not a position"),
    ("tps-1,Alun,-8.1\n", "tps.csv line 2: 3 fields, the header has 4"),
    ("tps-1,Alun,-8.1,113.7\ntps-1,Pasar,-8.2,113.7\n", "tps.csv line 3: duplicate id 'tps-1'"),
])
def test_a_bad_row_is_refused_before_the_geocoder_is_asked(stand_in, tmp_path, capsys, rows, says):  # noqa: F811
    path = tmp_path / "tps.csv"
    path.write_text("id,name,lat,lon\n" + rows)
    asked = len(_StandIn.requests)
    assert main(["sites", "geocode", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert len(_StandIn.requests) == asked, "nothing was sent to the geocoder"


def test_approximate_must_say_yes_or_no(stand_in, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "tps.csv"
    path.write_text("id,name,lat,lon,approximate\ntps-1,Alun,-8.1,113.7,maybe\n")
    assert main(["sites", "geocode", str(path)]) == 2
    assert "tps.csv line 2: approximate 'maybe': expected true or false" in capsys.readouterr().err
    scenario = tmp_path / "geo.yaml"
    scenario.write_text(SCENARIO.replace("approximate: true, note:", "approximate: maybe, note:"))
    assert main(["sites", "geocode", str(scenario)]) == 2
    assert "sites[0].approximate: expected true or false, got 'maybe'" in capsys.readouterr().err


def test_a_huge_site_file_is_refused_at_the_first_site_over_the_bound(tmp_path, capsys):
    """Streamed: the refusal comes at line 502, not after reading the whole file."""
    from sim.cli.sites import MAX_GEOCODE_SITES

    path = tmp_path / "tps.csv"
    with open(path, "w") as handle:
        handle.write("id,name,lat,lon\n")
        handle.writelines(f"tps-{i},TPS {i},-8.1,113.7\n" for i in range(200_000))
    assert main(["sites", "geocode", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"more than the {MAX_GEOCODE_SITES} sites to look up" in err
    assert f"stopped reading at line {MAX_GEOCODE_SITES + 2}" in err


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_a_pipe_named_like_a_site_file_is_refused_without_waiting(tmp_path, capsys):
    import os
    import threading

    fifo = tmp_path / "tps.csv"
    os.mkfifo(fifo)
    done: dict = {}
    thread = threading.Thread(target=lambda: done.update(code=main(["sites", "geocode", str(fifo)])), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive() and done["code"] == 2
    assert "tps.csv: a pipe, not a regular file" in capsys.readouterr().err
