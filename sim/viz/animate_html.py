"""The animation as one self-contained HTML page: the frames as compact JSON, played by web/animation.js.

No CDN, no tiles: the page draws the network on a canvas from embedded arrays and plays the
frames with a play button and a time slider. Per-frame arrays are quantised to small integers
and sent as base64 typed arrays to keep long animations small. Labels are placed here
(``animate_labels``, in the canvas's pixels) and the page draws them where they were placed.
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
    INCIDENT_SCALE,
    UNIT_COLOURS,
    UNIT_STATE_LABELS,
    Frames,
    short_name,
    speed_text,
)
from sim.viz.animate_labels import (
    PAD_PX,
    SPOTS,
    LabelSizes,
    place_sites,
    text_anchor,
    unit_label_spots,
)

HTML_MAP_ASPECT = 1.5  # width / height of the page's map canvas
HTML_MAP_WIDTH_PX = 1100  # the canvas is drawn this wide (CSS pixels), then scaled to the window
# Label sizes on the canvas (CSS px): fonts of 11 and 10 px; markers as animation.js draws them.
_HTML_LABELS = LabelSizes(site_font_px=11.0, unit_font_px=10.0, base_px=6.0, site_px=3.5, unit_px=7.0, star_px=11.5,
                           joint_px=12.0)
_NOTE_FONT_PX, _NOTE_MARGIN_PX = 11.0, 8.0  # the synthetic-network note, bottom right of the canvas


def _b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian typed-array bytes as base64, decoded by the page into a JS typed array."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _quantise(values_m: np.ndarray, low_m: float, span_m: float) -> np.ndarray:
    """Metres to 0..65535 across the view (1/65535 of the view: under a metre at city scale)."""
    return np.clip(np.round((values_m - low_m) / span_m * 65535.0), 0, 65535).astype(np.uint16)


def _labels(frames: Frames) -> tuple[list, np.ndarray, int]:
    """Site labels ([x, y of the text's bottom, alignment] on the canvas, y down; None: left out),
    each unit's label spot per frame, and the canvas height: placed as animation.js draws them."""
    x0, y0, x1, y1 = frames.view_m
    span_x, span_y = x1 - x0, y1 - y0
    width = HTML_MAP_WIDTH_PX
    height = round(width * span_y / span_x)
    # PanZoom's fit(span_x, span_y, [0, 0, width, height], 1): one scale, the view centred.
    scale = min(width / span_x, height / span_y)
    left, bottom = (width - span_x * scale) / 2.0, (height - span_y * scale) / 2.0

    def to_px(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Where the page draws a point: from the quantised position it is sent, y up.
        qx, qy = _quantise(np.asarray(x_m), x0, span_x), _quantise(np.asarray(y_m), y0, span_y)
        return left + qx / 65535.0 * span_x * scale, bottom + qy / 65535.0 * span_y * scale

    frame = (0.0, 0.0, float(width), float(height))
    note = []
    if frames.synthetic:   # keep labels off the note
        note_w, note_h = _HTML_LABELS.box_size(SYNTHETIC_NOTE, _NOTE_FONT_PX)
        note = [(width - _NOTE_MARGIN_PX - note_w, 0.0, float(width), _NOTE_MARGIN_PX + note_h)]
    names = [short_name(name) for name, *_ in frames.sites]
    site_x, site_y = to_px(np.array([s[1] for s in frames.sites]), np.array([s[2] for s in frames.sites]))
    placed, fixed = place_sites(site_x, site_y, names, [s[3] for s in frames.sites], _HTML_LABELS, frame, note)
    site_labels = []
    for spot in placed:
        if spot is None:
            site_labels.append(None)
        else:
            x, y, align = text_anchor(*spot)
            site_labels.append([round(x, 1), round(height - y, 1), align])
    return site_labels, unit_label_spots(frames, to_px, _HTML_LABELS, fixed, frame), height


def html_data(frames: Frames, fps: float) -> dict:
    """The JSON the page embeds: network segments, sites, units per frame as quantised integers."""
    x0, y0, x1, y1 = frames.view_m
    span_x, span_y = x1 - x0, y1 - y0
    seg = frames.segments_m
    # Segments may leave the view: int32 decimetres from the view's corner, never clipped.
    segments_dm = np.round(np.column_stack([seg[:, 0] - x0, seg[:, 1] - y0, seg[:, 2] - x0, seg[:, 3] - y0]) * 10.0)
    response = frames.figures["mean_response_min"]
    site_labels, unit_spots, height_px = _labels(frames)
    _, unit_h = _HTML_LABELS.box_size("", _HTML_LABELS.unit_font_px)
    return {
        "title": frames.title,
        "synthetic": frames.synthetic,
        "note": SYNTHETIC_NOTE if frames.synthetic else "",
        "view_m": [span_x, span_y],
        "map_px": [HTML_MAP_WIDTH_PX, height_px],
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
        "sites": [[short_name(name), (x - x0) / span_x, (y - y0) / span_y, is_base, label]
                  for (name, x, y, is_base), label in zip(frames.sites, site_labels)],
        "unit_colours": list(UNIT_COLOURS),
        "unit_names": frames.label_texts,   # each unit's name, then the joint markers' labels
        # Per frame, the name each unit's marker carries (index into unit_names; >= units: a joint
        # patrol's marker, drawn with a ring; -1: inside another unit's joint marker, not drawn).
        # One byte each while the names fit (they nearly always do): long animations stay small.
        "unit_text": _b64(frames.marker_text().T, "<i1" if len(frames.label_texts) < 128 else "<i2"),
        "unit_text_bytes": 1 if len(frames.label_texts) < 128 else 2,
        # Where each unit's name goes per frame (frame-major; -1: left out), and how the page finds the spot.
        "unit_spots": _b64(unit_spots.T, "<i1"),
        "unit_label": {"spots": [list(spot) for spot in SPOTS], "reach_px": _HTML_LABELS.unit_reach_px,
                       "height_px": unit_h, "pad_px": PAD_PX, "font_px": _HTML_LABELS.unit_font_px,
                       "joint_extra_px": _HTML_LABELS.joint_extra_px, "joint_px": _HTML_LABELS.joint_px},
        "joint": bool(frames.joint_texts),
        "unit_labels": list(UNIT_STATE_LABELS),
        "incident_colours": list(INCIDENT_COLOURS),
        "incident_labels_state": list(frames.incident_labels),
        "incident_scale": list(INCIDENT_SCALE),
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
