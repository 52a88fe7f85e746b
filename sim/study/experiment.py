"""The command line's experiments: ``run`` (plans x replications into a results folder, with
parts kept on disk, ``--resume`` and ``--reps auto``) and ``sweep`` (one run per value of a
parameter).

Both sit on the Python API (``sim.study.api.Study``): the scenario is loaded by a Study, the
replications run by the loop every Study runs (``runner.run_plans``), and the files are written
by ``Results.to_dir``. What is particular to the command line is here: each finished
(plan, replication) is saved at once as a part file under ``OUT/.parts/``, so an interrupted run
loses only the replications that were still running, and progress and the table are printed.
"""
from __future__ import annotations

import errno
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from sim.config import choose_plans, parse_override
from sim.config.limits import check_replications, check_work, expected_work
from sim.errors import InputError, RunStopped
from sim.files import LOCK_NAME, FolderLock, UnwritableFolder, foreign_message, write_text
from sim.study.api import Study, StudyCache
from sim.study.folders import auto_replications, check_same_run, run_identity
from sim.study.executors import executor_label, run_rep  # noqa: F401  (run_rep: part of this module's API)
from sim.study.parts import PARTS, PartFiles, resume_key  # noqa: F401
from sim.study.parts import code_hash as _code_hash  # noqa: F401  (resume: every .py under sim/, recursively)
from sim.study.results import Results, check_result_folder
from sim.study.runner import AUTO_BATCH_REPS, run_plans  # noqa: F401
from sim.study.stats import SUMMARY_COLUMNS
from sim.study.tables import NETWORK_COLUMN, csv_text  # noqa: F401


# Errors of a write that the user can act on (room, permissions, a folder gone), not bugs.
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT,
                 errno.EIO, errno.ENOTDIR}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")
MAX_FOLDER_NAME = 100  # characters of a sweep value's folder name


# -- choosing what to run ----------------------------------------------------------------------


def scenario_overrides(reps: int | None, seed: int | None, hours: float | None, sets: Sequence[str]) -> dict:
    """Overrides by dotted path from the command line flags (--set last, so it wins)."""
    overrides: dict[str, object] = {}
    for key, value in (("replications", reps), ("seed", seed), ("clock.duration_hours", hours)):
        if value is not None:
            overrides[key] = value
    for text in sets:
        key, value = parse_override(text)
        overrides[key] = value
    return overrides


def parse_reps(text: str | None) -> int | str | None:
    """--reps: a whole number >= 1, or 'auto'."""
    if text is None or text == "auto":
        return text
    try:
        reps = int(text)
    except ValueError:
        raise InputError(f"--reps {text[:40]}: expected a whole number or 'auto'") from None
    return check_replications(reps)


# -- the experiment ----------------------------------------------------------------------------------


def run_experiment(
    scenario_path: Path,
    plans: Sequence[str] | None = None,
    reps: int | str | None = None,
    seed: int | None = None,
    hours: float | None = None,
    sets: Sequence[str] = (),
    network: str | None = None,
    out_dir: Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    precision: float = 0.05,
    max_reps: int = 200,
    command_line: Sequence[str] = (),
    quiet: bool = False,
    figures: bool = True,
    force: bool = False,
    replace: bool = False,
    keep_parts: bool = False,
    report: bool = True,
    reference: str | None = None,
    event_effects: bool = False,
) -> tuple[Path, list[dict]]:
    """Run the chosen plans for every replication and write the result files.

    ``reps='auto'`` adds replications in batches until every plan's 95% interval on mean
    response is narrower than ``precision`` times the mean (or ``max_reps`` is reached).
    A run whose expected work is above the bounds of ``sim.config.limits`` is refused unless
    ``force``; a folder holding another run's results is refused unless ``replace``
    (``sim.study.folders``). The finished replications (``.parts/``) are deleted once the result
    files are in place unless ``keep_parts``; ``report`` (with ``figures``) writes report.html last.
    ``reference``: the plan the others are compared with, or "best" (Results.with_reference); the first by default.
    ``event_effects``: with calendar events, run each replication again without each event (events.csv).
    Returns the output folder and the summary rows.
    """
    started = time.perf_counter()
    auto = reps == "auto"
    study = Study(scenario_path, scenario_overrides(None if auto else reps, seed, hours, sets), network=network)
    out_dir, results = _run_and_write(
        study, plans, auto=auto, out_dir=out_dir, workers=workers, scheduler=scheduler, resume=resume,
        precision=precision, max_reps=max_reps, command_line=command_line, quiet=quiet, figures=figures,
        started=started, force=force, replace=replace, keep_parts=keep_parts, report=report, reference=reference,
        event_effects=event_effects)
    return out_dir, results.summary_rows


