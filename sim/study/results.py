"""The results of a run (plans x replications) in memory: rows, summary, comparison and the
per-site and per-priority breakdowns as pandas DataFrames, the terminal table, and the result
files (``to_dir``)."""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import textwrap
import time
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Sequence

from sim.config import scenario_hash
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError
from sim.files import LOCK_NAME, foreign_entries, foreign_message, replace_folder, write_text
from sim.forked import run_calls
from sim.i18n import DEFAULT_LANGUAGE, messages
from sim.model.records import SEASON_UNIT_COLUMNS, incident_columns, unit_columns
from sim.study.areas import AREA_COLUMNS, area_note, area_rows, lists_areas, worst_areas
from sim.study.command_folders import sub_outputs
from sim.study.folders import check_same_run, holds_run, manifest_identity
from sim.study.parts import PARTS, resume_key
from sim.study.saved import FILES, MANIFEST, SavedResults, file_records
from sim.study.breakdowns import (PRIORITY_FILE_COLUMNS, priority_rows, site_file_columns, site_rows, with_deterred,
                                  worst_sites)
from sim.study.incident_columns import IncidentColumns
from sim.study.events import EVENT_COLUMNS, EVENTS_FILE, cost_share, event_lines, event_rows
from sim.study.result_notes import precision_note, presence_notes, site_notes
from sim.study.ranking import Measure, best_plan, headline, headline_measure, share_misleads
from sim.study.stats import (COMPARISON_COLUMNS, COMPARISON_PAIRED_COLUMNS, LATE_COLUMNS, SUMMARY_COLUMNS,
                             WEEK_COLUMNS, Counts, Window, comparisons, late_comparison, paired_row, per_rep_figures,
                             presence_columns, presence_figures, rep_counts, rep_figures_of, week_figures)
from sim.study.tables import NETWORK_COLUMN, WIDTH, csv_piece_calls, csv_text, data_frame, format_table

PACKAGES = ("patrolsim", "simpy", "numpy", "scipy", "networkx", "osmnx", "pydantic", "pyyaml", "distributed")
RESULT_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv", "comparison_pairs.csv", "sites.csv",
                "priorities.csv", "areas.csv", MANIFEST)
# what a result folder may hold (report.html: written by `run` and `report` after the set)
RESULT_SET = (*RESULT_FILES, "summary_by_phase.csv", EVENTS_FILE, "figures", "report.html", PARTS, LOCK_NAME)
REPLICATION_COLUMNS = ["plan", "rep", "response_mean_min", "within_target_pct"]
# comparison.csv: its first columns as they always were (network last among them), then the paired
# figures added later, so readers by position keep working.
COMPARISON_FILE_COLUMNS = [*COMPARISON_COLUMNS, NETWORK_COLUMN, *COMPARISON_PAIRED_COLUMNS, *LATE_COLUMNS, "units",
                           "reference_units"]
# summary.csv's columns after those it had (and after the detection and deterrence ones)
SUMMARY_COUNT_COLUMNS = ["units", *WEEK_COLUMNS]
REPORT_CI_COLUMN = "response_from_report_mean_ci95"  # last in summary.csv, with a detection block
# comparison_pairs.csv: every ordered pair of plans, plan minus other, paired by replication
PAIR_COLUMNS = ["plan", "units", "other", "other_units", "reps", "paired_reps", "response_diff_min",
                "response_diff_ci95", "response_verdict", "within_target_diff_pct", "within_target_diff_ci95",
                "within_target_verdict", "p90_diff_min", "p90_diff_ci95", "p90_verdict", *LATE_COLUMNS]


