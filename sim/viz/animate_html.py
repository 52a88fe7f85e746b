"""The animation as one self-contained HTML page: the frames as compact JSON, played by web/animation.js.

No CDN, no tiles: the page draws the network on a canvas from embedded arrays, panel by panel
(``animate_views``), and plays the frames with a play button and a time slider. Per-frame arrays
are quantised to small integers and sent as base64 typed arrays to keep long animations small.
Labels are placed here (``animate_labels``, in the canvas's pixels, from the quantised positions
the page draws) and the page draws them where they were placed. Colours come from
``animate_style`` through the JSON; so do the page's words (the catalogue's ``anim.*``, in the
frames' language).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.i18n import catalogue
from sim.viz import web
from sim.viz.animate_frames import INCIDENT_SCALE, Frames, speed_text, unit_state_words
from sim.viz.animate_labels import FAR_PX, PAD_PX, SPOTS, LabelSizes, PanelLabels, place_labels
from sim.viz.animate_map import beyond_words
from sim.viz.animate_style import (
    BASE_COLOUR,
    BEYOND_COLOUR,
    CITY_BOX_COLOUR,
    DISPATCH_COLOUR,
    HALO,
    INCIDENT_COLOURS,
    LEADER_COLOUR,
    MANY_SITE_COLOUR,
    MARKER_EDGE,
    NOTE_COLOUR,
    PANEL_EDGE,
    ROAD_STYLES,
    SITE_COLOUR,
    SITE_TEXT,
    STAR_EDGE,
    TOWN_TEXT,
    UNIT_COLOURS,
    UNIT_TEXT,
)
from sim.viz.animate_views import CITY, REGENCY, PanelPixels, place_panels
from sim.viz.words import synthetic_note

HTML_MAP_ASPECT = 1.75  # width / height of the page's map canvas
HTML_MAP_WIDTH_PX = 1100  # the canvas is drawn this wide (CSS pixels), then scaled to the window
# Label sizes on the canvas (CSS px): names of 11 and 10 px; markers as animation.js draws them.
HTML_LABELS = LabelSizes(site_font_px=11.0, unit_font_px=10.0, town_font_px=11.0, base_px=6.0, site_px=3.5,
                         unit_px=7.0, star_px=11.5, joint_px=12.0, beyond_px=7.5)
_NOTE_FONT_PX, _NOTE_MARGIN_PX = 11.0, 8.0  # the synthetic-network note, bottom right of the canvas


def _b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian typed-array bytes as base64, decoded by the page into a JS typed array."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _quantise(values_m: np.ndarray, low_m: float, span_m: float) -> np.ndarray:
    """Metres to 0..65535 across the extent (1/65535 of it: under a metre for a regency)."""
    return np.clip(np.round((np.asarray(values_m, dtype=np.float64) - low_m) / span_m * 65535.0), 0, 65535).astype(np.uint16)


@dataclass(frozen=True)
class _QuantisedPanel(PanelPixels):
    """A panel on the canvas placing points where the page draws them: from their quantised positions."""

    extent_m: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)

    def to_px(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self.extent_m
        qx, qy = _quantise(x_m, x0, x1 - x0), _quantise(y_m, y0, y1 - y0)
        return super().to_px(x0 + qx / 65535.0 * (x1 - x0), y0 + qy / 65535.0 * (y1 - y0))


def canvas_size(frames: Frames) -> tuple[int, int]:
    """The map canvas's width and height (CSS px)."""
    return HTML_MAP_WIDTH_PX, round(HTML_MAP_WIDTH_PX / HTML_MAP_ASPECT)


def html_labels(frames: Frames) -> list[PanelLabels]:
    """The page's labels, panel by panel, in canvas pixels (y up), clear of the note and the city panel's title."""
    width, height = canvas_size(frames)
    placed = [_QuantisedPanel(p.panel, p.box_px, p.scale_px_per_m, frames.view_m)
              for p in place_panels(frames.panels, (0.0, 0.0, float(width), float(height)))]
    reserved = []
    if frames.synthetic:
        note_w, note_h = HTML_LABELS.box_size(synthetic_note(frames.messages), _NOTE_FONT_PX)
        reserved.append((width - _NOTE_MARGIN_PX - note_w, 0.0, float(width), _NOTE_MARGIN_PX + note_h))
    for p in placed:
        if p.panel.role == CITY and len(placed) > 1:
            title_w, title_h = HTML_LABELS.box_size(frames.messages("anim.cityTitle"), HTML_LABELS.site_font_px)
            reserved.append((p.box_px[0], p.box_px[3] - title_h - 6.0, p.box_px[0] + title_w + 8.0, p.box_px[3]))
    return place_labels(frames, placed, HTML_LABELS, reserved)


