"""What an animation shows, frame by frame: pure functions of one traced replication's records.

Everything drawn comes from the simulation's own records (``simulate(..., trace=True)``):
unit positions from the traced legs (``Leg.position_at``), on-scene spells from the jobs,
incident colours from the incident records. The GIF (``animate_gif``) and the HTML page
(``animate_html``) draw the same ``Frames``.

Frame ``k`` shows simulated minute ``k / frames_per_min``, for ``k = 0 .. n - 1`` with
``n = round(hours * 60 * frames_per_min)``: the start is shown, the end is not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from sim.model.incidents import MIN_PER_HOUR
from sim.model.movement import Position
from sim.model.units import Job, TracedLeg

if TYPE_CHECKING:
    from sim.model import RepResult, World
    from sim.model.units import Unit
    from sim.network import RoadNetwork

# Unit states, as codes in the (U, T) state array, with their legend words and colours.
STANDING, PATROLLING, TO_INCIDENT, ON_SCENE, RETURNING = range(5)
UNIT_STATE_LABELS = ("standing at post/base", "patrolling", "driving to incident", "on scene", "returning")
# Standing grey and patrolling blue: a parked car and a moving one must be told apart at a glance.
UNIT_COLOURS = ("#b3b3b3", "#1f5fbf", "#f07f00", "#8e2bc9", "#1a9e77")
MAX_UNIT_LABELS = 40   # more units than this are drawn without their names (they would cover the map)
_TRACE_STATE = {"patrolling": PATROLLING, "to_incident": TO_INCIDENT, "returning": RETURNING}

# Incident states, as codes in the (I, T) state array. The last two only with detection or
# deterrence (issue #12): a candidate deterred (a faint mark that fades), an incident a patrol has
# just spotted (a bright flash at the site).
NOT_SHOWN, WAITING, UNIT_ON_THE_WAY, INCIDENT_ON_SCENE, CLEARED, DETERRED, SPOTTED = range(7)
INCIDENT_STATE_LABELS = ("", "waiting for a unit", "unit on the way", "units on scene", "cleared",
                         "deterred (did not happen)", "just spotted by a patrol")
INCIDENT_COLOURS = ("#ffffff", "#e3111b", "#f0a800", "#8e2bc9", "#2a9d3a", "#8c8c8c", "#ffe600")
FADE_MIN = 20.0  # a cleared incident fades out over this many simulated minutes
DETERRED_OPACITY = 0.4  # a deterred candidate's mark at its start (then it fades as a cleared one)
FLASH_MIN = 4.0  # a patrol's spotting flashes this many simulated minutes
# Size of an incident's star per state, relative to the others: the flash is bigger, so it shows
# around the unit that stands at the site and spotted it (units are drawn over incidents).
INCIDENT_SCALE = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.8)



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
    deterred = _deterred(result)[:, None]
    if deterred.any():  # never reported: a faint mark from its start, fading as a cleared incident
        faint = DETERRED_OPACITY * np.clip(1.0 - (t - created) / FADE_MIN, 0.0, 1.0)
        shown = deterred & (t >= created) & (t < created + FADE_MIN)
        state = np.where(deterred, np.where(shown, DETERRED, NOT_SHOWN), state).astype(np.int8)
        opacity = np.where(deterred, np.where(shown, faint, 0.0), opacity)
    spotted = np.array([i.t_reported_min if i.detected_by == "patrol" else np.inf for i in result.incidents])[:, None]
    flash = (t >= spotted) & (t < spotted + FLASH_MIN)
    if flash.any():  # full and half opacity by turns every half minute: it blinks in both renderers
        state = np.where(flash, SPOTTED, state).astype(np.int8)
        with np.errstate(invalid="ignore"):  # inf - inf where nothing was spotted (masked out)
            blink = np.where(np.floor((t - spotted) * 2.0) % 2 == 0, 1.0, 0.5)
        opacity = np.where(flash, blink, opacity)
    return state, opacity


def _deterred(result: RepResult) -> np.ndarray:
    """Per incident: whether it was a deterred candidate (never arose)."""
    return np.array([i.deterred for i in result.incidents], dtype=bool)


def incident_labels(state: np.ndarray) -> tuple[str, ...]:
    """The legend's words per state code: the detection and deterrence states only when shown."""
    present = set(np.unique(state).tolist())
    return tuple(label if code < DETERRED or code in present else "" for code, label in enumerate(INCIDENT_STATE_LABELS))


