"""From simulation records to the rows of incidents.csv and units.csv (SPEC §5)."""
from __future__ import annotations

from sim.model.simulate import RepResult

INCIDENT_COLUMNS = [
    "plan", "rep", "incident_id", "type", "site", "priority", "t_created_min",
    "t_first_dispatch_min", "t_first_arrival_min", "wait_min", "travel_min", "response_min",
    "full_response_min", "on_scene_min", "units_required", "units_sent", "escalated", "counted",
    "escalated_to",
]
SEASON_INCIDENT_COLUMNS = ["phase", "event"]  # only for a scenario with a calendar or events
SEASON_UNIT_COLUMNS = ["on_duty_h", "overtime_min"]  # only for a plan with duty windows or phase fleets
UNIT_COLUMNS = [
    "plan", "rep", "unit_id", "type", "agency", "busy_fraction", "km_driven", "incidents_served",
    "base", "patrol",
]


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def incident_rows(result: RepResult) -> list[dict]:
    """One row per incident of a replication, in order of creation."""
    rows = []
    for incident in result.incidents:
        spec, stage = incident.spec, incident.stage
        created = spec.t_created_min
        rows.append({
            "plan": result.plan,
            "rep": result.rep,
            "incident_id": spec.incident_id,
            "type": spec.stages[0].type,
            "site": spec.site,
            "priority": stage.priority,
            "t_created_min": created,
            "t_first_dispatch_min": incident.t_first_dispatch_min,
            "t_first_arrival_min": incident.t_first_arrival_min,
            "wait_min": _minus(incident.t_first_dispatch_min, created),
            "travel_min": _minus(incident.t_first_arrival_min, incident.t_first_dispatch_min),
            "response_min": _minus(incident.t_first_arrival_min, created),
            "full_response_min": _minus(incident.t_full_arrival_min, created),
            "on_scene_min": stage.on_scene_min,
            "units_required": stage.units_required,
            "units_sent": incident.units_sent,
            "escalated": int(incident.escalated),
            "counted": int(incident.counted),
            "escalated_to": stage.type if incident.escalated else "",
        })
        if spec.phase is not None:  # a scenario with a calendar or events (SEASON_INCIDENT_COLUMNS)
            rows[-1] |= {"phase": spec.phase, "event": spec.event}
    return rows


def unit_rows(result: RepResult) -> list[dict]:
    """One row per unit of a replication; figures cover the measurement window. Units that come
    and go (sim.model.shifts) also have on_duty_h (inside the window) and overtime_min."""
    rows = [
        {
            "plan": result.plan,
            "rep": result.rep,
            "unit_id": unit.unit_id,
            "type": unit.unit_type,
            "agency": unit.agency,
            "busy_fraction": unit.busy_fraction(),
            "km_driven": unit.stats.driven_m / 1000.0,
            "incidents_served": unit.stats.incidents_served,
            "base": unit.base_site,
            "patrol": unit.patrol.mode,
        }
        for unit in result.units
    ]
    for row, unit in zip(rows, result.units):
        books = getattr(unit, "shift", None)
        if books is not None:
            row |= {"on_duty_h": books.on_duty_h(unit.window_min), "overtime_min": books.overtime_min}
    return rows
