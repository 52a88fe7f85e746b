"""From simulation records to the rows of incidents.csv and units.csv (SPEC §5)."""
from __future__ import annotations

from sim.model.simulate import CollectorPaused, RepResult

INCIDENT_COLUMNS = [
    "plan", "rep", "incident_id", "type", "site", "priority", "t_created_min",
    "t_first_dispatch_min", "t_first_arrival_min", "wait_min", "travel_min", "response_min",
    "full_response_min", "on_scene_min", "units_required", "units_sent", "escalated", "counted",
    "escalated_to",
]
SEASON_INCIDENT_COLUMNS = ["phase", "event"]  # only for a scenario with a calendar or events
SEASON_UNIT_COLUMNS = ["on_duty_h", "overtime_min"]  # only for a plan with duty windows or phase fleets
DETECTION_COLUMNS = ["t_reported_min", "report_delay_min", "detected_by"]  # only with a detection block
DETERRENCE_COLUMNS = ["deterred"]  # only with a deterrence block (a deterred candidate: counted 0, no response)
PREEMPT_COLUMNS = ["preempted"]  # only with dispatch.preempt: times the incident lost a unit to a more urgent one
OPTIONAL_INCIDENT_COLUMNS = [*SEASON_INCIDENT_COLUMNS, *DETECTION_COLUMNS, *DETERRENCE_COLUMNS, *PREEMPT_COLUMNS]
JOINT_UNIT_COLUMNS = ["joint_patrol"]  # only when a plan has joint patrols: the patrol's label, "" for none
OPTIONAL_UNIT_COLUMNS = [*SEASON_UNIT_COLUMNS, *JOINT_UNIT_COLUMNS]
UNIT_COLUMNS = [
    "plan", "rep", "unit_id", "type", "agency", "busy_fraction", "km_driven", "incidents_served",
    "base", "patrol",
]


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


@CollectorPaused()  # rows are kept, none is cyclic garbage: a collector pass would only re-scan them
def incident_rows(result: RepResult) -> list[dict]:
    """One row per incident of a replication, in order of creation."""
    # One row per incident of every replication: the differences are written out inline, and the
    # optional columns are added in passes of their own only when the scenario has them.
    plan, rep = result.plan, result.rep
    rows = []
    append = rows.append
    for incident in result.incidents:
        # Unpacked whole (a field added to IncidentSpec or Stage fails here, loudly): cheaper than by name.
        incident_id, site, created, stages, _, _ = incident.spec
        stage_type, priority, units_required, on_scene_min, _ = incident.stage
        dispatch, arrival, full = incident.t_first_dispatch_min, incident.t_first_arrival_min, incident.t_full_arrival_min
        escalated = incident.stage_index > 0
        append({
            "plan": plan,
            "rep": rep,
            "incident_id": incident_id,
            "type": stages[0].type,
            "site": site,
            "priority": priority,
            "t_created_min": created,
            "t_first_dispatch_min": dispatch,
            "t_first_arrival_min": arrival,
            "wait_min": None if dispatch is None else dispatch - created,
            "travel_min": None if arrival is None or dispatch is None else arrival - dispatch,
            "response_min": None if arrival is None else arrival - created,
            "full_response_min": None if full is None else full - created,
            "on_scene_min": on_scene_min,
            "units_required": units_required,
            "units_sent": incident.units_sent,
            "escalated": 1 if escalated else 0,
            "counted": 1 if incident.counted else 0,
            "escalated_to": stage_type if escalated else "",
        })
    incidents = result.incidents
    if any(incident.spec.phase is not None for incident in incidents):
        for row, incident in zip(rows, incidents):
            spec = incident.spec
            if spec.phase is not None:  # a scenario with a calendar or events (SEASON_INCIDENT_COLUMNS)
                row["phase"], row["event"] = spec.phase, spec.event
    if "detection" in result.presence:
        for row, incident in zip(rows, incidents):
            row["t_reported_min"] = incident.t_reported_min
            row["report_delay_min"] = _minus(incident.t_reported_min, incident.spec.t_created_min)
            row["detected_by"] = incident.detected_by
    if "deterrence" in result.presence:
        for row, incident in zip(rows, incidents):
            row["deterred"] = int(incident.deterred)
    if result.preempted is not None:
        preempted = result.preempted
        for row, incident in zip(rows, incidents):
            row["preempted"] = preempted.get(incident.spec.incident_id, 0)
    return rows


def incident_columns(rows: list[dict]) -> list[str]:
    """The columns of incidents.csv for these rows: INCIDENT_COLUMNS and the optional ones they hold."""
    first = rows[0] if rows else {}
    return INCIDENT_COLUMNS + [column for column in OPTIONAL_INCIDENT_COLUMNS if column in first]


def unit_columns(rows: list[dict], season: bool = False) -> list[str]:
    """The columns of units.csv for these rows: UNIT_COLUMNS, with ``season`` SEASON_UNIT_COLUMNS
    (sim.study.phases fills them in), and joint_patrol when the rows have it."""
    first = rows[0] if rows else {}
    return UNIT_COLUMNS + SEASON_UNIT_COLUMNS * season + [c for c in JOINT_UNIT_COLUMNS if c in first]


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
        books = unit.shift
        if books is not None:
            row |= {"on_duty_h": books.on_duty_h(unit.window_min), "overtime_min": books.overtime_min}
        if result.joint_columns:  # one row per vehicle; the vehicles of a joint patrol share its label
            row["joint_patrol"] = unit.joint_patrol
    return rows
