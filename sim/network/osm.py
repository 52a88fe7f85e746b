"""Road graphs from OpenStreetMap: download (OSMnx), files (.osm, .osm.bz2, .osm.pbf, .graphml), speeds.

Every function here returns an OSMnx-compatible ``networkx.MultiDiGraph`` in lon/lat (EPSG:4326)
whose edges carry ``length`` (m), ``speed_kph`` (km/h) and ``travel_time`` (s). Turning the graph
into compact arrays and the largest strongly connected component live in ``sim.network.road_network``,
the cache in ``sim.network.roads``.

Bad input (unknown place, unreadable file, an area without drivable road) raises
``sim.errors.InputError`` with one line that names the place or file.
"""
from __future__ import annotations

import contextlib
import math
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.network_spec import FILE_SUFFIXES, GRAPHML_SUFFIXES, check_bbox
from sim.errors import InputError

if TYPE_CHECKING:
    import networkx as nx


# Fallback speeds (km/h) per OSM `highway` class, used when a way has no usable `maxspeed` tag
# (most Indonesian ways have none).
#
# Legal limits, PP 79/2013 art. 23 and Permenhub PM 111/2015: toll roads (jalan bebas hambatan)
# 60-100 km/h, intercity roads (jalan antarkota) at most 80, urban areas (kawasan perkotaan)
# at most 50, settlements (kawasan permukiman) at most 30.
#
# A limit is not the speed a car keeps. Jember's roads carry mixed traffic (motorcycles,
# trucks, becak, market stalls at the roadside), so the table gives typical average speeds of a
# car on each class, below the limits: national/provincial roads (trunk, primary) between towns
# average 40-50 km/h, city streets 25-35 km/h, kampung streets (residential) about 20-25.
# Link roads are short ramps and turns, slower than their parent class. A patrol on an urgent
# call may go faster; the scenario's `speed_factor` per unit type scales these.
FALLBACK_SPEED_KPH: dict[str, float] = {
    "motorway": 80.0,        # toll road (jalan tol): limit 100, trucks and gates keep the mean lower
    "motorway_link": 40.0,
    "trunk": 50.0,           # national road between towns (jalan nasional), limit 80
    "trunk_link": 30.0,
    "primary": 45.0,         # provincial / main city arterials
    "primary_link": 30.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 25.0,
    "unclassified": 30.0,    # village connector roads (jalan desa)
    "residential": 25.0,     # settlement streets: limit 30
    "living_street": 15.0,
    "service": 15.0,
    "road": 30.0,            # class unknown to the mapper
}
#: Speed (km/h) for a `highway` value missing from the table.
DEFAULT_SPEED_KPH = 30.0

