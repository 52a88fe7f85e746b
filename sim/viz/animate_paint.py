"""The GIF's moving parts painted with Pillow onto a background drawn once: markers, lines, names, clock.

Markers are sprites drawn once (four times over and scaled down, so their edges are smooth) and
pasted with their alpha each frame; names are sprites too, one per text and alignment. Each panel is
painted on its own crop of the frame, so nothing drawn for one panel spills into another. The
painter keeps the boxes of the names it drew and the leader lines, so tests can check them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sim.viz.animate_frames import INCIDENT_SCALE, NOT_SHOWN, Frames
from sim.viz.animate_labels import SPOT_NONE, LabelSizes, PanelLabels, leader, text_anchor
from sim.viz.animate_style import (
    DISPATCH_COLOUR,
    HALO,
    INCIDENT_COLOURS,
    LEADER_COLOUR,
    MARKER_EDGE,
    STAR_EDGE,
    UNIT_COLOURS,
    UNIT_TEXT,
    font_path,
)
from sim.viz.map_labels import Box

SUPERSAMPLE = 4
OPACITY_STEPS = 16   # a fading star's opacity is drawn in this many steps
DASH_PX = (8.0, 4.0)  # a dispatch line: drawn, gap


@lru_cache(maxsize=16)
def font(size_px: float, bold: bool = False, italic: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size_px`` pixels (the em), with Pillow's basic layout (fast, no shaping needed)."""
    return ImageFont.truetype(font_path(bold, italic), size=max(1, round(size_px)),
                              layout_engine=ImageFont.Layout.BASIC)


