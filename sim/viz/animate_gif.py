"""The animation as a looping GIF (matplotlib + Pillow), written frame by frame.

The network, sites and legend are drawn once; each frame restores that background and draws
only the moving artists (blitting), then is mapped onto one fixed palette so colours do not
flicker from frame to frame.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.files import write_whole
from sim.network import SYNTHETIC_NOTE
from sim.viz.animate_frames import (
    INCIDENT_COLOURS,
    INCIDENT_STATE_LABELS,
    NOT_SHOWN,
    TO_INCIDENT,
    UNIT_COLOURS,
    UNIT_STATE_LABELS,
    MAX_UNIT_LABELS,
    Frames,
    short_name,
    speed_text,
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


def _label_sites(ax, canvas, sites: list[tuple[str, float, float, bool]]) -> None:
    """Name the sites where a label fits: right of the marker, else left, else below; never overlapping."""
    import matplotlib.patheffects as path_effects

    renderer = canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    placed = []
    halo = [path_effects.withStroke(linewidth=2.2, foreground="white")]
    # Bases first: they are where units start and come back to.
    for name, x, y, _ in sorted(sites, key=lambda site: not site[3]):
        for offset, ha, va in (((4, 3), "left", "bottom"), ((-4, 3), "right", "bottom"), ((0, -5), "center", "top")):
            label = ax.annotate(short_name(name), (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va,
                                fontsize=6, color="#444444", zorder=2, path_effects=halo)
            box = label.get_window_extent(renderer)
            fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
            if fits and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()


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
    _label_sites(ax, canvas, frames.sites)
    title = frames.title + (f"\n{SYNTHETIC_NOTE}" if frames.synthetic else "")
    fig.text(0.99, 1.0 - _TOP_BAND / 2, title, ha="right", va="center", fontsize=8.5, color="#222222")
    handles = [Line2D([], [], ls="", marker="o", ms=7, color=c, markeredgecolor="#222222", markeredgewidth=0.6,
                      label=f"unit {label}") for c, label in zip(UNIT_COLOURS, UNIT_STATE_LABELS)]
    handles += [Line2D([], [], ls="", marker="*", ms=11, color=c, markeredgecolor="black", markeredgewidth=0.4,
                       label=f"incident: {label}") for c, label in zip(INCIDENT_COLOURS[1:], INCIDENT_STATE_LABELS[1:])]
    handles += [Line2D([], [], color=UNIT_COLOURS[TO_INCIDENT], ls=(0, (4, 2)), label="dispatch line"),
                Line2D([], [], ls="", marker="^", ms=6, color="#333333", label="base"),
                Line2D([], [], ls="", marker="s", ms=4, color="#777777", label="site")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), fontsize=6.5, ncol=4, frameon=False,
               handlelength=1.6, columnspacing=1.2, labelspacing=0.3)
    fig.text(0.99, _BOTTOM_BAND - 0.012, speed_text(frames, fps), ha="right", va="top", fontsize=6.5, color="#555555")

    dispatch = LineCollection([], colors=UNIT_COLOURS[TO_INCIDENT], linewidths=1.5, linestyles=(0, (4, 2)),
                              zorder=3, animated=True)
    ax.add_collection(dispatch)
    incidents = ax.scatter([], [], s=190, marker="*", linewidths=0.5, zorder=4, animated=True)
    units = ax.scatter([], [], s=55, marker="o", edgecolors="#222222", linewidths=0.7, zorder=5, animated=True)
    clock = fig.text(0.01, 1.0 - _TOP_BAND / 2, "", ha="left", va="center", fontsize=14, weight="bold",
                     color="#111111", animated=True)
    figures = fig.text(0.01, _BOTTOM_BAND - 0.012, "", ha="left", va="top", fontsize=7, color="#222222",
                       animated=True)
    import matplotlib.patheffects as path_effects

    # Each unit's name beside it (few enough units only), moved with it every frame.
    names = [] if len(frames.unit_ids) > MAX_UNIT_LABELS else [
        ax.annotate(unit_id, (0, 0), xytext=(5, -2), textcoords="offset points", ha="left", va="top", fontsize=5.5,
                    color="#111111", zorder=6, animated=True,
                    path_effects=[path_effects.withStroke(linewidth=1.8, foreground="white")])
        for unit_id in frames.unit_ids]
    unit_rgba = np.array([to_rgba(c) for c in UNIT_COLOURS])
    incident_rgba = np.array([to_rgba(c) for c in INCIDENT_COLOURS])

    def draw(k: int) -> None:
        units.set_offsets(np.column_stack([frames.unit_x_m[:, k], frames.unit_y_m[:, k]]))
        units.set_facecolors(unit_rgba[frames.unit_state[:, k]])
        shown = np.flatnonzero(frames.incident_state[:, k] != NOT_SHOWN)
        incidents.set_offsets(np.column_stack([frames.incident_x_m[shown], frames.incident_y_m[shown]]).reshape(-1, 2))
        colours = incident_rgba[frames.incident_state[shown, k]]
        colours[:, 3] = frames.incident_opacity[shown, k]
        incidents.set_facecolors(colours)
        incidents.set_edgecolors(np.column_stack([np.zeros((len(shown), 3)), colours[:, 3]]))
        driving = np.flatnonzero(frames.unit_target[:, k] >= 0)
        dispatch.set_segments([
            [(frames.unit_x_m[u, k], frames.unit_y_m[u, k]), (frames.incident_x_m[i], frames.incident_y_m[i])]
            for u, i in zip(driving, frames.unit_target[driving, k])
        ])
        clock.set_text(frames.clock_labels[k])
        figures.set_text(_figures_text(frames, k))
        for u, name in enumerate(names):
            name.xy = (frames.unit_x_m[u, k], frames.unit_y_m[u, k])
        for artist in (dispatch, incidents, *names, units, clock, figures):
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