# Implicit `maxspeed` values ("zone" codes) for Indonesia, from PP 79/2013 art. 23. Other
# countries' codes fall back to the road-class table.
_IMPLICIT_MAXSPEED_KPH = {"ID:urban": 50.0, "ID:rural": 80.0, "ID:motorway": 100.0, "ID:living_street": 30.0}
_UNIT_TO_KPH = {"mph": 1.609344, "knots": 1.852}
# A tagged value outside this range is a mapping error (e.g. "5" meant as a lane count).
_PLAUSIBLE_KPH = (5.0, 150.0)
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed_kph(value: Any) -> float | None:
    """Speed in km/h from an OSM ``maxspeed`` value, or None if it gives no usable number.

    Accepts "50", "50 km/h", "30 mph" (converted), "ID:urban", and several values at once
    ("30;50", "40|60", or a list after graph simplification): their mean. "none", "signals",
    "walk", other countries' zone codes and implausible numbers give None (use the fallback).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple)):
        parts = [parse_maxspeed_kph(v) for v in value]
    else:
        text = str(value).strip()
        if text in _IMPLICIT_MAXSPEED_KPH:
            return _IMPLICIT_MAXSPEED_KPH[text]
        pieces = re.split(r"[;|]", text)
        if len(pieces) > 1:
            parts = [parse_maxspeed_kph(p) for p in pieces]
        else:
            match = _NUMBER_UNIT.match(text)
            if match is None:
                return None
            kph = float(match.group(1).replace(",", ".")) * _UNIT_TO_KPH.get((match.group(2) or "").lower(), 1.0)
            return kph if _PLAUSIBLE_KPH[0] <= kph <= _PLAUSIBLE_KPH[1] else None
    numbers = sorted(p for p in parts if p is not None)   # sorted: the same sum whatever the list order
    return sum(numbers) / len(numbers) if numbers else None


#: Road classes in order of importance.
ROAD_CLASS_ORDER = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road",
)


def road_class_rank(name: str) -> tuple[int, str]:
    """Sort key: known classes by importance, then others by name."""
    return (ROAD_CLASS_ORDER.index(name) if name in ROAD_CLASS_ORDER else len(ROAD_CLASS_ORDER), name)


def road_class(highway: Any) -> str:
    """The one road class of an edge: its ``highway`` value; of a list (simplification merged
    ways) the most important, since the list order is arbitrary."""
    if isinstance(highway, (list, tuple)):
        return min((str(h) for h in highway), key=road_class_rank, default="road")
    return str(highway) if highway else "road"


def add_edge_speeds(G: nx.MultiDiGraph, fallback_kph: Mapping[str, float] = FALLBACK_SPEED_KPH) -> nx.MultiDiGraph:
    """Set ``speed_kph`` (km/h) and ``travel_time`` (s) on every edge that lacks them, in place.

    The speed is the parsed ``maxspeed`` tag, else ``fallback_kph[highway]``, else
    ``DEFAULT_SPEED_KPH``. Edges that already carry a positive ``speed_kph`` keep it (a GraphML
    file saved with speeds, the demo network).
    """
    for _, _, data in G.edges(data=True):
        speed = _positive(data.get("speed_kph"))
        if speed is None:
            speed = parse_maxspeed_kph(data.get("maxspeed"))
        if speed is None:
            speed = fallback_kph.get(road_class(data.get("highway")), DEFAULT_SPEED_KPH)
        data["speed_kph"] = speed
        if _positive(data.get("travel_time")) is None:
            data["travel_time"] = float(data["length"]) / (speed / 3.6)
    return G


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


# ---------------------------------------------------------------- OSMnx


# OSMnx 2.x has no public home for two things this module needs; both are private names, and
# pyproject.toml pins OSMnx to the versions tested with them (2.0.0, 2.0.7, 2.1.0, 2.1.1):
# - the exception for "the geocoder found nothing / Overpass sent no ways", to tell an unknown
#   place from other failures (OSMnx exports it only from its private ``_errors`` module);
# - the Overpass way filter of a ``network_type``, so that a file import keeps exactly the ways
#   a download keeps (the filters exist only as Overpass QL inside OSMnx's query building, as
#   its maintainer explains in gboeing/osmnx#1270).
# Every use goes through the two functions below: an OSMnx upgrade is checked here, and the
# tests (tests/network/test_osm_import.py) exercise both.


def insufficient_response_error() -> type[Exception]:
    """OSMnx's exception for an empty answer (unknown place, no ways in the area); a ValueError."""
    from osmnx._errors import InsufficientResponseError

    return InsufficientResponseError


def _osmnx_network_filter(network_type: str) -> str:
    """OSMnx's Overpass QL way filter for ``network_type``; ValueError for an unknown type."""
    from osmnx._overpass import _get_network_filter

    return _get_network_filter(network_type)


