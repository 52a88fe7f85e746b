"""Where an animation looks: the whole regency with the city beside it (the default), or the city alone.

The **regency** is the box around every site of the scenario (posts and bases among them), every
place a unit drives and every incident shown, with a margin. The **city** is the densest cluster of
named sites (``city_box``), padded. In the regency view the city gets a
panel of its own beside the regency (drawn as a box on it) when it is small there (at most
``INSET_MAX_SHARE`` of the regency both ways), so names in the city stay readable; otherwise the
regency fills the picture alone. A panel's ``rect`` is its share of the picture's map area and its
``view_m`` the box of metres it shows, already widened to the panel's shape.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from sim.viz.map_labels import Box

VIEWS = ("regency", "city")
REGENCY, CITY = VIEWS
CITY_RADIUS_M = 4500.0     # the city: sites this close to its centre (Jember's three city kecamatan span about 9 km)
CITY_PAD_M = 600.0         # room around the city's outer sites for their names
INSET_MAX_SHARE = 0.3      # the city gets its own panel when its box is at most this share of the regency's
MIN_SPAN_M = 2000.0        # a view is never narrower than this
REGENCY_MARGIN = 0.08      # room around the regency's outer sites, a share of its span
CITY_PANEL_MIN, CITY_PANEL_MAX = 0.32, 0.45   # the city panel's share of the map area's width


@dataclass(frozen=True)
class Panel:
    """One map panel: the regency or the city, the metres it shows and its share of the map area."""

    role: str       # REGENCY or CITY
    view_m: Box     # x0, y0, x1, y1 (metres) shown, at the panel's shape
    rect: Box       # x0, y0, x1, y1 as shares of the map area (y up)

    def contains(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Whether each point is inside the panel's view."""
        x0, y0, x1, y1 = self.view_m
        return (x_m >= x0) & (x_m <= x1) & (y_m >= y0) & (y_m <= y1)


@dataclass(frozen=True)
class PanelPixels:
    """A panel placed on a picture: its box in the picture's pixels (y up) and metres to pixels."""

    panel: Panel
    box_px: Box
    scale_px_per_m: float

    def to_px(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (y up) of points in metres."""
        x0, y0 = self.panel.view_m[:2]
        return (self.box_px[0] + (np.asarray(x_m, dtype=np.float64) - x0) * self.scale_px_per_m,
                self.box_px[1] + (np.asarray(y_m, dtype=np.float64) - y0) * self.scale_px_per_m)


def place_panels(panels: Sequence[Panel], map_box_px: Box) -> list[PanelPixels]:
    """The panels on a picture whose map area is ``map_box_px`` (x0, y0, x1, y1; y up)."""
    width, height = map_box_px[2] - map_box_px[0], map_box_px[3] - map_box_px[1]
    placed = []
    for panel in panels:
        r = panel.rect
        box = (map_box_px[0] + r[0] * width, map_box_px[1] + r[1] * height,
               map_box_px[0] + r[2] * width, map_box_px[1] + r[3] * height)
        scale = (box[2] - box[0]) / (panel.view_m[2] - panel.view_m[0])
        placed.append(PanelPixels(panel, box, scale))
    return placed


def box_around(x_m: np.ndarray, y_m: np.ndarray, margin: float = 0.0, pad_m: float = 0.0,
               min_span_m: float = MIN_SPAN_M) -> Box:
    """The box around points, plus ``margin`` of its span and ``pad_m`` each side, at least ``min_span_m`` wide and high."""
    x0, x1, y0, y1 = float(np.min(x_m)), float(np.max(x_m)), float(np.min(y_m)), float(np.max(y_m))
    half_w = max((x1 - x0) * (1.0 + 2.0 * margin) / 2.0 + pad_m, min_span_m / 2.0)
    half_h = max((y1 - y0) * (1.0 + 2.0 * margin) / 2.0 + pad_m, min_span_m / 2.0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def widen(box: Box, aspect: float) -> Box:
    """``box`` grown about its centre to width / height = ``aspect``."""
    width, height = box[2] - box[0], box[3] - box[1]
    width, height = max(width, height * aspect), max(height, width / aspect)
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    return cx - width / 2.0, cy - height / 2.0, cx + width / 2.0, cy + height / 2.0


def city_box(site_x_m: np.ndarray, site_y_m: np.ndarray) -> Box:
    """The box around the densest cluster of sites: those within CITY_RADIUS_M of the site with the
    most sites that close (the first such site on a tie), padded by CITY_PAD_M."""
    x, y = np.asarray(site_x_m, dtype=np.float64), np.asarray(site_y_m, dtype=np.float64)
    points = np.column_stack([x, y])
    centre = int(np.argmax(cKDTree(points).query_ball_point(points, CITY_RADIUS_M, return_length=True)))
    near = np.hypot(x - x[centre], y - y[centre]) <= CITY_RADIUS_M
    return box_around(x[near], y[near], pad_m=CITY_PAD_M)


def arrange(view: str, regency_m: Box, city_m: Box, map_aspect: float) -> tuple[Panel, ...]:
    """The panels of ``view`` on a map area of ``map_aspect`` (width / height)."""
    if view not in VIEWS:
        raise ValueError(f"view {view!r}: one of {', '.join(VIEWS)}")
    if view == CITY:
        return (Panel(CITY, widen(city_m, map_aspect), (0.0, 0.0, 1.0, 1.0)),)
    regency_w, regency_h = regency_m[2] - regency_m[0], regency_m[3] - regency_m[1]
    city_w, city_h = city_m[2] - city_m[0], city_m[3] - city_m[1]
    if city_w > INSET_MAX_SHARE * regency_w or city_h > INSET_MAX_SHARE * regency_h:
        return (Panel(REGENCY, widen(regency_m, map_aspect), (0.0, 0.0, 1.0, 1.0)),)
    # The regency as tall as the map area, the city in the width left over (within bounds).
    regency_share = min(max(regency_w / regency_h / map_aspect, 1.0 - CITY_PANEL_MAX), 1.0 - CITY_PANEL_MIN)
    city_aspect = (1.0 - regency_share) * map_aspect
    return (Panel(REGENCY, widen(regency_m, regency_share * map_aspect), (0.0, 0.0, regency_share, 1.0)),
            Panel(CITY, widen(city_m, city_aspect), (regency_share, 0.0, 1.0, 1.0)))
