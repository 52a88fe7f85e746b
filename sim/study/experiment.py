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
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from sim.config import choose_plans, parse_override
from sim.config.limits import check_work, expected_work
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError, RunStopped, ScenarioWarning
from sim.files import FolderLock, UnwritableFolder, write_text
from sim.forked import Forked, finish, start
from sim.study.api import Study, StudyCache
from sim.study.executors import executor_label, probe_scheduler, run_rep  # noqa: F401  (run_rep: this module's API)
from sim.study.command_folders import check_command_folder, claim_command_folder
from sim.study.folders import auto_replications, check_same_run, differences, run_identity
from sim.study.options import RunOptions
from sim.study.parts import PARTS, PartFiles, part_bounds, resume_key
from sim.study.results import Results, check_result_folder
from sim.study.runner import run_plans
from sim.study.stats import SUMMARY_COLUMNS
from sim.study.tables import NETWORK_COLUMN, csv_text


# Errors of a write that the user can act on (room, permissions, a folder gone), not bugs.
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT,
                 errno.EIO, errno.ENOTDIR}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")
MAX_FOLDER_NAME = 100  # characters of a sweep value's folder name
_PLAN_PLACE = re.compile(r"(?:^|: )plans\[\d+\]: plan '(.*?)': ")  # how a warning about one plan begins


# -- choosing what to run ----------------------------------------------------------------------

def scenario_overrides(reps: int | None, seed: int | None, hours: float | None, sets: Sequence[str],
                       names: OptionNames = API_NAMES) -> dict:
    """Overrides by dotted path from these run options (``sets``, ``KEY=VALUE`` texts, last, so they win)."""
    return RunOptions(reps=reps, seed=seed, hours=hours, sets=tuple(sets), names=names).overrides()


@contextmanager
def plan_warnings_only(plans: Sequence[str] | None) -> Iterator[None]:
    """Hold back the warnings of the block (a scenario being loaded); at its end issue them, but
    those about a plan not in ``plans`` (``plans[i]: plan 'NAME': ...``; None: every plan's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for held in caught:
        about = _PLAN_PLACE.search(str(held.message))
        if issubclass(held.category, ScenarioWarning) and about and plans is not None and about.group(1) not in plans:
            continue
        warnings.warn(held.message, stacklevel=3)


def load_study(scenario_path: Path, options: RunOptions, extra_sets: Sequence[str] = (), cache=None) -> Study:
    """The Study of a run; its scenario's warnings about a plan are issued only for the plans it runs."""
    with plan_warnings_only(options.plans):
        study = Study(scenario_path, options.overrides(extra_sets), network=options.network, cache=cache,
                      names=options.names)
    return study


# -- the experiment ----------------------------------------------------------------------------------


def run_experiment(scenario_path: Path, options: RunOptions) -> tuple[Path, list[dict]]:
    """Run the chosen plans for every replication and write the result files.

    With ``options.reps == "auto"`` replications are added in batches until every plan's 95%
    interval on mean response is narrower than ``precision`` times the mean (or ``max_reps`` is
    reached). A run whose expected work is above the bounds of ``sim.config.limits`` is refused
    unless ``force``; a folder holding another run's results is refused unless ``replace``
    (``sim.study.folders``). The finished replications (``.parts/``) are deleted once the result
    files are in place unless ``keep_parts``; ``report`` (with ``figures``) writes report.html last;
    ``reference`` is the plan the others are compared with, or "best" (Results.with_reference). Returns the output folder and the summary rows.
    """
    started = time.perf_counter()
    options.check()
    study = load_study(scenario_path, options)
    out_dir, results = run_and_write(study, options, started)
    return out_dir, results.summary_rows


