"""What an animation shows, frame by frame: pure functions of one traced replication's records.

Everything drawn comes from the simulation's own records (``simulate(..., trace=True)``):
unit positions from the traced legs (placed as ``Leg.position_at`` places them, many times at
once), on-scene spells from the jobs, incident colours from the incident records. The GIF
(``animate_gif``) and the HTML page (``animate_html``) draw the same ``Frames``; the map that
does not move (panels, sites, towns, roads) comes from ``animate_map``.

Frame ``k`` shows simulated minute ``k / frames_per_min``, for ``k = 0 .. n - 1`` with
``n = round(hours * 60 * frames_per_min)``: the start is shown, the end is not. The words the
frames carry (title, clock, legend) are in the language of the ``Messages`` they are built with.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from sim.i18n import Messages, messages
from sim.model.incidents import MIN_PER_HOUR
from sim.model.units import Job, TracedLeg
from sim.viz.animate_map import SiteMark, map_panels, segments_in_view, site_marks, towns_in_view
from sim.viz.animate_views import REGENCY, Panel

if TYPE_CHECKING:
    from sim.model import RepResult, World
    from sim.model.units import Unit
    from sim.network import RoadNetwork

# Unit states, as codes in the (U, T) state array, with their legend words' keys (anim.unit.<key>;
# colours: animate_style).
STANDING, PATROLLING, TO_INCIDENT, ON_SCENE, RETURNING = range(5)
UNIT_STATE_KEYS = ("standing", "patrolling", "toIncident", "onScene", "returning")
MAX_UNIT_LABELS = 40   # more units than this are drawn without their names (they would cover the map)
_TRACE_STATE = {"patrolling": PATROLLING, "to_incident": TO_INCIDENT, "returning": RETURNING}

# Incident states, as codes in the (I, T) state array. The last two only with detection or
# deterrence: a candidate deterred (a faint mark that fades), an incident a patrol has just
# spotted (a bright flash at the site).
NOT_SHOWN, WAITING, UNIT_ON_THE_WAY, INCIDENT_ON_SCENE, CLEARED, DETERRED, SPOTTED = range(7)
INCIDENT_STATE_KEYS = ("", "waiting", "onTheWay", "onScene", "cleared", "deterred", "spotted")  # anim.incident.<key>
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


def _leg_xy_m(network: RoadNetwork, leg, times_min: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar positions (m) along ``leg`` at many times, as ``Leg.position_at`` places them: a node,
    or between two nodes by the fraction of the edge's time (clamped to the leg)."""
    cum = leg.cum_min
    elapsed = np.clip(leg.elapsed0_min + times_min - leg.t_start_min, 0.0, float(cum[-1]))
    i = np.minimum(np.searchsorted(cum, elapsed, side="right") - 1, len(cum) - 1)
    last = i >= len(leg.nodes) - 1
    j = np.minimum(i + 1, len(cum) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):   # the last node: no edge ahead (masked out)
        fraction = np.where(last, 0.0, (elapsed - cum[i]) / (cum[j] - cum[i]))
    fraction = np.maximum(fraction, 0.0)
    tail, head = leg.nodes[i], leg.nodes[j]
    x, y = network.x_m[tail], network.y_m[tail]
    return x + fraction * (network.x_m[head] - x), y + fraction * (network.y_m[head] - y)


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
        before = last < 0
        x_m[u, before], y_m[u, before] = network.x_m[unit.base], network.y_m[unit.base]
        for i in np.unique(last[~before]).tolist():
            traced, at = legs[i], np.flatnonzero(last == i)
            driving = times_min[at] < traced.t_end_min
            # After its end a leg is where it ended; position_at clamps, so the end time places it.
            x_m[u, at], y_m[u, at] = _leg_xy_m(network, traced.leg, np.where(driving, times_min[at], traced.t_end_min))
            state[u, at[driving]] = _TRACE_STATE[traced.state]
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


def unit_state_words(m: Messages) -> list[str]:
    """The legend's words per unit state code."""
    return [m(f"anim.unit.{key}") for key in UNIT_STATE_KEYS]


