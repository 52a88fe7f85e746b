"""Names in the animation: sites and towns placed once, units placed frame by frame, no two labels
overlapping, each beside its marker.

The GIF and the HTML page place their labels here, in pixels of their own picture (y up), panel by
panel (``animate_views``), with ``map_labels``' grid of placed boxes and its generous text-size
estimate. Each label tries eight spots around its point, nearest first: right, left, above, below,
then the four corners; then the same eight FAR_PX farther out (a site's label, once every fixed
label had its try beside its marker) and twice that (a unit's). A unit's label at a corner, and
any label farther out, gets a short leader line from its marker, so it is never read as another's. Fixed labels go first, sites beyond reach, then bases, other sites, towns, clear
of every named site's marker; in the regency panel beside a city panel, the city's box is kept free
and its sites and units are named in the city panel. Each frame then keeps its unit markers and
incident stars clear and places unit labels on top of the fixed ones, busiest units first (driving
to an incident, on scene, returning, patrolling, standing); a unit tries the spot it had in the
previous frame first within its ring, so names do not jump about. A label with no free spot is left out
(``SPOT_NONE``); the HTML page shows every name on hover. What depends on one label alone (the
panel's edge, the fixed labels and markers, painted once into a summed-area table of pixels, and
the unit markers) is tested with numpy for many frames at once; only the labels of one frame
against each other are placed one by one, and a frame where nothing moved keeps the last spots.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.viz.animate_frames import (
    INCIDENT_SCALE,
    MAX_UNIT_LABELS,
    NOT_SHOWN,
    ON_SCENE,
    PATROLLING,
    RETURNING,
    STANDING,
    TO_INCIDENT,
    Frames,
)
from sim.viz.animate_views import CITY, REGENCY, PanelPixels
from sim.viz.map_labels import CHAR_WIDTH_EM, LINE_HEIGHT_EM, Box, BoxGrid

SPOT_NONE = -1
# (x side, y side, ring) of each spot, nearest first: -1 left of / below the marker, 0 centred on it,
# 1 right of / above it; rings 1 and 2 are FAR_PX and twice that farther out, with a leader line (unit labels only).
_SIDES = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
SPOTS = tuple((sx, sy, ring) for ring in (0, 1, 2) for sx, sy in _SIDES)
FAR_PX = 14.0
_ALL_SPOTS = tuple(range(len(SPOTS)))
_NEAR_SPOTS = tuple(range(len(_SIDES)))
# The order a unit's label tries the spots in, after the spot it had in the last frame (the last
# entry: none): nearest ring first, that spot first within its ring, so a name sticks without
# staying out on a leader line when room opens beside its marker.
_TRY_AFTER = tuple(tuple(sorted(_ALL_SPOTS, key=lambda s, last=last: (SPOTS[s][2], s != last)))
                   for last in (*_ALL_SPOTS, SPOT_NONE))
PAD_PX = 2.0   # the estimated box's padding either side of the text (map_labels adds 4 px to the width)
BOLD_WIDTH = 1.12   # bold text is this much wider than the estimate for regular text
# Fixed labels by style, placed in this order.
BEYOND, BASE, SITE, TOWN = "beyond", "base", "site", "town"
_STYLE_ORDER = (BEYOND, BASE, SITE, TOWN)
TOWN_DOT_PX = 2.0   # a town's centre is a small dot
# Which units are named first when names compete for room: lower rank first.
_RANK = np.empty(5, dtype=np.int8)
_RANK[[TO_INCIDENT, ON_SCENE, RETURNING, PATROLLING, STANDING]] = np.arange(5)

ToPixels = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LabelSizes:
    """One renderer's sizes, in its pixels: fonts, and the half-width kept clear around each marker."""

    site_font_px: float
    unit_font_px: float
    town_font_px: float
    base_px: float
    site_px: float
    unit_px: float
    star_px: float
    joint_px: float  # a joint patrol's marker (a ring around the unit's dot)
    beyond_px: float  # the ring around a site beyond reach
    gap_px: float = 2.0
    # The text's own width and height (px) for (text, font_px, bold), where the renderer knows its
    # font (the GIF); None: a generous estimate from the number of characters (the page's font is
    # the browser's).
    measure: Callable[[str, float, bool], tuple[float, float]] | None = field(default=None, compare=False)

    def box_size(self, text: str, font_px: float, bold: bool = False) -> tuple[float, float]:
        """Width and height (px) of ``text``'s box: never smaller than the drawn text (with its halo)."""
        if self.measure is not None:
            width, height = self.measure(text, font_px, bold)
            return width + 2 * PAD_PX, height + 2.0
        width = CHAR_WIDTH_EM * font_px * len(text) * (BOLD_WIDTH if bold else 1.0)
        return width + 2 * PAD_PX, LINE_HEIGHT_EM * font_px + 2.0

    @property
    def unit_reach_px(self) -> tuple[float, ...]:
        """From a unit's point to the near edge of its label, per unit state: a unit on scene
        stands on its incident's star, so its label keeps clear of the star."""
        reach = [self.unit_px + self.gap_px] * len(_RANK)
        reach[ON_SCENE] = max(self.unit_px, self.star_px) + self.gap_px
        return tuple(reach)

    @property
    def joint_extra_px(self) -> float:
        """How much farther a joint marker's label is from its point than a unit's."""
        return max(self.joint_px - self.unit_px, 0.0)

    def unit_box(self, x: float, y: float, spot: int, text: str, state: int, joint: bool = False) -> Box:
        """The box of unit label ``text`` at ``spot`` of its marker at (x, y)."""
        width, height = self.box_size(text, self.unit_font_px)
        return spot_box(x, y, spot, width, height, self.unit_reach(state, joint))

    def unit_reach(self, state: int, joint: bool = False) -> float:
        """From a unit's point to the near edge of its label box."""
        return self.unit_reach_px[state] + (self.joint_extra_px if joint else 0.0)

    def fixed_font(self, style: str) -> tuple[float, bool]:
        """Font size (px) and boldness of a fixed label's style."""
        return (self.town_font_px, False) if style == TOWN else (self.site_font_px, style == BEYOND)

    def fixed_marker_px(self, style: str) -> float:
        """Half-width of the marker a fixed label of ``style`` stands beside (a town has none)."""
        return {BEYOND: self.beyond_px, BASE: self.base_px, SITE: self.site_px}.get(style, TOWN_DOT_PX)


