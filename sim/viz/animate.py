"""Animations of one replication: units moving on the roads, incidents, dispatch lines.

Everything drawn comes from the simulation's own records (``simulate(..., trace=True)``):
unit positions from the traced legs (``Leg.position_at``), on-scene spells from the jobs,
incident colours from the incident records. Two outputs share one set of frames:

- GIF (matplotlib + Pillow): the network is drawn once, each frame only redraws the moving
  artists (blitting) and is mapped onto one fixed palette;
- HTML: one self-contained file (no CDN, no tiles) that draws the network on a canvas from
  embedded arrays and plays the frames with a play button and a time slider.

Frame ``k`` shows simulated minute ``k / frames_per_min``, for ``k = 0 .. n - 1`` with
``n = round(hours * 60 * frames_per_min)``: the start is shown, the end is not.
"""
from __future__ import annotations

import argparse
import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import InputError
from sim.files import write_whole
from sim.model.incidents import MIN_PER_HOUR
from sim.model.units import Job, Position, TracedLeg

if TYPE_CHECKING:
    from sim.model import RepResult
    from sim.network.roads import RoadNetwork
    from sim.model.units import Unit

FORMATS = (".gif", ".html")

# Unit states, as codes in the (U, T) state array.
STANDING, PATROLLING, TO_INCIDENT, ON_SCENE, RETURNING = range(5)
UNIT_STATES = ("standing", "patrolling", "to_incident", "on_scene", "returning")
UNIT_STATE_LABELS = ("standing at post/base", "patrolling", "driving to incident", "on scene", "returning")
UNIT_COLOURS = ("#86b6e6", "#1f5fbf", "#f07f00", "#8e2bc9", "#1a9e77")
_TRACE_STATE = {"patrolling": PATROLLING, "to_incident": TO_INCIDENT, "returning": RETURNING}

# Incident states, as codes in the (I, T) state array.
NOT_SHOWN, WAITING, UNIT_ON_THE_WAY, INCIDENT_ON_SCENE, CLEARED = range(5)
INCIDENT_STATE_LABELS = ("", "waiting for a unit", "unit on the way", "units on scene", "cleared")
INCIDENT_COLOURS = ("#ffffff", "#e3111b", "#f0a800", "#8e2bc9", "#2a9d3a")
FADE_MIN = 20.0  # a cleared incident fades out over this many simulated minutes

SYNTHETIC_NOTE = "synthetic road network (not real roads)"
HTML_MAP_ASPECT = 1.5  # width / height of the page's map canvas
MAX_GIF_FPS = 50.0  # GIF delays are hundredths of a second; browsers slow down delays under 2


# ---------------------------------------------------------------------------------------------
# Frames: pure functions of the simulation records
# ---------------------------------------------------------------------------------------------


def frame_count(hours: float, frames_per_min: float) -> int:
    """Frames in an animation of ``hours``: round(hours * 60 * frames_per_min) (start shown, end not)."""
    return int(round(hours * MIN_PER_HOUR * frames_per_min))


def frame_times_min(hours: float, frames_per_min: float) -> np.ndarray:
    """Simulated minute of each frame: ``k / frames_per_min`` for k < frame_count(hours, frames_per_min)."""
    return np.arange(frame_count(hours, frames_per_min)) / frames_per_min


def _xy_m(network: RoadNetwork, position: Position) -> tuple[float, float]:
    """Planar position (m): a node, or between two nodes by the fraction of the edge's time."""
    x, y = network.x_m[position.node], network.y_m[position.node]
    if position.head < 0:
        return float(x), float(y)
    f = position.fraction
    return float(x + f * (network.x_m[position.head] - x)), float(y + f * (network.y_m[position.head] - y))


def _jobs_since(unit: Unit) -> float:
    """When the unit's last finished job ended (minutes; -inf if none)."""
    return unit.stats.jobs[-1].t_leave_min if unit.stats.jobs else -np.inf


def _driven_legs(unit: Unit) -> list[TracedLeg]:
    """The unit's traced legs plus the one it was still driving when the run stopped."""
    if unit.trace is None:
        raise ValueError(f"unit {unit.unit_id} has no movement trace: run simulate(..., trace=True)")
    legs = list(unit.trace)
    if unit.leg is not None:
        legs.append(TracedLeg(unit.leg, unit.leg.t_end_min, unit.leg_state))
    return legs


