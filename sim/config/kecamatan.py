"""Jember's 31 kecamatan (sub-districts): the one reader of the package's kecamatan tables.

``sim/data/jember_kecamatan.csv`` gives each kecamatan's code, name, centre (degrees), area (km²)
and bounding box (degrees); ``jember_kecamatan_population.csv`` its 2010 census population. The
centres are those of public gazetteers, the boxes approximate; there are no boundaries. So "the
kecamatan of a point" here means **the kecamatan whose centre is nearest** (great-circle distance):
an approximation that can be wrong near a border, stated as such wherever it is shown.
"""
from __future__ import annotations

import csv
import difflib
import functools
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), as sim.network.geo


@dataclass(frozen=True)
class Kecamatan:
    """One sub-district: code, name, centre (degrees), area (km²), bounding box (degrees), 2010 population."""

    code: int
    name: str
    lat: float
    lon: float
    area_km2: float
    west: float
    south: float
    east: float
    north: float
    population: int

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return self.west, self.south, self.east, self.north


def _rows(name: str) -> list[dict[str, str]]:
    # Package data, read through importlib so it works from a wheel as well as from a checkout.
    text = (resources.files("sim") / "data" / name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.lru_cache(maxsize=1)
def load_kecamatan() -> tuple[Kecamatan, ...]:
    """The 31 kecamatan of Jember from the package data, in file (code) order."""
    people = {int(r["code"]): int(r["population_2010"]) for r in _rows("jember_kecamatan_population.csv")}
    return tuple(
        Kecamatan(code=int(r["code"]), name=r["name"],
                  **{k: float(r[k]) for k in ("lat", "lon", "area_km2", "west", "south", "east", "north")},
                  population=people[int(r["code"])])
        for r in _rows("jember_kecamatan.csv"))


@functools.lru_cache(maxsize=1)
def _centres_rad() -> tuple[np.ndarray, np.ndarray]:
    table = load_kecamatan()
    return np.radians([k.lat for k in table]), np.radians([k.lon for k in table])


def nearest_kecamatan_many(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For many points (degrees): the index into :func:`load_kecamatan` of each one's nearest
    centre, and the great-circle distance to it (m). Ties go to the first in code order."""
    lat_r = np.radians(np.asarray(lat, float)).reshape(-1, 1)
    lon_r = np.radians(np.asarray(lon, float)).reshape(-1, 1)
    c_lat, c_lon = _centres_rad()
    # Haversine, points x centres (31 columns: small even for 100,000 sites).
    h = (np.sin((c_lat - lat_r) / 2) ** 2
         + np.cos(lat_r) * np.cos(c_lat) * np.sin((c_lon - lon_r) / 2) ** 2)
    dist_m = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    index = np.argmin(dist_m, axis=1)
    return index, dist_m[np.arange(len(index)), index]


def nearest_kecamatan(lat: float, lon: float) -> tuple[Kecamatan, float]:
    """The kecamatan whose centre is nearest to (lat, lon) in degrees, and the distance to it (m)."""
    index, dist_m = nearest_kecamatan_many(np.array([lat]), np.array([lon]))
    return load_kecamatan()[int(index[0])], float(dist_m[0])


@functools.lru_cache(maxsize=1)
def _by_name_or_code() -> dict[str, Kecamatan]:
    return {key: k for k in load_kecamatan() for key in (k.name.casefold(), str(k.code))}


def find_kecamatan(text: str | int) -> Kecamatan | None:
    """The kecamatan named ``text`` (name, any case and spacing, or its code), else None."""
    return _by_name_or_code().get(" ".join(str(text).split()).casefold())


def unknown_kecamatan(text: str | int) -> str:
    """The message for a name that is no kecamatan: the closest name (any case), or how to say one."""
    shown = str(text)[:60]
    names = {k.name.casefold(): k.name for k in load_kecamatan()}
    close = difflib.get_close_matches(" ".join(shown.split()).casefold(), list(names), n=1)
    hint = f"did you mean '{names[close[0]]}'?" if close else "give a kecamatan of Jember by name or code, e.g. 'Patrang' or 350920"
    return f"unknown kecamatan {shown!r}; {hint}"
