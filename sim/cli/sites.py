"""``sites geocode SCENARIO|SITES.csv``: look up placeholder sites by name through OSMnx's geocoder
(Nominatim) and write what it found.

A scenario's sites marked ``approximate: true`` (a site set's file: every row) are looked up by
``name, PLACE`` (PLACE: ``--place``, else the scenario's ``network.place``). A match gets its
lat/lon, ``source: nominatim`` and ``display_name`` (the match's full name, for a person to check);
``approximate: true`` stays until that person confirms the point and removes it. A site already
geocoded (``source: nominatim``) is skipped. Nothing is written when any lookup failed to reach
the geocoder, and each file is replaced whole.

In a scenario only sites written on one line (``- {id: ..., lat: ..., lon: ...}``) can be
rewritten; the comments and the rest of the file stay as they are.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Callable

from sim.cli.common import Parser
from sim.config.reading import bounded_lines, read_bounded
from sim.config.site_sets import MAX_SITE_FILE_BYTES, MAX_SITE_SET_COUNT, site_row
from sim.errors import InputError, shown

#: Sites one run may look up: Nominatim's usage policy allows one request a second.
MAX_GEOCODE_SITES = 500
GEOCODE_TIMEOUT_S = 10  # offline or a dead server: say so after 10 s, not OSMnx's 180
SOURCE = "nominatim"


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    sites = commands.add_parser("sites", help="sites: geocode placeholder positions")
    sub = sites.add_subparsers(dest="sites_command", parser_class=Parser)
    geocode = sub.add_parser("geocode", help="look up approximate sites by name (OSMnx / Nominatim)")
    geocode.add_argument("source", type=Path, help="a scenario (.yaml) or a site file (.csv: id,name,lat,lon)")
    geocode.add_argument("--place", default=None,
                         help="added to each name in the query (default: the scenario's network place)")
    geocode.add_argument("--dry-run", action="store_true", help="look up and print, write nothing")
    return {"sites": _cmd_sites}


def lookup(query: str) -> tuple[float, float, str] | None:
    """(lat, lon, display name) of Nominatim's best match for ``query``; None if nothing matched.
    InputError when the geocoder cannot be reached."""
    import osmnx as ox
    import requests

    from sim.network.osm import insufficient_response_error, osmnx_settings

    timeout = min(GEOCODE_TIMEOUT_S, ox.settings.requests_timeout)
    with osmnx_settings(requests_timeout=timeout, use_cache=False):  # ask afresh; no ./cache folder
        try:
            row = ox.geocode_to_gdf(query, which_result=1).iloc[0]
        except insufficient_response_error():
            return None
        except requests.RequestException as error:
            raise InputError(f"sites geocode: cannot reach the geocoder at {ox.settings.nominatim_url} (offline?): "
                             f"{type(error).__name__}") from None
    return float(row["lat"]), float(row["lon"]), str(row.get("display_name", query))


def _too_many(count: int) -> InputError:
    return InputError(f"sites geocode: {count:,} sites to look up, more than the {MAX_GEOCODE_SITES} one run may "
                      "ask Nominatim for (one a second by its usage policy)")


def _geocode_all(items: list[dict[str, Any]], place: str | None, find: Callable = lookup) -> list[str]:
    """Look up each item (dicts with id, name) in place; returns the lines to print."""
    if len(items) > MAX_GEOCODE_SITES:
        raise _too_many(len(items))
    out = []
    for item in items:
        query = f"{item['name']}, {place}" if place else str(item["name"])
        found = find(query)
        if found is None:
            out.append(f"{item['id']}: not found ({query!r}); left as it was")
            continue
        item["lat"], item["lon"], item["display_name"] = round(found[0], 6), round(found[1], 6), found[2]
        item["found"] = True
        out.append(f"{item['id']}: {item['lat']}, {item['lon']} ({found[2]})")
    return out


#: What the ``approximate`` column of a site file may say (case aside); empty: not said.
_YES, _NO = ("true", "yes", "1"), ("false", "no", "0", "")


def _site_rows(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of a site file, each row checked as a scenario's site set reads it (and
    ``approximate`` a yes or no); streamed, so a file with too many sites to look up is refused at
    the first one over the bound."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    todo = 0
    line = 0
    try:
        with bounded_lines(path, MAX_SITE_FILE_BYTES) as lines:
            reader = csv.DictReader(lines, strict=True)
            columns = list(reader.fieldnames or [])
            line = reader.line_num
            if not {"id", "name", "lat", "lon"} <= set(columns):
                raise InputError(f"{path}: a site file needs the columns id,name,lat,lon (it has "
                                 f"{shown(','.join(columns), 80)})")
            for row in reader:
                line = reader.line_num
                site_row(row, f"{path} line {line}", seen)
                flag = str(row.get("approximate") or "").strip().lower()
                if flag not in _YES + _NO:
                    raise InputError(f"{path} line {line}: approximate {shown(row['approximate'], 40)}: expected "
                                     "true or false (or empty)")
                rows.append(row)
                if len(rows) > MAX_SITE_SET_COUNT:
                    raise InputError(f"{path}: more than {MAX_SITE_SET_COUNT:,} sites (the bound on a site file)")
                todo += row.get("source") != SOURCE
                if todo > MAX_GEOCODE_SITES:
                    raise InputError(f"sites geocode: {path}: more than the {MAX_GEOCODE_SITES} sites to look up one "
                                     "run may ask Nominatim for (one a second by its usage policy); stopped reading "
                                     f"at line {line}")
    except ValueError as error:  # a bad row (site_row), TooBig, NotARegularFile, UnicodeDecodeError
        raise InputError(f"{path}: {error}" if not str(error).startswith(str(path)) else str(error)) from None
    except csv.Error as error:
        hint = ": a quoted field is not closed" if "unexpected end of data" in str(error) else ""
        raise InputError(f"{path} line {line + 1}: not readable as CSV ({error}{hint})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read the site file ({error.strerror or error})") from None
    if not rows:
        raise InputError(f"{path}: a site file needs the columns id,name,lat,lon and at least one row")
    return columns, rows


def _from_csv(path: Path, args: argparse.Namespace) -> tuple[list[str], str | None]:
    """A site file: every row not yet geocoded; returns (lines to print, new text or None)."""
    read_columns, rows = _site_rows(path)
    columns = read_columns + [c for c in ("approximate", "source", "display_name") if c not in read_columns]
    todo = [row for row in rows if row.get("source") != SOURCE]
    lines = _geocode_all(todo, args.place)
    if not any(row.get("found") for row in todo):
        return lines, None
    for row in rows:
        if row.pop("found", False):
            row.update(approximate="true", source=SOURCE)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="", lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return lines, buffer.getvalue()


def _set(line: str, key: str, value: str) -> str:
    """``key: value`` in a one-line flow mapping, replaced or added before the closing brace."""
    pattern = re.compile(rf"(\b{key}:\s*)(\"(?:[^\"\\]|\\.)*\"|[^,}}]*)")
    if pattern.search(line):
        return pattern.sub(lambda m: m.group(1) + value, line, count=1)
    return re.sub(r"\}(\s*(#.*)?)$", lambda m: f", {key}: {value}}}" + m.group(1), line, count=1)


def _from_yaml(path: Path, args: argparse.Namespace) -> tuple[list[str], str | None]:
    """A scenario: its approximate sites not yet geocoded; returns (lines to print, new text or None)."""
    from sim.config.yaml_reader import MAX_FILE_BYTES, read_yaml

    data, lines_of = read_yaml(path, str(path))
    network = data.get("network") if isinstance(data.get("network"), dict) else {}
    place = args.place if args.place is not None else network.get("place")
    text = read_bounded(path, MAX_FILE_BYTES).decode("utf-8").split("\n")  # read_yaml read it whole already
    todo = []
    sites = data.get("sites") if isinstance(data.get("sites"), list) else []
    for i, site in enumerate(sites):
        if not isinstance(site, dict):
            continue
        line_no = lines_of.get(("sites", i))
        if not isinstance(site.get("approximate", False), bool):
            raise InputError(f"{path}:{line_no}: sites[{i}].approximate: expected true or false, got "
                             f"{shown(site['approximate'], 40)}")
        if site.get("approximate") is not True or site.get("source") == SOURCE:
            continue
        try:
            site_row({key: str(site.get(key, "")) for key in ("id", "name", "lat", "lon")}, f"{path}:{line_no}: "
                     f"sites[{i}]", set())
        except ValueError as error:
            raise InputError(str(error)) from None
        if line_no is None or not all(f"{key}:" in text[line_no - 1] for key in ("id", "lat", "lon")) \
                or "}" not in text[line_no - 1]:
            raise InputError(f"{path}:{line_no}: sites[{i}]: write the site on one line "
                             "({id: ..., name: ..., lat: ..., lon: ...}) to have it geocoded")
        todo.append({"id": site.get("id"), "name": site.get("name", site.get("id")), "line": line_no})
    if not todo:
        return [f"{path}: no approximate site left to geocode"], None
    printed = _geocode_all(todo, place)
    if not any(item.get("found") for item in todo):
        return printed, None
    for item in todo:
        if item.get("found"):
            line = text[item["line"] - 1]
            for key, value in (("lat", str(item["lat"])), ("lon", str(item["lon"])), ("source", SOURCE),
                               ("display_name", json.dumps(item["display_name"], ensure_ascii=False))):
                line = _set(line, key, value)
            text[item["line"] - 1] = line
    return printed, "\n".join(text)


def _cmd_sites(args: argparse.Namespace) -> int:
    from sim.files import write_text

    if args.sites_command is None:
        raise InputError("sites: say 'geocode' (see --help)")
    path: Path = args.source
    if path.suffix.lower() not in (".csv", ".yaml", ".yml"):
        raise InputError(f"{path}: expected a scenario (.yaml) or a site file (.csv)")
    if not path.exists():
        raise InputError(f"{path}: file not found")
    printed, new_text = (_from_csv if path.suffix.lower() == ".csv" else _from_yaml)(path, args)
    for line in printed:
        print(line)
    if new_text is not None and not args.dry_run:
        write_text(path, new_text)
        print(f"{path}: written; the geocoded sites keep approximate: true until a person confirms them")
    return 0
