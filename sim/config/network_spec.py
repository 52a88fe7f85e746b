"""Where the road network comes from: the scenario's ``network:`` block, or a network named in one text
(``--network`` on the command line, ``network`` in Python)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from sim.config.limits import MAX_BBOX_DEG
from sim.config.option_names import API_NAMES
from sim.errors import InputError, shown
from sim.plugins.base import Spec, Tuple

#: File name endings the file importer reads.
OSM_XML_SUFFIXES = (".osm", ".osm.bz2")
OSM_PBF_SUFFIXES = (".osm.pbf",)
GRAPHML_SUFFIXES = (".graphml",)
FILE_SUFFIXES = OSM_XML_SUFFIXES + OSM_PBF_SUFFIXES + GRAPHML_SUFFIXES


class NetworkSpec(Spec):
    """Where the road network comes from: the scenario's ``network:`` block, or a network named in text.

    In code the source may come first: ``NetworkSpec("osm", place="Jember")``.
    """

    source: Literal["demo", "osm", "file"]
    place: str | None = None                # osm: a place name Nominatim knows
    bbox: Annotated[Tuple[float], Field(min_length=4, max_length=4)] | None = None  # osm: W, S, E, N (degrees)
    path: str | None = None                 # file: .osm .osm.bz2 .osm.pbf .graphml
    network_type: str = "drive"

    def __init__(self, source: str | None = None, /, **fields: Any):
        super().__init__(**({"source": source} if source is not None else {}), **fields)


def spec_problems(spec: NetworkSpec) -> list[tuple[tuple[str, ...], str]]:
    """What a scenario's ``network:`` block lacks or gets wrong, as (path in the block, message);
    ``load_network`` refuses the same of a spec built in code."""
    problems: list[tuple[tuple[str, ...], str]] = []
    if spec.source == "osm" and spec.place is None and spec.bbox is None:
        problems.append((("source",), "source osm needs 'place' or 'bbox'"))
    if spec.source == "file" and spec.path is None:
        problems.append((("source",), "source file needs 'path'"))
    if spec.bbox is not None:
        west, south, east, north = spec.bbox
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            problems.append((("bbox",), "expected [west, south, east, north] in degrees with west < east and "
                                        "south < north"))
        elif max(east - west, north - south) > MAX_BBOX_DEG:
            problems.append((("bbox",), f"{east - west:g}° by {north - south:g}°: an OSM download area is at "
                                        f"most {MAX_BBOX_DEG:g}° on a side"))
    return problems


def check_bbox(bbox: Any) -> tuple[float, float, float, float]:
    """The bbox as floats (west, south, east, north), or InputError if it is not one."""
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox must be four numbers [west, south, east, north], got {shown(bbox)}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputError(f"bbox {shown(list(bbox))} is not [west, south, east, north] in degrees with west < east, "
                         "south < north")
    if max(east - west, north - south) > MAX_BBOX_DEG:
        raise InputError(f"bbox {shown(list(bbox))} is {east - west:g}° by {north - south:g}°: an OSM download area "
                         f"is at most {MAX_BBOX_DEG:g}° on a side")
    return west, south, east, north


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def network_spec_from_arg(value: str, name: str = API_NAMES.network) -> NetworkSpec:
    """The spec for a network named in text: ``demo``, ``osm:PLACE``, ``osm:W,S,E,N`` or a file path;
    problems under the option's ``name`` (``--network`` on the command line).

    Plain ``osm`` is an error here: it needs a place or bbox, which the scenario file gives.
    """
    text = value.strip()
    if text == "demo":
        return NetworkSpec("demo")
    if text == "osm":
        raise InputError(
            f"{name} osm needs a place or a bbox: set network.place or network.bbox in the scenario, "
            f"or write {name} 'osm:PLACE NAME' or {name} osm:WEST,SOUTH,EAST,NORTH"
        )
    if text.startswith("osm:"):
        where = text[4:].strip()
        numbers = where.split(",")
        if len(numbers) == 4 and all(_is_number(n) for n in numbers):
            try:
                return NetworkSpec("osm", bbox=check_bbox(numbers))
            except InputError as error:  # four numbers are a bbox, never a place name
                raise InputError(f"{name} {value[:200]}: {error.problems[0]}") from None
        if sum(map(_is_number, numbers)) >= 2:  # meant as a bbox: a place name is not mostly numbers
            wrong = next((n.strip() for n in numbers if not _is_number(n)), None)
            raise InputError(f"{name} {value[:200]}: a bbox is four numbers WEST,SOUTH,EAST,NORTH in degrees"
                             + (f"; {wrong[:40]!r} is not a number" if wrong is not None
                                else f"; got {len(numbers)}"))
        if not where:
            raise InputError(f"{name} osm: needs a place name or a bbox after 'osm:'")
        return NetworkSpec("osm", place=where)
    if text.lower().endswith(FILE_SUFFIXES):
        return NetworkSpec("file", path=text)
    raise InputError(
        f"unknown network {shown(value)}: use demo, osm:PLACE, osm:WEST,SOUTH,EAST,NORTH, "
        f"or a path to a {', '.join(FILE_SUFFIXES)} file"
    )


def resolve_network_path(path: str, folder: Path) -> Path:
    """A network file path as given in a scenario, relative to the scenario file's folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (folder / p).resolve()