def _panel_data(frames: Frames, labels: PanelLabels, height: int) -> dict:
    """One panel for the page: its rectangle (y down), transform from metres off the extent's corner, labels."""
    p = labels.panel
    ex0, ey0 = frames.view_m[:2]
    vx0, vy0 = p.panel.view_m[:2]
    scale = p.scale_px_per_m
    # text, x and y of its bottom, alignment, style, its point, its leader line or null (canvas px, y down)
    fixed = [[label.text, round(x, 1), round(height - y, 1), align, label.style, round(label.x, 1),
              round(height - label.y, 1), None if line is None else
              [round(line[0], 1), round(height - line[1], 1), round(line[2], 1), round(height - line[3], 1)]]
             for label in labels.fixed for (x, y, align), line in ((label.anchor(), label.leader(HTML_LABELS)),)]
    data = {
        "role": p.panel.role,
        "rect": [p.box_px[0], height - p.box_px[3], p.box_px[2] - p.box_px[0], p.box_px[3] - p.box_px[1]],
        # canvas x = tx + scale * x, canvas y = ty - scale * y, for metres from the extent's corner.
        "transform": [scale, p.box_px[0] - (vx0 - ex0) * scale, height - p.box_px[1] + (vy0 - ey0) * scale],
        "labels": fixed,
        "unit_spots": _b64(labels.unit_spots.T, "<i1"),   # frame-major; -1: no name in this panel
    }
    city = [q for q in frames.panels if q.role == CITY]
    if p.panel.role == REGENCY and city:
        cx0, cy0, cx1, cy1 = city[0].view_m
        data["city_box_m"] = [cx0 - ex0, cy0 - ey0, cx1 - ex0, cy1 - ey0]
    if p.panel.role == CITY and len(frames.panels) > 1:
        data["title"] = frames.messages("anim.cityTitle")
    return data


def html_data(frames: Frames, fps: float, labels: list[PanelLabels] | None = None) -> dict:
    """The JSON the page embeds: network segments, sites, units per frame as quantised integers;
    the labels as ``html_labels`` places them (unless given)."""
    x0, y0, x1, y1 = frames.view_m
    span_x, span_y = x1 - x0, y1 - y0
    seg = frames.segments_m
    # Segments may leave the extent: int32 decimetres from its corner, never clipped.
    segments_dm = np.round(np.column_stack([seg[:, 0] - x0, seg[:, 1] - y0, seg[:, 2] - x0, seg[:, 3] - y0]) * 10.0)
    response = frames.figures["mean_response_min"]
    width, height = canvas_size(frames)
    labels = html_labels(frames) if labels is None else labels
    _, unit_h = HTML_LABELS.box_size("", HTML_LABELS.unit_font_px)
    m = frames.messages
    return {
        "lang": m.lang,
        "messages": {**catalogue(m.lang, "anim."), **catalogue(m.lang, "number.")},
        "title": frames.title,
        "synthetic": frames.synthetic,
        "note": synthetic_note(m) if frames.synthetic else "",
        "extent_m": [span_x, span_y],
        "map_px": [width, height],
        "panels": [_panel_data(frames, panel_labels, height) for panel_labels in labels],
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
        # name, x, y (metres from the extent's corner), is a base, named, beyond reach
        "sites": [[site.label, round(site.x_m - x0, 1), round(site.y_m - y0, 1), site.is_base, site.named, site.beyond]
                  for site in frames.sites],
        "unit_names": frames.label_texts,   # each unit's name, then the joint markers' labels
        # Per frame, the name each unit's marker carries (index into unit_names; a joint patrol's
        # marker is drawn with a ring; -1: inside another unit's marker, not drawn).
        # One byte each while the names fit (they nearly always do): long animations stay small.
        "unit_text": _b64(frames.marker_text().T, "<i1" if len(frames.label_texts) < 128 else "<i2"),
        "unit_text_bytes": 1 if len(frames.label_texts) < 128 else 2,
        "unit_label": {"spots": [list(spot) for spot in SPOTS], "reach_px": HTML_LABELS.unit_reach_px,
                       "height_px": unit_h, "pad_px": PAD_PX, "far_px": FAR_PX, "font_px": HTML_LABELS.unit_font_px,
                       "joint_extra_px": HTML_LABELS.joint_extra_px, "joint_px": HTML_LABELS.joint_px,
                       "unit_px": HTML_LABELS.unit_px},
        "fonts_px": {"site": HTML_LABELS.site_font_px, "town": HTML_LABELS.town_font_px, "note": _NOTE_FONT_PX},
        "joint": bool(frames.joint_texts),
        "joint_count": len(frames.joint_texts),   # unit_names[U .. U + joint_count): joint markers (a ring)
        "unit_labels": unit_state_words(m),
        "incident_labels_state": list(frames.incident_labels),
        "incident_scale": list(INCIDENT_SCALE),
        "unnamed_kinds": frames.unnamed_kinds,
        "beyond_words": beyond_words(frames.target_min, m) if frames.beyond_reach else "",
        "style": {
            "unit_colours": list(UNIT_COLOURS), "incident_colours": list(INCIDENT_COLOURS), "roads": list(ROAD_STYLES),
            "base": BASE_COLOUR, "site": SITE_COLOUR, "many_site": MANY_SITE_COLOUR, "beyond": BEYOND_COLOUR,
            "site_text": SITE_TEXT, "town_text": TOWN_TEXT, "unit_text": UNIT_TEXT, "leader": LEADER_COLOUR,
            "city_box": CITY_BOX_COLOUR, "note": NOTE_COLOUR, "halo": HALO, "dispatch": DISPATCH_COLOUR,
            "edge": MARKER_EDGE, "star_edge": STAR_EDGE, "panel_edge": PANEL_EDGE,
        },
    }


def write_html(frames: Frames, path: Path, fps: float, labels: list[PanelLabels] | None = None) -> None:
    """Write the animation as one self-contained HTML page (no external files), whole or not at all."""
    page = web.fill(
        "animation.html",
        lang=frames.messages.lang,
        title=web.page_title(frames.title),
        style=web.asset("animation.css"),
        data=web.script_json(html_data(frames, fps, labels)),
        script=web.inline_scripts("animation.js"),
    )

    def save(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8")

    write_whole(path, save)
