"""OSM import: the hand-written fixture from files (XML, bz2, PBF, GraphML) and from a download
served by a local Nominatim/Overpass stand-in on 127.0.0.1 (no internet)."""
from __future__ import annotations

import bz2
import json
import re
import socket
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from sim.errors import InputError
from sim.network import NetworkSpec, load_network, osm

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "jember_small.osm"
# Ways in the fixture a car may not use (footway, parking aisle, service, landuse, private,
# track, pedestrian): what Overpass leaves out of a drive query.
NOT_DRIVABLE_WAYS = {108, 109, 110, 111, 112, 114, 116}
# Nodes used only by those ways, and the interior node of the primary where the footway joins.
NOT_DRIVABLE_NODES = {4001, 4101, 4102, 4201, 5001, 5002, 5003, 5004, 5101, 5201, 5301}
FRAGMENT_NODES = {8001, 8003}          # separate residential street (8002 is simplified away)
ONE_WAY_DEAD_END = 7001                # reachable by a one-way street, no way back
PLACE = "Kota Uji, Jember"             # the only place the stand-in geocoder knows


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROLSIM_CACHE", str(tmp_path / "cache"))


def _edges(net) -> dict[tuple[int, int], int]:
    """(tail osmid, head osmid) -> edge position."""
    tails = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    ids = net.node_osmid
    return {(int(ids[u]), int(ids[v])): e for e, (u, v) in enumerate(zip(tails, net.indices))}


def _speed_kph(net, tail: int, head: int) -> float:
    e = _edges(net)[(tail, head)]
    return float(net.length_m[e] / net.travel_time_s[e] * 3.6)


def _assert_same_network(a, b, *, same_dropped: bool = True) -> None:
    np.testing.assert_array_equal(a.node_osmid, b.node_osmid)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.travel_time_s, b.travel_time_s, rtol=1e-9)
    np.testing.assert_allclose(a.length_m, b.length_m, rtol=1e-9)
    np.testing.assert_allclose(a.lon, b.lon)
    np.testing.assert_allclose(a.lat, b.lat)
    assert [a.road_class_names[c] for c in a.road_class] == [b.road_class_names[c] for c in b.road_class]
    if same_dropped:
        assert (a.dropped_nodes, a.dropped_edges) == (b.dropped_nodes, b.dropped_edges)


# ------------------------------------------------------------------ the fixture from a file


@pytest.fixture(scope="module")
def fixture_network(tmp_path_factory):
    return load_network(NetworkSpec("file", path=str(FIXTURE)), tmp_path_factory.mktemp("cache"))


def osm_network_from(path: Path):
    return load_network(NetworkSpec("file", path=str(path)))


def test_kept_edges_have_positive_travel_times(fixture_network):
    net = fixture_network
    assert net.n_edges > 0
    assert np.all(net.travel_time_s > 0) and np.all(np.isfinite(net.travel_time_s))
    assert np.all(net.length_m > 0)


def test_ways_cars_cannot_use_are_dropped(fixture_network):
    ids = set(fixture_network.node_osmid.tolist())
    assert not ids & NOT_DRIVABLE_NODES
    # The footway joined the primary at 1023; without it 1023 is no intersection and the
    # simplified primary runs straight through, as in a drive download.
    assert 1023 not in ids
    assert (1002, 1003) in _edges(fixture_network)
    assert set(fixture_network.road_class_names) <= {"trunk", "primary", "secondary", "tertiary",
                                                     "unclassified", "residential", "living_street"}


def test_disconnected_fragment_and_one_way_dead_end_are_dropped_and_reported(fixture_network):
    net = fixture_network
    ids = set(net.node_osmid.tolist())
    assert not ids & (FRAGMENT_NODES | {ONE_WAY_DEAD_END})
    assert net.dropped_nodes == 3           # 8001, 8003, 7001
    assert net.dropped_edges == 3           # 8001<->8003 and 2004->7001
    info = net.info()
    assert info["dropped_nodes"] == 3
    assert info["strongly_connected_share"] == pytest.approx(net.n_nodes / (net.n_nodes + 3))


def test_one_way_streets_are_respected(fixture_network):
    edges = _edges(fixture_network)
    assert (2003, 1003) in edges and (1003, 2003) not in edges   # oneway=yes
    assert (2004, 1004) in edges and (1004, 2004) not in edges   # oneway=-1: against the drawing
    assert (1001, 1002) in edges and (1002, 1001) in edges       # two-way primary


