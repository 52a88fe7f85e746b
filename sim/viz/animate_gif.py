"""The animation as a looping GIF (matplotlib + Pillow), written frame by frame.

The network, sites and legend are drawn once; each frame restores that background and draws
only the moving artists (blitting), then is mapped onto one fixed palette so colours do not
flicker from frame to frame. Site and unit names go where ``animate_labels`` finds room.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.network import SYNTHETIC_NOTE
from sim.viz.animate_frames import (
    INCIDENT_COLOURS,
    INCIDENT_SCALE,
    NOT_SHOWN,
    TO_INCIDENT,
    UNIT_COLOURS,
    UNIT_STATE_LABELS,
    Frames,
    short_name,
    speed_text,
)
from sim.viz.animate_labels import (
    SPOT_NONE,
    LabelSizes,
    place_sites,
    text_anchor,
    unit_label_spots,
)

MAX_GIF_FPS = 50.0  # GIF delays are hundredths of a second; browsers slow down delays under 2


# The GIF's layout: a band on top (clock, title), the map, a band below (figures, legend).
_TOP_BAND, _BOTTOM_BAND = 0.095, 0.16  # shares of the figure height


def gif_map_aspect(size_px: tuple[int, int]) -> float:
    """Width / height of the GIF's map area, for a GIF of ``size_px`` pixels."""
    return size_px[0] / (size_px[1] * (1.0 - _TOP_BAND - _BOTTOM_BAND))


def _figures_text(frames: Frames, k: int) -> str:
    """The running figures under the map at frame k (the HTML page writes the same in its script)."""
    figures = frames.figures
    mean = figures["mean_response_min"][k]
    answered = int(figures["answered"][k])
    if answered:
        response = (f"mean response in the shown window {mean:.1f} min ({answered} answered, "
                    f"{figures['within_target_pct'][k]:.0f}% within {frames.target_min:g} min)")
    else:
        response = "mean response in the shown window: no incident answered yet"
    return f"{response}\nincidents waiting for a unit {int(figures['waiting'][k])}, unit on the way {int(figures['on_the_way'][k])}"


# Label sizes in the GIF's pixels (100 dpi): fonts of 6 and 5.5 pt; the markers' half-widths.
_GIF_LABELS = LabelSizes(site_font_px=8.4, unit_font_px=7.7, base_px=4.5, site_px=3.0, unit_px=5.6, star_px=9.8,
                         joint_px=10.0)
# A joint patrol's marker: the leading vehicle's dot in a white disc with a dark ring (pt^2, pt).
JOINT_RING_AREA, JOINT_RING_WIDTH = 169.0, 1.4