def _run_and_write(study: Study, plans: Sequence[str] | None, *, auto: bool, out_dir: Path | None, workers: int,
                   scheduler: str | None, resume: bool, precision: float, max_reps: int,
                   command_line: Sequence[str], quiet: bool, figures: bool, started: float,
                   force: bool = False, replace: bool = False, keep_parts: bool = False,
                   report: bool = True, reference: str | None = None,
                   event_effects: bool = False) -> tuple[Path, Results]:
    """One study's run with its parts on disk, then its files (and, unless quiet, its table).

    Everything that can be checked is checked before the output folder is touched; the folder
    is then locked for this run until its result set is in place.
    """
    scenario = study.scenario
    plan_names = choose_plans(scenario, plans)
    if reference not in (None, "best", *plan_names):
        raise InputError(f"--reference {reference[:60]}: not a plan of this run; give one of {', '.join(plan_names)}, "
                         "or best")
    study.network_spec  # a bad --network fails before the output folder is made
    check_work(expected_work(scenario, plan_names, max_reps if auto else scenario.replications), force)
    out_dir = check_result_folder(Path(out_dir) if out_dir is not None else Path("results") / scenario.name)
    with FolderLock(out_dir):
        road_network = study.network()
        key = resume_key(scenario, road_network)
        check_same_run(out_dir, _identity(study, plan_names, auto and (precision, max_reps)), key, replace=replace,
                       resume=resume)
        # Snaps the sites (errors early) and builds the travel tables; forked workers inherit the
        # world, the in-process and Dask runs are given it or its network.
        study.world()
        parts = PartFiles(out_dir, key, resume,
                          {plan.name: i for i, plan in enumerate(scenario.plans)})
        if not quiet:
            print(f"{scenario.name}: {len(plan_names)} plans, {scenario.clock.duration_hours:g} h each, "
                  f"on the {road_network.source_label}; {executor_label(workers, scheduler)}", file=sys.stderr,
                  flush=True)
        saved = (lambda: f"{parts.count()} finished replications are saved in {parts.folder}")
        try:
            results = run_plans(study, plan_names, auto=auto, precision=precision, max_reps=max_reps, parts=parts,
                                workers=workers, scheduler=scheduler, quiet=quiet, started=started,
                                event_effects=event_effects)
            if reference is not None:
                results = results.with_reference(reference)
            results.to_dir(out_dir, figures=figures, command_line=command_line, started=started)
        except KeyboardInterrupt:
            print(f"interrupted: {saved()}; run again with --resume to finish", file=sys.stderr)
            raise
        except RunStopped as stop:
            raise RunStopped(f"{stop}: {saved()}; run again with --resume to finish") from None
        except OSError as error:  # a full disk, a folder gone away or read-only (UnwritableFolder too)
            if not isinstance(error, UnwritableFolder) and error.errno not in _WRITE_ERRORS:
                raise
            where = (error.problems[0] if isinstance(error, UnwritableFolder)
                     else f"{out_dir}: cannot write there ({error.strerror or error})")
            raise InputError(f"{where}; any previous result files are unchanged; {saved()}: make room and run "
                             "again with --resume") from None
        if not keep_parts:
            shutil.rmtree(parts.folder, ignore_errors=True)  # the result files hold every row now
        if report and figures:
            _write_report(out_dir, study, quiet)
    if not quiet:
        print(results.table())
        page = " (report.html: the one-page report)" if (out_dir / "report.html").exists() else ""
        print(f"Results in {out_dir}/{page}")
    return out_dir, results


