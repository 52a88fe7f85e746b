"""Names in the animation: sites placed once, units placed frame by frame, no two labels overlapping.

The GIF and the HTML page place their labels here, in pixels of their own picture (y up), with
``map_labels``' grid of placed boxes and its generous text-size estimate. Each label tries eight
spots around its point (right, left, the four corners, above, below). Site labels are placed once,
bases first, clear of every site marker. Each frame then keeps its unit markers and incident stars
clear and places unit labels on top of the site labels, busiest units first (driving to an
incident, on scene, returning, patrolling, standing); a unit tries the spot it had in the previous
frame first, so names do not jump about. A label with no free spot is left out (``SPOT_NONE``);
the HTML page shows every name on hover. What depends on one label alone (the picture's edge,
the site labels and markers, painted once into a summed-area table of pixels, and the unit
markers) is tested with numpy for many frames at once; only the labels of one frame against each
other are placed one by one, and a frame where nothing moved keeps the last frame's spots.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
from sim.viz.map_labels import CHAR_WIDTH_EM, LINE_HEIGHT_EM, Box, BoxGrid

SPOT_NONE = -1
# (x side, y side) of each spot: -1 left of / below the marker, 0 centred on it, 1 right of / above it.
SPOTS = ((1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1))
_ALL_SPOTS = tuple(range(len(SPOTS)))
PAD_PX = 2.0   # the estimated box's padding either side of the text (map_labels adds 4 px to the width)
# Which units are named first when names compete for room: lower rank first.
_RANK = np.empty(5, dtype=np.int8)
_RANK[[TO_INCIDENT, ON_SCENE, RETURNING, PATROLLING, STANDING]] = np.arange(5)

ToPixels = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LabelSizes:
    """One renderer's sizes, in its pixels: fonts, and the half-width kept clear around each marker."""

    site_font_px: float
    unit_font_px: float
    base_px: float
    site_px: float
    unit_px: float
    star_px: float
    joint_px: float  # a joint patrol's marker (a ring around the unit's dot)
    gap_px: float = 2.0

    def box_size(self, text: str, font_px: float) -> tuple[float, float]:
        """Width and height (px) of ``text``'s box: never smaller than the drawn text."""
        return CHAR_WIDTH_EM * font_px * len(text) + 2 * PAD_PX, LINE_HEIGHT_EM * font_px + 2.0

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

    def unit_anchor(self, x: float, y: float, spot: int, text: str, state: int,
                    joint: bool = False) -> tuple[float, float, str]:
        """Where unit label ``text`` at ``spot`` of its marker at (x, y) is drawn (see ``text_anchor``)."""
        width, height = self.box_size(text, self.unit_font_px)
        reach = self.unit_reach_px[state] + (self.joint_extra_px if joint else 0.0)
        return text_anchor(spot_box(x, y, spot, width, height, reach), spot)


def spot_box(x: float, y: float, spot: int, width: float, height: float, reach: float) -> Box:
    """The box of a ``width`` x ``height`` label at ``spot``, ``reach`` px from the point (x, y)."""
    sx, sy = SPOTS[spot]
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


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _square(x: float, y: float, half: float) -> Box:
    return x - half, y - half, x + half, y + half


def _inside(box: Box, frame: Box) -> bool:
    return frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1] and box[3] <= frame[3]