@dataclass(frozen=True)
class FixedLabel:
    """A site's or town's label as placed: its text, box (px, y up), spot, style and point."""

    text: str
    box: Box
    spot: int
    style: str
    x: float
    y: float

    def anchor(self) -> tuple[float, float, str]:
        """Where to draw the text (see ``text_anchor``)."""
        return text_anchor(self.box, self.spot)

    def leader(self, sizes: LabelSizes) -> tuple[float, float, float, float] | None:
        """The line from the marker's edge to a label set farther out (None beside its marker)."""
        if SPOTS[self.spot][2] == 0:
            return None
        marker = sizes.fixed_marker_px(self.style)
        return leader(self.x, self.y, self.spot, marker, marker + sizes.gap_px)


@dataclass(frozen=True)
class PanelLabels:
    """A panel's labels: the fixed ones and each unit's label spot per frame ((U, T), SPOT_NONE: none)."""

    panel: PanelPixels
    fixed: list[FixedLabel]
    unit_spots: np.ndarray


def spot_box(x: float, y: float, spot: int, width: float, height: float, reach: float) -> Box:
    """The box of a ``width`` x ``height`` label at ``spot``, ``reach`` px from the point (x, y)
    (FAR_PX more on the outer ring)."""
    sx, sy, ring = SPOTS[spot]
    reach = reach + ring * FAR_PX
    x0 = x + sx * reach + (sx - 1) * width / 2.0
    y0 = y + sy * reach + (sy - 1) * height / 2.0
    return x0, y0, x0 + width, y0 + height


def text_anchor(box: Box, spot: int) -> tuple[float, float, str]:
    """Where to draw the text in its box: x, y of its bottom (px, y up) and the alignment."""
    sx = SPOTS[spot][0]
    if sx > 0:
        return box[0] + PAD_PX, box[1] + 1.0, "left"
    if sx < 0:
        return box[2] - PAD_PX, box[1] + 1.0, "right"
    return (box[0] + box[2]) / 2.0, box[1] + 1.0, "center"


