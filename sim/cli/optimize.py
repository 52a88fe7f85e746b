"""``optimize``: where the cars should stand, checked by simulation."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from sim.cli.common import add_force_flag, add_lang_flag, add_network_flag, cli_names, folder_arg

# Each setting of sim.optimize.request.Request and how this command line spells it.
FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "fleet", "units", "objective", "candidates", "busy", "refine", "refine_budget", "refine_metric", "verify_reps",
    "time_limit", "workers", "out", "goal", "for_kind", "for_type", "goal_rule", "exclude_unreachable", "bases",
    "phase", "at", "replace")} | {"sets": "--set", "target_response_min": "--set target_response_min=..."}


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    optimize = commands.add_parser("optimize", help="where should the cars stand: an integer program, "
                                   "checked by simulation against the scenario's plans")
    optimize.add_argument("scenario", type=Path)
    optimize.add_argument("--fleet", metavar="PLAN", help="place this plan's vehicles (types, counts, bases); "
                          "default: the scenario's first plan")
    optimize.add_argument("--units", metavar="N|A..B", help="N cars of the first unit type, or a range for the "
                          "fleet-size curve (at most 200); with --goal, the sizes searched")
    optimize.add_argument("--goal", type=float, metavar="SHARE", help="find the smallest fleet whose simulated share "
                          "within target reaches SHARE (0.90 = 90%%)")
    goal_of = optimize.add_mutually_exclusive_group()
    goal_of.add_argument("--for-kind", metavar="KIND", help="the goal counts incidents at sites of this kind (or of "
                         "the site set with this id prefix, e.g. tps)")
    goal_of.add_argument("--for-type", metavar="TYPE", help="the goal counts incidents of this disturbance type")
    optimize.add_argument("--goal-rule", default="lower", metavar="lower|mean",
                          help="a fleet meets the goal when the 95%% interval's lower bound (default) or the mean "
                          "reaches it")
    optimize.add_argument("--exclude-unreachable", action="store_true",
                          help="leave the sites no candidate reaches within the target out of the goal")
    optimize.add_argument("--objective", default="mclp", metavar="mclp|mexclp|pmedian",
                          help="maximal covering (default), expected covering, or least mean travel")
    optimize.add_argument("--candidates", default="sites", metavar="sites|bases|towns|nodes:K",
                          help="where a car may stand (default: the scenario's sites; nodes:K at most 5000)")
    optimize.add_argument("--bases", default="nearest-post", metavar="nearest-post|hq",
                          help="where placed units are based: the police post nearest their post (default) or the "
                          "plan's bases")
    optimize.add_argument("--phase", metavar="NAME", help="place the fleet for this calendar phase's demand and fleet")
    optimize.add_argument("--at", metavar="DATETIME", help="place for the phase in force at this date-time")
    optimize.add_argument("--busy", type=float, metavar="Q", help="MEXCLP busy probability in [0, 1) "
                          "(default: offered load / units)")
    optimize.add_argument("--refine", action="store_true", help="then move units one at a time, keeping a move "
                          "only when the simulation shows it helps")
    optimize.add_argument("--refine-budget", type=int, default=30, metavar="N",
                          help="simulated moves at most (default 30, at most 200)")
    optimize.add_argument("--refine-metric", default="within_target", metavar="within_target|response",
                          help="what a move must improve (default: the share within target)")
    optimize.add_argument("--verify-reps", type=int, metavar="R",
                          help="replications of the verification and of each refine move (default: the scenario's)")
    optimize.add_argument("--time-limit", type=float, metavar="S",
                          help="seconds per integer program (default 60; 10 with --goal; at most 3600)")
    optimize.add_argument("--workers", type=int, metavar="N",
                          help="local worker processes for the simulation (default: the number of cores; with "
                          "--goal, 1: each size is a short run, and this process keeps its travel trees for the next)")
    add_network_flag(optimize)
    optimize.add_argument("--out", type=folder_arg, help="output folder (default results/<scenario>/optimize-<objective>"
                          "[-units-N|-fleet-P|-goal-S][-refine][-phase-P]/, by what is asked)")
    optimize.add_argument("--replace", action="store_true",
                          help="replace --out's folder even if it holds another optimisation (it is replaced whole)")
    optimize.add_argument("--json", action="store_true", help="print one JSON object")
    add_lang_flag(optimize, what="the map, the fleet curve and the verification's figures")
    optimize.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                          help="change any scenario value by dotted path (repeatable), as for run")
    add_force_flag(optimize)
    return {"optimize": _cmd_optimize}


def check_request(args: argparse.Namespace):
    """A Request from parsed flags; InputError with every problem at once."""
    from sim.config.limits import check_replications, check_workers
    from sim.errors import InputError
    from sim.optimize.candidates import parse_candidates
    from sim.optimize.objectives import OBJECTIVES
    from sim.optimize.refine import MAX_BUDGET
    from sim.optimize.request import (BASES, DEFAULT_TIME_LIMIT_S, GOAL_RULES, GOAL_TIME_LIMIT_S, MAX_TIME_LIMIT_S,
                                      Goal, Request, parse_units)
    from sim.optimize.verify import METRICS

    problems: list[str] = []

    def attempt(check, *values):
        try:
            return check(*values)
        except InputError as error:
            problems.extend(error.problems)
            return None

    units = attempt(parse_units, args.units, "--units") if args.units is not None else ()
    if args.units is not None and args.fleet is not None:
        problems.append("--fleet and --units: give one (a plan's vehicles, or N cars of the first unit type)")
    if args.objective not in OBJECTIVES:
        problems.append(f"--objective {args.objective[:40]!r}: one of {', '.join(OBJECTIVES)}")
    candidates = attempt(parse_candidates, args.candidates, "--candidates")
    if args.busy is not None and not (math.isfinite(args.busy) and 0.0 <= args.busy < 1.0):
        problems.append(f"--busy {args.busy}: a probability from 0 up to (not including) 1")
    if units and len(units) > 1 and args.refine:
        problems.append("--refine works on one fleet size: give --units N, not a range")
    if not 1 <= args.refine_budget <= MAX_BUDGET:
        problems.append(f"--refine-budget {args.refine_budget}: from 1 to {MAX_BUDGET} simulated moves")
    if args.refine_metric not in METRICS:
        problems.append(f"--refine-metric {args.refine_metric[:40]!r}: one of {', '.join(METRICS)}")
    if args.verify_reps is not None:
        attempt(check_replications, args.verify_reps, "--verify-reps")
        if (args.refine or args.goal is not None) and args.verify_reps == 1:
            problems.append(f"--verify-reps {args.verify_reps}: {'--refine' if args.refine else '--goal'} needs at "
                            "least 2 replications (an interval needs two)")
    time_limit = args.time_limit
    if time_limit is None:
        time_limit = GOAL_TIME_LIMIT_S if args.goal is not None else DEFAULT_TIME_LIMIT_S
    if not (math.isfinite(time_limit) and 0 < time_limit <= MAX_TIME_LIMIT_S):
        problems.append(f"--time-limit {time_limit}: seconds, more than 0 and at most {MAX_TIME_LIMIT_S:g}")
    workers = args.workers if args.workers is not None else (1 if args.goal is not None else os.cpu_count() or 1)
    attempt(check_workers, workers, "--workers")
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        problems.append(f"--out {args.out}: is a file; name a folder")
    goal = None
    if args.goal is not None:
        if not (math.isfinite(args.goal) and 0 < args.goal <= 1):
            problems.append(f"--goal {args.goal}: a share above 0 and at most 1 (0.90 for 90%)")
        if args.fleet is not None:
            problems.append("--goal and --fleet: a goal search places N cars of the first unit type; give --units A..B "
                            "to bound the sizes, not a plan")
        if args.refine:
            problems.append("--goal and --refine: give one (a goal search simulates several fleet sizes)")
        if args.goal_rule not in GOAL_RULES:
            problems.append(f"--goal-rule {args.goal_rule[:40]!r}: one of {', '.join(GOAL_RULES)}")
        goal = Goal(args.goal, args.for_kind, args.for_type, args.goal_rule, args.exclude_unreachable)
    else:
        for name in ("for_kind", "for_type"):
            if getattr(args, name) is not None:
                problems.append(f"{FLAGS[name]}: says which incidents --goal counts; give --goal too")
        if args.exclude_unreachable:
            problems.append("--exclude-unreachable: leaves sites out of --goal; give --goal too")
    if args.bases not in BASES:
        problems.append(f"--bases {args.bases[:40]!r}: one of {', '.join(BASES)}")
    if args.phase is not None and args.at is not None:
        problems.append("--phase and --at: give one")
    if problems:
        raise InputError(problems)
    return Request(scenario=args.scenario, fleet=args.fleet, units=units, objective=args.objective,
                   candidates=candidates, busy=args.busy, refine=args.refine, refine_budget=args.refine_budget,
                   refine_metric=args.refine_metric, verify_reps=args.verify_reps, time_limit_s=time_limit,
                   workers=workers, network=args.network, out=args.out, json=args.json,
                   force=args.force, sets=tuple(args.sets), goal=goal, bases=args.bases, phase=args.phase,
                   at=args.at, replace=args.replace, flags=FLAGS, names=cli_names(), lang=args.lang)


def _cmd_optimize(args: argparse.Namespace) -> int:
    from sim.optimize.command import run_optimize

    return run_optimize(check_request(args), sys.argv)