def _open_job(unit: Unit, legs: list[TracedLeg], end_min: float) -> Job | None:
    """The job the unit was still on when the run stopped, with an open end (+inf)."""
    if unit.incident is None:
        return None
    since = _jobs_since(unit)
    to_scene = [traced for traced in legs if traced.state == "to_incident" and traced.leg.t_start_min >= since]
    if unit.leg is not None:  # still driving there: not on scene yet
        return Job(unit.incident.spec.incident_id, to_scene[0].leg.t_start_min, np.inf, np.inf)
    if to_scene:
        return Job(unit.incident.spec.incident_id, to_scene[0].leg.t_start_min, to_scene[-1].t_end_min, np.inf)
    # Sent while standing at the scene itself: no leg; it is there from the first arrival on.
    first = unit.incident.t_first_arrival_min
    t_there = max(since, first if first is not None else end_min)
    return Job(unit.incident.spec.incident_id, t_there, t_there, np.inf)


def unit_jobs(result: RepResult) -> list[list[Job]]:
    """Every unit's jobs, finished ones and the one still open at the end (t_leave_min = inf)."""
    jobs = []
    for unit in result.units:
        open_job = _open_job(unit, _driven_legs(unit), result.end_min)
        jobs.append(list(unit.stats.jobs) + ([open_job] if open_job else []))
    return jobs


