"""The demo network's city core and town grids, anchored on the kecamatan centres. Internal to
:mod:`sim.network.demo`."""

from __future__ import annotations

import math

import numpy as np

from sim.config.kecamatan import Kecamatan
from sim.network._demo_roads import SEED, Projection, Roads, add_streets, lattice, lattice_index

# Jember city's built-up area, where Kaliwates, Sumbersari and Patrang meet: it reaches
# west to Mangli (Terminal Tawang Alun) and north past Polsek Patrang, so every city site
# planners use (lat -8.14..-8.20, lon 113.63..113.72) falls inside the dense grid.
# (west, south, east, north) in degrees.
CITY_CORE_BBOX: tuple[float, float, float, float] = (113.622, -8.210, 113.748, -8.126)
CITY_DISTRICTS = ("Kaliwates", "Sumbersari", "Patrang")
_CORE_BLOCK_M = 110.0
_CORE_MAIN_EVERY = 10  # every 10th core street (1.1 km apart) is secondary
_CORE_COLLECTOR_EVERY = 5  # the other 5th ones are tertiary
_DOWNTOWN_HALF_M = 1300.0  # one-way pairs within this distance (per axis) of downtown

# Town grids: a rectangle covering this share of the kecamatan's area (rural kecamatan are
# mostly rice fields, plantations and forest), its block size growing with the area
# (compact towns have small blocks), kept apart from neighbouring grids.
_TOWN_AREA_SHARE = 0.2
_TOWN_BLOCK_M = (150.0, 250.0)  # block size at ...
_TOWN_BLOCK_AREA_KM2 = (40.0, 300.0)  # ... these kecamatan areas, interpolated
_TOWN_HALF_M = (600.0, 2800.0)  # min, max half width/height, before the spacing limits
_TOWN_GAP_SHARE = 0.45  # half-size <= this share of the distance to the next town
_TOWN_CORE_GAP_M = 400.0  # open country between a town grid and the city core
_BBOX_MARGIN_M = 250.0  # grids stay this far inside their kecamatan bbox
_TOWN_COLLECTOR_EVERY = 5  # every 5th town street is tertiary (row/column 0: secondary)