@contextlib.contextmanager
def osmnx_settings(**values: Any) -> Iterator[None]:
    """Set ``osmnx.settings`` attributes for the duration of the block, then restore them."""
    import osmnx as ox

    old = {name: getattr(ox.settings, name) for name in values}
    for name, value in values.items():
        setattr(ox.settings, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(ox.settings, name, value)


# ---------------------------------------------------------------- download

#: Seconds to wait for the Overpass API's status page before calling the download off.
OVERPASS_CHECK_TIMEOUT_S = 10.0


def _overpass_answers() -> bool:
    """Whether the Overpass API's status page answers within OVERPASS_CHECK_TIMEOUT_S.

    OSMnx asks the same page before a query and, when it cannot reach it, waits 60 s before
    trying the query anyway. Asked here first, an offline machine skips that wait (the query
    then fails at once, or is served from OSMnx's HTTP cache). Uses OSMnx's request settings,
    so a proxy OSMnx would use is used here too.
    """
    import osmnx as ox
    import requests

    if not ox.settings.overpass_rate_limit:
        return True  # OSMnx will not ask the status page, so it will not wait for it either
    url = ox.settings.overpass_url.rstrip("/") + "/status"
    try:
        requests.get(url, timeout=OVERPASS_CHECK_TIMEOUT_S, **ox.settings.requests_kwargs)
    except requests.RequestException:
        return False
    return True


def graph_from_osm(
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    *,
    network_type: str = "drive",
    http_cache_dir: str | Path | None = None,
) -> nx.MultiDiGraph:
    """Download the road graph of a place name or a bbox (west, south, east, north; degrees).

    Uses OSMnx (Nominatim to geocode, Overpass for the ways) with its HTTP cache in
    ``http_cache_dir``. Keeps every component (``network_from_graph`` keeps the largest strongly
    connected one and reports the rest). Adds speeds and travel times.
    """
    import osmnx as ox
    import requests

    not_found = insufficient_response_error()
    if (place is None) == (bbox is None):
        raise InputError("network source osm needs exactly one of place or bbox")
    _way_filter(network_type)   # an unknown network_type is an InputError before any request
    where = f"place {place!r}" if place is not None else f"bbox {list(bbox)}"  # type: ignore[arg-type]
    cache: dict[str, Any] = {} if http_cache_dir is None else {"use_cache": True, "cache_folder": str(http_cache_dir)}
    if not _overpass_answers():
        cache["overpass_rate_limit"] = False  # no 60 s wait for a status page that will not answer
    with osmnx_settings(**cache):
        try:
            if place is not None:
                try:
                    polygon = ox.geocode_to_gdf(place).union_all()
                except not_found as e:
                    raise InputError(f"place {place!r} not found by the geocoder (Nominatim): {e}") from None
                except TypeError:
                    # Nominatim knows the name but only as a point or line, not an area.
                    raise InputError(
                        f"place {place!r} has no boundary polygon in OpenStreetMap: use a bbox instead"
                    ) from None
            else:
                polygon = ox.utils_geo.bbox_to_poly(check_bbox(bbox))  # type: ignore[arg-type]
            G = ox.graph_from_polygon(polygon, network_type=network_type, retain_all=True, simplify=True)
        except ValueError as e:
            # Overpass returned no ways, or none of their nodes lie inside the area. OSMnx's
            # ResponseStatusCodeError (a server's error status) is a ValueError and ends here too.
            raise InputError(f"no drivable road in {where} ({e})") from None
        except requests.RequestException as e:
            raise InputError(f"could not download the road network of {where}: {e}") from None
    G.graph["source_label"] = f"OpenStreetMap {network_type} network of {where}"
    return add_edge_speeds(G)


# ---------------------------------------------------------------- files


def graph_from_file(path: str | Path, *, network_type: str = "drive") -> nx.MultiDiGraph:
    """Read a road graph from .osm, .osm.bz2, .osm.pbf (OSM data) or .graphml (an OSMnx graph).

    OSM files keep only the ways that the OSMnx ``network_type`` download would keep, before
    the graph is built and simplified, so a file and a download of the same data give the
    same graph. GraphML is taken as it is (it is already a road graph).
    """
    path = Path(path)
    name = path.name.lower()
    if not name.endswith(FILE_SUFFIXES):
        raise InputError(f"unsupported network file {str(path)!r}: use one of {', '.join(FILE_SUFFIXES)}")
    if not path.is_file():
        raise InputError(f"network file not found: {str(path)!r}")
    if name.endswith(GRAPHML_SUFFIXES):
        G = _graph_from_graphml(path)
        kind = "synthetic road graph (not real roads)" if G.graph["synthetic"] else "road graph"
        G.graph["source_label"] = f"{kind} from GraphML file {path.name}"
    else:
        G = _graph_from_osm_file(path, network_type)
        G.graph["source_label"] = f"OpenStreetMap {network_type} network from file {path.name}"
    return add_edge_speeds(G)


def _graph_from_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
        if ox.projection.is_projected(G.graph.get("crs", "epsg:4326")):
            G = ox.project_graph(G, to_latlong=True)
        if any("length" not in d for _, _, d in G.edges(data=True)):
            G = ox.distance.add_edge_lengths(G)
    except Exception as e:  # networkx/lxml/OSMnx raise many kinds for a file that is not GraphML
        raise InputError(f"{path.name}: not a readable GraphML road graph ({type(e).__name__}: {e})") from None
    outside = [n for n, d in G.nodes(data=True)
               if not (-180 <= float(d.get("x", 0)) <= 180 and -90 <= float(d.get("y", 0)) <= 90)]
    if outside:
        raise InputError(f"{path.name}: node {str(outside[0])[:40]} lies outside -90..90 latitude, -180..180 "
                         "longitude: not a readable road graph")
    # GraphML stores every attribute as text; the demo network saved as GraphML stays synthetic.
    G.graph["synthetic"] = str(G.graph.get("synthetic", "")).lower() == "true"
    return G


def _way_filter(network_type: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """The OSMnx Overpass way filter for ``network_type`` as (key, op, regex) conditions.

    Taken from OSMnx itself so the file import keeps exactly what a download keeps.
    """
    try:
        text = _osmnx_network_filter(network_type)
    except ValueError:
        raise InputError(f"unknown network_type {network_type!r}: use drive, drive_service, walk, bike, all_public or all") from None
    conditions = []
    for key, op, regex in re.findall(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]', text):
        conditions.append((key, op or None, re.compile(regex) if op else None))
    return conditions


def _keeps_way(tags: Mapping[str, str], conditions: list[tuple[str, str | None, re.Pattern[str] | None]]) -> bool:
    """Whether a way with these tags passes the Overpass filter conditions."""
    for key, op, regex in conditions:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "!~":
            # Overpass regexes are unanchored searches; a missing key passes a negative test.
            if value is not None and regex.search(value):  # type: ignore[union-attr]
                return False
        elif value is None or not regex.search(value):  # type: ignore[union-attr]
            return False
    return True


def _check_location(path: Path, node: Any) -> None:
    """InputError unless an OSM node lies on the globe: a latitude of 95 would make a road
    thousands of kilometres long."""
    if not node.location.valid():
        lat, lon = node.location.lat_without_check(), node.location.lon_without_check()
        raise InputError(f"{path.name}: node {node.id} is at lat {lat:g}, lon {lon:g}, outside -90..90 and "
                         "-180..180 degrees: not a readable OpenStreetMap file")


def _graph_from_osm_file(path: Path, network_type: str) -> nx.MultiDiGraph:
    """Filter the drivable ways (pyosmium reads XML, bz2 and PBF) into plain OSM XML for OSMnx."""
    import osmium
    import osmnx as ox

    conditions = _way_filter(network_type)
    with tempfile.TemporaryDirectory(prefix="patrolsim-osm-") as tmp:
        filtered = Path(tmp) / "drivable.osm"
        try:
            way_nodes: set[int] = set()
            kept_ways: set[int] = set()
            for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
                if _keeps_way({t.k: t.v for t in way.tags}, conditions):
                    kept_ways.add(way.id)
                    way_nodes.update(n.ref for n in way.nodes)
            present: set[int] = set()
            with osmium.SimpleWriter(str(filtered)) as writer:
                for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
                    if obj.is_node() and obj.id in way_nodes:
                        _check_location(path, obj)
                        present.add(obj.id)
                        writer.add_node(obj)
                    elif obj.is_way() and obj.id in kept_ways:
                        # An extract cut at its border lists way nodes it does not contain;
                        # keep the part of the way that is inside.
                        refs = [n.ref for n in obj.nodes if n.ref in present]
                        if len(refs) >= 2:
                            writer.add_way(obj.replace(nodes=refs, tags=dict(obj.tags)))
        except (RuntimeError, ValueError, osmium.InvalidLocationError) as e:
            # libosmium's parse errors: bad XML, not PBF, bad bzip2, a coordinate that is not a
            # number ('abc', '400'), an id beyond 64 bits
            raise InputError(f"{path.name}: not a readable OpenStreetMap file ({str(e)[:200]})") from None
        if not kept_ways:
            raise InputError(f"{path.name}: no drivable road ({network_type}) in the file")
        try:
            G = ox.graph_from_xml(filtered, retain_all=True, simplify=True)
        except Exception as e:  # OSMnx on degenerate data (e.g. ways whose nodes are all missing)
            raise InputError(f"{path.name}: could not build a road graph ({type(e).__name__}: {e})") from None
    return G