def unit_positions(
    result: RepResult, network: RoadNetwork, times_min: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where every unit is at each time, from its movement trace.

    Returns ``x_m`` and ``y_m`` (float64, metres in the network's plane) and state codes
    (int8: STANDING, PATROLLING, TO_INCIDENT, ON_SCENE, RETURNING), each of shape (U, T).
    On a leg the unit is at ``Leg.position_at(t)``, between the edge's end nodes by the
    fraction of the edge's travel time; between legs it stands at the end of its last leg
    (before its first leg, at its base); it is on scene from arrival to departure of a job.
    """
    times_min = np.asarray(times_min, dtype=np.float64)
    shape = (len(result.units), len(times_min))
    x_m, y_m = np.empty(shape), np.empty(shape)
    state = np.full(shape, STANDING, dtype=np.int8)
    for u, (unit, jobs) in enumerate(zip(result.units, unit_jobs(result))):
        legs = _driven_legs(unit)
        starts = np.array([traced.leg.t_start_min for traced in legs])
        # Index of the last leg begun at or before each time (-1: none yet).
        last = np.searchsorted(starts, times_min, side="right") - 1
        for t, (time_min, i) in enumerate(zip(times_min, last)):
            if i < 0:
                position = Position(unit.base)
            else:
                traced = legs[i]
                driving = time_min < traced.t_end_min
                position = traced.leg.position_at(time_min if driving else traced.t_end_min)
                if driving:
                    state[u, t] = _TRACE_STATE[traced.state]
            x_m[u, t], y_m[u, t] = _xy_m(network, position)
        for job in jobs:
            state[u, (times_min >= job.t_arrival_min) & (times_min < job.t_leave_min)] = ON_SCENE
    return x_m, y_m, state


def unit_targets(result: RepResult, times_min: np.ndarray) -> np.ndarray:
    """Index into ``result.incidents`` of the incident each unit drives to, or -1; (U, T) int32."""
    times_min = np.asarray(times_min, dtype=np.float64)
    index = {incident.spec.incident_id: i for i, incident in enumerate(result.incidents)}
    target = np.full((len(result.units), len(times_min)), -1, dtype=np.int32)
    for u, jobs in enumerate(unit_jobs(result)):
        for job in jobs:
            target[u, (times_min >= job.t_dispatch_min) & (times_min < job.t_arrival_min)] = index[job.incident_id]
    return target


def incident_times(result: RepResult) -> np.ndarray:
    """Per incident (I, 4) minutes: created, first dispatch, first arrival, cleared (inf: not yet)."""
    cleared: dict[int, float] = {}
    for jobs in unit_jobs(result):
        for job in jobs:
            cleared[job.incident_id] = max(cleared.get(job.incident_id, -np.inf), job.t_leave_min)
    rows = []
    for incident in result.incidents:
        dispatch, arrival = incident.t_first_dispatch_min, incident.t_first_arrival_min
        rows.append((
            incident.spec.t_created_min,
            np.inf if dispatch is None else dispatch,
            np.inf if arrival is None else arrival,
            cleared.get(incident.spec.incident_id, np.inf),
        ))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def incident_states(result: RepResult, times_min: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """State codes (I, T) int8 and opacity (I, T) in [0, 1]: cleared incidents fade out over FADE_MIN."""
    times_min = np.asarray(times_min, dtype=np.float64)
    created, dispatch, arrival, cleared = (incident_times(result).T[:, :, None])
    t = times_min[None, :]
    state = np.select(
        [t < created, t < dispatch, t < arrival, t < cleared, t < cleared + FADE_MIN],
        [NOT_SHOWN, WAITING, UNIT_ON_THE_WAY, INCIDENT_ON_SCENE, CLEARED],
        NOT_SHOWN,
    ).astype(np.int8)
    fade = np.clip(1.0 - (t - cleared) / FADE_MIN, 0.0, 1.0) if len(created) else np.empty(state.shape)
    opacity = np.where(state == CLEARED, fade, (state != NOT_SHOWN).astype(np.float64))
    return state, opacity


def running_figures(result: RepResult, times_min: np.ndarray, target_min: float) -> dict[str, np.ndarray]:
    """Per frame: mean response so far (min, nan before the first), answered, within target, waiting, on the way."""
    times_min = np.asarray(times_min, dtype=np.float64)
    created, dispatch, arrival, _ = incident_times(result).T
    order = np.argsort(arrival)
    response_min = (arrival - created)[order]
    answered = np.searchsorted(arrival[order], times_min, side="right")
    cum_response = np.concatenate(([0.0], np.cumsum(np.where(np.isfinite(response_min), response_min, 0.0))))
    cum_within = np.concatenate(([0], np.cumsum(response_min <= target_min)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = cum_response[answered] / answered
        within_pct = 100.0 * cum_within[answered] / answered
    t = times_min[:, None]
    return {
        "mean_response_min": np.where(answered > 0, mean, np.nan),
        "within_target_pct": np.where(answered > 0, within_pct, np.nan),
        "answered": answered,
        "waiting": ((created <= t) & (t < dispatch)).sum(axis=1),
        "on_the_way": ((dispatch <= t) & (t < arrival)).sum(axis=1),
    }


# ---------------------------------------------------------------------------------------------
# What both renderers draw
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frames:
    """Everything an animation shows, per frame; coordinates in metres of the network's plane."""

    title: str
    synthetic: bool
    clock_labels: list[str]
    times_min: np.ndarray  # (T,)
    view_m: tuple[float, float, float, float]  # x0, y0, x1, y1 of the map view
    unit_ids: list[str]
    unit_x_m: np.ndarray  # (U, T)
    unit_y_m: np.ndarray  # (U, T)
    unit_state: np.ndarray  # (U, T) int8
    unit_target: np.ndarray  # (U, T) int32: incident index or -1
    incident_x_m: np.ndarray  # (I,)
    incident_y_m: np.ndarray  # (I,)
    incident_state: np.ndarray  # (I, T) int8
    incident_opacity: np.ndarray  # (I, T)
    figures: dict[str, np.ndarray]  # running figures, each (T,)
    target_min: float
    sites: list[tuple[str, float, float, bool]]  # name, x_m, y_m, is a base
    segments_m: np.ndarray  # (S, 4) x0, y0, x1, y1 of the road segments in view
    segment_class: np.ndarray  # (S,) int8: 0 main road .. 2 minor street
    frames_per_min: float

    @property
    def n_frames(self) -> int:
        return len(self.times_min)


def _view(
    xs: np.ndarray, ys: np.ndarray, aspect: float, margin: float = 0.12, min_span_m: float = 2000.0
) -> tuple[float, float, float, float]:
    """A box around the points plus a margin, widened to the aspect ratio (width / height)."""
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    width = max(x1 - x0, min_span_m) * (1.0 + 2.0 * margin)
    height = max(y1 - y0, min_span_m) * (1.0 + 2.0 * margin)
    width, height = max(width, height * aspect), max(height, width / aspect)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return cx - width / 2.0, cy - height / 2.0, cx + width / 2.0, cy + height / 2.0


def _segments_in_view(network: RoadNetwork, view_m: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Road segments (one per node pair, either direction) touching the view, and a class 0..2."""
    tails = network.edge_tails
    heads = network.indices.astype(np.int64)
    low, high = np.minimum(tails, heads), np.maximum(tails, heads)
    _, first = np.unique(low * network.n_nodes + high, return_index=True)
    a, b = low[first], high[first]
    x0, y0, x1, y1 = view_m
    xa, ya, xb, yb = network.x_m[a], network.y_m[a], network.x_m[b], network.y_m[b]
    inside = ~((np.maximum(xa, xb) < x0) | (np.minimum(xa, xb) > x1) | (np.maximum(ya, yb) < y0) | (np.minimum(ya, yb) > y1))
    names = network.road_class_names
    rank = np.array([0 if n in ("motorway", "trunk", "primary") else 1 if n in ("secondary", "tertiary") else 2
                     for n in names], dtype=np.int8)
    segment_class = rank[network.road_class[first][inside]] if len(names) else np.full(inside.sum(), 2, np.int8)
    return np.column_stack([xa, ya, xb, yb])[inside], segment_class


def build_frames(
    scenario, world, result: RepResult, times_min: np.ndarray, frames_per_min: float, aspect: float
) -> Frames:
    """All frames of one replication, the map view zoomed to where units and incidents are."""
    network = world.network
    unit_x, unit_y, unit_state = unit_positions(result, network, times_min)
    site_xy = {site: (float(network.x_m[node]), float(network.y_m[node])) for site, node in world.site_node.items()}
    incident_xy = np.array([site_xy[i.spec.site] for i in result.incidents]).reshape(-1, 2)
    state, opacity = incident_states(result, times_min)
    shown = (state != NOT_SHOWN).any(axis=1)
    bases = {unit.base for unit in result.units}
    base_xy = np.array([(network.x_m[b], network.y_m[b]) for b in sorted(bases)]).reshape(-1, 2)
    xs = np.concatenate([unit_x.ravel(), incident_xy[shown, 0], base_xy[:, 0]])
    ys = np.concatenate([unit_y.ravel(), incident_xy[shown, 1], base_xy[:, 1]])
    view = _view(xs, ys, aspect)
    segments, segment_class = _segments_in_view(network, view)
    names = {site.id: site.name for site in scenario.sites}
    sites = [
        (names[site], x, y, world.site_node[site] in bases)
        for site, (x, y) in site_xy.items()
        if view[0] <= x <= view[2] and view[1] <= y <= view[3]
    ]
    start: datetime = scenario.clock.start
    title = f"{scenario.name}: plan {result.plan}, replication {result.rep}"
    return Frames(
        title=title,
        synthetic=network.synthetic,
        clock_labels=[(start + timedelta(minutes=float(t))).strftime("%a %d %b %Y %H:%M") for t in times_min],
        times_min=np.asarray(times_min, dtype=np.float64),
        view_m=view,
        unit_ids=[unit.unit_id for unit in result.units],
        unit_x_m=unit_x,
        unit_y_m=unit_y,
        unit_state=unit_state,
        unit_target=unit_targets(result, times_min),
        incident_x_m=incident_xy[:, 0],
        incident_y_m=incident_xy[:, 1],
        incident_state=state,
        incident_opacity=opacity,
        figures=running_figures(result, times_min, scenario.target_response_min),
        target_min=float(scenario.target_response_min),
        sites=sites,
        segments_m=segments,
        segment_class=segment_class,
        frames_per_min=frames_per_min,
    )


def _figures_text(frames: Frames, k: int) -> str:
    figures = frames.figures
    mean = figures["mean_response_min"][k]
    answered = int(figures["answered"][k])
    if answered:
        response = (f"mean response so far {mean:.1f} min ({answered} answered, "
                    f"{figures['within_target_pct'][k]:.0f}% within {frames.target_min:g} min)")
    else:
        response = "mean response so far: no incident answered yet"
    return f"{response}\nincidents waiting for a unit {int(figures['waiting'][k])}, unit on the way {int(figures['on_the_way'][k])}"


def _speed_text(frames: Frames, fps: float) -> str:
    return f"1 s of playback = {fps / frames.frames_per_min:g} simulated min"


# ---------------------------------------------------------------------------------------------
# GIF
# ---------------------------------------------------------------------------------------------


# The GIF's layout: a band on top (clock, title), the map, a band below (figures, legend).
_TOP_BAND, _BOTTOM_BAND = 0.095, 0.16  # shares of the figure height


def gif_map_aspect(size_px: tuple[int, int]) -> float:
    """Width / height of the GIF's map area, for a GIF of ``size_px`` pixels."""
    return size_px[0] / (size_px[1] * (1.0 - _TOP_BAND - _BOTTOM_BAND))


def _short(name: str) -> str:
    """A site name without its parenthesised detail, to keep map labels short."""
    return name.split(" (")[0]


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
            label = ax.annotate(_short(name), (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va,
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
    fig.text(0.99, _BOTTOM_BAND - 0.012, _speed_text(frames, fps), ha="right", va="top", fontsize=6.5, color="#555555")

    dispatch = LineCollection([], colors=UNIT_COLOURS[TO_INCIDENT], linewidths=1.5, linestyles=(0, (4, 2)),
                              zorder=3, animated=True)
    ax.add_collection(dispatch)
    incidents = ax.scatter([], [], s=190, marker="*", linewidths=0.5, zorder=4, animated=True)
    units = ax.scatter([], [], s=55, marker="o", edgecolors="#222222", linewidths=0.7, zorder=5, animated=True)
    clock = fig.text(0.01, 1.0 - _TOP_BAND / 2, "", ha="left", va="center", fontsize=14, weight="bold",
                     color="#111111", animated=True)
    figures = fig.text(0.01, _BOTTOM_BAND - 0.012, "", ha="left", va="top", fontsize=7, color="#222222",
                       animated=True)
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
        for artist in (dispatch, incidents, units, clock, figures):
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


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


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
        "speed": _speed_text(frames, fps),
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
        "sites": [[_short(name), (x - x0) / span_x, (y - y0) / span_y, is_base] for name, x, y, is_base in frames.sites],
        "unit_colours": list(UNIT_COLOURS),
        "unit_labels": list(UNIT_STATE_LABELS),
        "incident_colours": list(INCIDENT_COLOURS),
        "incident_labels_state": list(INCIDENT_STATE_LABELS),
    }


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 12px; color: #222; background: #f4f5f7; }
  #wrap { max-width: 1100px; margin: 0 auto; }
  h1 { font-size: 17px; margin: 0 0 2px 0; }
  #note { color: #b00020; font-size: 13px; margin-bottom: 6px; }
  #stage { position: relative; background: #fff; border: 1px solid #ccc; }
  canvas { display: block; width: 100%; }
  #status { display: flex; gap: 18px; align-items: center; margin: 4px 0 6px 0; }
  #clock { font-size: 22px; font-weight: bold; white-space: nowrap; }
  #figures { font-size: 13px; line-height: 1.35; }
  #controls { display: flex; gap: 10px; align-items: center; margin: 8px 0; }
  #slider { flex: 1; }
  #play { font-size: 15px; min-width: 80px; }
  #legend { font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
  .dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
  .star { display: inline-block; margin-right: 3px; font-size: 15px; }
  #speed { color: #555; font-size: 13px; }
</style>
</head>
<body>
<div id="wrap">
  <h1 id="title"></h1>
  <div id="note"></div>
  <div id="status"><div id="clock"></div><div id="figures"></div></div>
  <div id="stage"><canvas id="map"></canvas></div>
  <div id="controls">
    <button id="play" type="button">&#9654; play</button>
    <input id="slider" type="range" min="0" value="0" step="1">
    <span id="speed"></span>
  </div>
  <div id="legend"></div>
</div>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
function decode(b64, Type) {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return new Type(bytes.buffer);
}
const unitX = decode(D.unit_x, Uint16Array), unitY = decode(D.unit_y, Uint16Array);
const unitState = decode(D.unit_state, Uint8Array), unitTarget = decode(D.unit_target, Int16Array);
const incState = decode(D.incident_state, Uint8Array), incOpacity = decode(D.incident_opacity, Uint8Array);
const segments = decode(D.segments, Int32Array), segClass = decode(D.segment_class, Uint8Array);
const U = D.units, I = D.incident_x.length, T = D.frames;

document.getElementById("title").textContent = D.title;
document.title = D.title + (D.synthetic ? " (" + D.note + ")" : "");
document.getElementById("note").textContent = D.synthetic ? D.note : "";
document.getElementById("speed").textContent = D.speed;

const canvas = document.getElementById("map");
// Fit the map to the window so the controls stay in view; it is drawn at a fixed size and scaled.
function fit() {
  const room = Math.max(window.innerHeight - 230, 240) * D.view_m[0] / D.view_m[1];
  document.getElementById("wrap").style.maxWidth = Math.min(1100, Math.floor(room)) + "px";
}
window.addEventListener("resize", fit);
fit();
const W = 1100, H = Math.round(W * D.view_m[1] / D.view_m[0]);
const ratio = window.devicePixelRatio || 1;
canvas.width = W * ratio; canvas.height = H * ratio;
const ctx = canvas.getContext("2d");
ctx.scale(ratio, ratio);
const sx = W / D.view_m[0], sy = H / D.view_m[1];
const qx = q => q / 65535 * W, qy = q => H - q / 65535 * H;

// The network is drawn once onto an off-screen canvas; each frame copies it.
const background = document.createElement("canvas");
background.width = canvas.width; background.height = canvas.height;
(function drawBackground() {
  const g = background.getContext("2d");
  g.scale(ratio, ratio);
  g.fillStyle = "#ffffff"; g.fillRect(0, 0, W, H);
  const styles = [["#a9adb3", 1.6], ["#c4c7cc", 1.0], ["#dcdee1", 0.6]];
  for (let rank = 2; rank >= 0; rank--) {
    g.strokeStyle = styles[rank][0]; g.lineWidth = styles[rank][1];
    g.beginPath();
    for (let s = 0; s < segClass.length; s++) {
      if (segClass[s] !== rank) continue;
      g.moveTo(segments[4 * s] / 10 * sx, H - segments[4 * s + 1] / 10 * sy);
      g.lineTo(segments[4 * s + 2] / 10 * sx, H - segments[4 * s + 3] / 10 * sy);
    }
    g.stroke();
  }
  g.font = "11px system-ui, sans-serif";
  g.lineJoin = "round";
  const placed = [];
  // Bases first; a label goes right of its marker, else left, else below, never overlapping.
  const sites = D.sites.slice().sort((a, b) => b[3] - a[3]);
  for (const [name, fx, fy, isBase] of sites) {
    const x = fx * W, y = H - fy * H;
    g.fillStyle = isBase ? "#333" : "#777";
    g.beginPath();
    if (isBase) { g.moveTo(x, y - 6); g.lineTo(x + 5, y + 4); g.lineTo(x - 5, y + 4); }
    else { g.rect(x - 3, y - 3, 6, 6); }
    g.fill();
    const w = g.measureText(name).width, h = 11;
    for (const [lx, ly] of [[x + 6, y - 4], [x - 6 - w, y - 4], [x - w / 2, y + 15]]) {
      const box = [lx, ly - h, lx + w, ly + 2];
      const inside = box[0] >= 0 && box[2] <= W && box[1] >= 0 && box[3] <= H;
      const free = placed.every(o => box[2] < o[0] || box[0] > o[2] || box[3] < o[1] || box[1] > o[3]);
      if (inside && free) {
        placed.push(box);
        g.strokeStyle = "rgba(255,255,255,0.9)"; g.lineWidth = 3; g.strokeText(name, lx, ly);
        g.fillStyle = "#444"; g.fillText(name, lx, ly);
        break;
      }
    }
  }
  if (D.synthetic) {
    g.fillStyle = "#b00020"; g.textAlign = "right"; g.fillText(D.note, W - 8, H - 8);
  }
})();

function star(x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath(); ctx.fill(); ctx.stroke();
}

const clock = document.getElementById("clock"), figures = document.getElementById("figures");
const slider = document.getElementById("slider"), play = document.getElementById("play");
slider.max = Math.max(T - 1, 0);
let frame = 0;

function draw(k) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(background, 0, 0);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const base = k * U;
  ctx.setLineDash([6, 3]); ctx.lineWidth = 1.6; ctx.strokeStyle = D.unit_colours[2];
  for (let u = 0; u < U; u++) {
    const i = unitTarget[base + u];
    if (i < 0) continue;
    ctx.beginPath();
    ctx.moveTo(qx(unitX[base + u]), qy(unitY[base + u]));
    ctx.lineTo(qx(D.incident_x[i]), qy(D.incident_y[i]));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 0.7; ctx.strokeStyle = "#000";
  for (let i = 0; i < I; i++) {
    const s = incState[k * I + i];
    if (s === 0) continue;
    ctx.globalAlpha = incOpacity[k * I + i] / 255;
    ctx.fillStyle = D.incident_colours[s];
    star(qx(D.incident_x[i]), qy(D.incident_y[i]), 11);
  }
  ctx.globalAlpha = 1; ctx.lineWidth = 1.2; ctx.strokeStyle = "#222";
  for (let u = 0; u < U; u++) {
    ctx.fillStyle = D.unit_colours[unitState[base + u]];
    ctx.beginPath();
    ctx.arc(qx(unitX[base + u]), qy(unitY[base + u]), 6, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  }
  clock.textContent = D.clock[k];
  const n = D.answered[k];
  figures.innerHTML = "";
  const line1 = n ? "mean response so far " + D.mean_response_min[k].toFixed(1) + " min (" + n + " answered, " +
      Math.round(D.within_target_pct[k]) + "% within " + D.target_min + " min)"
    : "mean response so far: no incident answered yet";
  const line2 = "incidents waiting for a unit " + D.waiting[k] + ", unit on the way " + D.on_the_way[k];
  for (const text of [line1, line2]) {
    const div = document.createElement("div"); div.textContent = text; figures.appendChild(div);
  }
  slider.value = k;
}

let timer = null;
function stop() { clearInterval(timer); timer = null; play.innerHTML = "&#9654; play"; }
function start() {
  if (frame >= T - 1) frame = 0;
  play.innerHTML = "&#10074;&#10074; pause";
  timer = setInterval(() => {
    if (frame >= T - 1) { stop(); return; }
    frame += 1; draw(frame);
  }, 1000 / D.fps);
}
play.addEventListener("click", () => (timer === null ? start() : stop()));
slider.addEventListener("input", () => { frame = Number(slider.value); draw(frame); });
document.addEventListener("keydown", e => { if (e.key === " ") { e.preventDefault(); play.click(); } });

const legend = document.getElementById("legend");
D.unit_labels.forEach((label, s) => {
  legend.insertAdjacentHTML("beforeend", '<span><span class="dot"></span></span>');
  const item = legend.lastChild; item.firstChild.style.background = D.unit_colours[s];
  item.appendChild(document.createTextNode("unit " + label));
});
D.incident_labels_state.forEach((label, s) => {
  if (s === 0) return;
  legend.insertAdjacentHTML("beforeend", '<span><span class="star">&#9733;</span></span>');
  const item = legend.lastChild; item.firstChild.style.color = D.incident_colours[s];
  item.appendChild(document.createTextNode("incident: " + label));
});
legend.insertAdjacentHTML("beforeend", "<span>- - - dispatch line: unit to its incident</span>");
if (T > 0) draw(0);
</script>
</body>
</html>
"""


def write_html(frames: Frames, path: Path, fps: float) -> None:
    """Write the animation as one self-contained HTML page (no external files), whole or not at all."""
    import html

    # "</" inside the JSON would end the script element early.
    data = json.dumps(html_data(frames, fps), separators=(",", ":")).replace("</", "<\\/")
    page = _HTML.replace("__TITLE__", html.escape(frames.title)).replace("__DATA__", data)

    def save(tmp: Path) -> None:
        tmp.write_text(page, encoding="utf-8")

    write_whole(path, save)


# ---------------------------------------------------------------------------------------------
# Files and the command
# ---------------------------------------------------------------------------------------------



def check_request(out: Path, hours: float, frames_per_min: float, fps: float, rep: int,
                  from_hours: float = 0.0) -> list[str]:
    """Problems with the animate flags (empty if none)."""
    problems = []
    if not from_hours >= 0:
        problems.append(f"--from {from_hours:g}: must be 0 or more hours after the clock's start")
    if Path(out).suffix.lower() not in FORMATS:
        problems.append(f"--out {out}: say FILE.gif or FILE.html (got '{Path(out).suffix or 'no extension'}')")
    if not hours > 0:
        problems.append(f"--hours {hours:g}: must be more than 0")
    if not frames_per_min > 0:
        problems.append(f"--frames-per-min {frames_per_min:g}: must be more than 0")
    elif hours > 0 and frame_count(hours, frames_per_min) < 1:
        problems.append(f"--hours {hours:g} at --frames-per-min {frames_per_min:g} gives no frame")
    if not fps > 0:
        problems.append(f"--fps {fps:g}: must be more than 0")
    elif Path(out).suffix.lower() == ".gif" and fps > MAX_GIF_FPS:
        problems.append(f"--fps {fps:g}: a GIF plays at most {MAX_GIF_FPS:g} frames per second (browsers slow faster GIFs)")
    if rep < 0:
        problems.append(f"--rep {rep}: must be 0 or more")
    return problems


def animate(
    scenario_path: Path,
    plan: str,
    hours: float,
    out: Path,
    rep: int = 0,
    seed: int | None = None,
    frames_per_min: float = 2.0,
    fps: float = 20.0,
    network: str | None = None,
    size_px: tuple[int, int] = (800, 600),
    from_hours: float = 0.0,
) -> Frames:
    """Simulate one replication of a plan with movement tracing; write ``hours`` of it, from
    ``from_hours`` after the clock's start, as a GIF or HTML.

    Raises InputError for bad flags, an unknown plan or a bad scenario, before any file is written.
    """
    from sim.config import load_scenario, network_spec
    from sim.model import build_world, simulate
    from sim.network.roads import load_network

    out = Path(out)
    problems = check_request(out, hours, frames_per_min, fps, rep, from_hours)
    if problems:
        raise InputError(problems)
    # The run starts at the clock's start, so units are where their patrol has taken them.
    overrides: dict[str, object] = {"clock.duration_hours": from_hours + hours}
    if seed is not None:
        overrides["seed"] = seed
    as_written = load_scenario(scenario_path)
    if as_written.clock.warmup_hours >= from_hours + hours:  # warm-up only excludes incidents from statistics
        overrides["clock.warmup_hours"] = 0.0
    scenario = load_scenario(scenario_path, overrides)
    scenario.plan(plan)  # an unknown plan fails here, with a suggestion, before the network loads
    world = build_world(scenario, load_network(network_spec(scenario, network)))
    result = simulate(scenario, world, plan, rep, trace=True)
    aspect = gif_map_aspect(size_px) if out.suffix.lower() == ".gif" else HTML_MAP_ASPECT
    times_min = from_hours * MIN_PER_HOUR + frame_times_min(hours, frames_per_min)
    frames = build_frames(scenario, world, result, times_min, frames_per_min, aspect)
    if out.suffix.lower() == ".gif":
        write_gif(frames, out, fps, size_px)
    else:
        write_html(frames, out, fps)
    return frames


def animate_command(args: argparse.Namespace) -> None:
    """``animate SCENARIO --plan P --hours H --out FILE.gif|FILE.html``: write the animation, say where."""
    frames = animate(
        scenario_path=args.scenario,
        plan=args.plan,
        hours=args.hours,
        out=args.out,
        rep=args.rep,
        seed=args.seed,
        frames_per_min=args.frames_per_min,
        fps=args.fps,
        network=args.network,
        from_hours=args.from_hours,
    )
    incidents = int((frames.incident_state != NOT_SHOWN).any(axis=1).sum())
    note = f"; {SYNTHETIC_NOTE}" if frames.synthetic else ""
    print(f"{args.out}: {frames.n_frames} frames, {len(frames.unit_ids)} units, {incidents} incidents{note}")
    if incidents == 0:
        print("No incident in this window: try another --rep, or --from 10 to start at ten in the morning "
              "of the first day (most disturbances come by day).")

