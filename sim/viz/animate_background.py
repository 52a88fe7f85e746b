"""The GIF's background, drawn once with Pillow: each panel's roads, sites, towns and fixed names, the
city's box, the title, the legend and the playback speed.

Shapes are drawn ``SUPERSAMPLE`` times larger and scaled down, so lines and markers have smooth
edges; text is drawn at the picture's size (FreeType smooths it). The boxes of the names drawn are
kept (``Background.label_boxes``), so tests can check them against each other and the unit names.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from sim.viz.animate_frames import Frames, unit_state_words
from sim.viz.animate_labels import BEYOND, TOWN, TOWN_DOT_PX, LabelSizes, PanelLabels
from sim.viz.animate_map import beyond_words
from sim.viz.animate_paint import MarkerSizes, Sprite, disc_sprite, font, star_sprite, text_sprite
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
    ROAD_STYLES,
    SITE_COLOUR,
    QUIET_TEXT,
    SITE_TEXT,
    STAR_EDGE,
    TEXT,
    TOWN_TEXT,
    UNIT_COLOURS,
)
from sim.viz.animate_views import CITY, REGENCY
from sim.viz.map_labels import Box
from sim.viz.words import synthetic_note

SUPERSAMPLE = 4
TITLE_FONT_PX, LEGEND_FONT_PX = 11.5, 9.0
LEGEND_ROW_PX, LEGEND_SYMBOL_PX, LEGEND_GAP_PX = 12, 18, 14


@dataclass
class Background:
    """The background image, the boxes (px, y up) of the names drawn on it and every text it says."""

    image: Image.Image
    label_boxes: list[tuple[str, Box]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class _Canvas:
    """A picture drawn SUPERSAMPLE times larger for shapes; ``y_up`` pixels of the picture in, y down out."""

    def __init__(self, size_px: tuple[int, int]) -> None:
        self.width, self.height = size_px
        self.big = Image.new("RGB", (self.width * SUPERSAMPLE, self.height * SUPERSAMPLE), "white")
        self.draw = ImageDraw.Draw(self.big)

    def at(self, x: float, y_up: float) -> tuple[float, float]:
        return x * SUPERSAMPLE, (self.height - y_up) * SUPERSAMPLE

    def square(self, x: float, y_up: float, half_px: float, fill: str, edge: str | None = None) -> None:
        cx, cy = self.at(x, y_up)
        h = half_px * SUPERSAMPLE
        self.draw.rectangle((cx - h, cy - h, cx + h, cy + h), fill=fill, outline=edge, width=SUPERSAMPLE // 2 if edge else 0)

    def triangle(self, x: float, y_up: float, half_px: float, fill: str, edge: str | None = None) -> None:
        cx, cy = self.at(x, y_up)
        h = half_px * SUPERSAMPLE
        self.draw.polygon([(cx, cy - h), (cx + h, cy + 0.8 * h), (cx - h, cy + 0.8 * h)], fill=fill, outline=edge,
                          width=SUPERSAMPLE // 2 if edge else 0)

    def ring(self, x: float, y_up: float, radius_px: float, colour: str, width_px: float) -> None:
        cx, cy = self.at(x, y_up)
        r = radius_px * SUPERSAMPLE
        self.draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=round(width_px * SUPERSAMPLE))

    def rectangle(self, box: Box, colour: str, width_px: float) -> None:
        x0, y0 = self.at(box[0], box[3])
        x1, y1 = self.at(box[2], box[1])
        self.draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=round(width_px * SUPERSAMPLE))

    def small(self) -> Image.Image:
        return self.big.resize((self.width, self.height), Image.Resampling.BOX)


def _roads(canvas: _Canvas, frames: Frames, panel_labels: PanelLabels) -> None:
    """The roads touching a panel, clipped to it: minor streets first, main roads on top."""
    placed = panel_labels.panel
    x0, y0, x1, y1 = placed.panel.view_m
    box = placed.box_px
    left, top = int(round(box[0] * SUPERSAMPLE)), int(round((canvas.height - box[3]) * SUPERSAMPLE))
    right, bottom = int(round(box[2] * SUPERSAMPLE)), int(round((canvas.height - box[1]) * SUPERSAMPLE))
    layer = Image.new("RGB", (right - left, bottom - top), "white")
    draw = ImageDraw.Draw(layer)
    seg = frames.segments_m
    touching = ~((np.maximum(seg[:, 0], seg[:, 2]) < x0) | (np.minimum(seg[:, 0], seg[:, 2]) > x1)
                 | (np.maximum(seg[:, 1], seg[:, 3]) < y0) | (np.minimum(seg[:, 1], seg[:, 3]) > y1))
    for rank in (2, 1, 0):
        colour, line_px = ROAD_STYLES[rank]
        chosen = seg[touching & (frames.segment_class == rank)]
        ax, ay = placed.to_px(chosen[:, 0], chosen[:, 1])
        bx, by = placed.to_px(chosen[:, 2], chosen[:, 3])
        # Picture pixels (y up) to the layer's (y down), SUPERSAMPLE times larger.
        points = np.column_stack([ax * SUPERSAMPLE - left, (canvas.height - ay) * SUPERSAMPLE - top,
                                  bx * SUPERSAMPLE - left, (canvas.height - by) * SUPERSAMPLE - top]).tolist()
        width = max(1, round(line_px * SUPERSAMPLE))
        for line in points:
            draw.line(line, fill=colour, width=width)
    canvas.big.paste(layer, (left, top))


def _sites(canvas: _Canvas, frames: Frames, panel_labels: PanelLabels, sizes: LabelSizes) -> None:
    """Site markers (the many unnamed ones as dots), rings around sites beyond reach, town dots."""
    placed = panel_labels.panel
    inside = [s for s in frames.sites if placed.panel.contains(np.array(s.x_m), np.array(s.y_m))]
    xs, ys = placed.to_px(np.array([s.x_m for s in inside]), np.array([s.y_m for s in inside]))
    for site, x, y in sorted(zip(inside, xs.tolist(), ys.tolist()), key=lambda s: s[0].beyond):
        if not site.named:   # those beyond reach on top, in their colour
            canvas.square(x, y, 1.1 if site.beyond else 0.7, BEYOND_COLOUR if site.beyond else MANY_SITE_COLOUR)
    for site, x, y in zip(inside, xs.tolist(), ys.tolist()):
        if not site.named:
            continue
        if site.beyond:
            canvas.ring(x, y, sizes.beyond_px - 0.5, BEYOND_COLOUR, 1.8)
        if site.is_base:
            canvas.triangle(x, y, sizes.base_px, BASE_COLOUR, "white")
        else:
            canvas.square(x, y, sizes.site_px - 0.4, SITE_COLOUR, "white")
    for label in panel_labels.fixed:
        if label.style == TOWN:
            canvas.square(label.x, label.y, TOWN_DOT_PX * 0.7, TOWN_TEXT)


def _text(image: Image.Image, text: str, x: float, bottom: float, size_px: float, align: str, colour: str,
          bold: bool = False, italic: bool = False) -> Box:
    """``text`` with its halo, its bottom at ``bottom`` (y down) and ``align`` at x; its box (y down)."""
    sprite = text_sprite(text, size_px, align, colour, bold, italic)
    left, top = int(round(x)) + sprite.bbox[0], int(round(bottom)) + sprite.bbox[1]
    image.paste(sprite.image, (left, top), sprite.image)
    return left, top, left + sprite.image.width, top + sprite.image.height


def _legend_items(frames: Frames, markers: MarkerSizes) -> list[tuple[object, str]]:
    """(symbol, words) of the legend: a sprite, or the name of a shape drawn here."""
    m = frames.messages
    items: list[tuple[object, str]] = [
        (disc_sprite(markers.unit_radius_px, c, MARKER_EDGE, markers.edge_px), m("anim.legend.unit", state=w))
        for c, w in zip(UNIT_COLOURS, unit_state_words(m))]
    items += [(star_sprite(6.5, c, STAR_EDGE, 0.5), m("anim.legend.incident", state=w))
              for c, w in zip(INCIDENT_COLOURS[1:], frames.incident_labels[1:]) if w]
    items += [("dispatch", m("anim.legend.dispatch")), ("base", m("anim.legend.base")), ("site", m("anim.legend.site"))]
    items += [("many", words) for words in frames.unnamed_kinds]
    if frames.joint_texts:
        items.append((disc_sprite(7.0, HALO, MARKER_EDGE, 1.6), m("anim.legend.joint")))
    if frames.towns:
        items.append(("town", m("anim.legend.town")))
    return items


def _symbol(canvas: _Canvas, symbol: object, x: float, y_up: float, image_sprites: list) -> None:
    """A legend symbol centred at (x, y_up): shapes now (large), sprites after scaling down."""
    if isinstance(symbol, Sprite):
        image_sprites.append((symbol, x, canvas.height - y_up))
    elif symbol == "dispatch":
        cx, cy = canvas.at(x, y_up)
        for dx in (-8, 1):
            canvas.draw.line((cx + dx * SUPERSAMPLE, cy, cx + (dx + 6) * SUPERSAMPLE, cy), fill=DISPATCH_COLOUR,
                             width=2 * SUPERSAMPLE)
    elif symbol == "base":
        canvas.triangle(x, y_up, 4.5, BASE_COLOUR)
    elif symbol == "site":
        canvas.square(x, y_up, 2.6, SITE_COLOUR)
    elif symbol == "many":
        canvas.square(x, y_up, 1.0, MANY_SITE_COLOUR)
    elif symbol == "town":
        canvas.square(x, y_up, TOWN_DOT_PX * 0.7, TOWN_TEXT)


def _legend_layout(items: list[tuple[object, str]], width: int) -> tuple[list[tuple[float, int]], int]:
    """Each item's column x and row, filling columns first, as many columns as fit across ``width``."""
    face = font(LEGEND_FONT_PX)
    widths = [LEGEND_SYMBOL_PX + face.getlength(words) for _, words in items]
    for n_cols in (4, 3, 2, 1):
        rows = -(-len(items) // n_cols)
        cols = [widths[c * rows:(c + 1) * rows] for c in range(n_cols)]
        col_w = [max(c) for c in cols if c]
        total = sum(col_w) + LEGEND_GAP_PX * (len(col_w) - 1)
        if total <= width - 16 or n_cols == 1:
            break
    left = (width - total) / 2.0
    starts = np.concatenate([[0.0], np.cumsum(np.array(col_w) + LEGEND_GAP_PX)])[:-1] + left
    return [(float(starts[i // rows]), i % rows) for i in range(len(items))], rows


def draw_background(frames: Frames, labels: list[PanelLabels], size_px: tuple[int, int], sizes: LabelSizes,
                    bands: tuple[float, float], speed: str, clock_px: float) -> Background:
    """The picture without its moving parts: panels, names, title (right of the ``clock_px`` wide clock),
    legend (in the bottom band's lower part)."""
    width, height = size_px
    top_band, bottom_band = bands
    canvas = _Canvas(size_px)
    city = [p for p in frames.panels if p.role == CITY]
    for panel_labels in labels:
        _roads(canvas, frames, panel_labels)
        _sites(canvas, frames, panel_labels, sizes)
        placed = panel_labels.panel
        if placed.panel.role == REGENCY and city:
            cx0, cy0 = placed.to_px(np.array(city[0].view_m[0]), np.array(city[0].view_m[1]))
            cx1, cy1 = placed.to_px(np.array(city[0].view_m[2]), np.array(city[0].view_m[3]))
            canvas.rectangle((float(cx0), float(cy0), float(cx1), float(cy1)), CITY_BOX_COLOUR, 1.0)
        if placed.panel.role == CITY and len(frames.panels) > 1:
            canvas.rectangle(placed.box_px, CITY_BOX_COLOUR, 1.2)
    items = _legend_items(frames, MarkerSizes())
    positions, rows = _legend_layout(items, width)
    legend_top = height * (1.0 - bottom_band) + 38   # under the two lines of running figures
    sprites: list = []
    for (symbol, _), (x, row) in zip(items, positions):
        _symbol(canvas, symbol, x + LEGEND_SYMBOL_PX / 2 - 2, height - (legend_top + row * LEGEND_ROW_PX + 6), sprites)
    m = frames.messages
    beyond = beyond_words(frames.target_min, m) if frames.beyond_reach else ""
    if beyond:
        canvas.ring(10, 10, 5.0, BEYOND_COLOUR, 1.6)
    image = canvas.small()
    for sprite, x, y in sprites:
        sprite.paste(image, x, y)
    background = Background(image)

    def write(text: str, *args, **kwargs) -> Box:
        background.texts.append(text)
        return _text(image, text, *args, **kwargs)

    draw = ImageDraw.Draw(image)
    for panel_labels in labels:
        for label in panel_labels.fixed:
            line = label.leader(sizes)
            if line is not None:
                draw.line((line[0], height - line[1], line[2], height - line[3]), fill=LEADER_COLOUR, width=1)
            x, y, align = label.anchor()
            font_px, bold = sizes.fixed_font(label.style)
            colour = {BEYOND: BEYOND_COLOUR, TOWN: TOWN_TEXT}.get(label.style, SITE_TEXT)
            box = write(label.text, x, height - y, font_px, align, colour, bold, label.style == TOWN)
            background.label_boxes.append((label.text, (box[0], height - box[3], box[2], height - box[1])))
        if panel_labels.panel.panel.role == CITY and len(frames.panels) > 1:
            box = panel_labels.panel.box_px
            city_title = m("anim.cityTitle")
            title_w = font(LEGEND_FONT_PX + 1).getlength(city_title)
            draw.rectangle((box[0] + 2, height - box[3] + 2, box[0] + title_w + 10, height - box[3] + 17), fill="white")
            write(city_title, box[0] + 6, height - box[3] + 15, LEGEND_FONT_PX + 1, "left", CITY_BOX_COLOUR)
    # The title right of the clock, in a smaller font where a long scenario or plan name needs it (never cut).
    title_mid, room = height * top_band / 2, width - clock_px - 24
    note = synthetic_note(m)
    title_px = max((size for size in np.arange(TITLE_FONT_PX, 5.5, -0.5)
                    if max(font(size).getlength(frames.title), font(size).getlength(note)) <= room),
                   default=6.0)
    if frames.synthetic:
        write(frames.title, width - 8, title_mid - 2, title_px, "right", TEXT)
        write(note, width - 8, title_mid + 14, title_px, "right", NOTE_COLOUR)
    else:
        write(frames.title, width - 8, title_mid + 6, title_px, "right", TEXT)
    for (_, words), (x, row) in zip(items, positions):
        write(words, x + LEGEND_SYMBOL_PX, legend_top + row * LEGEND_ROW_PX + 11, LEGEND_FONT_PX, "left", TEXT)
    if beyond:
        write(beyond, 20, height - 5, LEGEND_FONT_PX, "left", BEYOND_COLOUR)
    write(speed, width - 8, height - 5, LEGEND_FONT_PX, "right", QUIET_TEXT)
    return background
