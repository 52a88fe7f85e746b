"""The animation as one self-contained HTML page: the frames as compact JSON, played by web/animation.js.

No CDN, no tiles: the page draws the network on a canvas from embedded arrays and plays the
frames with a play button and a time slider. Per-frame arrays are quantised to small integers
and sent as base64 typed arrays to keep long animations small.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.network import SYNTHETIC_NOTE
from sim.viz import web
from sim.viz.animate_frames import (
    INCIDENT_COLOURS,
    INCIDENT_STATE_LABELS,
    MAX_UNIT_LABELS,
    UNIT_COLOURS,
    UNIT_STATE_LABELS,
    Frames,
    short_name,
    speed_text,
)

HTML_MAP_ASPECT = 1.5  # width / height of the page's map canvas


def _b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian typed-array bytes as base64, decoded by the page into a JS typed array."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _quantise(values_m: np.ndarray, low_m: float, span_m: float) -> np.ndarray:
    """Metres to 0..65535 across the view (1/65535 of the view: under a metre at city scale)."""
    return np.clip(np.round((values_m - low_m) / span_m * 65535.0), 0, 65535).astype(np.uint16)


def html_data(frames: Frames, fps: float) -> dict:
    """The JSON the page embeds: network segments, sites, units per frame as quantised integers."""
    x0, y0, x1, y1 = frames.view_m
    span_x, span_y = x1 - x0, y1 - y0
    seg = frames.segments_m
    # Segments may leave the view: int32 decimetres from the view's corner, never clipped.
    segments_dm = np.round(np.column_stack([seg[:, 0] - x0, seg[:, 1] - y0, seg[:, 2] - x0, seg[:, 3] - y0]) * 10.0)
    response = frames.figures["mean_response_min"]
    return {
        "title": frames.title,
        "synthetic": frames.synthetic,
        "note": SYNTHETIC_NOTE if frames.synthetic else "",
        "view_m": [span_x, span_y],
        "fps": fps,
        "speed": speed_text(frames, fps),
        "frames": frames.n_frames,
        "units": len(frames.unit_ids),
        "unit_x": _b64(_quantise(frames.unit_x_m, x0, span_x).T, "<u2"),  # frame-major: [k * U + u]
        "unit_y": _b64(_quantise(frames.unit_y_m, y0, span_y).T, "<u2"),
        "unit_state": _b64(frames.unit_state.T, "<u1"),
        "unit_target": _b64(frames.unit_target.T, "<i2"),
        "incident_x": _quantise(frames.incident_x_m, x0, span_x).tolist(),
        "incident_y": _quantise(frames.incident_y_m, y0, span_y).tolist(),
        "incident_state": _b64(frames.incident_state.T, "<u1"),
        "incident_opacity": _b64(np.round(frames.incident_opacity.T * 255.0), "<u1"),
        "clock": frames.clock_labels,
        "mean_response_min": [None if np.isnan(v) else round(float(v), 2) for v in response],
        "within_target_pct": [None if np.isnan(v) else round(float(v), 1) for v in frames.figures["within_target_pct"]],
        "answered": frames.figures["answered"].tolist(),
        "waiting": frames.figures["waiting"].tolist(),
        "on_the_way": frames.figures["on_the_way"].tolist(),
        "target_min": frames.target_min,
        "segments": _b64(segments_dm, "<i4"),
        "segment_class": _b64(frames.segment_class, "<u1"),
        "sites": [[short_name(name), (x - x0) / span_x, (y - y0) / span_y, is_base]
                  for name, x, y, is_base in frames.sites],
        "unit_colours": list(UNIT_COLOURS),
        # Names drawn beside the units when there are few enough to read them.
        "unit_names": frames.unit_ids if len(frames.unit_ids) <= MAX_UNIT_LABELS else [],
        "unit_labels": list(UNIT_STATE_LABELS),
        "incident_colours": list(INCIDENT_COLOURS),
        "incident_labels_state": list(INCIDENT_STATE_LABELS),
    }


def write_html(frames: Frames, path: Path, fps: float) -> None:
    """Write the animation as one self-contained HTML page (no external files), whole or not at all."""
    page = web.fill(
        "animation.html",
        title=web.page_title(frames.title),
        style=web.asset("animation.css"),
        data=web.script_json(html_data(frames, fps)),
        script=web.inline_scripts("panzoom.js", "animation.js"),
    )

    def save(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8")

    write_whole(path, save)
