"""Results by area (kecamatan): the rows of areas.csv, one per plan and area.

**Which area a site is in.** A site's own ``area:`` (a kecamatan name or code); a site of a
generated site set keeps the kecamatan it was drawn in; any other site counts in the kecamatan
whose centre is nearest (``sim.config.kecamatan``: approximate, the data has no boundaries).

**An area's figures**, from the counted incidents at its sites, pooled over every replication:

- ``incidents``, ``in_target`` (first unit on scene within the target) and ``late`` (after it,
  or never): counts, so ``incidents = in_target + late``;
- ``within_target_pooled_pct`` = in_target / incidents, with the 95% Wilson interval of that
  pooled count (``within_target_low_pct``, ``within_target_high_pct``; sim.study.shares): inside
  [0, 100] and as wide as few incidents make it;
- ``response_mean_min`` and ``response_p90_min`` over the incidents a unit reached;
- ``post_drive_mean_min`` and ``post_drive_max_min``: the drive from the plan's nearest post to
  the area's incident sites, at the roads' base speeds (travel periods left out) and each unit
  type's speed factor. A plan's posts are where its units are stationed: the site a unit stands
  at (a post, its base), or a moving patrol's base, over every fleet of the plan. The mean is
  weighted by each site's expected incidents (every disturbance type's rate over the measured
  clock, with its hour-of-day profile, and every event's, shared by the site weights); the max
  is the area's worst incident site. Not a simulation: what the posts alone would give.

An area is listed when it holds an incident site (one with expected incidents) or had an
incident; areas are in kecamatan code order.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from sim.config.kecamatan import Kecamatan, find_kecamatan, load_kecamatan, nearest_kecamatan_many
from sim.config.expected import site_rates_per_hour
from sim.config.site_sets import generated_site_ids
from sim.study.incident_columns import IncidentColumns, runs
from sim.study.shares import SHARE_COLUMNS, Worst, share_columns, worst_by_late
from sim.study.stats import p90
from sim.viz.coverage import incident_sites, node_times_min
from sim.viz.map_areas import MAX_SITES_LISTED

AREA_COLUMNS = [
    "plan", "area", "area_code", "sites", "sites_by_nearest_centre", "incidents", *SHARE_COLUMNS,
    "response_mean_min", "response_p90_min", "post_drive_mean_min", "post_drive_max_min",
]
GIVEN, DRAWN, NEAREST = "given", "site set", "nearest centre"  # how a site got its area


@dataclass(frozen=True)
class SiteArea:
    """The kecamatan a site counts in, and how it was chosen (GIVEN, DRAWN or NEAREST)."""

    kecamatan: Kecamatan
    rule: str


def site_areas(scenario) -> dict[str, SiteArea]:
    """Every site of ``scenario`` -> its area (see the module docstring), in scenario order."""
    sites = scenario.sites
    index, _ = nearest_kecamatan_many(np.array([s.lat for s in sites]), np.array([s.lon for s in sites]))
    table = load_kecamatan()
    generated = generated_site_ids(scenario.site_sets)
    out = {}
    for site, nearest in zip(sites, index):
        if site.area:
            out[site.id] = SiteArea(find_kecamatan(site.area), DRAWN if site.id in generated else GIVEN)
        else:
            out[site.id] = SiteArea(table[int(nearest)], NEAREST)
    return out


def expected_incidents(scenario) -> dict[str, float]:
    """Each site's expected incidents per hour over the measured clock (sim.config.expected: profiles,
    phases, events inside the clock); sites without any are left out."""
    return site_rates_per_hour(scenario)


def post_nodes(scenario, plan_name: str, site_node: Mapping[str, int]) -> tuple[list[int], list[float]]:
    """(road node, speed factor) of every post of a plan: where each unit group is stationed."""
    nodes, factors = [], []
    for groups in scenario.plan(plan_name).fleets.values():
        for group in groups:
            post = group.patrol.standing_site(group.base) or group.base
            nodes.append(site_node[post])
            factors.append(scenario.unit_types[group.type].speed_factor)
    return nodes, factors


def _drive(times_min: np.ndarray, sites: Sequence[str], site_node: Mapping[str, int],
           weights: Mapping[str, float]) -> tuple[float, float]:
    """(weighted mean, max) minutes from the nearest post to ``sites``."""
    if not sites:
        return math.nan, math.nan
    minutes = np.array([times_min[site_node[s]] for s in sites], float)
    weight = np.array([weights[s] for s in sites], float)
    return float(np.average(minutes, weights=weight)), float(minutes.max())


def area_rows(scenario, plans: Sequence[str], columns: Mapping[str, IncidentColumns], network,
              site_node: Mapping[str, int]) -> list[dict]:
    """One row per plan and area (kecamatan code order), the columns of areas.csv; ``columns``:
    each plan's incident rows (sim.study.incident_columns)."""
    target = scenario.target_response_min
    areas = site_areas(scenario)
    weights = expected_incidents(scenario)
    ids = list(areas)
    code_of_site = np.array([areas[site].kecamatan.code for site in ids], np.int64)
    responses: dict[tuple[str, int], np.ndarray] = {}  # counted responses (NaN: never reached), row order
    for plan, found in columns.items():
        codes = code_of_site[found.codes("site", ids)[found.counted]]
        order = np.argsort(codes, kind="stable")
        codes, pooled = codes[order], found.response_min[found.counted][order]
        responses |= {(plan, int(codes[start])): pooled[start:stop] for start, stop in runs(codes)}
    listed = {code for _, code in responses} | {areas[s].kecamatan.code for s in weights}
    by_area: dict[int, list[str]] = defaultdict(list)
    for site, where in areas.items():
        by_area[where.kecamatan.code].append(site)
    rows = []
    for plan in plans:
        times_min = node_times_min(network, *post_nodes(scenario, plan, site_node))
        for kec in load_kecamatan():
            if kec.code not in listed:
                continue
            struck = [s for s in by_area[kec.code] if s in weights]
            pooled = responses.get((plan, kec.code), np.zeros(0))
            in_target = int(np.sum(pooled <= target))  # NaN (never reached) compares False: late
            reached = pooled[~np.isnan(pooled)]
            drive_mean, drive_max = _drive(times_min, struck, site_node, weights)
            rows.append({
                "plan": plan, "area": kec.name, "area_code": kec.code, "sites": len(struck),
                "sites_by_nearest_centre": sum(areas[s].rule == NEAREST for s in struck),
                "incidents": len(pooled), **share_columns(in_target, len(pooled) - in_target),
                "response_mean_min": float(reached.mean()) if len(reached) else math.nan,
                "response_p90_min": p90(reached),
                "post_drive_mean_min": drive_mean, "post_drive_max_min": drive_max,
            })
    return rows


def lists_areas(scenario) -> bool:
    """Whether the worst lists name areas: more incident sites than MAX_SITES_LISTED (a list of
    single sites with one incident each says nothing), as the map's legend does."""
    return len(incident_sites(scenario)) > MAX_SITES_LISTED


def worst_areas(rows: Sequence[dict], plan: str, n: int = 3) -> Worst:
    """The ``n`` areas of ``plan`` with the most late incidents (sim.study.shares.worst_by_late)."""
    return worst_by_late([row for row in rows if row["plan"] == plan], n, key="area")


def area_note(rows: Sequence[dict]) -> str:
    """One sentence on how sites were given their areas."""
    nearest = sum(row["sites_by_nearest_centre"] for row in rows if row["plan"] == rows[0]["plan"]) if rows else 0
    how = f"; {nearest:,} incident sites are placed so" if nearest else ""
    return ("Areas are kecamatan: a site's own area, a generated site's kecamatan, else the kecamatan whose "
            f"centre is nearest (approximate: the data has no boundaries{how}).")