class Core:
    """The city core's extent in metres: a rectangle with rounded corners (a superellipse),
    so the city does not look like a box."""

    def __init__(self, proj: Projection) -> None:
        west, south, east, north = CITY_CORE_BBOX
        (x0, x1), (y0, y1) = proj.to_m(np.array([west, east]), np.array([south, north]))
        self.west_m, self.south_m, self.east_m, self.north_m = x0, y0, x1, y1

    def contains(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """True where (x_m, y_m) lies inside the core."""
        hx, hy = (self.east_m - self.west_m) / 2, (self.north_m - self.south_m) / 2
        u = (x_m - self.west_m - hx) / hx
        w = (y_m - self.south_m - hy) / hy
        return u**4 + w**4 <= 1.0


def build_core(
    roads: Roads, proj: Projection, core: Core, districts: list[Kecamatan]
) -> np.ndarray:
    """Add the dense city grid; returns the ids of its nodes on secondary streets."""
    d_x, d_y = proj.to_m(np.array([k.lon for k in districts]), np.array([k.lat for k in districts]))
    # Lattice origin = downtown, the mean of the three district centres (by the alun-alun),
    # so main streets and the one-way pairs centre there.
    origin = (float(d_x.mean()), float(d_y.mean()))
    b = _CORE_BLOCK_M
    i_range = (math.ceil((core.west_m - origin[0]) / b), math.floor((core.east_m - origin[0]) / b))
    j_range = (math.ceil((core.south_m - origin[1]) / b), math.floor((core.north_m - origin[1]) / b))
    ii, jj = lattice_index(i_range, j_range)
    keep = core.contains(origin[0] + ii * b, origin[1] + jj * b)
    lat = lattice(roads, origin, b, i_range, j_range, keep)

    # Downtown one-way pairs: residential rows alternate east/west. The two-way columns and
    # the next row (opposite direction, or a two-way collector) give every one-way block a
    # way back, so the grid stays strongly connected.
    half = int(_DOWNTOWN_HALF_M // b)
    downtown = (
        (np.abs(lat.h_row) < half)
        & (lat.h_col >= -half)
        & (lat.h_col < half)
        & (lat.h_row % _CORE_COLLECTOR_EVERY != 0)
    )
    h_dir = np.where(downtown, np.where(lat.h_row % 2 == 0, 1, -1), 0).astype(np.int8)
    rng = np.random.default_rng(SEED)
    add_streets(roads, lat, h_dir, _CORE_MAIN_EVERY, _CORE_COLLECTOR_EVERY, b, rng)

    on_main = ((ii % _CORE_MAIN_EVERY == 0) | (jj % _CORE_MAIN_EVERY == 0)) & keep
    return lat.ids[on_main]


def _town_extents(
    kec: list[Kecamatan], proj: Projection, core: Core
) -> list[tuple[float, float, float, float, float]]:
    """Per town: (block m, then west, south, east, north extent in m from its centre)."""
    cx, cy = proj.to_m(np.array([k.lon for k in kec]), np.array([k.lat for k in kec]))
    cheb = np.maximum(np.abs(cx[:, None] - cx), np.abs(cy[:, None] - cy))
    np.fill_diagonal(cheb, np.inf)
    out = []
    for t, k in enumerate(kec):
        (bx0, bx1), (by0, by1) = proj.to_m(np.array([k.west, k.east]), np.array([k.south, k.north]))
        area_m2 = _TOWN_AREA_SHARE * k.area_km2 * 1e6
        aspect = (bx1 - bx0) / (by1 - by0)  # the grid takes the kecamatan's shape
        half_w = float(np.clip(math.sqrt(area_m2 * aspect) / 2, *_TOWN_HALF_M))
        half_h = float(np.clip(math.sqrt(area_m2 / aspect) / 2, *_TOWN_HALF_M))
        # Neighbouring grids must not overlap: with both half-sizes below 45 % of the
        # Chebyshev distance between centres, two rectangles are apart along that axis.
        gap = _TOWN_GAP_SHARE * float(cheb[t].min())
        half_w, half_h = min(half_w, gap), min(half_h, gap)
        # Keep open country between the town and the city core, along the axis that
        # separates them most.
        gap_x = max(core.west_m - cx[t], cx[t] - core.east_m)
        gap_y = max(core.south_m - cy[t], cy[t] - core.north_m)
        if gap_x >= gap_y:
            half_w = min(half_w, gap_x - _TOWN_CORE_GAP_M)
        else:
            half_h = min(half_h, gap_y - _TOWN_CORE_GAP_M)
        block = float(np.interp(k.area_km2, _TOWN_BLOCK_AREA_KM2, _TOWN_BLOCK_M))
        m = _BBOX_MARGIN_M
        out.append(
            (
                block,
                min(half_w, cx[t] - bx0 - m),
                min(half_h, cy[t] - by0 - m),
                min(half_w, bx1 - cx[t] - m),
                min(half_h, by1 - cy[t] - m),
            )
        )
    return out


def build_towns(
    roads: Roads, proj: Projection, core: Core, kec: list[Kecamatan]
) -> list[tuple[int, int, int, int]]:
    """Add one grid per town, node (0, 0) exactly on the kecamatan centre.

    Returns per town the node ids at the east, north, west and south ends of its main
    streets (row and column 0, which cross at the centre): arterials start there, so
    through traffic runs along the main street through the town centre.
    """
    ends = []
    for k, (block, w, s, e, n) in zip(kec, _town_extents(kec, proj, core)):
        cx, cy = proj.to_m(np.array(k.lon), np.array(k.lat))
        # At least one block each way, however tight the neighbours.
        i_range = (-max(1, int(w // block)), max(1, int(e // block)))
        j_range = (-max(1, int(s // block)), max(1, int(n // block)))
        lat = lattice(roads, (float(cx), float(cy)), block, i_range, j_range)
        no_oneway = np.zeros(len(lat.h_u), dtype=np.int8)
        rng = np.random.default_rng([SEED, k.code])
        add_streets(
            roads, lat, no_oneway, None, _TOWN_COLLECTOR_EVERY, block, rng, f"Jl. Raya {k.name}"
        )
        ends.append(
            (
                lat.node(i_range[1], 0),
                lat.node(0, j_range[1]),
                lat.node(i_range[0], 0),
                lat.node(0, j_range[0]),
            )
        )
    return ends
