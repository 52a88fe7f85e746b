"""Site sets: many sites at once (``site_sets:``), generated from population or read from a file.

    site_sets:
      - {kind: polling_station, id_prefix: tps, count: 4041, generate: by_population, seed: 1}
      - {kind: polling_station, file: tps.csv}        # real ones: columns id,name,lat,lon (and area)

A set becomes ordinary sites, appended to the scenario's ``sites`` when it is validated, so everything
that reads sites (disturbance weights, patrols, maps, the hypercube model) sees them as any other.
A disturbance's ``sites: {kind: polling_station}`` weights every site of the kind alike.

**Generated sites are synthetic.** ``by_population`` shares ``count`` sites among Jember's 31
kecamatan in proportion to their 2010 census population (largest remainders), and places each
kecamatan's share uniformly at random in its bounding box (``sim/data``), from the set's seed.
This happens here, from population alone (the config layer does not know the roads): the world
snaps the points to their nearest road node like any site, but without the ``max_snap_m`` check
(a synthetic point has no true position to be wrong about; the snap distance is still reported).
Each generated site is named and noted as synthetic, marked approximate, and keeps the kecamatan it
was drawn in as its ``area``.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, model_validator

from sim.config.kecamatan import find_kecamatan, load_kecamatan, unknown_kecamatan
from sim.config.network_spec import resolve_network_path
from sim.config.reading import NotARegularFile, TooBig, read_bounded
from sim.plugins.base import Spec
from sim.streams import STREAM_SITE_SETS, stream

MAX_SITE_SET_COUNT = 100_000  # sites in one generated set or file: each is a snapped site in every world
MAX_SITE_FILE_BYTES = 20 * 2**20  # as a scenario file
MAX_SITE_SET_SEED = 2**63 - 1
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
FILE_COLUMNS = ("id", "name", "lat", "lon")
AREA_COLUMN = "area"  # optional in a site file: the kecamatan (name or code) each site counts in


def population_shares(count: int, population: np.ndarray) -> np.ndarray:
    """``count`` split in proportion to ``population`` by largest remainders (ties: first in order)."""
    quota = count * population / population.sum()
    shares = np.floor(quota).astype(np.int64)
    extra = count - int(shares.sum())
    shares[np.argsort(-(quota - shares), kind="stable")[:extra]] += 1
    return shares


# -- reading a site file ---------------------------------------------------------------------------


def site_row(row: dict[str | None, Any], where: str, seen: set[str]) -> tuple[str, str, float, float]:
    """(id, name, lat, lon) of one row of a site file, read by ``csv.DictReader``: an id not in ``seen``
    (added to it), lat and lon a position. ValueError starting with ``where`` ("tps.csv line 3")."""
    header = [key for key in row if key is not None]
    given = sum(row[key] is not None for key in header) + len(row.get(None) or ())
    if given != len(header):
        raise ValueError(f"{where}: {given} fields, the header has {len(header)}")
    site_id = (row["id"] or "").strip()
    if not site_id:
        raise ValueError(f"{where}: empty id")
    if site_id in seen:
        raise ValueError(f"{where}: duplicate id '{site_id}'")
    try:
        lat, lon = float(row["lat"]), float(row["lon"])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{where}: lat and lon must be numbers, got {row['lat']!r:.40}, {row['lon']!r:.40}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN fails both
        raise ValueError(f"{where}: lat {lat}, lon {lon} is not a position")
    seen.add(site_id)
    return site_id, (row["name"] or "").strip() or site_id, lat, lon


@functools.lru_cache(maxsize=8)
def _read_site_file(path: Path, size: int, mtime_ns: int) -> tuple[tuple[str, str, float, float, str], ...]:
    """Rows (id, name, lat, lon, area) of a site CSV (area: the kecamatan's name from the optional
    ``area`` column, else ""); ValueError naming the line of the first problem.
    Cached by size and modification time: validating the set and making its sites both read it."""
    del size, mtime_ns  # the cache key only: an edited file is read again
    text = read_bounded(path, MAX_SITE_FILE_BYTES).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in FILE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path.name}: needs the columns {', '.join(FILE_COLUMNS)}; missing {', '.join(missing)}")
    rows: list[tuple[str, str, float, float, str]] = []
    seen: set[str] = set()
    for row in reader:
        if len(rows) >= MAX_SITE_SET_COUNT:
            raise ValueError(f"{path.name}: more than {MAX_SITE_SET_COUNT:,} sites")
        where = f"{path.name} line {reader.line_num}"
        site = site_row(row, where, seen)
        area = (row.get(AREA_COLUMN) or "").strip()
        if area:
            kecamatan = find_kecamatan(area)
            if kecamatan is None:
                raise ValueError(f"{where}: {unknown_kecamatan(area)}")
            area = kecamatan.name
        rows.append((*site, area))
    if not rows:
        raise ValueError(f"{path.name}: no sites")
    return tuple(rows)


def read_site_file(path: Path) -> tuple[tuple[str, str, float, float, str], ...]:
    """Rows (id, name, lat, lon, area) of a site CSV file; ValueError if it is missing, too big or bad."""
    try:
        info = path.stat()
    except OSError:
        raise ValueError(f"file not found: {path}") from None
    try:
        return _read_site_file(path, info.st_size, info.st_mtime_ns)
    except TooBig:
        raise ValueError(f"{path.name}: more than {MAX_SITE_FILE_BYTES // 2**20} MB") from None
    except NotARegularFile as error:
        raise ValueError(f"{path.name}: {error}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path.name}: cannot be read as CSV ({exc})") from None


# -- the schema ------------------------------------------------------------------------------------------


class SiteSet(Spec):
    """Many sites of one kind: ``generate: by_population`` (``id_prefix``, ``count``, ``seed``) or ``file``."""

    kind: str = Field(min_length=1)
    generate: Literal["by_population"] | None = None
    id_prefix: str | None = None
    count: int | None = Field(default=None, ge=1, le=MAX_SITE_SET_COUNT)
    seed: int | None = Field(default=None, ge=0, le=MAX_SITE_SET_SEED)
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo) -> SiteSet:
        if (self.generate is None) == (self.file is None):
            raise ValueError("give either 'generate: by_population' (with id_prefix, count, seed) or 'file'")
        if self.generate is not None:
            missing = [k for k in ("id_prefix", "count", "seed") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"generate needs {', '.join(missing)}")
            if not _PREFIX.match(self.id_prefix or ""):
                raise ValueError(f"id_prefix {self.id_prefix!r:.40}: use up to 32 letters, digits, '.', '_', '-'")
        else:
            given = [k for k in ("id_prefix", "count", "seed") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only for generate; a file gives its own ids")
            read_site_file(self.path((info.context or {}).get("folder")))
        return self

    def path(self, folder: Path | str | None) -> Path:
        """The site file, relative to the scenario's folder (the current folder for data given in code)."""
        return resolve_network_path(str(self.file), Path(folder) if folder is not None else Path.cwd())

    def ids(self, folder: Path | str | None = None) -> list[str]:
        """The ids of the set's sites, in order."""
        if self.generate is not None:
            width = len(str(self.count))
            return [f"{self.id_prefix}-{i:0{width}d}" for i in range(1, int(self.count or 0) + 1)]
        return [row[0] for row in read_site_file(self.path(folder))]

    def sites(self, folder: Path | str | None = None) -> list[dict[str, Any]]:
        """The set's sites as scenario data (dicts like the ``sites:`` items)."""
        if self.generate is None:
            return [{"id": i, "name": n, "kind": self.kind, "lat": lat, "lon": lon} | ({"area": area} if area else {})
                    for i, n, lat, lon, area in read_site_file(self.path(folder))]
        kecamatan = load_kecamatan()
        shares = population_shares(int(self.count or 0), np.array([k.population for k in kecamatan], float))
        ids = iter(self.ids())
        label = self.kind.replace("_", " ")
        out = []
        for kec, share in zip(kecamatan, shares):
            name, (west, south, east, north) = kec.name, kec.bbox
            # One stream per kecamatan: a larger count keeps every earlier point where it was.
            unit = stream(int(self.seed or 0), STREAM_SITE_SETS, kec.code).random((int(share), 2))
            for u_lon, u_lat in unit:
                site_id = next(ids)
                out.append({
                    "id": site_id, "name": synthetic_name(site_id, label, name), "kind": self.kind,
                    "lat": round(south + (north - south) * float(u_lat), 6),
                    "lon": round(west + (east - west) * float(u_lon), 6),
                    "approximate": True, "area": name,
                    "note": f"synthetic: generated by population in Kecamatan {name}'s box "
                            f"(site_sets, seed {self.seed}), not a real position",
                })
        return out