def _gif_labels(ax, frames: Frames):
    """Site labels drawn on ``ax`` (placed once) and each unit's label spot per frame, in display pixels."""
    import matplotlib.patheffects as path_effects
    from matplotlib.transforms import IdentityTransform

    def to_px(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = ax.transData.transform(np.column_stack([np.ravel(x_m), np.ravel(y_m)]))
        return xy[:, 0].reshape(np.shape(x_m)), xy[:, 1].reshape(np.shape(y_m))

    frame = tuple(ax.bbox.extents)
    names = [short_name(name) for name, *_ in frames.sites]
    site_x, site_y = to_px(np.array([s[1] for s in frames.sites]), np.array([s[2] for s in frames.sites]))
    placed, fixed = place_sites(site_x, site_y, names, [s[3] for s in frames.sites], _GIF_LABELS, frame)
    halo = [path_effects.withStroke(linewidth=2.2, foreground="white")]
    for name, spot in zip(names, placed):
        if spot is not None:
            x, y, ha = text_anchor(*spot)
            ax.text(x, y, name, transform=IdentityTransform(), ha=ha, va="bottom", fontsize=6, color="#444444",
                    zorder=2, path_effects=halo)
    return unit_label_spots(frames, to_px, _GIF_LABELS, fixed, frame), to_px


def _gif_figure(frames: Frames, size_px: tuple[int, int], dpi: float, fps: float):
    """The figure with its static parts drawn, the canvas, and a function that draws frame k's moving parts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    width_px, height_px = size_px
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, _BOTTOM_BAND, 1.0, 1.0 - _TOP_BAND - _BOTTOM_BAND))
    x0, y0, x1, y1 = frames.view_m
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    # Main roads darker and wider than streets, all light enough to keep units in front.
    for rank, (colour, width) in enumerate((("#a3a8ae", 1.4), ("#c3c7cc", 0.8), ("#e0e2e5", 0.5))):
        chosen = frames.segments_m[frames.segment_class == rank]
        ax.add_collection(LineCollection(chosen.reshape(-1, 2, 2), colors=colour, linewidths=width, zorder=1))
    for name, x, y, is_base in frames.sites:
        ax.plot(x, y, marker="^" if is_base else "s", ms=6 if is_base else 4, color="#333333" if is_base else "#777777",
                zorder=2.5, markeredgecolor="white", markeredgewidth=0.5)
    label_spots, to_px = _gif_labels(ax, frames)
    title = frames.title + (f"\n{SYNTHETIC_NOTE}" if frames.synthetic else "")
    fig.text(0.99, 1.0 - _TOP_BAND / 2, title, ha="right", va="center", fontsize=8.5, color="#222222")
    handles = [Line2D([], [], ls="", marker="o", ms=7, color=c, markeredgecolor="#222222", markeredgewidth=0.6,
                      label=f"unit {label}") for c, label in zip(UNIT_COLOURS, UNIT_STATE_LABELS)]
    handles += [Line2D([], [], ls="", marker="*", ms=11, color=c, markeredgecolor="black", markeredgewidth=0.4,
                       label=f"incident: {label}") for c, label in zip(INCIDENT_COLOURS[1:], frames.incident_labels[1:])
                if label]
    handles += [Line2D([], [], color=UNIT_COLOURS[TO_INCIDENT], ls=(0, (4, 2)), label="dispatch line"),
                Line2D([], [], ls="", marker="^", ms=6, color="#333333", label="base"),
                Line2D([], [], ls="", marker="s", ms=4, color="#777777", label="site")]
    if frames.joint_texts:
        handles.append(Line2D([], [], ls="", marker="o", ms=np.sqrt(JOINT_RING_AREA), color="white",
                              markeredgecolor="#222222", markeredgewidth=JOINT_RING_WIDTH,
                              label="joint patrol (its vehicles together)"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), fontsize=6.5, ncol=4, frameon=False,
               handlelength=1.6, columnspacing=1.2, labelspacing=0.3)
    fig.text(0.99, _BOTTOM_BAND - 0.012, speed_text(frames, fps), ha="right", va="top", fontsize=6.5, color="#555555")

    dispatch = LineCollection([], colors=UNIT_COLOURS[TO_INCIDENT], linewidths=1.5, linestyles=(0, (4, 2)),
                              zorder=3, animated=True)
    ax.add_collection(dispatch)
    incidents = ax.scatter([], [], s=190, marker="*", linewidths=0.5, zorder=4, animated=True)
    units = ax.scatter([], [], s=55, marker="o", edgecolors="#222222", linewidths=0.7, zorder=5, animated=True)
    rings = ax.scatter([], [], s=JOINT_RING_AREA, marker="o", facecolors="white", edgecolors="#222222",
                       linewidths=JOINT_RING_WIDTH, zorder=4.9, animated=True)
    clock = fig.text(0.01, 1.0 - _TOP_BAND / 2, "", ha="left", va="center", fontsize=14, weight="bold",
                     color="#111111", animated=True)
    figures = fig.text(0.01, _BOTTOM_BAND - 0.012, "", ha="left", va="top", fontsize=7, color="#222222",
                       animated=True)
    import matplotlib.patheffects as path_effects
    from matplotlib.transforms import IdentityTransform

    # Each unit's name beside it where it fits (see animate_labels), moved with it every frame.
    names = [ax.text(0, 0, unit_id, transform=IdentityTransform(), va="bottom", fontsize=5.5, color="#111111",
                     zorder=6, animated=True, visible=False,
                     path_effects=[path_effects.withStroke(linewidth=1.8, foreground="white")])
             for unit_id in frames.unit_ids] if (label_spots != SPOT_NONE).any() else []
    texts, marker_text = frames.label_texts, frames.marker_text()
    n_units = len(frames.unit_ids)
    unit_x_px, unit_y_px = to_px(frames.unit_x_m, frames.unit_y_m)
    unit_rgba = np.array([to_rgba(c) for c in UNIT_COLOURS])
    incident_rgba = np.array([to_rgba(c) for c in INCIDENT_COLOURS])
    incident_area = np.square(INCIDENT_SCALE)  # scatter sizes are areas

    def draw(k: int) -> None:
        drawn = np.flatnonzero(marker_text[:, k] >= 0)   # the others are inside a joint marker
        units.set_offsets(np.column_stack([frames.unit_x_m[drawn, k], frames.unit_y_m[drawn, k]]).reshape(-1, 2))
        units.set_facecolors(unit_rgba[frames.unit_state[drawn, k]])
        joint = np.flatnonzero(marker_text[:, k] >= n_units)
        rings.set_offsets(np.column_stack([frames.unit_x_m[joint, k], frames.unit_y_m[joint, k]]).reshape(-1, 2))
        shown = np.flatnonzero(frames.incident_state[:, k] != NOT_SHOWN)
        incidents.set_offsets(np.column_stack([frames.incident_x_m[shown], frames.incident_y_m[shown]]).reshape(-1, 2))
        colours = incident_rgba[frames.incident_state[shown, k]]
        colours[:, 3] = frames.incident_opacity[shown, k]
        incidents.set_facecolors(colours)
        incidents.set_sizes(190.0 * incident_area[frames.incident_state[shown, k]])
        incidents.set_edgecolors(np.column_stack([np.zeros((len(shown), 3)), colours[:, 3]]))
        driving = np.flatnonzero(frames.unit_target[:, k] >= 0)
        dispatch.set_segments([
            [(frames.unit_x_m[u, k], frames.unit_y_m[u, k]), (frames.incident_x_m[i], frames.incident_y_m[i])]
            for u, i in zip(driving, frames.unit_target[driving, k])
        ])
        clock.set_text(frames.clock_labels[k])
        figures.set_text(_figures_text(frames, k))
        for u, name in enumerate(names):
            spot = int(label_spots[u, k])
            name.set_visible(spot != SPOT_NONE)
            if spot != SPOT_NONE:
                index = int(marker_text[u, k])
                x, y, ha = _GIF_LABELS.unit_anchor(unit_x_px[u, k], unit_y_px[u, k], spot, texts[index],
                                                   frames.unit_state[u, k], index >= n_units)
                name.set_text(texts[index])
                name.set_position((x, y))
                name.set_horizontalalignment(ha)
        for artist in (dispatch, incidents, *names, rings, units, clock, figures):
            fig.draw_artist(artist)

    return canvas, draw


def _palette(background: np.ndarray) -> list[int]:
    """256 RGB colours: every state colour (and its fades) fixed, the rest fitted to the background."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    fixed = [(0, 0, 0), (255, 255, 255)]
    for colour in UNIT_COLOURS + INCIDENT_COLOURS[1:]:
        rgb = np.array(to_rgb(colour)) * 255.0
        for opacity in (1.0, 0.75, 0.5, 0.25):  # fading incidents blend towards the white map
            fixed.append(tuple(int(round(v)) for v in rgb * opacity + 255.0 * (1.0 - opacity)))
    n_fitted = 256 - len(fixed)
    fitted = Image.fromarray(background[..., :3]).quantize(colors=n_fitted, method=Image.Quantize.MEDIANCUT)
    rest = fitted.getpalette()[: 3 * n_fitted]
    return [v for rgb in fixed for v in rgb] + rest + [0] * (3 * n_fitted - len(rest))


def gif_comment(frames: Frames) -> str:
    """The GIF's comment block: the title, and the synthetic-network note where it applies."""
    return frames.title + (f"; {SYNTHETIC_NOTE}" if frames.synthetic else "")


def write_gif(frames: Frames, path: Path, fps: float, size_px: tuple[int, int] = (800, 600), dpi: float = 100.0) -> None:
    """Write the animation as a looping GIF of ``size_px`` pixels with one GIF frame per frame.

    The network and legend are drawn once; each frame restores that background, draws only
    the moving artists (blitting) and is mapped onto one fixed palette, so colours do not
    flicker. Frames are streamed to the file (only the changed rectangle of each), so memory
    stays flat however long the animation; identical frames are kept, not merged, so the
    frame count and the clock's pace hold. Written whole or not at all.
    """
    from PIL import GifImagePlugin, Image

    canvas, draw = _gif_figure(frames, size_px, dpi, fps)
    canvas.draw()
    background = canvas.copy_from_bbox(canvas.figure.bbox)
    palette = Image.new("P", (1, 1))
    palette.putpalette(_palette(np.asarray(canvas.buffer_rgba())))
    # GIF delays are whole hundredths of a second: spread the rounding so the mean rate is fps.
    ticks_cs = np.round(np.arange(frames.n_frames + 1) * 100.0 / fps)
    delays_ms = np.diff(ticks_cs) * 10.0

    def frame_indices(k: int) -> np.ndarray:
        canvas.restore_region(background)
        draw(k)
        rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
        return np.asarray(rgb.quantize(palette=palette, dither=Image.Dither.NONE))

    def as_image(indices: np.ndarray) -> Image.Image:
        image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), np.ascontiguousarray(indices).tobytes())
        image.putpalette(palette.getpalette())
        return image

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            previous = frame_indices(0)
            header, _ = GifImagePlugin.getheader(as_image(previous), info={"loop": 0, "comment": gif_comment(frames)})
            handle.write(b"".join(header))
            handle.write(b"".join(GifImagePlugin.getdata(as_image(previous), duration=delays_ms[0])))
            for k in range(1, frames.n_frames):
                current = frame_indices(k)
                rows = np.flatnonzero((current != previous).any(axis=1))
                cols = np.flatnonzero((current != previous).any(axis=0))
                # An unchanged frame is still written (one pixel) so it keeps its place in time.
                top, bottom = (rows[0], rows[-1] + 1) if len(rows) else (0, 1)
                left, right = (cols[0], cols[-1] + 1) if len(cols) else (0, 1)
                patch = as_image(current[top:bottom, left:right])
                handle.write(b"".join(GifImagePlugin.getdata(patch, offset=(int(left), int(top)), duration=delays_ms[k])))
                previous = current
            handle.write(b";")  # GIF trailer

    write_whole(path, save)
