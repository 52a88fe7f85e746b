"""Command line: ``python run_sim.py [command] ...``.

Exit codes: 0 ok, 2 bad input, 1 internal error. Bad input prints one line per problem. Each
command is a module here with ``register(commands)``, which adds its parser and returns its handlers.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from sim.cli import animate, hypercube, network, optimize, report, run, serve, sites, validate
from sim.cli import map as map_command
from sim.cli.common import Parser, default_scenario
from sim.errors import InputError, RunStopped

#: the command modules, in the order --help lists them
COMMANDS = [run, validate, network, map_command, animate, hypercube, optimize, report, sites, serve]
Handler = Callable[[argparse.Namespace], int]


def _parser_and_handlers() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = Parser(prog="patrolsim", description="Patrol coverage simulator.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    handlers: dict[str, Handler] = {}
    for command in COMMANDS:
        handlers.update(command.register(commands))
    return parser, handlers


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    return _parser_and_handlers()[0]


def _with_default(argv: Sequence[str]) -> list[str]:
    """No arguments means the main job: ``run`` on the default scenario."""
    return list(argv) or ["run", str(default_scenario())]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line as :func:`main` does, without running it. A bad flag raises
    :class:`sim.errors.InputError` with the line ``main`` would print."""
    return build_parser().parse_args(_with_default(argv))


def _print_scenario_warnings() -> None:
    """Scenario warnings as ``warning: ...`` lines on stderr, each once per command, other
    warnings as usual."""
    import warnings

    from sim.errors import ScenarioWarning

    warnings.simplefilter("default", ScenarioWarning)  # also forgets those shown by an earlier main()
    if getattr(warnings.showwarning, "patrolsim", False):
        return
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 (warnings' signature)
        if issubclass(category, ScenarioWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    show.patrolsim = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: stop at once. What is in memory is hidden from the garbage collector first
    (``gc.freeze``): the command ends in a moment, and a collector pass over the records of a large
    replication, which runs with the collector paused, took seconds (16 s at 1.2 GB)."""
    import gc

    gc.freeze()
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop a run within a moment: finished replications are kept, the message
    says how to resume (worker processes end with their parent in any case)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)


def _end_now(code: int) -> None:
    """End the process at once with ``code``, its output flushed: after Ctrl-C the replications are
    saved and the folder unlocked, and what is left in memory (a large replication's records) would
    take seconds to free one object at a time for a process that is ending anyway."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``argv``, default the program's arguments); return the exit code.

    Run as the program (no ``argv``), Ctrl-C ends the process at once with code 130."""
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    _print_scenario_warnings()
    _stop_on_signals()
    try:
        parser, handlers = _parser_and_handlers()
        args = parser.parse_args(_with_default(argv))
        if args.command is None:
            parser.print_help()
            return 0
        return handlers[args.command](args)
    except InputError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except RunStopped as stopped:
        print(f"error: {stopped}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        if program:
            _end_now(130)
        return 130
    except BrokenPipeError:  # the reader of our output went away (| head): nothing left to say
        return 1
