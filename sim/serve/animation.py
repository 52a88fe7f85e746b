"""``GET /api/animation``: one replication of a plan, traced, as frames the page plays on its map.

The frames are the animation modules' (``sim.viz.animate_frames``: unit positions from the
movement trace, incident states, the unit each is driving to); here they become compact JSON
in the page's plane (whole metres, ``RoadNetwork.x_m``/``y_m``). An incident's state goes as the
frames where it changes, which is short: most incidents change state a handful of times.
"""
from __future__ import annotations

import numpy as np

from sim.errors import InputError
from sim.model import simulate
from sim.model.incidents import MIN_PER_HOUR
from sim.viz.animate import window_overrides
from sim.viz.animate_frames import build_frames, frame_times_min, unit_name

PAGE_ASPECT = 1.5  # the frames' own view box is not used: the page shows its whole map


def _changes(row: np.ndarray) -> list[list[int]]:
    """[[frame, value], ...] where a row's value changes (the first frame always)."""
    if len(row) == 0:
        return []
    at = np.flatnonzero(np.diff(row, prepend=row[0] - 1))
    return [[int(k), int(row[k])] for k in at]


def animation_data(engine, evaluation, rep: int, from_hours: float, hours: float, frames_per_min: float) -> dict:
    """Frames of replication ``rep`` of the evaluation's plan, ``hours`` from ``from_hours`` after the
    clock's start (the run goes from the start, so units are where their patrols took them)."""
    study = engine.run_study(evaluation)
    if rep >= evaluation.reps:
        raise InputError(f"rep: {rep} is not one of the evaluation's replications (0 to {evaluation.reps - 1})")
    overrides = window_overrides(study.scenario, hours, from_hours)
    window = study.with_overrides(overrides)
    scenario, world = window.scenario, window.world()
    plan = evaluation.variant.name
    result = simulate(scenario, world, plan, rep, trace=True)
    times_min = from_hours * MIN_PER_HOUR + frame_times_min(hours, frames_per_min)
    frames = build_frames(scenario, world, result, times_min, frames_per_min, PAGE_ASPECT)
    figures = frames.figures
    return {
        "plan": plan, "rep": rep, "from_hours": from_hours, "hours": hours, "frames_per_min": frames_per_min,
        "frames": frames.n_frames,
        "clock": frames.clock_labels,
        # the page writes the clock in its own language from these: the clock's start, minutes after it
        "start": scenario.clock.start.isoformat(),
        "minutes": [round(float(m), 3) for m in times_min],
        "units": [unit_name(unit) for unit in result.units],
        "agencies": [unit.agency for unit in result.units],
        # frame-major: [frame][unit]
        "unit_x": np.round(frames.unit_x_m.T).astype(np.int64).tolist(),
        "unit_y": np.round(frames.unit_y_m.T).astype(np.int64).tolist(),
        "unit_state": frames.unit_state.T.astype(np.int64).tolist(),
        "unit_target": frames.unit_target.T.astype(np.int64).tolist(),
        "incident_x": np.round(frames.incident_x_m).astype(np.int64).tolist(),
        "incident_y": np.round(frames.incident_y_m).astype(np.int64).tolist(),
        "incident_types": [incident.spec.stages[0].type for incident in result.incidents],  # as created
        "incident_changes": [_changes(row) for row in frames.incident_state],
        "within_target_pct": [None if np.isnan(v) else round(float(v), 1) for v in figures["within_target_pct"]],
        "answered": figures["answered"].astype(np.int64).tolist(),
        "waiting": figures["waiting"].astype(np.int64).tolist(),
        "incidents_shown": frames.incidents_shown,
    }