def leader(x: float, y: float, spot: int, marker_px: float, reach: float) -> tuple[float, float, float, float] | None:
    """The short line (x0, y0, x1, y1) from a marker's edge to its label's box, for a corner spot or
    the outer ring; None beside the marker (the label touches its room around the marker)."""
    sx, sy, ring = SPOTS[spot]
    if ring == 0 and (sx == 0 or sy == 0):
        return None
    reach = reach + ring * FAR_PX
    edge = marker_px / np.sqrt(2.0) if sx and sy else marker_px
    # It ends where the text begins: PAD_PX inside the box's near side.
    return x + sx * edge, y + sy * edge, x + sx * (reach + PAD_PX), y + sy * reach


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _square(x: float, y: float, half: float) -> Box:
    return x - half, y - half, x + half, y + half


def _inside(box: Box, frame: Box) -> bool:
    return frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1] and box[3] <= frame[3]


def place_fixed(points: Sequence[tuple[str, float, float, str]], sizes: LabelSizes, frame: Box,
                taken: Sequence[Box] = ()) -> tuple[list[FixedLabel], list[Box]]:
    """Labels of (text, x, y, style) points inside ``frame``, in style order (beyond reach, bases, sites,
    towns), clear of ``taken`` and of each other: every label beside its marker first, then a site's
    label with no room there FAR_PX farther out (a leader line leads to it); one with no room at all
    is left out. The labels placed and every box now taken."""
    grid = BoxGrid()
    boxes = list(taken)
    for box in boxes:
        grid.add(box)
    placed = []
    inside = [p for p in sorted(points, key=lambda p: _STYLE_ORDER.index(p[3])) if _inside((p[1], p[2]) * 2, frame)]
    far_ring = tuple(range(len(_SIDES), 2 * len(_SIDES)))
    for spots in (_NEAR_SPOTS, far_ring):
        left = []
        for text, x, y, style in inside:
            font_px, bold = sizes.fixed_font(style)
            width, height = sizes.box_size(text, font_px, bold)
            reach = sizes.fixed_marker_px(style) + sizes.gap_px
            for spot in spots if style != TOWN or spots is _NEAR_SPOTS else ():
                box = spot_box(x, y, spot, width, height, reach)
                if _inside(box, frame) and grid.free(box):
                    grid.add(box)
                    boxes.append(box)
                    placed.append(FixedLabel(text, box, spot, style, x, y))
                    break
            else:
                left.append((text, x, y, style))
        inside = left
    return placed, boxes


class _Occupancy:
    """Fixed boxes painted onto the picture's pixels (a summed-area table): many boxes tested at once.

    Painting rounds outwards, so a box that truly overlaps a fixed one always shares a pixel with it.
    """

    def __init__(self, boxes: Sequence[Box], frame: Box) -> None:
        self.x0, self.y0 = int(np.floor(frame[0])), int(np.floor(frame[1]))
        self.width, self.height = int(np.ceil(frame[2])) - self.x0, int(np.ceil(frame[3])) - self.y0
        painted = np.zeros((self.height, self.width), dtype=np.int32)
        for box in boxes:
            (i0, i1), (j0, j1) = self._span(np.array(box))
            painted[j0:j1, i0:i1] = 1
        self.table = np.zeros((self.height + 1, self.width + 1), dtype=np.int32)
        self.table[1:, 1:] = painted.cumsum(axis=0).cumsum(axis=1)

    def _span(self, boxes: np.ndarray):
        """Pixel columns [i0, i1) and rows [j0, j1) the boxes (..., 4) touch, clipped to the picture."""
        i0 = np.clip(np.floor(boxes[..., 0] - self.x0), 0, self.width).astype(np.int64)
        i1 = np.clip(np.ceil(boxes[..., 2] - self.x0), 0, self.width).astype(np.int64)
        j0 = np.clip(np.floor(boxes[..., 1] - self.y0), 0, self.height).astype(np.int64)
        j1 = np.clip(np.ceil(boxes[..., 3] - self.y0), 0, self.height).astype(np.int64)
        return (i0, i1), (j0, j1)

    def free(self, boxes: np.ndarray) -> np.ndarray:
        """Whether each box (..., 4) touches no painted pixel."""
        (i0, i1), (j0, j1) = self._span(boxes)
        t = self.table
        return (t[j1, i1] - t[j0, i1] - t[j1, i0] + t[j0, i0]) == 0


