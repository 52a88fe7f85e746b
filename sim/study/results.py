"""The results of a run (plans x replications) in memory: rows, summary and comparison as
pandas DataFrames, the terminal table, and the result files of SPEC §5 (``to_dir``)."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Sequence

from sim.config import scenario_hash
from sim.errors import InputError
from sim.files import LOCK_NAME, foreign_entries, foreign_message, replace_folder, write_text
from sim.model import INCIDENT_COLUMNS, UNIT_COLUMNS
from sim.study.parts import PARTS
from sim.study.stats import COMPARISON_COLUMNS, SUMMARY_COLUMNS, per_rep_figures
from sim.study.tables import NETWORK_COLUMN, csv_text, data_frame, format_table

PACKAGES = ("patrolsim", "simpy", "numpy", "scipy", "networkx", "osmnx", "pydantic", "pyyaml", "distributed")
RESULT_FILES = ("incidents.csv", "units.csv", "summary.csv", "comparison.csv", "manifest.json")
RESULT_SET = (*RESULT_FILES, "figures", PARTS, LOCK_NAME)  # what a result folder may hold
REPLICATION_COLUMNS = ["plan", "rep", "response_mean_min", "within_target_pct"]


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
    rows: dict[str, tuple[list[dict], list[dict]]] = field(repr=False)  # plan -> (incident rows, unit rows)
    summary_rows: list[dict] = field(repr=False)
    comparison_rows: list[dict] = field(repr=False)
    executor: str = "1 worker"       # how it ran, in words
    wall_time_s: float = 0.0         # load + simulate, seconds
    scenario_path: str | None = None  # the YAML file the scenario came from, if any

    @property
    def reference(self) -> str:
        """The plan the others are compared with (the first)."""
        return self.plans[0]

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
        return data_frame([*SUMMARY_COLUMNS, NETWORK_COLUMN], self._labelled(self.summary_rows))

    @cached_property
    def comparison(self):
        """DataFrame: each plan against the reference, paired by replication (comparison.csv)."""
        return data_frame([*COMPARISON_COLUMNS, NETWORK_COLUMN], self._labelled(self.comparison_rows))

    @cached_property
    def incidents(self):
        """DataFrame: one row per incident and replication, the columns of incidents.csv."""
        return data_frame(INCIDENT_COLUMNS, self.incident_rows)

    @cached_property
    def units(self):
        """DataFrame: one row per unit and replication, the columns of units.csv."""
        return data_frame(UNIT_COLUMNS, self.unit_rows)

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

    def table(self) -> str:
        """The text the command line prints after a run: the table, then notes on the roads and
        on sites with approximate positions."""
        lines = [format_table(self.summary_rows, self.comparison_rows, self.scenario.target_response_min)]
        if self.network.synthetic:
            lines.append(f"Road network: {self.network.described()}.")
        approximate = [s.id for s in self.scenario.sites if s.approximate]
        if approximate:
            lines.append(f"Sites with approximate or placeholder positions: {', '.join(approximate)}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (f"<Results {self.scenario.name}: {len(self.plans)} plans x {self.reps} replications, "
                f"{self.executor}, {self.wall_time_s:.1f} s>")

    # -- files ------------------------------------------------------------------------------------

    def manifest(self, command_line: Sequence[str] = ()) -> dict:
        """The content of manifest.json: the scenario as run and its hash, plans, replications,
        seed scheme, network, snapping, package versions, executor, wall time, command line."""
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
            "site_snap_m": {site: round(metres, 1) for site, metres in self.site_snap_m.items()},
            "executor": self.executor,
            "versions": _versions(),
            "wall_time_s": round(self.wall_time_s, 3),
            "command_line": list(command_line),
        }

    def to_dir(self, out_dir: str | Path, *, figures: bool = True, command_line: Sequence[str] = (),
               started: float | None = None) -> Path:
        """Write incidents.csv, units.csv, summary.csv, comparison.csv, figures/ (unless
        ``figures=False``) and manifest.json into ``out_dir`` (made if needed): the same files
        ``python run_sim.py run … --out`` writes. Returns the folder.

        The set is replaced as one: it is written into a temporary folder beside ``out_dir`` that
        then takes its place, so an error, Ctrl-C or a full disk leaves the previous set whole
        (and the finished replications of ``.parts/`` stay). A folder holding other files than a
        result set is refused (InputError), never emptied; so is one another run is writing.

        ``started`` (a ``time.perf_counter()`` value) makes the manifest's wall time run from
        then to now; by default it is the run's own.
        """

        def write(folder: Path) -> None:
            incidents = self.incident_rows
            write_text(folder / "incidents.csv", csv_text(INCIDENT_COLUMNS, incidents))
            write_text(folder / "units.csv", csv_text(UNIT_COLUMNS, self.unit_rows))
            write_text(folder / "summary.csv", csv_text([*SUMMARY_COLUMNS, NETWORK_COLUMN],
                                                        self._labelled(self.summary_rows)))
            write_text(folder / "comparison.csv", csv_text([*COMPARISON_COLUMNS, NETWORK_COLUMN],
                                                           self._labelled(self.comparison_rows)))
            if figures:
                from sim.viz.plots import write_figures

                write_figures(folder, self.scenario.name, self.network.synthetic, self.scenario.target_response_min,
                              incidents, self.summary_rows, {site.id: site.name for site in self.scenario.sites})
            manifest = self.manifest(command_line)
            if started is not None:
                manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
            write_text(folder / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")

        return replace_folder(check_result_folder(out_dir), write, RESULT_SET, keep=(PARTS,))


def check_result_folder(out_dir: str | Path, what: str = "--out") -> Path:
    """``out_dir`` as a Path if a result set may go there (InputError if not: an empty name, a
    file, a folder holding other files than a result set)."""
    if str(out_dir).strip() == "":
        raise InputError(f"{what} '': give a folder name (an empty one would mean the current folder)")
    out_dir = Path(out_dir)
    here = Path.cwd().resolve()
    if out_dir.resolve() == here or out_dir.resolve() in here.parents:
        raise InputError(f"{what} {out_dir}: is the current folder or holds it; a result set replaces its whole "
                         "folder, so give a folder of its own")
    foreign = foreign_entries(out_dir, RESULT_SET)
    if foreign:
        raise InputError(foreign_message(out_dir, foreign, what))
    return out_dir