def incident_labels(state: np.ndarray, m: Messages) -> tuple[str, ...]:
    """The legend's words per state code: the detection and deterrence states only when shown."""
    present = set(np.unique(state).tolist())
    return tuple(m(f"anim.incident.{key}") if key and (code < DETERRED or code in present) else ""
                 for code, key in enumerate(INCIDENT_STATE_KEYS))


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
    panels: tuple[Panel, ...]  # the regency (and the city beside it) or the city: see animate_views
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
    sites: list[SiteMark]
    segments_m: np.ndarray  # (S, 4) x0, y0, x1, y1 of the road segments in view
    segment_class: np.ndarray  # (S,) int8: 0 main road .. 2 minor street
    frames_per_min: float
    incident_labels: tuple[str, ...] = ()  # legend words per state ("": not in this animation)
    joint_texts: tuple[str, ...] = ()  # labels of joint-patrol markers ("joint-1: Polri+TNI"), after unit_ids
    unit_text: np.ndarray | None = None  # (U, T) int16, see marker_text; None: every unit its own marker
    stack_texts: tuple[str, ...] = ()  # labels of units stacked at one spot ("polri_car-3, polri_car-4"), last
    towns: list[tuple[str, float, float]] = field(default_factory=list)  # kecamatan towns named: name, x_m, y_m
    unnamed_kinds: list[str] = field(default_factory=list)  # legend words for the kinds of sites drawn unnamed
    messages: Messages = field(default_factory=messages)  # the language of the words above and of the writers'

    @property
    def n_frames(self) -> int:
        return len(self.times_min)

    @property
    def view_m(self) -> tuple[float, float, float, float]:
        """The box (metres) every panel's view lies in: x0, y0, x1, y1."""
        views = np.array([panel.view_m for panel in self.panels])
        return (float(views[:, 0].min()), float(views[:, 1].min()), float(views[:, 2].max()), float(views[:, 3].max()))

    @property
    def label_texts(self) -> list[str]:
        """What a marker may be labelled: each unit's name, the joint markers' labels, the stacks'."""
        return list(self.unit_ids) + list(self.joint_texts) + list(self.stack_texts)

    def is_joint(self, index: np.ndarray) -> np.ndarray:
        """Whether indices into ``label_texts`` are joint markers' (drawn with a ring)."""
        n_units = len(self.unit_ids)
        return (np.asarray(index) >= n_units) & (np.asarray(index) < n_units + len(self.joint_texts))

    def marker_text(self) -> np.ndarray:
        """(U, T) index into ``label_texts`` of each unit's marker label: its own name (index u),
        a joint marker's label (the vehicles of a joint patrol together, drawn as one with a ring),
        a stack's (units at one spot, drawn as one), or -1 (no marker of its own: it is inside
        another unit's marker)."""
        if self.unit_text is not None:
            return self.unit_text
        return np.broadcast_to(np.arange(len(self.unit_ids), dtype=np.int16)[:, None], self.unit_state.shape)

    @property
    def incidents_shown(self) -> int:
        """Incidents that appear in at least one frame."""
        return int((self.incident_state != NOT_SHOWN).any(axis=1).sum())

    @property
    def beyond_reach(self) -> list[str]:
        """Names of the named sites beyond the target's drive from the plan's units (see animate_map)."""
        return [site.name for site in self.sites if site.beyond and site.named]


def build_frames(
    scenario, world: World, result: RepResult, times_min: np.ndarray, frames_per_min: float, aspect: float,
    view: str = REGENCY, m: Messages | None = None,
) -> Frames:
    """All frames of one replication on a map area of ``aspect`` (width / height), framed as ``view``
    (``animate_views``: the regency with the city beside it, or the city), their words in the
    language of ``m`` (English by default)."""
    m = m or messages()
    network = world.network
    unit_x, unit_y, unit_state = unit_positions(result, network, times_min)
    site_xy = {site: (float(network.x_m[node]), float(network.y_m[node])) for site, node in world.site_node.items()}
    incident_xy = np.array([site_xy[i.spec.site] for i in result.incidents]).reshape(-1, 2)
    state, opacity = incident_states(result, times_min)
    shown = (state != NOT_SHOWN).any(axis=1)
    sites, unnamed = site_marks(scenario, world, result.plan, {unit.base for unit in result.units}, m)
    panels = map_panels(view, sites, np.concatenate([unit_x.ravel(), incident_xy[shown, 0]]),
                        np.concatenate([unit_y.ravel(), incident_xy[shown, 1]]), aspect)
    views = np.array([panel.view_m for panel in panels])
    extent = (views[:, 0].min(), views[:, 1].min(), views[:, 2].max(), views[:, 3].max())
    segments, segment_class = segments_in_view(network, extent)
    joint_texts, unit_text = joint_markers(result.units, unit_x, unit_y, unit_state)
    unit_ids = [unit_name(unit) for unit in result.units]
    stack_texts, unit_text = stacked_markers(unit_ids, unit_x, unit_y, unit_state, unit_text,
                                             len(unit_ids) + len(joint_texts), m)
    in_view = [any(panel.contains(np.array(s.x_m), np.array(s.y_m)) for panel in panels) for s in sites]
    sites = [site for site, inside in zip(sites, in_view) if inside]
    start: datetime = scenario.clock.start
    title = m("anim.title", scenario=scenario.name, plan=result.plan, rep=result.rep)
    return Frames(
        title=title,
        synthetic=network.synthetic,
        clock_labels=[m.date(start + timedelta(minutes=float(t))) for t in times_min],
        times_min=np.asarray(times_min, dtype=np.float64),
        panels=panels,
        unit_ids=unit_ids,
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
        incident_labels=incident_labels(state, m),
        joint_texts=joint_texts,
        stack_texts=stack_texts,
        unit_text=unit_text,
        towns=towns_in_view(network, panels, sites),
        unnamed_kinds=unnamed,
        messages=m,
    )