def synthetic_name(site_id: str, label: str, kecamatan: str) -> str:
    """A generated site's name: ``tps-0184: synthetic polling station (Ambulu)``."""
    return f"{site_id}: synthetic {label} ({kecamatan})"


_SYNTHETIC_NAME = re.compile(r"(?P<id>[^:]+): synthetic (?P<label>.+) \((?P<kecamatan>[^()]+)\)")


def synthetic_name_parts(name: str) -> tuple[str, str, str] | None:
    """(site id, kind label, kecamatan) of a generated site's name, None for any other name."""
    match = _SYNTHETIC_NAME.fullmatch(name)
    return None if match is None else (match["id"], match["label"], match["kecamatan"])


# -- what the scenario asks of site sets -------------------------------------------------------------------


def kind_weights(weights: Any) -> str | None:
    """The kind named by a disturbance's ``sites: {kind: NAME}``, else None."""
    if isinstance(weights, dict) and len(weights) == 1 and isinstance(weights.get("kind"), str):
        return weights["kind"]
    return None


def generated_site_ids(site_sets: Iterable[SiteSet]) -> frozenset[str]:
    """The ids of the generated (synthetic) sites of validated site sets."""
    return frozenset(site_id for one in site_sets if one.generate is not None for site_id in one.ids())
