"""Checks the animation tests share: a unit's name stays beside its marker or is led to it."""
from __future__ import annotations

import numpy as np

from sim.viz.animate_labels import FAR_PX


def distance_to_box(x: float, y: float, box) -> float:
    """Distance (px) from a point to the nearest point of a box (0 inside it)."""
    return float(np.hypot(max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3])))


def attached(name: str, box, point, leaders: dict, marker_px: float, near_px: float, far_px: float, font_px: float,
             where: str) -> None:
    """A unit's label box is beside its marker (within ``near_px`` of its point), or no farther than
    ``far_px`` with a leader line from the marker's edge to the label (to within half a letter of
    the text's ink: lower-case letters sit that far inside their line)."""
    distance = distance_to_box(*point, box)
    assert distance <= far_px, f"{where}: {name}'s label is {distance:.0f} px from its marker"
    if distance > near_px:
        assert name in leaders, f"{where}: {name}'s label is {distance:.0f} px away with no leader line"
        x0, y0, x1, y1 = leaders[name]
        assert np.hypot(x0 - point[0], y0 - point[1]) <= marker_px + 1.0, f"{where}: {name}'s leader starts off its marker"
        assert distance_to_box(x1, y1, box) <= 0.5 * font_px + 1.0, f"{where}: {name}'s leader ends off its label"


def label_bounds(sizes) -> tuple[float, float]:
    """From a marker's point to its label's box: beside it (the nearest ring, a side spot) and at most."""
    reach = max(sizes.unit_reach_px) + sizes.joint_extra_px
    return reach + 4.0, np.sqrt(2.0) * (reach + 2 * FAR_PX) + 4.0


def gif_labels_attached(picture, sizes):
    """Paint each frame of a GIF picture and check every unit label drawn is attached to its marker
    (``attached``, with the bounds of ``sizes``); yield (frame, name, box, point) of each label."""
    near_px, far_px = label_bounds(sizes)
    for k in range(picture.frames.n_frames):
        picture.paint(k)
        leaders = dict(picture.painter.drawn_leaders)
        for name, box, point in picture.painter.drawn_labels:
            attached(name, box, point, leaders, sizes.joint_px, near_px, far_px, sizes.unit_font_px, f"frame {k}")
            yield k, name, box, point
