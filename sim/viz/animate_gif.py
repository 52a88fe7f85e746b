"""The animation as a looping GIF, with Pillow: a background drawn once, moving parts painted per frame.

The background (``animate_background``) holds what does not move: each panel's roads, sites, towns
and fixed names, the city's box, the title, the legend and the playback speed. Each frame copies it,
paints the moving parts (``animate_paint``), the clock and the running figures; only what was
painted is mapped onto the one fixed palette (so colours do not flicker), and only the pixels that
changed since the previous frame are written (the rest of their rectangle transparent). Names go
where ``animate_labels`` finds room, panel by panel.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.viz.animate_background import draw_background
from sim.viz.animate_frames import Frames, speed_text
from sim.viz.animate_labels import LabelSizes, PanelLabels, place_labels
from sim.viz.animate_paint import FramePainter, font, rgb, text_size
from sim.viz.animate_style import (
    BEYOND_COLOUR,
    CLOCK_TEXT,
    INCIDENT_COLOURS,
    LEADER_COLOUR,
    MARKER_EDGE,
    QUIET_TEXT,
    TEXT,
    UNIT_COLOURS,
    UNIT_TEXT,
)
from sim.viz.animate_views import place_panels
from sim.viz.map_labels import Box
from sim.viz.words import synthetic_note

MAX_GIF_FPS = 50.0  # GIF delays are hundredths of a second; browsers slow down delays under 2
TRANSPARENT = 255   # the palette index of pixels a frame leaves as they were
# The GIF's layout: a band on top (clock, title), the map, a band below (figures, legend).
_TOP_BAND, _BOTTOM_BAND = 0.085, 0.2  # shares of the figure height
CLOCK_FONT_PX, FIGURES_FONT_PX = 18.0, 11.0
# Label sizes in the GIF's pixels: names of 9 px; the markers' half-widths (see MarkerSizes).
GIF_LABELS = LabelSizes(site_font_px=9.0, unit_font_px=9.0, town_font_px=9.0, base_px=4.5, site_px=3.0, unit_px=6.2,
                        star_px=9.8, joint_px=10.0, beyond_px=6.0, measure=text_size)


def gif_map_aspect(size_px: tuple[int, int]) -> float:
    """Width / height of the GIF's map area, for a GIF of ``size_px`` pixels."""
    return size_px[0] / (size_px[1] * (1.0 - _TOP_BAND - _BOTTOM_BAND))


def _map_box_px(size_px: tuple[int, int]) -> tuple[float, float, float, float]:
    """The map area in the GIF's pixels (y up)."""
    width, height = size_px
    return 0.0, _BOTTOM_BAND * height, float(width), (1.0 - _TOP_BAND) * height


def figures_text(frames: Frames, k: int) -> str:
    """The running figures under the map at frame k (the HTML page writes the same in its script)."""
    figures, m = frames.figures, frames.messages
    mean = figures["mean_response_min"][k]
    answered = int(figures["answered"][k])
    if answered:
        response = m("anim.figures.mean", mean=m.num(mean, ".1f"), answered=answered,
                     share=m.num(figures["within_target_pct"][k], ".0f"), target=m.num(frames.target_min, "g"))
    else:
        response = m("anim.figures.none")
    waiting = m("anim.figures.waiting", waiting=int(figures["waiting"][k]), onTheWay=int(figures["on_the_way"][k]))
    return f"{response}\n{waiting}"


def gif_comment(frames: Frames) -> str:
    """The GIF's comment block: the title, and the synthetic-network note where it applies."""
    return frames.title + (f"; {synthetic_note(frames.messages)}" if frames.synthetic else "")


def _palette(background: np.ndarray) -> list[int]:
    """256 RGB colours: every state and text colour (and the stars' fades) fixed, then colours fitted
    to the background, then the transparent index."""
    from PIL import Image

    fixed = [(0, 0, 0), (255, 255, 255)] + [rgb(colour) for colour in (UNIT_TEXT, MARKER_EDGE, LEADER_COLOUR, CLOCK_TEXT,
                                                                        TEXT, QUIET_TEXT, BEYOND_COLOUR)]
    for colour in UNIT_COLOURS + INCIDENT_COLOURS[1:]:
        full = np.array(rgb(colour), dtype=np.float64)
        for opacity in (1.0, 0.75, 0.5, 0.25):  # fading incidents blend towards the white map
            fixed.append(tuple(int(round(v)) for v in full * opacity + 255.0 * (1.0 - opacity)))
    n_fitted = TRANSPARENT - len(fixed)
    fitted = Image.fromarray(background).quantize(colors=n_fitted, method=Image.Quantize.MEDIANCUT)
    rest = fitted.getpalette()[: 3 * n_fitted]
    # The last entry is the transparent index (a pixel left as the frame before): no colour maps to it.
    return [v for colour in fixed for v in colour] + rest + [0] * (3 * n_fitted - len(rest)) + [255, 0, 255]