def _versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclass(eq=False)
class Results:
    """What ``Study.run`` returns: every row of every replication, and the tables made from them.

    ``summary``, ``comparison``, ``incidents`` and ``units`` are pandas DataFrames with the
    columns of the CSV files of the same names (full precision; the files round to 4 decimals).
    The first plan is the reference of the comparison. ``to_dir`` writes the files the command
    line writes; ``table()`` is the text it prints.
    """

    scenario: object                 # the Scenario as run (sim.config.Scenario)
    plans: list[str]                 # plan names in run order; plans[0] is the reference
    reps: int                        # replications per plan
    network: object                  # the RoadNetwork the run used
    site_snap_m: dict[str, float]    # how far each site was moved to its road node (m)
    site_node: dict[str, int] = field(repr=False)  # the road node each site was snapped to
    rows: dict[str, tuple[list[dict], list[dict]]] = field(repr=False)  # plan -> (incident rows, unit rows)
    summary_rows: list[dict] = field(repr=False)
    comparison_rows: list[dict] = field(repr=False)
    executor: str = "1 worker"       # how it ran, in words
    wall_time_s: float = 0.0         # load + simulate, seconds
    scenario_path: str | None = None  # the YAML file the scenario came from, if any
    precision: dict | None = None    # with reps='auto': the aim and what was reached (manifest "precision")
    reference_plan: str | None = None  # the plan comparison_rows are against (None: the first); see with_reference
    # plan -> each replication's event figures (sim.study.events); None: not computed (or no events)
    event_figures: dict | None = field(default=None, repr=False)

    @property
    def reference(self) -> str:
        """The plan the others are compared with (the first unless ``with_reference`` chose another)."""
        return self.reference_plan or self.plans[0]

    def with_reference(self, reference: str) -> Results:
        """These results compared with another plan: a plan's name, or ``"best"``, the best plan
        by the headline figure among those with as many units as the first plan (sim.study.ranking)."""
        if reference == "best":
            reference = best_plan(self._summary_table[1], self.plans[0], self.measure)
        elif reference not in self.plans:
            raise InputError(f"reference {reference[:60]!r}: not a plan of this run; give one of "
                             f"{', '.join(self.plans)}, or best")
        rows = comparisons(self.rows, self.plans, self.scenario.target_response_min, self.reps, reference)
        return dataclasses.replace(self, comparison_rows=rows, reference_plan=reference)

    @property
    def window(self) -> Window:
        """The measured window (warm-up to the end of the clock) and the target, for the counts."""
        clock = self.scenario.clock
        return Window(clock.warmup_hours * 60.0, clock.duration_hours * 60.0, self.scenario.target_response_min)

    @property
    def measure(self) -> Measure:
        """What plans are ranked by: late incidents per week with deterrence, else the share within target."""
        return headline_measure(getattr(self.scenario, "deterrence", None) is not None,
                                self.scenario.target_response_min, messages("en"))

    def units_of(self, plan: str) -> int:
        """A plan's number of units (outside the phases of its fleets by phase)."""
        return self.scenario.plan(plan).n_units

    @property
    def network_label(self) -> str:
        """Which roads, in words (the ``network`` column of the tables)."""
        return self.network.source_label

    # -- rows and tables ------------------------------------------------------------------------

    @property
    def incident_rows(self) -> list[dict]:
        """One dict per incident and replication, plans in run order (the rows of incidents.csv)."""
        return [row for plan in self.plans for row in self.rows[plan][0]]

    @property
    def unit_rows(self) -> list[dict]:
        """One dict per unit and replication (the rows of units.csv)."""
        return [row for plan in self.plans for row in self.rows[plan][1]]

    def _labelled(self, rows: Sequence[dict]) -> list[dict]:
        label = {NETWORK_COLUMN: self.network_label}
        return [row | label for row in rows]

    @cached_property
    def summary(self):
        """DataFrame: one row per plan, the columns of summary.csv."""
        return data_frame(*self._summary_table)

    @property
    def _warmup_min(self) -> float:
        return self.scenario.clock.warmup_hours * 60.0

    @cached_property
    def _summary_table(self) -> tuple[list[str], list[dict]]:
        """summary.csv's columns and rows: detection and deterrence figures after the network, with
        their blocks, then the plan's units and its counts per week (and with detection the
        interval of the response from the report)."""
        extra = presence_columns(self.scenario)
        rows = []
        for row in self._labelled(self.summary_rows):
            found = self._columns[row["plan"]]
            rows.append(row | presence_figures(found, self._warmup_min, extra) | {"units": self.units_of(row["plan"])}
                        | week_figures(self._counts[row["plan"]], self.window))
        last = [REPORT_CI_COLUMN] if "response_from_report_mean_min" in extra else []
        return [*SUMMARY_COLUMNS, NETWORK_COLUMN, *extra, *SUMMARY_COUNT_COLUMNS, *last], rows

    @cached_property
    def _comparison_table(self) -> list[dict]:
        """comparison.csv's rows: the paired figures, then late incidents per week and the fleet sizes."""
        reference = self.reference
        return [row | late_comparison(self._counts[row["plan"]], self._counts[reference], self.window,
                                      row["plan"] == reference)
                | {"units": self.units_of(row["plan"]), "reference_units": self.units_of(reference)}
                for row in self._labelled(self.comparison_rows)]

    @cached_property
    def comparison(self):
        """DataFrame: each plan against the reference, paired by replication (comparison.csv)."""
        return data_frame(COMPARISON_FILE_COLUMNS, self._comparison_table)

    @cached_property
    def pair_rows(self) -> list[dict]:
        """Every ordered pair of plans, plan minus other, paired by replication (comparison_pairs.csv)."""
        target, reps, rows = self.scenario.target_response_min, range(self.reps), []
        figures = {plan: rep_figures_of(self._columns[plan], target, reps) for plan in self.plans}
        for plan in self.plans:
            for other in self.plans:
                if plan == other:
                    continue
                row = paired_row(plan, other, figures[plan], figures[other])
                rows.append(row | {"units": self.units_of(plan), "other": other, "other_units": self.units_of(other),
                                   "response_verdict": row["verdict"]}
                            | late_comparison(self._counts[plan], self._counts[other], self.window))
        return rows

    @cached_property
    def _counts(self) -> dict[str, Counts]:
        """Each plan's counts per replication (stats.rep_counts), made once for the tables that use them."""
        return {plan: rep_counts(self._columns[plan], self.window, range(self.reps)) for plan in self.rows}

    @cached_property
    def _columns(self) -> dict[str, IncidentColumns]:
        """Each plan's incident rows as numpy columns, made once for the tables that read every incident."""
        return {plan: IncidentColumns(self.rows[plan][0]) for plan in self.rows}

    @cached_property
    def pairs(self):
        """DataFrame: every ordered pair of plans, paired by replication (comparison_pairs.csv)."""
        return data_frame(PAIR_COLUMNS, self.pair_rows)

    @cached_property
    def site_rows(self) -> list[dict]:
        """One dict per plan and site, every site of the scenario (the rows of sites.csv)."""
        rows = site_rows(self._columns, self.plans, self.scenario.sites, self.scenario.target_response_min)
        if getattr(self.scenario, "deterrence", None) is None:
            return rows
        return with_deterred(rows, self._columns, self._warmup_min)

    @property
    def _site_columns(self) -> list[str]:
        return site_file_columns(getattr(self.scenario, "deterrence", None) is not None)

    @cached_property
    def priority_rows(self) -> list[dict]:
        """One dict per plan and priority as handled (the rows of priorities.csv)."""
        levels = {d.priority for d in self.scenario.disturbances}
        return priority_rows(self._columns, self.plans, levels, self.scenario.target_response_min)

    @cached_property
    def event_rows(self) -> list[dict]:
        """What each calendar event did to the other incidents, per plan and window (events.csv;
        empty without events, or when the runs without them were skipped)."""
        if not self.event_figures:
            return []
        return event_rows(self.scenario, self.plans, self.event_figures)

    @cached_property
    def events(self):
        """DataFrame: the rows of events.csv."""
        return data_frame(EVENT_COLUMNS, self.event_rows)

    @cached_property
    def area_rows(self) -> list[dict]:
        """One dict per plan and area (kecamatan), the rows of areas.csv (sim.study.areas)."""
        return area_rows(self.scenario, self.plans, self._columns, self.network, self.site_node)

    @cached_property
    def areas(self):
        """DataFrame: one row per plan and area (kecamatan), the columns of areas.csv."""
        return data_frame(AREA_COLUMNS, self.area_rows)

    @cached_property
    def sites(self):
        """DataFrame: one row per plan and site, the columns of sites.csv."""
        return data_frame(self._site_columns, self.site_rows)

    @cached_property
    def priorities(self):
        """DataFrame: one row per plan and priority as handled, the columns of priorities.csv."""
        return data_frame(PRIORITY_FILE_COLUMNS, self.priority_rows)

    @cached_property
    def incidents(self):
        """DataFrame: one row per incident and replication, the columns of incidents.csv."""
        return data_frame(incident_columns(self.incident_rows), self.incident_rows)

    @cached_property
    def units(self):
        """DataFrame: one row per unit and replication, the columns of units.csv."""
        return data_frame(*self._unit_table)

    @cached_property
    def _unit_table(self) -> tuple[list[str], list[dict]]:
        """units.csv's columns and rows: with on_duty_h and overtime_min when some unit comes and goes
        (shifts, fleets by phase); a unit on duty all the measured window has that window and no overtime."""
        rows = self.unit_rows
        if not any(SEASON_UNIT_COLUMNS[0] in row for row in rows):
            return unit_columns(rows), rows
        clock = self.scenario.clock
        always = {"on_duty_h": clock.duration_hours - clock.warmup_hours, "overtime_min": 0.0}
        rows = [always | row for row in rows]
        return unit_columns(rows, season=True), rows

    @cached_property
    def replications(self):
        """DataFrame: each replication's mean response (min) and share within target (%), per plan:
        the observations behind the intervals (NaN for a replication without counted incidents)."""
        target = self.scenario.target_response_min
        rows = []
        for plan in self.plans:
            figures = per_rep_figures(self.rows[plan][0], target, range(self.reps))
            rows += [{"plan": plan, "rep": rep, "response_mean_min": mean, "within_target_pct": within}
                     for rep, (mean, within) in figures.items()]
        return data_frame(REPLICATION_COLUMNS, rows)

    def table(self, names: OptionNames = API_NAMES) -> str:
        """The text (English) the command line prints after a run: the table, paired differences, worst
        sites, then notes on precision (reps='auto'), the roads and sites whose positions are
        placeholders or approximate."""
        urgent = min((row["priority"] for row in self.priority_rows), default=None)
        top = {row["plan"]: row for row in self.priority_rows if row["priority"] == urgent}
        by_area = lists_areas(self.scenario)
        worst = {plan: worst_areas(self.area_rows, plan) if by_area else worst_sites(self.site_rows, plan)
                 for plan in self.plans}
        summary = self._summary_table[1]
        target = self.scenario.target_response_min
        sentences = headline(summary, self.pair_rows, self.reference, self.measure, target, messages("en"))
        if getattr(self.scenario, "deterrence", None) is not None:
            sentences.append(share_misleads(messages("en")))
        table = format_table(summary, self._comparison_table, target, top, worst, sentences, self.window.weeks,
                             "kecamatan" if by_area else "sites", self.window.count_scale)
        lines = [*table.split("\n"), ""]
        cost = cost_share(self.event_figures) if self.event_figures else math.nan
        lines += event_lines(self.event_rows, bool(self.scenario.events), cost)
        lines += presence_notes(self._summary_table[1])
        if by_area:
            lines.append(area_note(self.area_rows))
        if self.precision is not None:
            lines.append(precision_note(self.precision, names))
        if self.network.synthetic:
            lines.append(f"Road network: {self.network.described()}.")
        lines += site_notes(self.scenario.sites)
        return "\n".join(part for line in lines
                         for part in (textwrap.wrap(line, WIDTH) if len(line) > WIDTH else [line]))

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (f"<Results {self.scenario.name}: {len(self.plans)} plans x {self.reps} replications, "
                f"{self.executor}, {self.wall_time_s:.1f} s>")

    # -- files ------------------------------------------------------------------------------------

    def manifest(self, command_line: Sequence[str] = (), lang: str = DEFAULT_LANGUAGE) -> dict:
        """The content of manifest.json: the scenario as run and its hash, plans, replications, seed
        scheme, network, snapping, package versions, executor, wall time, command line, ``lang``."""
        network = self.network
        raw = dict(self.scenario.raw, replications=self.reps)
        return {
            "scenario": raw,
            "scenario_sha256": scenario_hash(raw),
            "scenario_path": self.scenario_path,
            "plans": list(self.plans),
            "replications": self.reps,
            "seed": self.scenario.seed,
            "rep_seeds": "replication k draws from numpy SeedSequence(seed, spawn_key=(k, purpose, index)), "
                         f"k = 0..{self.reps - 1}; random-patrol road pools from SeedSequence(seed, "
                         "spawn_key=(4, base node, size, radius m))",
            "network": {
                "source": network.info()["source"],
                "source_label": network.source_label,
                "synthetic": network.synthetic,
                "nodes": network.n_nodes,
                "edges": network.n_edges,
                "content_hash": network.content_hash(),
            },
            "placeholder_or_approximate_sites": [s.id for s in self.scenario.sites if s.approximate],
            "precision": self.precision,
            "site_snap_m": {site: round(metres, 1) for site, metres in self.site_snap_m.items()},
            "executor": self.executor,
            "versions": _versions(),
            "wall_time_s": round(self.wall_time_s, 3),
            "command_line": list(command_line),
            "lang": lang,
        }

    def tables(self) -> dict[str, tuple[list[str], list[dict]]]:
        """Each CSV result file's name, columns and rows (events.csv only when there are events)."""
        incidents = self.incident_rows
        tables = {"incidents.csv": (incident_columns(incidents), incidents), "units.csv": self._unit_table,
                  "summary.csv": self._summary_table, "comparison.csv": (COMPARISON_FILE_COLUMNS, self._comparison_table),
                  "comparison_pairs.csv": (PAIR_COLUMNS, self.pair_rows), "sites.csv": (self._site_columns, self.site_rows),
                  "priorities.csv": (PRIORITY_FILE_COLUMNS, self.priority_rows), "areas.csv": (AREA_COLUMNS, self.area_rows)}
        if self.event_rows:
            tables[EVENTS_FILE] = (EVENT_COLUMNS, self.event_rows)
        return tables

    def to_dir(self, out_dir: str | Path, *, figures: bool = True, command_line: Sequence[str] = (),
               started: float | None = None, force: bool = False, names: OptionNames = API_NAMES,
               lang: str = DEFAULT_LANGUAGE, processes: int = 1) -> Path:
        """Write incidents.csv, units.csv, summary.csv, comparison.csv, comparison_pairs.csv, sites.csv,
        priorities.csv, areas.csv, figures/ (unless ``figures=False``) and manifest.json into ``out_dir``
        (made if needed): the same files ``python run_sim.py run`` writes. Returns the folder.

        A folder holding the results of a different run (another scenario, seed, hours, replications,
        plans or road network) is refused (InputError) unless ``force``; the same run's results are
        replaced. The set is replaced as one: it is written into a temporary folder beside
        ``out_dir`` that then takes its place, so an error, Ctrl-C or a full disk leaves the previous
        set whole (and the finished replications of ``.parts/`` stay). A folder holding other files
        than a result set is refused, never emptied; so is one another run is writing.

        manifest.json records every other file with its size and sha256 (``from_dir`` checks them).
        ``started`` (a ``time.perf_counter()`` value) makes the manifest's wall time run from then
        to now; by default it is the run's own. ``names``: how the caller's user names the options,
        for messages. ``lang`` ("en", "id"): the figures' language, in manifest.json (not the CSVs').
        ``processes``: how many processes may write at once (this one and forked children share
        incidents.csv's pieces, the other tables and the figures; the files are the same).
        """
        m = messages(lang)  # an unknown language refused before anything is written

        def write(folder: Path) -> None:
            tables = self.tables()  # made here, before any fork, so no process makes them twice
            # The costliest first, as each process takes the next call when free (run_calls):
            # incidents.csv's pieces, then the figures from the last, the heat table, back.
            pieces = csv_piece_calls(*tables.pop("incidents.csv"), processes)
            calls: list = [*pieces]
            if figures:
                from sim.viz.plots import figure_calls

                calls += reversed(figure_calls(folder, self.scenario.name, self.network.synthetic,
                                               self.scenario.target_response_min, self.incident_rows,
                                               self.summary_rows, self.comparison_rows, self.site_rows,
                                               self.area_rows if lists_areas(self.scenario) else None, m))
            from sim.study.phases import write_season_files  # summary_by_phase.csv and its figure

            calls += [lambda: [write_text(folder / name, csv_text(*table)) for name, table in tables.items()],
                      lambda: write_season_files(folder, self, figures, m)]
            made = run_calls(calls, processes)
            write_text(folder / "incidents.csv", "".join(made[:len(pieces)]))
            manifest = self.manifest(command_line, lang)
            if started is not None:
                manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
            manifest[FILES] = file_records(folder)  # last: every file written above
            write_text(folder / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")

        identity = manifest_identity(self.manifest())

        def same_run(folder: Path) -> None:  # under the folder's lock, before anything is written
            if not force:
                check_same_run(folder, identity, resume_key(self.scenario, self.network), names=names)

        out_dir = check_result_folder(out_dir, names.out)
        # What other commands wrote for this scenario beside the run stays: the sweeps and
        # optimisations always (runs of their own), the maps drawn from the results when the run is
        # the same (a different run's replace them: they would show numbers no longer there).
        runs, maps = sub_outputs(out_dir)
        kept = [*runs, *(maps if holds_run(out_dir, identity) else [])]
        return replace_folder(out_dir, write, [*RESULT_SET, *runs, *maps], keep=(PARTS, *kept), what=names.out,
                              check=same_run)

    @staticmethod
    def from_dir(folder: str | Path) -> SavedResults:
        """The results in ``folder`` (one ``to_dir`` or the command line's ``run`` wrote), read back:
        a SavedResults whose ``manifest`` is read at once and whose tables (``summary``,
        ``comparison``, ``sites``, ``priorities``, ``incidents``, ``units``: DataFrames) are read
        when first asked for, each checked against the size and sha256 manifest.json records for
        it. InputError for a folder that is not a result folder, or a file that is not the one the
        run wrote."""
        return SavedResults.open(folder)


def check_result_folder(out_dir: str | Path, what: str = API_NAMES.out) -> Path:
    """``out_dir`` as a Path if a result set may go there (InputError if not: an empty name, a
    file, a folder holding other files than a result set and the sub-folders other commands wrote
    for it: sim.study.command_folders)."""
    if str(out_dir).strip() == "":
        raise InputError(f"{what} '': give a folder name (an empty one would mean the current folder)")
    out_dir = Path(out_dir)
    here = Path.cwd().resolve()
    if out_dir.resolve() == here or out_dir.resolve() in here.parents:
        raise InputError(f"{what} {out_dir}: is the current folder or holds it; a result set replaces its whole "
                         "folder, so give a folder of its own")
    foreign = foreign_entries(out_dir, [*RESULT_SET, *(name for names in sub_outputs(out_dir) for name in names)])
    if foreign:
        raise InputError(foreign_message(out_dir, foreign, what))
    return out_dir