def rgb(colour: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as three bytes."""
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


@dataclass(frozen=True)
class Sprite:
    """An image to paste centred on a point: its colours, its alpha and the offset of its top-left corner."""

    rgb: Image.Image
    alpha: Image.Image
    dx: int
    dy: int
    _faded: dict[int, Image.Image] = field(default_factory=dict, compare=False)

    def paste(self, image: Image.Image, x: float, y: float, opacity: float = 1.0) -> tuple[int, int, int, int] | None:
        """Paste centred on (x, y) (pixels of ``image``, y down), at ``opacity``; the box it covers (None: none)."""
        alpha = self.alpha
        if opacity < 1.0:
            step = int(round(opacity * OPACITY_STEPS))
            if step <= 0:
                return None
            if step not in self._faded:
                self._faded[step] = self.alpha.point(lambda a, f=step / OPACITY_STEPS: int(round(a * f)))
            alpha = self._faded[step]
        left, top = int(round(x)) + self.dx, int(round(y)) + self.dy
        image.paste(self.rgb, (left, top), alpha)
        return left, top, left + self.rgb.width, top + self.rgb.height


def _sprite(half_px: float, draw_shape) -> Sprite:
    """A sprite of ``2 * half_px`` (plus a pixel) drawn by ``draw_shape(draw, centre, scale)`` at SUPERSAMPLE."""
    size = int(np.ceil(2 * half_px)) + 3
    big = Image.new("RGBA", (size * SUPERSAMPLE, size * SUPERSAMPLE), (0, 0, 0, 0))
    draw_shape(ImageDraw.Draw(big), size * SUPERSAMPLE / 2.0, SUPERSAMPLE)
    small = big.resize((size, size), Image.Resampling.BOX)
    rgb, alpha = small.convert("RGB"), small.getchannel("A")
    return Sprite(rgb, alpha, -(size // 2), -(size // 2))


def disc_sprite(radius_px: float, fill: str, edge: str, edge_px: float) -> Sprite:
    """A filled circle with an outline."""
    def shape(draw: ImageDraw.ImageDraw, c: float, s: int) -> None:
        r = radius_px * s
        draw.ellipse((c - r, c - r, c + r, c + r), fill=fill, outline=edge, width=max(1, round(edge_px * s)))
    return _sprite(radius_px, shape)


def star_sprite(radius_px: float, fill: str, edge: str, edge_px: float) -> Sprite:
    """A five-pointed star (inner radius 0.45 of the outer, as the page draws it) with an outline."""
    def shape(draw: ImageDraw.ImageDraw, c: float, s: int) -> None:
        angles = -np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2, 0.45, 1.0) * radius_px * s
        points = list(zip((c + radii * np.cos(angles)).tolist(), (c + radii * np.sin(angles)).tolist()))
        draw.polygon(points, fill=fill, outline=edge, width=max(1, round(edge_px * s)))
    return _sprite(radius_px, shape)


@lru_cache(maxsize=4096)
def text_size(text: str, size_px: float, bold: bool = False) -> tuple[float, float]:
    """Width and height (ascender to descender) in pixels of ``text`` as the GIF draws it, upright or
    slanted (town names), whichever is wider: its ink, not just its advance."""
    widths, height = [], 0.0
    for italic in (False, True):
        face = font(size_px, bold, italic)
        left, _, right, _ = face.getbbox(text, anchor="ld")
        widths.append(max(face.getlength(text), right) - min(left, 0))
        height = max(height, float(sum(face.getmetrics())))
    return max(widths), height


@dataclass(frozen=True)
class TextSprite:
    """A name with its white halo: paste it with its anchor (the text's bottom, at the alignment) on a point."""

    image: Image.Image
    bbox: tuple[int, int, int, int]   # left, top, right, bottom from the anchor (pixels, y down)


@lru_cache(maxsize=4096)
def text_sprite(text: str, size_px: float, align: str, colour: str = UNIT_TEXT, bold: bool = False,
                italic: bool = False, halo: bool = True) -> TextSprite:
    """``text`` drawn once (with a white halo unless on white anyway), anchored at its descender line
    and ``align`` (left, right, center)."""
    anchor = {"left": "ld", "right": "rd", "center": "md"}[align]
    face = font(size_px, bold, italic)
    stroke = 1 if halo else 0
    left, top, right, bottom = face.getbbox(text, anchor=anchor, stroke_width=stroke)
    image = Image.new("RGBA", (max(right - left, 1), max(bottom - top, 1)), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((-left, -top), text, font=face, fill=colour, anchor=anchor, stroke_width=stroke,
                               stroke_fill=HALO)
    return TextSprite(image, (left, top, right, bottom))


def _clip_line(x0: float, y0: float, x1: float, y1: float, box: Box) -> tuple[float, float, float, float] | None:
    """The part of a segment inside ``box`` (x0, y0, x1, y1), or None (Liang-Barsky)."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    if t0 > t1:
        return None
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


def dashes(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float, float, float]]:
    """The drawn pieces of a dashed line from (x0, y0) to (x1, y1)."""
    length = float(np.hypot(x1 - x0, y1 - y0))
    if length == 0.0:
        return []
    on, off = DASH_PX
    starts = np.arange(0.0, length, on + off)
    ends = np.minimum(starts + on, length)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return [(x0 + a * ux, y0 + a * uy, x0 + b * ux, y0 + b * uy) for a, b in zip(starts.tolist(), ends.tolist())]


@dataclass(frozen=True)
class MarkerSizes:
    """The GIF's markers in pixels: unit dot and joint disc radii, star radius, outline widths."""

    unit_radius_px: float = 5.2
    joint_radius_px: float = 9.0
    star_radius_px: float = 9.6
    edge_px: float = 1.0
    joint_edge_px: float = 2.0


class FramePainter:
    """Paints frame k of ``frames`` onto ``background`` (RGB, the picture's size): ``paint(k)``."""

    def __init__(self, frames: Frames, background: Image.Image, labels: list[PanelLabels], sizes: LabelSizes,
                 markers: MarkerSizes = MarkerSizes()) -> None:
        self.frames, self.background, self.labels, self.sizes = frames, background, labels, sizes
        self.height = background.height
        self.units = [disc_sprite(markers.unit_radius_px, colour, MARKER_EDGE, markers.edge_px) for colour in UNIT_COLOURS]
        self.ring = disc_sprite(markers.joint_radius_px, HALO, MARKER_EDGE, markers.joint_edge_px)
        self.stars = [star_sprite(markers.star_radius_px * scale, colour, STAR_EDGE, 0.5)
                      for colour, scale in zip(INCIDENT_COLOURS, INCIDENT_SCALE)]
        self.marker_text = frames.marker_text()
        self.texts = frames.label_texts
        self.joint = frames.is_joint(np.arange(len(self.texts)))
        # Per panel: the crop box (y down) and the points of units and incidents in its pixels.
        self.panels = []
        for panel_labels in labels:
            p = panel_labels.panel
            crop = (int(np.floor(p.box_px[0])), int(np.floor(self.height - p.box_px[3])),
                    int(np.ceil(p.box_px[2])), int(np.ceil(self.height - p.box_px[1])))
            ux, uy = p.to_px(frames.unit_x_m, frames.unit_y_m)
            ix, iy = p.to_px(frames.incident_x_m, frames.incident_y_m)
            inside = p.panel.contains(frames.unit_x_m, frames.unit_y_m)
            self.panels.append((panel_labels, crop, ux, uy, ix, iy, inside))
        # The last frame's unit names: text, box (px, y up) as drawn, and the point of their marker.
        self.drawn_labels: list[tuple[str, Box, tuple[float, float]]] = []
        self.drawn_leaders: list[tuple[str, tuple[float, float, float, float]]] = []
        self.drawn_markers: list[tuple[str, int]] = []   # the last frame's unit markers: "ring" or "dot", unit
        self.dirty: list[tuple[int, int, int, int]] = []   # the last frame's boxes that differ from the background (y down)

    def paint(self, k: int) -> Image.Image:
        """Frame k as an RGB image (what it painted over the background: ``dirty``)."""
        image = self.background.copy()
        self.drawn_labels, self.drawn_leaders, self.drawn_markers, self.dirty = [], [], [], []
        for panel in self.panels:
            self._paint_panel(image, k, *panel)
        return image

    def paste_text(self, image: Image.Image, text: str, x: float, bottom: float, size_px: float, align: str,
                   colour: str, bold: bool = False, halo: bool = True) -> tuple[int, int, int, int]:
        """Paste ``text`` with its bottom at ``bottom`` and ``align`` at ``x`` (y down); its box."""
        sprite = text_sprite(text, size_px, align, colour, bold, False, halo)
        left, top = int(round(x)) + sprite.bbox[0], int(round(bottom)) + sprite.bbox[1]
        image.paste(sprite.image, (left, top), sprite.image)
        box = (left, top, left + sprite.image.width, top + sprite.image.height)
        self.dirty.append(box)
        return box

    def _paint_panel(self, image: Image.Image, k: int, panel_labels: PanelLabels, crop: tuple[int, int, int, int],
                     ux: np.ndarray, uy: np.ndarray, ix: np.ndarray, iy: np.ndarray, inside: np.ndarray) -> None:
        frames, height = self.frames, self.height
        left, top = crop[0], crop[1]
        layer = image.crop(crop)
        draw = ImageDraw.Draw(layer)

        def at(x: float, y_up: float) -> tuple[float, float]:   # picture pixels (y up) to the layer's (y down)
            return x - left, height - y_up - top

        bounds = (0.0, 0.0, float(layer.width), float(layer.height))
        dirty = []

        def line_box(line: tuple[float, float, float, float], width: int) -> tuple[int, int, int, int]:
            return (int(np.floor(min(line[0], line[2]))) - width, int(np.floor(min(line[1], line[3]))) - width,
                    int(np.ceil(max(line[0], line[2]))) + width + 1, int(np.ceil(max(line[1], line[3]))) + width + 1)

        driving = np.flatnonzero((frames.unit_target[:, k] >= 0) & inside[:, k])
        for u, i in zip(driving.tolist(), frames.unit_target[driving, k].tolist()):
            line = _clip_line(*at(ux[u, k], uy[u, k]), *at(ix[i], iy[i]), bounds)
            if line is not None:
                for piece in dashes(*line):
                    draw.line(piece, fill=DISPATCH_COLOUR, width=2)
                dirty.append(line_box(line, 2))
        state = frames.incident_state[:, k]
        for i in np.flatnonzero(state != NOT_SHOWN).tolist():
            dirty.append(self.stars[state[i]].paste(layer, *at(ix[i], iy[i]), float(frames.incident_opacity[i, k])))
        text = self.marker_text[:, k]
        drawn = np.flatnonzero((text >= 0) & inside[:, k]).tolist()
        for u in drawn:
            if self.joint[text[u]]:
                dirty.append(self.ring.paste(layer, *at(ux[u, k], uy[u, k])))
                self.drawn_markers.append(("ring", u))
            dirty.append(self.units[frames.unit_state[u, k]].paste(layer, *at(ux[u, k], uy[u, k])))
            self.drawn_markers.append(("dot", u))
        spots = panel_labels.unit_spots[:, k]
        for u in np.flatnonzero(spots != SPOT_NONE).tolist():
            spot, index = int(spots[u]), int(text[u])
            name, joint, unit_state = self.texts[index], bool(self.joint[index]), int(frames.unit_state[u, k])
            box = self.sizes.unit_box(ux[u, k], uy[u, k], spot, name, unit_state, joint)
            reach = self.sizes.unit_reach(unit_state, joint)
            line = leader(ux[u, k], uy[u, k], spot, self.sizes.joint_px if joint else self.sizes.unit_px, reach)
            if line is not None:
                ends = (*at(line[0], line[1]), *at(line[2], line[3]))
                draw.line(ends, fill=LEADER_COLOUR, width=1)
                dirty.append(line_box(ends, 1))
                self.drawn_leaders.append((name, line))
            x, y, align = text_anchor(box, spot)
            sprite = text_sprite(name, self.sizes.unit_font_px, align)
            lx, ly = at(x, y)
            x0, y0 = int(round(lx)) + sprite.bbox[0], int(round(ly)) + sprite.bbox[1]
            layer.paste(sprite.image, (x0, y0), sprite.image)
            dirty.append((x0, y0, x0 + sprite.image.width, y0 + sprite.image.height))
            self.drawn_labels.append((name, (x0 + left, height - (y0 + top + sprite.image.height),
                                             x0 + left + sprite.image.width, height - (y0 + top)),
                                      (float(ux[u, k]), float(uy[u, k]))))
        image.paste(layer, crop[:2])
        # What was painted, clipped to the panel, in the picture's pixels.
        for box in dirty:
            if box is not None:
                clipped = (max(box[0], 0) + left, max(box[1], 0) + top, min(box[2], layer.width) + left,
                           min(box[3], layer.height) + top)
                if clipped[0] < clipped[2] and clipped[1] < clipped[3]:
                    self.dirty.append(clipped)