def merged(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) with those that overlap joined into their bounding box, so no pixel is
    mapped twice and few crops are made."""
    boxes = sorted(boxes)
    done: list[list[int]] = []
    while boxes:
        box = list(boxes.pop())
        grown = True
        while grown:
            grown = False
            for other in boxes[:]:
                if other[0] < box[2] and box[0] < other[2] and other[1] < box[3] and box[1] < other[3]:
                    box = [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]
                    boxes.remove(other)
                    grown = True
        done.append(box)
    return [tuple(box) for box in done]


@dataclass
class GifPicture:
    """A GIF ready to write: its labels placed, its background drawn, its painter."""

    frames: Frames
    size_px: tuple[int, int]
    fps: float
    labels: list[PanelLabels]
    painter: FramePainter
    fixed_boxes: list[tuple[str, Box]]   # the fixed names as drawn on the background: text, box (px, y up)
    texts: list[str]                     # every text of the background (names, title, legend, speed)

    def paint(self, k: int):
        """Frame k with its clock and running figures (RGB); the painter's ``dirty`` holds what differs
        from the background."""
        image = self.painter.paint(k)
        height = self.size_px[1]
        # Text sprites, each drawn once: the clock's date and its time apart (the date changes once a
        # day), the lines of figures; on the white bands, without a halo.
        date, _, clock = self.frames.clock_labels[k].rpartition(" ")
        bottom = round(_TOP_BAND * height / 2 + CLOCK_FONT_PX * 0.45)
        self.painter.paste_text(image, date + " ", 8, bottom, CLOCK_FONT_PX, "left", CLOCK_TEXT, True, False)
        self.painter.paste_text(image, clock, 8 + font(CLOCK_FONT_PX, True).getlength(date + " "), bottom, CLOCK_FONT_PX,
                                "left", CLOCK_TEXT, True, False)
        first = round((1.0 - _BOTTOM_BAND) * height + 4 + FIGURES_FONT_PX)
        for i, line in enumerate(figures_text(self.frames, k).split("\n")):
            self.painter.paste_text(image, line, 8, first + i * round(FIGURES_FONT_PX * 1.35), FIGURES_FONT_PX, "left",
                                    TEXT, False, False)
        return image


def gif_labels(frames: Frames, size_px: tuple[int, int]) -> list[PanelLabels]:
    """The GIF's labels, panel by panel (animate_labels)."""
    return place_labels(frames, place_panels(frames.panels, _map_box_px(size_px)), GIF_LABELS)


def gif_picture(frames: Frames, size_px: tuple[int, int], fps: float, labels: list[PanelLabels] | None = None) -> GifPicture:
    """Place the labels (unless given) and draw the background: everything but the frames themselves."""
    labels = gif_labels(frames, size_px) if labels is None else labels
    # The clock's widest label, from a sample (they differ only in their digits and day and month names).
    sample = set(frames.clock_labels[:: max(1, frames.n_frames // 60)]) | set(frames.clock_labels[-1:])
    clock_px = max((font(CLOCK_FONT_PX, True).getlength(label) for label in sample), default=0.0)
    background = draw_background(frames, labels, size_px, GIF_LABELS, (_TOP_BAND, _BOTTOM_BAND), speed_text(frames, fps),
                                 clock_px + 8)
    return GifPicture(frames, size_px, fps, labels, FramePainter(frames, background.image, labels, GIF_LABELS),
                      background.label_boxes, background.texts)


def write_gif(frames: Frames, path: Path, fps: float, size_px: tuple[int, int] = (800, 600),
              picture: GifPicture | None = None) -> None:
    """Write the animation as a looping GIF of ``size_px`` pixels with one GIF frame per frame.

    Frames are streamed to the file (only the changed rectangle of each), so memory stays flat
    however long the animation; identical frames are kept, not merged, so the frame count and the
    clock's pace hold. Written whole or not at all.
    """
    from PIL import GifImagePlugin, Image

    picture = picture or gif_picture(frames, size_px, fps)
    palette = Image.new("P", (1, 1))
    colours = _palette(np.asarray(picture.painter.background))
    palette.putpalette(colours[: 3 * TRANSPARENT])   # frames map onto the colours, never the transparent index
    # GIF delays are whole hundredths of a second: spread the rounding so the mean rate is fps.
    ticks_cs = np.round(np.arange(frames.n_frames + 1) * 100.0 / fps)
    delays_ms = np.diff(ticks_cs) * 10.0

    def quantised(image: Image.Image) -> np.ndarray:
        return np.asarray(image.quantize(palette=palette, dither=Image.Dither.NONE))

    background = quantised(picture.painter.background)

    def frame_indices(k: int) -> np.ndarray:
        # Only what was painted over the background is mapped onto the palette again.
        image, indices = picture.paint(k), background.copy()
        for box in merged(picture.painter.dirty):
            indices[box[1]:box[3], box[0]:box[2]] = quantised(image.crop(box))
        return indices

    def as_image(indices: np.ndarray) -> Image.Image:
        image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), np.ascontiguousarray(indices).tobytes())
        image.putpalette(colours)
        return image

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            previous = frame_indices(0)
            header, _ = GifImagePlugin.getheader(as_image(previous), info={"loop": 0, "comment": gif_comment(frames)})
            handle.write(b"".join(header))
            handle.write(b"".join(GifImagePlugin.getdata(as_image(previous), duration=delays_ms[0])))
            for k in range(1, frames.n_frames):
                current = frame_indices(k)
                changed = current != previous
                rows = np.flatnonzero(changed.any(axis=1))
                # An unchanged frame is still written (one pixel) so it keeps its place in time.
                top, bottom = (rows[0], rows[-1] + 1) if len(rows) else (0, 1)
                cols = np.flatnonzero(changed[top:bottom].any(axis=0))
                left, right = (cols[0], cols[-1] + 1) if len(cols) else (0, 1)
                # Inside the rectangle, pixels that did not change are transparent (the last frame
                # shows through, disposal 1): long runs of one index, which LZW packs small.
                patch = np.where(changed[top:bottom, left:right], current[top:bottom, left:right], TRANSPARENT)
                handle.write(b"".join(GifImagePlugin.getdata(as_image(patch.astype(np.uint8)), offset=(int(left), int(top)),
                                                             duration=delays_ms[k], transparency=TRANSPARENT, disposal=1)))
                previous = current
            handle.write(b";")  # GIF trailer

    write_whole(path, save)
