"""``report``: a results folder as one self-contained page (report.html) a planner can mail."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import add_lang_flag, add_network_flag


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    report = commands.add_parser("report", help="write RESULTS_DIR/report.html: the results on one page")
    report.add_argument("results", type=Path, metavar="RESULTS_DIR", help="a folder `run` wrote")
    add_network_flag(report)
    add_lang_flag(report, default=None, what="the page, its map and figures")
    report.add_argument("--replace", action="store_true",
                        help="replace RESULTS_DIR/report.html even if patrolsim did not write it as this run's report")
    return {"report": _cmd_report}


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.files import FolderLock
    from sim.study.report import read_folder, write_report

    read_folder(args.results)  # not a results folder: one line, before the folder is locked
    with FolderLock(args.results, "RESULTS_DIR"):  # not while a run replaces the folder
        path = write_report(args.results, network=args.network, replace=args.replace, replace_name="--replace",
                            lang=args.lang)
    print(f"report written to {path}")
    return 0