TOGETHER_M = 1.0  # vehicles this close, in the same state, are drawn as one marker


def _together(x_m: np.ndarray, y_m: np.ndarray, state: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For vehicles (rows) per frame: the first vehicle at the same spot in the same state (lead,
    (V, T)) and, per lead, the bits of the vehicles with it (mask, (V, T); bit j: vehicle j).
    Only ``free`` vehicles (V, T) are grouped; the others lead themselves alone."""
    n, n_frames = x_m.shape
    lead = np.repeat(np.arange(n)[:, None], n_frames, axis=1)
    for j in range(1, n):
        for i in range(j - 1, -1, -1):   # down to the first, so the smallest match wins
            together = (np.hypot(x_m[j] - x_m[i], y_m[j] - y_m[i]) < TOGETHER_M) & (state[j] == state[i])
            lead[j] = np.where(together & free[i] & free[j], lead[i], lead[j])
    mask = np.zeros((n, n_frames), dtype=np.int64)
    for j in range(n):
        mask[lead[j], np.arange(n_frames)] |= 1 << j
    return lead, mask


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
        lead, mask = _together(x_m[m], y_m[m], state[m], np.ones((len(m), n_frames), dtype=bool))
        for j in range(len(m)):
            text[m[j], lead[j] != j] = -1
            for bits in np.unique(mask[j][lead[j] == j]).tolist():
                if bits & (bits - 1):   # two vehicles or more: one joint marker
                    agencies = "+".join(units[m[b]].agency for b in range(len(m)) if bits >> b & 1)
                    label = f"{units[m[0]].joint_patrol}: {agencies}"
                    index = texts.setdefault(label, n_units + len(texts))
                    text[m[j], (lead[j] == j) & (mask[j] == bits)] = index
    return tuple(texts), text


def stacked_markers(names: list[str], x_m: np.ndarray, y_m: np.ndarray, state: np.ndarray, text: np.ndarray | None,
                    first_index: int, m: Messages) -> tuple[tuple[str, ...], np.ndarray | None]:
    """Units at one spot in one state (two cars waiting at one base) drawn as one marker named for
    all of them ("polri_car-3, polri_car-4"; three or more: "polri_car-3 +2 more"), so no name is
    hidden under another's marker. ``text`` is the joint markers' (None: none), whose markers are
    left alone; stacked labels are numbered from ``first_index``. Returns the labels and the new text."""
    n_units, n_frames = x_m.shape
    if n_units < 2 or n_units > MAX_UNIT_LABELS:
        return (), text
    own = np.repeat(np.arange(n_units, dtype=np.int16)[:, None], n_frames, axis=1) if text is None else text.copy()
    free = own == np.arange(n_units)[:, None]   # a unit with its own name (not in or leading a joint marker)
    lead, mask = _together(x_m, y_m, state, free)
    if (lead == np.arange(n_units)[:, None]).all():
        return (), text
    texts: dict[str, int] = {}
    for j in range(n_units):
        own[j, lead[j] != j] = -1
        for bits in np.unique(mask[j][(lead[j] == j) & free[j]]).tolist():
            if bits & (bits - 1):
                members = [names[b] for b in range(n_units) if bits >> b & 1]
                label = (", ".join(members) if len(members) == 2
                         else m("anim.stack.more", first=members[0], n=len(members) - 1))
                index = texts.setdefault(label, first_index + len(texts))
                own[j, (lead[j] == j) & (mask[j] == bits)] = index
    return tuple(texts), own


def unit_name(unit: Unit) -> str:
    """A unit's label: its id; a joint patrol's vehicle on its own is "joint-1 Polri" (together,
    the vehicles are one marker: see ``joint_markers``)."""
    return f"{unit.joint_patrol} {unit.agency}" if unit.joint_patrol else unit.unit_id


def speed_text(frames: Frames, fps: float) -> str:
    """How fast the animation plays, in words."""
    m = frames.messages
    return m("anim.speed", minutes=m.num(fps / frames.frames_per_min, "g"))
