"""Site sets: many sites at once (``site_sets:``), generated from population or read from a file.

    site_sets:
      - {kind: polling_station, id_prefix: tps, count: 4041, generate: by_population, seed: 1}
      - {kind: polling_station, file: tps.csv}        # real ones: columns id,name,lat,lon (and area)

A set becomes ordinary sites, appended to ``sites`` before the schema reads them, so everything
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
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, model_validator

from sim.config.kecamatan import find_kecamatan, load_kecamatan, unknown_kecamatan
from sim.config.network_spec import resolve_network_path
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


@functools.lru_cache(maxsize=8)
def _read_site_file(path: Path, size: int, mtime_ns: int) -> tuple[tuple[str, str, float, float, str], ...]:
    """Rows (id, name, lat, lon, area) of a site CSV (area: the kecamatan's name from the optional
    ``area`` column, else ""); ValueError naming the line of the first problem.
    Cached by size and modification time: the schema and the checks both read it."""
    del size, mtime_ns  # the cache key only: an edited file is read again
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in FILE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name}: needs the columns {', '.join(FILE_COLUMNS)}; missing {', '.join(missing)}")
        rows, seen = [], set()
        for row in reader:
            line = reader.line_num
            if len(rows) >= MAX_SITE_SET_COUNT:
                raise ValueError(f"{path.name}: more than {MAX_SITE_SET_COUNT:,} sites")
            site_id = (row["id"] or "").strip()
            if not site_id:
                raise ValueError(f"{path.name} line {line}: empty id")
            if site_id in seen:
                raise ValueError(f"{path.name} line {line}: duplicate id '{site_id}'")
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (TypeError, ValueError):
                raise ValueError(f"{path.name} line {line}: lat and lon must be numbers, got "
                                 f"{row['lat']!r:.40}, {row['lon']!r:.40}") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"{path.name} line {line}: lat {lat}, lon {lon} is not a position")
            area = (row.get(AREA_COLUMN) or "").strip()
            if area:
                kecamatan = find_kecamatan(area)
                if kecamatan is None:
                    raise ValueError(f"{path.name} line {line}: {unknown_kecamatan(area)}")
                area = kecamatan.name
            seen.add(site_id)
            rows.append((site_id, (row["name"] or "").strip() or site_id, lat, lon, area))
    if not rows:
        raise ValueError(f"{path.name}: no sites")
    return tuple(rows)


def read_site_file(path: Path) -> tuple[tuple[str, str, float, float, str], ...]:
    """Rows (id, name, lat, lon, area) of a site CSV file; ValueError if it is missing, too big or bad."""
    try:
        stat = path.stat()
    except OSError:
        raise ValueError(f"file not found: {path}") from None
    if stat.st_size > MAX_SITE_FILE_BYTES:
        raise ValueError(f"{path.name}: {stat.st_size / 2**20:.0f} MB, more than {MAX_SITE_FILE_BYTES // 2**20} MB")
    try:
        return _read_site_file(path, stat.st_size, stat.st_mtime_ns)
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
                    "id": site_id, "name": f"{site_id}: synthetic {label} ({name})", "kind": self.kind,
                    "lat": round(south + (north - south) * float(u_lat), 6),
                    "lon": round(west + (east - west) * float(u_lon), 6),
                    "approximate": True, "area": name,
                    "note": f"synthetic: generated by population in Kecamatan {name}'s box "
                            f"(site_sets, seed {self.seed}), not a real position",
                })
        return out


# -- scenario data before the schema reads it -----------------------------------------------------------


def _valid_sets(data: dict[str, Any], folder: Path | str | None) -> list[SiteSet]:
    """The site sets that validate (the schema reports the others, at their own path)."""
    valid = []
    for item in data.get("site_sets") or []:
        try:
            valid.append(SiteSet.model_validate(item, context={"folder": folder}))
        except ValueError:
            continue
    return valid


def kind_weights(weights: Any) -> str | None:
    """The kind named by a disturbance's ``sites: {kind: NAME}``, else None."""
    if isinstance(weights, dict) and len(weights) == 1 and isinstance(weights.get("kind"), str):
        return weights["kind"]
    return None


def expand_site_sets(data: Any, folder: Path | str | None) -> Any:
    """Scenario data with every valid site set appended to ``sites`` and every disturbance's
    ``sites: {kind: NAME}`` turned into weight 1 for each site of that kind. Data without
    ``site_sets`` or kind weights comes back unchanged (the same object)."""
    if not isinstance(data, dict):
        return data
    sites = data.get("sites")
    sets = _valid_sets(data, folder) if isinstance(data.get("site_sets"), list) else []
    if sets and isinstance(sites, list):
        sites = list(sites) + [site for one in sets for site in one.sites(folder)]
        data = {**data, "sites": sites}
    disturbances = data.get("disturbances")
    if isinstance(disturbances, list) and any(isinstance(d, dict) and kind_weights(d.get("sites")) for d in disturbances):
        of_kind = _ids_by_kind(sites if isinstance(sites, list) else [])
        data = {**data, "disturbances": [
            {**d, "sites": {site: 1.0 for site in of_kind.get(kind_weights(d["sites"]), [])}}
            if isinstance(d, dict) and kind_weights(d.get("sites")) else d for d in disturbances]}
    return data


def _ids_by_kind(sites: Iterable[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for site in sites:
        if isinstance(site, dict) and isinstance(site.get("id"), str):
            out.setdefault(str(site.get("kind", "")), []).append(site["id"])
    return out


def site_set_ids_and_kinds(data: dict[str, Any], folder: Path | str | None) -> tuple[list[tuple[int, list[str]]], set[str]]:
    """For the cross-checks: (index of each valid set, its ids), and the kinds of all sites."""
    raw = data.get("site_sets")
    by_set: list[tuple[int, list[str]]] = []
    kinds = {str(s.get("kind", "")) for s in data.get("sites") or [] if isinstance(s, dict)}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            kinds.add(item["kind"])  # known even when the set is broken: its own problem is reported
        try:
            one = SiteSet.model_validate(item, context={"folder": folder})
        except ValueError:
            continue
        by_set.append((i, one.ids(folder)))
    return by_set, kinds


def generated_site_ids(site_sets: Iterable[SiteSet]) -> frozenset[str]:
    """The ids of the generated (synthetic) sites of validated site sets."""
    return frozenset(site_id for one in site_sets if one.generate is not None for site_id in one.ids())