def _identity(study: Study, plans: Sequence[str], auto: tuple[float, int] | bool) -> dict:
    """The identity of the run ``study`` is about to make (sim.study.folders); ``auto``: with
    --reps auto, (precision, max_reps)."""
    scenario = study.scenario
    return run_identity(scenario.raw, plans, auto_replications(*auto) if auto else scenario.replications,
                        study.network().content_hash())


def _write_report(out_dir: Path, study: Study, quiet: bool) -> None:
    """report.html, after the result files: a report that fails says so and loses nothing."""
    from sim.study.report import write_report

    try:
        write_report(out_dir, study=study)
    except Exception as error:  # noqa: BLE001 (the results are written; say what failed, go on)
        print(f"warning: {out_dir / 'report.html'} not written ({type(error).__name__}: {str(error)[:200]}); the "
              f"result files are complete; `python run_sim.py report {out_dir}` tries again", file=sys.stderr)


# -- the sweep -----------------------------------------------------------------------------------------


def _sweep_studies(scenario_path: Path, param: str, values: Sequence[str], sets: Sequence[str],
                   run_options: dict) -> list[Study]:
    """One Study per value (sharing one cache); InputError for every value the scenario refuses,
    before anything runs (a problem every value shares is reported once)."""
    reps = run_options.get("reps")
    by_value: dict[str, list[str]] = {}
    studies = []
    cache = StudyCache()
    for text in values:
        overrides = scenario_overrides(None if reps == "auto" else reps, run_options.get("seed"),
                                       run_options.get("hours"), [*sets, f"{param}={text}"])
        try:
            studies.append(Study(scenario_path, overrides, network=run_options.get("network"), cache=cache))
        except InputError as error:
            by_value[text] = error.problems
    if by_value:
        shared = set.intersection(*map(set, by_value.values())) if len(by_value) == len(values) else set()
        problems = [p for p in next(iter(by_value.values())) if p in shared]
        problems += [f"--values {text}: {p}" for text, found in by_value.items() for p in found if p not in shared]
        raise InputError(problems)
    return studies


def safe_name(text: str) -> str:
    """``text`` as a folder name: letters, digits and ``. _ + = -`` kept, anything else (a slash,
    a space) becomes ``_``; never ``.`` or ``..`` or a hidden name; at most MAX_FOLDER_NAME characters."""
    name = _UNSAFE.sub("_", text)[:MAX_FOLDER_NAME]
    return "_" + name[1:] if name.startswith(".") else name or "_"


def sweep_folders(param: str, values: Sequence[str]) -> list[str]:
    """The folder of each sweep value inside the sweep's folder (``PARAM=VALUE``, made safe);
    InputError if two values would share one."""
    folders = [safe_name(f"{param}={text}") for text in values]
    seen: dict[str, str] = {}
    for text, folder in zip(values, folders):
        if folder in seen:
            raise InputError(f"--values: {seen[folder][:40]!r} and {text[:40]!r} would share the folder {folder}; "
                             "give values that differ in letters or digits")
        seen[folder] = text
    return folders


def check_sweep_folder(out_dir: Path) -> None:
    """InputError unless a sweep may write into ``out_dir``: empty, new, or a sweep's own folder."""
    if str(out_dir).strip() == "":
        raise InputError("--out '': give a folder name (an empty one would mean the current folder)")
    try:
        entries = list(out_dir.iterdir()) if out_dir.is_dir() else []
    except OSError as error:
        raise UnwritableFolder(f"{out_dir}: cannot write there ({error.strerror or error})") from None
    foreign = sorted(entry.name for entry in entries if not _sweep_entry(entry))
    if foreign:
        raise InputError(foreign_message(out_dir, foreign))