def running_figures(result: RepResult, times_min: np.ndarray, target_min: float) -> dict[str, np.ndarray]:
    """Per frame: mean response over the shown window (min, nan before the first), answered, within
    target, waiting, on the way.

    The mean and the share within target count the incidents created since the first frame and
    answered by this one: what the picture has shown, not what came before ``--from``.
    """
    times_min = np.asarray(times_min, dtype=np.float64)
    created, dispatch, arrival, _ = incident_times(result).T
    window_start = times_min[0] if len(times_min) else 0.0
    in_window = np.where(created >= window_start, arrival, np.inf)   # earlier incidents: never counted
    order = np.argsort(in_window)
    response_min = (in_window - created)[order]
    answered = np.searchsorted(in_window[order], times_min, side="right")
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
        "waiting": ((created <= t) & (t < dispatch) & ~_deterred(result)).sum(axis=1),
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
    incident_labels: tuple[str, ...] = INCIDENT_STATE_LABELS  # legend words per state ("": not in this animation)
    joint_texts: tuple[str, ...] = ()  # labels of joint-patrol markers ("joint-1: Polri+TNI"), after unit_ids
    unit_text: np.ndarray | None = None  # (U, T) int16, see marker_text; None: every unit its own marker

    @property
    def n_frames(self) -> int:
        return len(self.times_min)

    @property
    def label_texts(self) -> list[str]:
        """What a marker may be labelled: each unit's name, then the joint markers' labels."""
        return list(self.unit_ids) + list(self.joint_texts)

    def marker_text(self) -> np.ndarray:
        """(U, T) index into ``label_texts`` of each unit's marker label: its own name (index u),
        a joint marker's label (>= U: the vehicles of a joint patrol together, drawn as one), or
        -1 (no marker of its own: it is inside another unit's joint marker)."""
        if self.unit_text is not None:
            return self.unit_text
        return np.broadcast_to(np.arange(len(self.unit_ids), dtype=np.int16)[:, None], self.unit_state.shape)

    @property
    def incidents_shown(self) -> int:
        """Incidents that appear in at least one frame."""
        return int((self.incident_state != NOT_SHOWN).any(axis=1).sum())


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
    scenario, world: World, result: RepResult, times_min: np.ndarray, frames_per_min: float, aspect: float
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
    joint_texts, unit_text = joint_markers(result.units, unit_x, unit_y, unit_state)
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
        unit_ids=[unit_name(unit) for unit in result.units],
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
        incident_labels=incident_labels(state),
        joint_texts=joint_texts,
        unit_text=unit_text,
    )


TOGETHER_M = 1.0  # vehicles of a joint patrol this close, in the same state, are drawn as one marker


def joint_markers(
    units: list[Unit], x_m: np.ndarray, y_m: np.ndarray, state: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray | None]:
    """The joint markers' labels and each unit's marker label per frame (see ``Frames.marker_text``).

    The vehicles of a joint patrol that are at one spot in one state (riding together, or waiting
    where the patrol stands) are one marker, drawn at the first of them (plan order) and labelled
    with the patrol and the agencies in it ("joint-1: Polri+TNI"); a vehicle apart (sent to a job)
    is its own marker with its own name. (None, no texts): no joint patrol, every unit its own.
    """
    patrols: dict[str, list[int]] = {}
    for u, unit in enumerate(units):
        if unit.joint_patrol:
            patrols.setdefault(unit.joint_patrol, []).append(u)
    if not patrols:
        return (), None
    n_units, n_frames = x_m.shape
    text = np.repeat(np.arange(n_units, dtype=np.int16)[:, None], n_frames, axis=1)
    texts: dict[str, int] = {}
    for members in patrols.values():
        m = np.array(members)
        x, y, s = x_m[m], y_m[m], state[m]
        # lead[j]: the first member (index into m) drawn together with member j.
        lead = np.repeat(np.arange(len(m))[:, None], n_frames, axis=1)
        for j in range(1, len(m)):
            for i in range(j - 1, -1, -1):   # down to the first, so the smallest match wins
                together = (np.hypot(x[j] - x[i], y[j] - y[i]) < TOGETHER_M) & (s[j] == s[i])
                lead[j] = np.where(together, lead[i], lead[j])
        mask = np.zeros((len(m), n_frames), dtype=np.int64)   # per lead: bit j for each member j with it
        for j in range(len(m)):
            mask[lead[j], np.arange(n_frames)] |= 1 << j
        for j in range(len(m)):
            text[m[j], lead[j] != j] = -1
            for bits in np.unique(mask[j][lead[j] == j]).tolist():
                if bits & (bits - 1):   # two vehicles or more: one joint marker
                    agencies = "+".join(units[m[b]].agency for b in range(len(m)) if bits >> b & 1)
                    label = f"{units[m[0]].joint_patrol}: {agencies}"
                    index = texts.setdefault(label, n_units + len(texts))
                    text[m[j], (lead[j] == j) & (mask[j] == bits)] = index
    return tuple(texts), text


def unit_name(unit: Unit) -> str:
    """A unit's label: its id; a joint patrol's vehicle on its own is "joint-1 Polri" (together,
    the vehicles are one marker: see ``joint_markers``)."""
    return f"{unit.joint_patrol} {unit.agency}" if unit.joint_patrol else unit.unit_id


def speed_text(frames: Frames, fps: float) -> str:
    """How fast the animation plays, in words."""
    return f"1 s of playback = {fps / frames.frames_per_min:g} simulated min"


def short_name(name: str) -> str:
    """A site name without its parenthesised detail, to keep map labels short."""
    return name.split(" (")[0]