def place_sites(
    x_px: Sequence[float], y_px: Sequence[float], names: Sequence[str], is_base: Sequence[bool],
    sizes: LabelSizes, frame: Box, reserved: Sequence[Box] = (),
) -> tuple[list[tuple[Box, int] | None], list[Box]]:
    """Each site's label box and spot (None: left out), bases first, and every box now taken.

    The taken boxes are the site markers, the ``reserved`` boxes and the site labels: what unit
    labels must keep clear of.
    """
    grid = BoxGrid()
    taken = list(reserved) + [_square(x, y, sizes.base_px if base else sizes.site_px)
                              for x, y, base in zip(x_px, y_px, is_base)]
    for box in taken:
        grid.add(box)
    placed: list[tuple[Box, int] | None] = [None] * len(names)
    for i in sorted(range(len(names)), key=lambda i: not is_base[i]):
        if not _inside((x_px[i], y_px[i], x_px[i], y_px[i]), frame):
            continue   # off the picture: no label to give
        width, height = sizes.box_size(names[i], sizes.site_font_px)
        reach = (sizes.base_px if is_base[i] else sizes.site_px) + sizes.gap_px
        for spot in range(len(SPOTS)):
            box = spot_box(x_px[i], y_px[i], spot, width, height, reach)
            if _inside(box, frame) and grid.free(box):
                grid.add(box)
                taken.append(box)
                placed[i] = box, spot
                break
    return placed, taken


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
    sx, sy = np.array(SPOTS, dtype=np.float64).T
    x0 = x[..., None] + sx * reach[..., None] + (sx - 1) * width[..., None] / 2.0
    y0 = y[..., None] + sy * reach[..., None] + (sy - 1) * height[..., None] / 2.0
    return np.stack([x0, y0, x0 + width[..., None], y0 + height[..., None]], axis=-1)


def _overlaps_any(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per box (U, C, S, 4): whether it overlaps any of the same frame's others (V, C, 4)."""
    b = boxes[:, :, :, None, :]
    o = others.transpose(1, 0, 2)[None, :, None, :, :]   # (1, C, 1, V, 4)
    hit = (b[..., 0] < o[..., 2]) & (o[..., 0] < b[..., 2]) & (b[..., 1] < o[..., 3]) & (o[..., 1] < b[..., 3])
    return hit.any(axis=-1)


def unit_label_spots(frames: Frames, to_px: ToPixels, sizes: LabelSizes, fixed: Sequence[Box], frame: Box,
                     chunk: int = 512) -> np.ndarray:
    """Each unit's label spot per frame, (U, T) int8, SPOT_NONE where left out (or too many units).

    Labels stay inside ``frame``, off the ``fixed`` boxes (site markers and labels), off every unit
    marker and shown incident star of their frame, and off each other. A unit drawn inside a joint
    marker has no label; the joint marker's label is its patrol's (``Frames.marker_text``). What depends on one unit
    alone (the picture's edge, the fixed boxes, the markers) is tested for all frames at once,
    ``chunk`` frames at a time; only the labels of one frame against each other go one by one.
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
    # A frame where nothing moved keeps the last frame's labels.
    same = np.zeros(n_frames, dtype=bool)
    same[1:] = ~((ux[:, 1:] != ux[:, :-1]).any(axis=0) | (uy[:, 1:] != uy[:, :-1]).any(axis=0)
                 | (state[:, 1:] != state[:, :-1]).any(axis=0) | (rank[:, 1:] != rank[:, :-1]).any(axis=0)
                 | (text[:, 1:] != text[:, :-1]).any(axis=0))
    texts = frames.label_texts
    # Per text (the last entry: no marker of its own), its label's size and whether it takes room.
    sizes_px = [sizes.box_size(name, sizes.unit_font_px) for name in texts] + [(0.0, 0.0)]
    width_of, height_of = (np.array(size) for size in zip(*sizes_px))
    named_of = np.array([bool(name) for name in texts] + [False])   # an empty name takes no room
    joint_of = np.arange(len(texts) + 1) >= n_units   # a joint marker's text (or none: drawn in one)
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
        ok = (inside & occupied.free(boxes) & ~_overlaps_any(boxes, markers) & point_inside[..., None]
              & named_of[ct][..., None])
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
                for spot in ((last[u],) + _ALL_SPOTS) if last[u] >= 0 else _ALL_SPOTS:
                    box = frame_boxes[u][spot]
                    if frame_ok[u][spot] and not any(_overlap(box, other) for other in taken):
                        taken.append(box)
                        spots[u, k] = spot
                        break
    return spots
