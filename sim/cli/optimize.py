"""``optimize``: where the cars should stand, checked by simulation."""
from __future__ import annotations

import argparse

import os
import sys
from pathlib import Path

from sim.cli.common import add_force_flag, add_network_flag, folder_arg

def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    optimize = commands.add_parser("optimize", help="where should the cars stand: an integer program, "
                                   "checked by simulation against the scenario's plans")
    optimize.add_argument("scenario", type=Path)
    optimize.add_argument("--fleet", metavar="PLAN", help="place this plan's vehicles (types, counts, bases); "
                          "default: the scenario's first plan")
    optimize.add_argument("--units", metavar="N|A..B", help="N cars of the first unit type, or a range for the "
                          "fleet-size curve (at most 200)")
    optimize.add_argument("--objective", default="mclp", metavar="mclp|mexclp|pmedian",
                          help="maximal covering (default), expected covering, or least mean travel")
    optimize.add_argument("--candidates", default="sites", metavar="sites|bases|towns|nodes:K",
                          help="where a car may stand (default: the scenario's sites; nodes:K at most 5000)")
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
    optimize.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                          help="seconds per integer program (default 60, at most 3600)")
    optimize.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                          help="local worker processes for the simulation (default: the number of cores)")
    add_network_flag(optimize)
    optimize.add_argument("--out", type=folder_arg, help="output folder (default results/<scenario>/optimize-<objective>/)")
    optimize.add_argument("--json", action="store_true", help="print one JSON object")
    optimize.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                          help="change any scenario value by dotted path (repeatable), as for run")
    add_force_flag(optimize)
    return {"optimize": _cmd_optimize}


def _cmd_optimize(args: argparse.Namespace) -> int:
    from sim.optimize.command import run_optimize
    from sim.optimize.request import check_request

    return run_optimize(check_request(args), sys.argv)
