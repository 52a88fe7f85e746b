"""What the commands share: the parser that reports bad flags as input errors, common flags, the
default scenario and the run options."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim.errors import InputError

DEFAULT_SCENARIO = Path("scenarios") / "jember_pilkada_2024.yaml"


class Parser(argparse.ArgumentParser):
    """argparse that reports bad flags like every other bad input: one line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message} (see --help)")


def count_text(n: int, noun: str) -> str:
    """``1 incident``, ``0 incidents``, ``4,041 sites``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def default_scenario() -> Path:
    """The default scenario: from the current folder, else from the project checkout."""
    if DEFAULT_SCENARIO.exists():
        return DEFAULT_SCENARIO
    return Path(__file__).resolve().parents[2] / DEFAULT_SCENARIO


def add_network_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--network",
        metavar="demo|osm|PATH",
        help="road network: the synthetic demo network, OSM download (place/bbox from the "
        "scenario), or a local .osm/.osm.bz2/.osm.pbf/.graphml file",
    )


def add_lang_flag(parser: argparse.ArgumentParser, default: str | None = "en", what: str = "") -> None:
    """--lang: the language of the pages and figures written (CSV files and the terminal stay English)."""
    from sim.i18n import LANGUAGE_NAMES, LANGUAGES

    names = ", ".join(f"{code} {LANGUAGE_NAMES[code]}" for code in LANGUAGES)
    parser.add_argument("--lang", choices=LANGUAGES, default=default, metavar="|".join(LANGUAGES),
                        help=f"language of {what or 'the pages and figures'} ({names}; default: "
                        f"{default or 'the one the results were written in'}); CSV files and the terminal stay English")


def folder_arg(text: str) -> Path:
    """--out of run and sweep: a folder name; an empty one would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a folder name (an empty one would mean the current folder)")
    return Path(text)


def file_arg(text: str) -> Path:
    """--out of map and animate: a file name (one that ends in a slash names a folder)."""
    if not text.strip() or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r}: give a file name, not a folder")
    return Path(text)


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    from sim.config.limits import DEFAULT_SCHEDULER_TIMEOUT_S, SCHEDULER_TIMEOUT_S
    from sim.study.options import DEFAULT_MAX_REPS, DEFAULT_PRECISION

    parser.add_argument("--reps", metavar="N|auto",
                        help="replications per plan; 'auto' adds them until the interval is narrow")
    parser.add_argument("--precision", type=float, metavar="SHARE",
                        help="with --reps auto: 95%% half-width at most this share of the mean "
                        f"(default {DEFAULT_PRECISION:g})")
    parser.add_argument("--max-reps", type=int, help=f"with --reps auto: at most this many (default {DEFAULT_MAX_REPS})")
    parser.add_argument("--seed", type=int, help="base random seed")
    parser.add_argument("--hours", type=float, help="simulated duration in hours")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                        help="change any scenario value by dotted path (repeatable), e.g. "
                        "disturbances.provocation.rate_per_hour=0.3")
    add_network_flag(parser)
    add_lang_flag(parser, what="the figures and report.html")
    parser.add_argument("--out", type=folder_arg, help="output folder (default results/<scenario name>/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="local processes: they run the replications, then write the files and draw the figures and "
                             "the report's map (with --scheduler, only the files) (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster instead")
    low, high = SCHEDULER_TIMEOUT_S
    parser.add_argument("--scheduler-timeout", type=float, metavar="SECONDS",
                        help="with --scheduler: how long to wait for the scheduler to answer, for its first worker, "
                        "and for a cluster that lost its workers to get one back "
                        f"({low:g} to {high:g}; default {DEFAULT_SCHEDULER_TIMEOUT_S:g})")
    add_force_flag(parser)


def add_force_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="run even when the expected work is above the bounds (see docs/limits.md)")


def network_spec_arg(arg: str | None):
    from sim.config.network_spec import NetworkSpec, network_spec_from_arg

    return network_spec_from_arg(arg, "--network") if arg else NetworkSpec("demo")


def cli_names():
    """The options as the command line names them, for messages from below it."""
    from sim.config.option_names import OptionNames

    return OptionNames(out="--out", replace="--replace", resume="--resume", keep_parts="--keep-parts", reps="--reps",
                       precision="--precision", max_reps="--max-reps", workers="--workers", scheduler="--scheduler",
                       scheduler_timeout="--scheduler-timeout", values="--values", reference="--reference",
                       plans="--plan", sets="--set",
                       set_where="on the command line", network="--network", force="--force",
                       approximate="--approximate", lang="--lang")


def parse_reps(text: str | None) -> int | str | None:
    """--reps: a whole number >= 1, or 'auto'."""
    from sim.config.limits import check_replications

    if text is None or text == "auto":
        return text
    try:
        reps = int(text)
    except ValueError:
        raise InputError(f"--reps {text[:40]}: expected a whole number or 'auto'") from None
    return check_replications(reps, "--reps")


def run_options(args: argparse.Namespace):
    """The RunOptions of ``run`` and ``sweep`` from their flags (checked); a flag not given keeps
    the default of RunOptions."""
    from sim.study.options import RunOptions

    given = {"precision": args.precision, "max_reps": args.max_reps, "out": args.out,
             "scheduler_timeout_s": args.scheduler_timeout}
    return RunOptions(
        plans=args.plan, reps=parse_reps(args.reps), seed=args.seed, hours=args.hours, sets=args.sets,
        network=args.network, workers=args.workers, scheduler=args.scheduler, replace=args.replace,
        resume=getattr(args, "resume", False), keep_parts=args.keep_parts, force=args.force, progress=True,
        reference=getattr(args, "reference", None), event_effects=getattr(args, "event_effects", False),
        lang=args.lang, command_line=sys.argv, names=cli_names(), **{key: value for key, value in given.items() if value is not None},
    ).check()
