"""``serve``: the planning page, a local web application to move units on the map and see the answer."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import add_network_flag, cli_names, default_scenario


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    from sim.serve.server import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TIME_LIMIT_S, DEFAULT_WORKERS

    serve = commands.add_parser("serve", help="the planning page: move units on the map, see the simulated answer")
    serve.add_argument("scenario", type=Path, nargs="?", help="scenario YAML (default: the main job's)")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to listen on (default {DEFAULT_HOST}; any other needs the token)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    serve.add_argument("--token", help="the token every request must carry (default: none on 127.0.0.1, "
                                       "a random one printed with the address elsewhere)")
    serve.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                       help=f"simulation processes kept warm (default {DEFAULT_WORKERS})")
    serve.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, dest="time_limit", metavar="S",
                       help=f"seconds an evaluation may run before it is answered 503 (default {DEFAULT_TIME_LIMIT_S:g})")
    serve.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                       help="change any scenario value by dotted path (repeatable), as for run")
    add_network_flag(serve)
    return {"serve": _cmd_serve}


def _cmd_serve(args: argparse.Namespace) -> int:
    from sim.config import parse_override
    from sim.serve.server import serve

    scenario = args.scenario if args.scenario is not None else default_scenario()
    names = cli_names()
    overrides = dict(parse_override(text, names.sets) for text in args.sets)
    serve(scenario, overrides=overrides, network=args.network, host=args.host, port=args.port, token=args.token,
          workers=args.workers, time_limit_s=args.time_limit, names=names)
    return 0