def _sweep_entry(entry: Path) -> bool:
    """Whether a sweep wrote this: its table, figure, lock, a value's result folder, or the
    temporary folder of a result set being swapped in."""
    name = entry.name
    if name.startswith("."):
        return name == LOCK_NAME or ".new-" in name or ".old-" in name
    return name in ("sweep.csv", "sweep.png") or (entry.is_dir() and "=" in name)


def run_sweep(
    scenario_path: Path,
    param: str,
    values: Sequence[str],
    out_dir: Path | None = None,
    quiet: bool = False,
    **run_options,
) -> Path:
    """Run the experiment once per value of one scenario parameter; write sweep.csv and sweep.png.

    ``run_options`` are run_experiment's (plans, reps, seed, hours, sets, network, workers, ...).
    The values share one network and, where they allow it, one world.
    """
    from sim.viz.plots import write_sweep_figure

    parsed = [parse_override(f"{param}={value}")[1] for value in values]
    options = dict(run_options)
    base_sets = list(options.pop("sets", ()))
    studies = _sweep_studies(scenario_path, param, values, base_sets, options)
    auto = options.pop("reps", None) == "auto"
    plans = options.pop("plans", None)
    for key in ("seed", "hours", "network"):
        options.pop(key, None)
    options = {"workers": 1, "scheduler": None, "resume": False, "precision": 0.05, "max_reps": 200,
               "command_line": (), "figures": True, "force": False, "replace": False, "keep_parts": False} | options
    options["report"] = False  # a value's folder is one point of the sweep; `report FOLDER` makes its page
    name = studies[0].scenario.name
    out_dir = Path(out_dir) if out_dir is not None else Path("results") / name / f"sweep-{safe_name(param)}"
    folders = sweep_folders(param, values)
    for study in studies:  # every value's expected work, before any runs
        check_work(expected_work(study.scenario, choose_plans(study.scenario, plans),
                                 options["max_reps"] if auto else study.scenario.replications), options.get("force", False))
    check_sweep_folder(out_dir)
    rows, synthetic = [], False
    with FolderLock(out_dir):
        for study, folder in zip(studies, folders):  # every value's folder, before any runs
            check_same_run(out_dir / folder, _identity(study, choose_plans(study.scenario, plans),
                                                       auto and (options["precision"], options["max_reps"])),
                           resume_key(study.scenario, study.network()), replace=options["replace"],
                           resume=options["resume"])
        for text, value, study, folder in zip(values, parsed, studies, folders):
            run_dir, results = _run_and_write(study, plans, auto=auto, out_dir=out_dir / folder, quiet=True,
                                              started=time.perf_counter(), **options)
            if not quiet:
                print(f"  {param} = {text}: done ({run_dir})", file=sys.stderr, flush=True)
            synthetic = results.network.synthetic
            label = results.network_label
            rows += [{"value": value, "value_text": text, **row, NETWORK_COLUMN: label} for row in results.summary_rows]
        # The value as typed: 0.1 stays 0.1, not 0.1000.
        table = [{**row, "value": row["value_text"]} for row in rows]
        write_text(out_dir / "sweep.csv", csv_text(["value", *SUMMARY_COLUMNS, NETWORK_COLUMN], table))
        write_sweep_figure(out_dir / "sweep.png", name, synthetic, param, rows)
    if not quiet:
        for row in rows:
            print(f"{param}={row['value_text']:10s} {row['plan']:22s} mean response "
                  f"{row['response_mean_min']:.1f} ± {row['response_mean_ci95']:.1f} min, within target "
                  f"{row['within_target_pct']:.1f}%")
        print(f"Sweep results in {out_dir}/")
    return out_dir