def _candidates(x: np.ndarray, y: np.ndarray, width: np.ndarray, height: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Every spot's box (as ``spot_box``) for points, reaches and label sizes (U, C): (U, C, spots, 4)."""
    sx, sy, ring = np.array(SPOTS, dtype=np.float64).T
    reach = reach[..., None] + ring * FAR_PX
    x0 = x[..., None] + sx * reach + (sx - 1) * width[..., None] / 2.0
    y0 = y[..., None] + sy * reach + (sy - 1) * height[..., None] / 2.0
    return np.stack([x0, y0, x0 + width[..., None], y0 + height[..., None]], axis=-1)


def _overlaps_any(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per box (U, C, S, 4): whether it overlaps any of the same frame's others (V, C, 4)."""
    b = boxes[:, :, :, None, :]
    o = others.transpose(1, 0, 2)[None, :, None, :, :]   # (1, C, 1, V, 4)
    hit = (b[..., 0] < o[..., 2]) & (o[..., 0] < b[..., 2]) & (b[..., 1] < o[..., 3]) & (o[..., 1] < b[..., 3])
    return hit.any(axis=-1)


def unit_label_spots(frames: Frames, to_px: ToPixels, sizes: LabelSizes, fixed: Sequence[Box], frame: Box,
                     eligible: np.ndarray | None = None, chunk: int = 512) -> np.ndarray:
    """Each unit's label spot per frame, (U, T) int8, SPOT_NONE where left out (or too many units).

    Labels stay inside ``frame``, off the ``fixed`` boxes (site markers and labels), off every unit
    marker and shown incident star of their frame, and off each other. Only units ``eligible`` (U, T)
    (default: all) whose point is inside ``frame`` are named. A unit drawn inside a joint marker has
    no label; the joint marker's label is its patrol's (``Frames.marker_text``). What depends on one
    unit alone is tested for all frames at once, ``chunk`` frames at a time; only the labels of one
    frame against each other go one by one.
    """
    n_units, n_frames = frames.unit_x_m.shape
    spots = np.full((n_units, n_frames), SPOT_NONE, dtype=np.int8)
    if n_units == 0 or n_units > MAX_UNIT_LABELS:
        return spots
    ux, uy = to_px(frames.unit_x_m, frames.unit_y_m)
    ix, iy = (values.tolist() for values in to_px(frames.incident_x_m, frames.incident_y_m))
    state = frames.incident_state
    star_px = (sizes.star_px * np.array(INCIDENT_SCALE)).tolist()   # half-width of each state's star
    text = frames.marker_text()
    rank = _RANK[frames.unit_state]
    order = np.argsort(rank, axis=0, kind="stable").T.tolist()   # per frame, busiest units first
    if eligible is None:
        eligible = np.ones((n_units, n_frames), dtype=bool)
    # A frame where nothing moved keeps the last frame's labels.
    same = np.zeros(n_frames, dtype=bool)
    same[1:] = ~((ux[:, 1:] != ux[:, :-1]).any(axis=0) | (uy[:, 1:] != uy[:, :-1]).any(axis=0)
                 | (state[:, 1:] != state[:, :-1]).any(axis=0) | (rank[:, 1:] != rank[:, :-1]).any(axis=0)
                 | (text[:, 1:] != text[:, :-1]).any(axis=0) | (eligible[:, 1:] != eligible[:, :-1]).any(axis=0))
    texts = frames.label_texts
    # Per text (the last entry: no marker of its own), its label's size and whether it takes room.
    sizes_px = [sizes.box_size(name, sizes.unit_font_px) for name in texts] + [(0.0, 0.0)]
    width_of, height_of = (np.array(size) for size in zip(*sizes_px))
    named_of = np.array([bool(name) for name in texts] + [False])   # an empty name takes no room
    joint_of = np.append(frames.is_joint(np.arange(len(texts))), True)   # a joint marker's text (or none: in one)
    occupied = _Occupancy(fixed, frame)
    for c0 in range(0, n_frames, chunk):
        cx, cy, ct = ux[:, c0:c0 + chunk], uy[:, c0:c0 + chunk], text[:, c0:c0 + chunk]
        joint = joint_of[ct]
        reach = np.array(sizes.unit_reach_px)[frames.unit_state[:, c0:c0 + chunk]] + joint * sizes.joint_extra_px
        boxes = _candidates(cx, cy, width_of[ct], height_of[ct], reach)
        half = np.where(joint, max(sizes.joint_px, sizes.unit_px), sizes.unit_px)
        markers = np.stack([cx - half, cy - half, cx + half, cy + half], axis=-1)
        inside = ((boxes[..., 0] >= frame[0]) & (boxes[..., 2] <= frame[2])
                  & (boxes[..., 1] >= frame[1]) & (boxes[..., 3] <= frame[3]))
        point_inside = (cx >= frame[0]) & (cx <= frame[2]) & (cy >= frame[1]) & (cy <= frame[3])
        ok = (inside & occupied.free(boxes) & ~_overlaps_any(boxes, markers)
              & (point_inside & eligible[:, c0:c0 + chunk])[..., None] & named_of[ct][..., None])
        for k in range(c0, min(c0 + chunk, n_frames)):
            if same[k]:
                spots[:, k] = spots[:, k - 1]
                continue
            kk = k - c0
            frame_ok, frame_boxes = ok[:, kk].tolist(), boxes[:, kk].tolist()
            last = spots[:, k - 1].tolist() if k else [SPOT_NONE] * n_units
            taken = [_square(ix[i], iy[i], star_px[state[i, k]])
                     for i in np.flatnonzero(state[:, k] != NOT_SHOWN).tolist()]
            for u in order[k]:
                for spot in _TRY_AFTER[last[u]]:
                    box = frame_boxes[u][spot]
                    if frame_ok[u][spot] and not any(_overlap(box, other) for other in taken):
                        taken.append(box)
                        spots[u, k] = spot
                        break
    return spots


def place_labels(frames: Frames, panels: Sequence[PanelPixels], sizes: LabelSizes,
                 reserved: Sequence[Box] = ()) -> list[PanelLabels]:
    """Every panel's labels. ``reserved`` boxes (px, y up) are kept free in every panel."""
    city = [p.panel for p in panels if p.panel.role == CITY]
    site_x, site_y = np.array([s.x_m for s in frames.sites]), np.array([s.y_m for s in frames.sites])
    town_x, town_y = np.array([t[1] for t in frames.towns]), np.array([t[2] for t in frames.towns])
    result = []
    for placed in panels:
        shared = placed.panel.role == REGENCY and bool(city)   # its city is named in the city panel
        frame = placed.box_px
        taken = list(reserved)
        if shared:
            cx0, cy0 = placed.to_px(np.array(city[0].view_m[0]), np.array(city[0].view_m[1]))
            cx1, cy1 = placed.to_px(np.array(city[0].view_m[2]), np.array(city[0].view_m[3]))
            taken.append((float(cx0), float(cy0), float(cx1), float(cy1)))
        sx, sy = placed.to_px(site_x, site_y)
        points = []
        for site, x, y in zip(frames.sites, sx.tolist(), sy.tolist()):
            if not site.named:
                continue
            style = BEYOND if site.beyond else BASE if site.is_base else SITE
            taken.append(_square(x, y, sizes.fixed_marker_px(style)))
            if not (shared and city[0].contains(np.array(site.x_m), np.array(site.y_m))):
                points.append((site.label, x, y, style))
        tx, ty = placed.to_px(town_x, town_y)
        points += [(name, x, y, TOWN) for (name, *_), x, y in zip(frames.towns, tx.tolist(), ty.tolist())]
        fixed, boxes = place_fixed(points, sizes, frame, taken)
        eligible = placed.panel.contains(frames.unit_x_m, frames.unit_y_m)
        if shared:
            eligible &= ~city[0].contains(frames.unit_x_m, frames.unit_y_m)
        spots = unit_label_spots(frames, placed.to_px, sizes, boxes, frame, eligible)
        result.append(PanelLabels(placed, fixed, spots))
    return result