def run_and_write(study: Study, options: RunOptions, started: float) -> tuple[Path, Results]:
    """One study's run with its parts on disk, then its files (and, with ``progress``, its table).

    Everything that can be checked is checked before the output folder is touched; the folder
    is then locked for this run until its result set is in place. A run that fails before it saves a
    replication leaves nothing behind: no lock, no record, no folder it made.
    """
    names = options.names
    scenario = study.scenario
    plan_names = choose_plans(scenario, options.plans, names.plans)
    if options.reference not in (None, "best", *plan_names):
        raise InputError(f"{names.reference} {options.reference[:60]}: not a plan of this run; give one of "
                         f"{', '.join(plan_names)}, or best")
    study.network_spec  # a bad network fails before the output folder is made
    check_work(expected_work(scenario, plan_names, options.max_reps if options.auto else scenario.replications),
               options.force, names.force)
    out_dir = check_result_folder(options.out if options.out is not None else Path("results") / scenario.name,
                                  names.out)
    if options.scheduler:
        probe_scheduler(options.scheduler, options.scheduler_wait_s, names)
    made = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()]  # innermost first
    try:
        with FolderLock(out_dir, names.out):
            results = _locked_run(study, plan_names, options, out_dir, started)
    finally:
        _remove_if_empty(made)  # a run that failed in a folder it made: not even the folder stays
    if options.progress:
        print(results.table(options.names))
        page = " (report.html: the one-page report)" if (out_dir / "report.html").exists() else ""
        print(f"Results in {out_dir}/{page}")
    return out_dir, results


def _locked_run(study: Study, plan_names: Sequence[str], options: RunOptions, out_dir: Path,
                started: float) -> Results:
    """The run in its locked folder: whose results the folder holds checked, the replications run
    and saved as parts, the result set and report.html written."""
    scenario, names = study.scenario, options.names
    had_parts = (out_dir / PARTS).exists()
    parts = None
    try:
        road_network = study.network()
        key = resume_key(scenario, road_network)
        check_same_run(out_dir, _identity(study, plan_names, options), key, replace=options.replace,
                       resume=options.resume, names=names)
        parts = PartFiles(out_dir, key, options.resume, {plan.name: i for i, plan in enumerate(scenario.plans)},
                          names, part_bounds(scenario))
        # Snaps the sites and builds the travel tables; forked workers inherit the world, the
        # in-process and Dask runs are given it or its network.
        study.world()
        results, map_drawing = _run(study, plan_names, options, parts, started, out_dir)
    except BaseException:
        if parts is not None and not had_parts and parts.count() == 0:
            shutil.rmtree(parts.folder, ignore_errors=True)  # only the record of a run that saved nothing
        raise
    if not options.keep_parts:
        shutil.rmtree(parts.folder, ignore_errors=True)  # the result files hold every row now
    if map_drawing is not None:
        _write_report(out_dir, study, options.lang, map_drawing)
    return results


def _run(study: Study, plan_names: Sequence[str], options: RunOptions, parts: PartFiles, started: float,
         out_dir: Path) -> tuple[Results, Forked | Callable | None]:
    """Run the replications not yet in ``parts`` and write the result set; what stops the run says
    how many replications are saved and how to go on. With report.html to come, its map is
    started (sim.forked.start) before the files are written, and returned to be finished."""
    names = options.names
    if options.progress:
        print(f"{study.scenario.name}: {len(plan_names)} plans, {study.scenario.clock.duration_hours:g} h each, "
              f"on the {study.network().source_label}; {executor_label(options.workers, options.scheduler)}",
              file=sys.stderr, flush=True)
    saved = (lambda: f"{parts.count()} finished replications are saved in {parts.folder}")
    try:
        # Nothing is drawn without figures (report.html needs them too).
        results = run_plans(study, plan_names, options, parts=parts, started=started,
                            meanwhile=_import_drawing if options.figures else None)
        if options.reference is not None:
            results = results.with_reference(options.reference)
        # The local processes that ran the replications (with Dask, as many) share the files with
        # this one: incidents.csv in pieces, the other tables, the figures and the report's map.
        processes = options.workers
        results.tables()  # made once, before any process forks
        from sim.study.report import results_map

        map_drawing = (start(lambda: results_map(results, study, options.lang), processes)
                       if options.report and options.figures else None)
        try:
            # force: whose results the folder holds was checked above, under the lock this run still holds
            results.to_dir(out_dir, figures=options.figures, command_line=options.command_line, started=started,
                           force=True, names=names, lang=options.lang, processes=processes)
        except BaseException:
            if isinstance(map_drawing, Forked):
                map_drawing.stop()
            raise
    except KeyboardInterrupt:
        print(f"interrupted: {saved()}; run again with {names.resume} to finish", file=sys.stderr)
        raise
    except RunStopped as stop:
        raise RunStopped(f"{stop}: {saved()}; run again with {names.resume} to finish") from None
    except OSError as error:  # a full disk, a folder gone away or read-only (UnwritableFolder too)
        if not isinstance(error, UnwritableFolder) and error.errno not in _WRITE_ERRORS:
            raise
        where = (error.problems[0] if isinstance(error, UnwritableFolder)
                 else f"{out_dir}: cannot write there ({error.strerror or error})")
        raise InputError(f"{where}; any previous result files are unchanged; {saved()}: make room and run "
                         f"again with {names.resume}") from None
    return results, map_drawing