def test_speeds_from_maxspeed_or_the_road_class_fallback(fixture_network):
    net = fixture_network
    assert _speed_kph(net, 1001, 1002) == pytest.approx(50.0)                   # maxspeed=50
    assert _speed_kph(net, 1002, 2002) == pytest.approx(20 * 1.609344)          # "20 mph"
    assert _speed_kph(net, 2003, 1003) == pytest.approx(osm.FALLBACK_SPEED_KPH["residential"])  # "signals"
    assert _speed_kph(net, 2004, 1004) == pytest.approx(50.0)                   # "ID:urban"
    assert _speed_kph(net, 3002, 1001) == pytest.approx(osm.FALLBACK_SPEED_KPH["trunk"])  # "RU:urban"
    assert _speed_kph(net, 2003, 6002) == pytest.approx(osm.FALLBACK_SPEED_KPH["living_street"])  # "walk"
    # 1001 -> 2002 merges the tertiary ("30;50": 40) and two secondary ways (60, 40): the mean.
    assert _speed_kph(net, 1001, 2002) == pytest.approx((40 + 60 + 40) / 3)


@pytest.mark.parametrize("value, kph", [
    ("50", 50.0), ("50 km/h", 50.0), ("30 mph", 30 * 1.609344), ("30;50", 40.0), ("40|60", 50.0),
    (["50", "30"], 40.0), (["30 mph", "none"], 30 * 1.609344), ("ID:urban", 50.0), ("12,5", 12.5),
    ("none", None), ("signals", None), ("RU:urban", None), ("walk", None), ("1000", None),
    ("", None), (None, None), (float("nan"), None),
])
def test_parse_maxspeed_kph(value, kph):
    assert osm.parse_maxspeed_kph(value) == (pytest.approx(kph) if kph is not None else None)


def test_bz2_pbf_and_graphml_give_the_same_network(fixture_network, tmp_path):
    import osmium
    import osmnx as ox

    bz = tmp_path / "roads.osm.bz2"
    bz.write_bytes(bz2.compress(FIXTURE.read_bytes()))
    pbf = tmp_path / "roads.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(FIXTURE)):
            writer.add(obj)
    graphml = tmp_path / "roads.graphml"
    ox.save_graphml(fixture_network.to_graph(), graphml)
    for path in (bz, pbf):
        _assert_same_network(osm_network_from(path), fixture_network)
    # The GraphML holds the network already cut to its strongly connected component.
    from_graphml = osm_network_from(graphml)
    _assert_same_network(from_graphml, fixture_network, same_dropped=False)
    assert from_graphml.dropped_nodes == 0 and not from_graphml.synthetic


@pytest.mark.parametrize("name, content, says", [
    ("notes.osm", b"just some notes, not OSM\n", "not a readable OpenStreetMap file"),
    ("page.osm", b"<html><body>404</body></html>", "not a readable OpenStreetMap file"),
    ("roads.osm.pbf", b"not a pbf", "not a readable OpenStreetMap file"),
    ("roads.osm.bz2", b"not bzip2", "not a readable OpenStreetMap file"),
    ("roads.graphml", b"<graphml><oops", "not a readable GraphML"),
    ("houses.osm", b'<osm version="0.6"><node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="0.001"/>'
                   b'<way id="9"><nd ref="1"/><nd ref="2"/><tag k="building" v="yes"/></way></osm>',
     "no drivable road"),
])
def test_bad_files_are_input_errors_naming_the_file(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=says) as err:
        osm_network_from(path)
    assert name in str(err.value)


def test_missing_file_and_unsupported_extension(tmp_path):
    with pytest.raises(InputError, match="not found.*nowhere.osm"):
        osm_network_from(tmp_path / "nowhere.osm")
    shp = tmp_path / "roads.shp"
    shp.write_text("x")
    with pytest.raises(InputError, match="unsupported network file.*roads.shp"):
        osm_network_from(shp)


# ------------------------------------------------------------------ download from a stand-in server


def _overpass_elements(path: Path) -> tuple[list[dict], list[dict]]:
    """The fixture as Overpass JSON elements: (nodes, ways)."""
    root = ET.parse(path).getroot()
    tags = lambda e: {t.get("k"): t.get("v") for t in e.findall("tag")}  # noqa: E731
    nodes = [{"type": "node", "id": int(n.get("id")), "lat": float(n.get("lat")), "lon": float(n.get("lon")),
              **({"tags": tags(n)} if n.find("tag") is not None else {})} for n in root.iter("node")]
    ways = [{"type": "way", "id": int(w.get("id")), "nodes": [int(nd.get("ref")) for nd in w.findall("nd")],
             "tags": tags(w)} for w in root.iter("way")]
    return nodes, ways


