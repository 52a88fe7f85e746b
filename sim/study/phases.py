"""The season's result files (issue #11): summary_by_phase.csv and the figure by hour and phase,
for a scenario with a calendar or events. (The season's columns of incidents.csv and units.csv
come with the rows: sim.model.records.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from sim.config.clock import minute_of_day
from sim.files import write_text
from sim.i18n import Messages
from sim.model.incidents import MIN_PER_HOUR
from sim.study.stats import SUMMARY_COLUMNS, summary_row
from sim.study.tables import NETWORK_COLUMN, csv_text
from sim.study.shares import wilson_pct
from sim.viz.phase_plots import OUTSIDE_PHASES, write_season_figure

SUMMARY_BY_PHASE = "summary_by_phase.csv"
#: summary.csv's columns with the phase after the plan. busy_fraction_mean is of the whole run
#: (unit rows are not split by phase), so it is left empty here.
PHASE_SUMMARY_COLUMNS = [SUMMARY_COLUMNS[0], "phase", *SUMMARY_COLUMNS[1:], NETWORK_COLUMN]


def is_season(scenario: Any) -> bool:
    """Whether the scenario has a calendar or events (and so incidents carry phase and event)."""
    return scenario.calendar is not None or bool(scenario.events)


def phase_names(scenario: Any, incident_rows: Sequence[dict]) -> list[str]:
    """The calendar's phases in order, then ``(no phase)`` if incidents arose outside every phase."""
    names = [p.name for p in scenario.calendar.phases] if scenario.calendar is not None else []
    if any(row["phase"] == "" for row in incident_rows):
        names.append(OUTSIDE_PHASES)
    return names


def _phase(row: dict) -> str:
    return row["phase"] or OUTSIDE_PHASES


def phase_summary_rows(results: Any) -> list[dict]:
    """One row per plan and phase: summary.csv's figures over the incidents created in that phase."""
    target = results.scenario.target_response_min
    names = phase_names(results.scenario, results.incident_rows)
    out = []
    for plan in results.plans:
        incidents, units = results.rows[plan]
        for name in names:
            row = summary_row(plan, [r for r in incidents if _phase(r) == name], units, target)
            out.append(row | {"phase": name, "busy_fraction_mean": None, NETWORK_COLUMN: results.network_label})
    return out


def hour_of_day(clock_start: Any, row: dict) -> int:
    """The hour of the day (0-23, the clock's local time) an incident row was created in."""
    return int((minute_of_day(clock_start) + row["t_created_min"]) // MIN_PER_HOUR) % 24


def season_responses(incident_rows: Sequence[dict], plans: Sequence[str], names: Sequence[str],
                     clock_start: Any) -> tuple[dict, dict]:
    """The counted incidents' responses (None: never reached) per plan, by hour of day and by phase:
    what the season figure draws."""
    by_hour: dict[str, list[list]] = {plan: [[] for _ in range(24)] for plan in plans}
    by_phase: dict[str, dict[str, list]] = {plan: {name: [] for name in names} for plan in plans}
    for row in incident_rows:
        if row["counted"]:
            by_hour[row["plan"]][hour_of_day(clock_start, row)].append(row["response_min"])
            by_phase[row["plan"]][_phase(row)].append(row["response_min"])
    return by_hour, by_phase


def write_season_files(folder: Path, results: Any, figures: bool = True, m: Messages | None = None) -> None:
    """Into a result folder being written: summary_by_phase.csv and the figure by hour and phase, in
    the language of ``m`` (nothing for a scenario without a calendar or events)."""
    scenario = results.scenario
    folder = Path(folder)
    if not is_season(scenario):
        return
    incidents = results.incident_rows
    write_text(folder / SUMMARY_BY_PHASE, csv_text(PHASE_SUMMARY_COLUMNS, phase_summary_rows(results)))
    if figures:
        names = phase_names(scenario, incidents)
        by_hour, by_phase = season_responses(incidents, results.plans, names, scenario.clock.start)
        write_season_figure(folder / "figures", scenario.name, results.network.synthetic,
                            scenario.target_response_min, results.plans, by_hour, by_phase, names, wilson_pct, m)