def _import_drawing() -> None:
    """Import what draws the figures, the report and its map (matplotlib: about half a second of
    CPU), while the replications run on other processes rather than after them."""
    import sim.study.report  # noqa: F401
    import sim.viz.maps  # noqa: F401


def _remove_if_empty(folders: Sequence[Path]) -> None:
    """Remove ``folders`` (innermost first) while they are empty (a lock another run took since keeps them)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _identity(study: Study, plans: Sequence[str], options: RunOptions) -> dict:
    """The identity of the run ``study`` is about to make (sim.study.folders)."""
    scenario = study.scenario
    replications = (auto_replications(options.precision, options.max_reps) if options.auto
                    else scenario.replications)
    return run_identity(scenario.raw, plans, replications, study.network().content_hash())


def _write_report(out_dir: Path, study: Study, lang: str, map_drawing: Forked | Callable) -> None:
    """report.html in ``lang``, after the result files, with the map ``map_drawing`` gives
    (sim.forked.finish): a report that fails says so and loses nothing."""
    from sim.study.report import write_report

    try:
        write_report(out_dir, study=study, lang=lang, drawn_map=finish(map_drawing))
    except Exception as error:  # noqa: BLE001 (the results are written; say what failed, go on)
        print(f"warning: {out_dir / 'report.html'} not written ({type(error).__name__}: {str(error)[:200]}); the "
              f"result files are complete; `python run_sim.py report {out_dir}` tries again", file=sys.stderr)


# -- the sweep -----------------------------------------------------------------------------------------


def _sweep_studies(scenario_path: Path, param: str, values: Sequence[str], options: RunOptions) -> list[Study]:
    """One Study per value (sharing one cache); InputError for every value the scenario refuses,
    before anything runs (a problem every value shares is reported once)."""
    by_value: dict[str, list[str]] = {}
    studies = []
    cache = StudyCache()
    for text in values:
        try:
            studies.append(load_study(scenario_path, options, [f"{param}={text}"], cache=cache))
        except InputError as error:
            by_value[text] = error.problems
    if by_value:
        shared = set.intersection(*map(set, by_value.values())) if len(by_value) == len(values) else set()
        problems = [p for p in next(iter(by_value.values())) if p in shared]
        problems += [f"{options.names.values} {text}: {p}" for text, found in by_value.items()
                     for p in found if p not in shared]
        raise InputError(problems)
    return studies


def safe_name(text: str) -> str:
    """``text`` as a folder name: letters, digits and ``. _ + = -`` kept, anything else (a slash,
    a space) becomes ``_``; never ``.`` or ``..`` or a hidden name; at most MAX_FOLDER_NAME characters."""
    name = _UNSAFE.sub("_", text)[:MAX_FOLDER_NAME]
    return "_" + name[1:] if name.startswith(".") else name or "_"


def sweep_folders(param: str, values: Sequence[str], names: OptionNames = API_NAMES) -> list[str]:
    """The folder of each sweep value inside the sweep's folder (``PARAM=VALUE``, made safe);
    InputError if two values would share one."""
    folders = [safe_name(f"{param}={text}") for text in values]
    seen: dict[str, str] = {}
    for text, folder in zip(values, folders):
        if folder in seen:
            raise InputError(f"{names.values}: {seen[folder][:40]!r} and {text[:40]!r} would share the folder "
                             f"{folder}; give values that differ in letters or digits")
        seen[folder] = text
    return folders


SWEEP = "sweep"  # the command a sweep's folder records (sim.study.command_folders)


def _sweep_differs(held: dict, new: dict) -> str:
    """What differs between two sweeps' identities, in words."""
    if held.get("param") != new.get("param"):
        return f"a sweep of {held.get('param')}"
    if held.get("values") != new.get("values"):
        return f"values {', '.join(map(str, held.get('values') or []))[:60]}"
    found = [text for old, now in zip(held.get("runs") or [], new.get("runs") or []) for text in differences(old, now)]
    return "; ".join(dict.fromkeys(found)) or "another run"


