"""``run`` and ``sweep``: plans x replications into result files."""
from __future__ import annotations

import argparse

from pathlib import Path

from sim.cli.common import add_run_flags, run_options
from sim.errors import InputError


def add_folder_flags(parser: argparse.ArgumentParser) -> None:
    """--replace and --keep-parts: what happens to what is already in --out."""
    parser.add_argument("--replace", action="store_true",
                        help="replace the results of a different run in --out (without it such a run is refused; "
                        "the same run always replaces its own)")
    parser.add_argument("--keep-parts", action="store_true",
                        help="keep the finished replications (--out/.parts/) after the result files are written, "
                        "so a later --resume can add replications")


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    run = commands.add_parser("run", help="run plans x replications and write the result files")
    run.add_argument("scenario", type=Path)
    run.add_argument("--plan", action="append", metavar="P", help="only this plan (repeatable)")
    add_run_flags(run)
    add_folder_flags(run)
    run.add_argument("--resume", action="store_true",
                     help="keep the finished replications of an interrupted run in --out; run the rest")
    run.add_argument("--reference", metavar="PLAN|best",
                     help="compare every plan with this one (comparison.csv); best: the best plan among those with "
                     "as many units as the first (default: the first plan)")
    run.add_argument("--no-event-effects", dest="event_effects", action="store_false",
                     help="with calendar events: skip running each replication again without each event "
                     "(events.csv, what an event does to everyone else; it costs up to the time of the run)")

    sweep = commands.add_parser("sweep", help="run the experiment for each value of one parameter")
    sweep.add_argument("scenario", type=Path)
    sweep.add_argument("--param", required=True, metavar="PATH", help="dotted path, as for --set")
    sweep.add_argument("--values", required=True, metavar="V1,V2,...")
    sweep.add_argument("--plan", action="append", metavar="P", help="only this plan (repeatable)")
    add_run_flags(sweep)
    add_folder_flags(sweep)
    return {"run": _cmd_run, "sweep": _cmd_sweep}


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.study.experiment import run_experiment

    run_experiment(args.scenario, run_options(args))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.study.experiment import run_sweep

    from sim.config.limits import MAX_SWEEP_VALUES

    values = [v.strip() for v in args.values.split(",") if v.strip()]
    if not values:
        raise InputError("--values: give at least one value, e.g. --values 0.1,0.2,0.4")
    if len(values) > MAX_SWEEP_VALUES:
        raise InputError(f"--values: {len(values):,} values, more than the {MAX_SWEEP_VALUES} a sweep may take")
    run_sweep(args.scenario, args.param, values, run_options(args))
    return 0