class _StandIn(BaseHTTPRequestHandler):
    """Answers like Nominatim (GET /search) and Overpass (POST /api/interpreter), fixture data only."""

    nodes, ways = _overpass_elements(FIXTURE)
    requests: list[str] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        self.requests.append(f"GET {url.path}")
        query = parse_qs(url.query)
        if url.path != "/search":
            return self._answer(404, {"error": "unknown endpoint"})
        if query.get("q") != [PLACE]:
            return self._answer(200, [])
        west, south, east, north = 113.69, -8.19, 113.73, -8.16
        self._answer(200, [{
            "place_id": 1, "osm_type": "relation", "osm_id": 1, "class": "boundary", "type": "administrative",
            "lat": "-8.175", "lon": "113.71", "display_name": PLACE, "importance": 0.5,
            "boundingbox": [str(south), str(north), str(west), str(east)],
            "geojson": {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                            [west, north], [west, south]]]},
        }])

    def do_POST(self):
        self.requests.append(f"POST {self.path}")
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        query = parse_qs(body)["data"][0]
        if self.path != "/api/interpreter" or 'way["highway"]' not in query or "footway" not in query:
            return self._answer(400, {"error": "expected an OSMnx drive network query"})
        # Like Overpass: drivable ways with a node inside the polygon, then their nodes ('>').
        coords = [float(v) for v in re.search(r"poly:'([^']*)'", query).group(1).split()]
        lats, lons = coords[0::2], coords[1::2]
        inside = {n["id"] for n in self.nodes
                  if min(lats) <= n["lat"] <= max(lats) and min(lons) <= n["lon"] <= max(lons)}
        ways = [w for w in self.ways if w["id"] not in NOT_DRIVABLE_WAYS and inside & set(w["nodes"])]
        used = {ref for w in ways for ref in w["nodes"]}
        self._answer(200, {"version": 0.6, "elements": [n for n in self.nodes if n["id"] in used] + ways})


@pytest.fixture
def stand_in():
    import osmnx as ox

    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    # A short poll, so shutting the server down after each test takes 50 ms, not 0.5 s.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    names = ("nominatim_url", "overpass_url", "overpass_rate_limit", "doh_url_template", "requests_timeout")
    old = {name: getattr(ox.settings, name) for name in names}
    getaddrinfo = socket.getaddrinfo   # OSMnx pins the Overpass host's address by patching this
    ox.settings.nominatim_url = base + "/"
    ox.settings.overpass_url = base + "/api"
    ox.settings.overpass_rate_limit = False   # no /status request
    ox.settings.doh_url_template = None       # never ask a public DNS-over-HTTPS resolver
    ox.settings.requests_timeout = 10
    _StandIn.requests = []
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        socket.getaddrinfo = getaddrinfo
        for name, value in old.items():
            setattr(ox.settings, name, value)


def test_download_by_place_equals_the_file_import(stand_in, fixture_network):
    net = load_network(NetworkSpec("osm", place=PLACE))
    _assert_same_network(net, fixture_network)
    assert net.info()["source"] == "osm" and PLACE in net.source_label
    assert _StandIn.requests == ["GET /search", "POST /api/interpreter"]


def test_download_by_bbox_equals_the_file_import(stand_in, fixture_network):
    net = load_network(NetworkSpec("osm", bbox=(113.69, -8.19, 113.73, -8.16)))
    _assert_same_network(net, fixture_network)


def test_second_load_never_touches_the_server(stand_in, fixture_network):
    first = load_network(NetworkSpec("osm", place=PLACE))
    stand_in.shutdown()                      # the server is gone: only the cache can answer
    stand_in.server_close()
    again = load_network(NetworkSpec("osm", place=PLACE))
    assert again.from_cache and not first.from_cache
    _assert_same_network(again, first)


def test_unknown_place_is_an_input_error(stand_in):
    with pytest.raises(InputError, match="Atlantis.*not found"):
        load_network(NetworkSpec("osm", place="Atlantis"))


def test_bbox_without_drivable_road_is_an_input_error(stand_in):
    with pytest.raises(InputError, match=r"no drivable road in bbox \[113.5"):
        load_network(NetworkSpec("osm", bbox=(113.50, -8.30, 113.51, -8.29)))


def test_unreachable_server_is_an_input_error(stand_in):
    import osmnx as ox

    with socket.socket() as s:                   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        ox.settings.overpass_url = f"http://127.0.0.1:{s.getsockname()[1]}/api"
    with pytest.raises(InputError, match="could not download"):
        load_network(NetworkSpec("osm", bbox=(113.69, -8.19, 113.73, -8.16)))


def test_osm_source_needs_place_or_bbox():
    with pytest.raises(InputError, match="place or bbox"):
        load_network(NetworkSpec("osm"))
    with pytest.raises(InputError, match="west < east"):
        load_network(NetworkSpec("osm", bbox=(113.8, -8.2, 113.6, -8.1)))



def test_unknown_network_type_is_an_input_error():
    with pytest.raises(InputError, match="unknown network_type 'boat'"):
        load_network(NetworkSpec("file", path=str(FIXTURE), network_type="boat"))
    with pytest.raises(InputError, match="unknown network_type 'boat'"):
        load_network(NetworkSpec("osm", place=PLACE, network_type="boat"))   # before any request