def run_sweep(scenario_path: Path, param: str, values: Sequence[str], options: RunOptions) -> Path:
    """Run the experiment once per value of one scenario parameter; write sweep.csv and sweep.png.

    ``options.out`` is the sweep's folder (default ``results/<scenario>/sweep-<param>``); each value's
    results go into a ``PARAM=VALUE`` folder inside it. The values share one network and, where
    they allow it, one world.
    """
    from sim.i18n import messages
    from sim.viz.plots import write_sweep_figure

    options.check()
    names = options.names
    parsed = [parse_override(f"{param}={value}", names.sets)[1] for value in values]
    studies = _sweep_studies(scenario_path, param, values, options)
    name = studies[0].scenario.name
    out_dir = options.out if options.out is not None else Path("results") / name / f"sweep-{safe_name(param)}"
    folders = sweep_folders(param, values, names)
    for study in studies:  # every value's expected work, before any runs
        check_work(expected_work(study.scenario, choose_plans(study.scenario, options.plans, names.plans),
                                 options.max_reps if options.auto else study.scenario.replications),
                   options.force, names.force)
    if str(out_dir).strip() == "":
        raise InputError(f"{names.out} '': give a folder name (an empty one would mean the current folder)")
    identity = {"param": param, "values": list(values),
                "runs": [_identity(study, choose_plans(study.scenario, options.plans, names.plans), options)
                         for study in studies]}
    check_command_folder(out_dir, SWEEP, identity, options.replace, names, _sweep_differs)
    if options.scheduler:  # before the sweep's folder is claimed, as for a run
        probe_scheduler(options.scheduler, options.scheduler_wait_s, names)
    # A value's folder is one point of the sweep (`report FOLDER` makes its page); only the sweep speaks.
    value_options = options.with_(report=False, progress=False)
    rows, synthetic = [], False
    made = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()]  # innermost first
    try:
        with FolderLock(out_dir, names.out):
            # The sweep's folder is its own: the same sweep goes on (or is made again), another is
            # refused, or with replace removed whole before this one starts.
            claim_command_folder(out_dir, SWEEP, identity, options.replace, names, _sweep_differs)
            for study, folder in zip(studies, folders):  # every value's folder, before any runs
                chosen = choose_plans(study.scenario, options.plans, names.plans)
                check_same_run(out_dir / folder, _identity(study, chosen, options),
                               resume_key(study.scenario, study.network()), replace=options.replace,
                               resume=options.resume, names=names)
            for text, value, study, folder in zip(values, parsed, studies, folders):
                run_dir, results = run_and_write(study, value_options.with_(out=out_dir / folder), time.perf_counter())
                if options.progress:
                    print(f"  {param} = {text}: done ({run_dir})", file=sys.stderr, flush=True)
                synthetic = results.network.synthetic
                label = results.network_label
                rows += [{"value": value, "value_text": text, **row, NETWORK_COLUMN: label}
                         for row in results.summary_rows]
            # The value as typed: 0.1 stays 0.1, not 0.1000.
            table = [{**row, "value": row["value_text"]} for row in rows]
            write_text(out_dir / "sweep.csv", csv_text(["value", *SUMMARY_COLUMNS, NETWORK_COLUMN], table))
            write_sweep_figure(out_dir / "sweep.png", name, synthetic, param, rows, messages(options.lang))
    finally:
        _remove_if_empty(made)  # a sweep refused in a folder it made leaves no empty folder
    if options.progress:
        for row in rows:
            print(f"{param}={row['value_text']:10s} {row['plan']:22s} mean response "
                  f"{row['response_mean_min']:.1f} ± {row['response_mean_ci95']:.1f} min, within target "
                  f"{row['within_target_pct']:.1f}%")
        print(f"Sweep results in {out_dir}/")
    return out_dir
