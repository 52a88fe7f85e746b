"""Where a car may stand: the candidate posts, each a road node, and the new sites they become.

- ``sites``: the scenario's sites.
- ``bases``: only the sites that are a base in some plan (the stations the agencies have).
- ``towns``: the sites plus Jember's 31 kecamatan centres snapped to the nearest road node
  (those farther than the scenario's ``max_snap_m`` from any road are left out).
- ``nodes:K``: the sites plus up to K road nodes spread over the demand: each demand site gets a
  share of K in proportion to its weight (largest remainders), drawn from the road nodes within
  the target of it (its catchment) by farthest-point sampling in straight-line distance, each
  new node the one farthest from every candidate chosen so far. Deterministic: no random draw.

One candidate per road node: a later one on a node already taken is dropped (sites come first).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sim.errors import InputError
from sim.config.kecamatan import load_kecamatan
from sim.optimize.travel import SECONDS_PER_MIN, times_s_to

KINDS = ("sites", "bases", "towns", "nodes")
MAX_NODES = 5000  # nodes:K; each is a column of the programs and a catchment search
PROPOSED_KIND = "proposed_post"


@dataclass(frozen=True)
class Candidate:
    """A possible post: an existing site (``new`` False) or a place that becomes a new site."""

    id: str
    node: int
    lat: float
    lon: float
    new: bool
    name: str
    note: str = ""

    def site_dict(self) -> dict:
        """The scenario entry of a new site (id, name, kind, lat/lon, note)."""
        # Full precision: the site must snap back to this very node.
        return {"id": self.id, "name": self.name, "kind": PROPOSED_KIND, "lat": self.lat, "lon": self.lon,
                "approximate": True, "note": self.note}


def parse_candidates(text: str, flag: str = "candidates") -> tuple[str, int]:
    """``sites`` | ``bases`` | ``towns`` | ``nodes:K`` -> (kind, K); InputError (naming ``flag``) otherwise."""
    match = re.fullmatch(r"(sites|bases|towns)|nodes:(\d+)", text.strip())
    if match is None:
        raise InputError(f"{flag} {text[:60]!r}: say sites, bases, towns or nodes:K (e.g. nodes:500)")
    if match.group(1):
        return match.group(1), 0
    digits = match.group(2).lstrip("0") or "0"
    if len(digits) > 9 or not 1 <= int(digits) <= MAX_NODES:  # a number of any length names the bound
        raise InputError(f"{flag} nodes:{digits[:20]}{'…' if len(digits) > 20 else ''}: K must be from 1 to "
                         f"{MAX_NODES:,}")
    k = int(digits)
    return "nodes", k


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _unique_id(wanted: str, taken: set[str]) -> str:
    found, n = wanted, 2
    while found in taken:
        found, n = f"{wanted}_{n}", n + 1
    taken.add(found)
    return found


def _site_candidates(scenario, world, only: set[str] | None = None) -> list[Candidate]:
    return [Candidate(site.id, world.site_node[site.id], site.lat, site.lon, False, site.name)
            for site in scenario.sites if only is None or site.id in only]


def _town_candidates(scenario, world, taken: set[str]) -> list[Candidate]:
    network = world.network
    found = []
    for town in load_kecamatan():
        node, snap_m = network.nearest_node(town.lon, town.lat)
        if snap_m > scenario.max_snap_m:
            continue
        found.append(Candidate(
            _unique_id(f"kec_{_slug(town.name)}", taken), node, float(network.lat[node]), float(network.lon[node]),
            True, f"Proposed post: Kecamatan {town.name} centre",
            f"kecamatan centroid snapped to the nearest road node ({snap_m:,.0f} m)"))
    return found


def _shares(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``weights`` by largest remainders."""
    exact = total * weights / weights.sum()
    shares = np.floor(exact).astype(np.int64)
    left = total - int(shares.sum())
    shares[np.argsort(-(exact - shares), kind="stable")[:left]] += 1
    return shares


def spread_nodes(world, demand_nodes: np.ndarray, weights: np.ndarray, k: int, target_min: float,
                 start_nodes: np.ndarray) -> list[int]:
    """Up to ``k`` road nodes spread over the demand (see the module's docstring), away from
    ``start_nodes`` (the candidates there already)."""
    network = world.network
    every_node = np.arange(network.n_nodes)
    xy = np.column_stack([network.x_m, network.y_m])
    nearest_m = np.full(network.n_nodes, np.inf)
    for node in start_nodes:
        nearest_m = np.minimum(nearest_m, np.hypot(*(xy - xy[node]).T))
    chosen: list[int] = []
    for node, share in zip(demand_nodes, _shares(weights, k)):
        catchment = np.flatnonzero(times_s_to(world.tables, node, every_node) <= target_min * SECONDS_PER_MIN)
        for _ in range(min(int(share), len(catchment))):
            far = catchment[np.argmax(nearest_m[catchment])]
            if nearest_m[far] == 0:  # every node of the catchment is taken
                break
            chosen.append(int(far))
            nearest_m = np.minimum(nearest_m, np.hypot(*(xy - xy[far]).T))
    return chosen


def _node_candidates(scenario, world, demand, k: int, start: list[Candidate], taken: set[str]) -> list[Candidate]:
    network = world.network
    demand_nodes = np.array([world.site_node[site] for site in demand.site_ids])
    nodes = spread_nodes(world, demand_nodes, demand.per_hour, k, scenario.target_response_min,
                         np.array([c.node for c in start]))
    synthetic = " of the synthetic demo network: not a real place" if network.synthetic else ""
    found = []
    for node in nodes:
        osmid = int(network.node_osmid[node])
        label = str(osmid) if osmid >= 0 else f"i{node}"
        found.append(Candidate(_unique_id(f"node_{label}", taken), node, float(network.lat[node]),
                               float(network.lon[node]), True, f"Proposed post at road node {label}",
                               f"road node {label}{synthetic}; chosen to spread candidates over the demand"))
    return found


def build_candidates(kind: str, k: int, scenario, world, demand) -> list[Candidate]:
    """The candidate posts of ``kind`` (see the module's docstring), one per road node."""
    if kind not in KINDS:
        raise ValueError(f"candidate kind {kind!r}: one of {KINDS}")
    if kind == "bases":
        bases = {group.base for plan in scenario.plans for group in plan.units}
        found = _site_candidates(scenario, world, bases)
    else:
        found = _site_candidates(scenario, world)
    taken = set(scenario.site_ids)
    if kind == "towns":
        found += _town_candidates(scenario, world, taken)
    elif kind == "nodes":
        found += _node_candidates(scenario, world, demand, k, found, taken)
    seen: set[int] = set()
    unique = []
    for candidate in found:
        if candidate.node not in seen:
            seen.add(candidate.node)
            unique.append(candidate)
    return unique
