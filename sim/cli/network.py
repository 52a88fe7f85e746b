"""``network info|build``: the road network."""
from __future__ import annotations

import argparse
import json
from sim.cli.common import Parser, add_network_flag, network_spec_arg
from sim.errors import InputError

def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    network = commands.add_parser("network", help="road network: info or build")
    network_commands = network.add_subparsers(dest="network_command", parser_class=Parser)
    info = network_commands.add_parser("info", help="nodes, edges, connectivity, bbox, source")
    add_network_flag(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    build = network_commands.add_parser("build", help="build or download, then cache")
    add_network_flag(build)
    return {"network": _cmd_network}


def _cmd_network(args: argparse.Namespace) -> int:
    from sim.network.roads import load_network

    if args.network_command is None:
        raise InputError("network: say 'info' or 'build' (see --help)")
    network = load_network(network_spec_arg(args.network))
    info = network.info()
    if args.network_command == "build":
        print(f"{info['source_label']}: {info['nodes']} nodes, {info['edges']} edges")
        print(f"cached at {info['cache_path']}")
    elif args.json:
        print(json.dumps(info, sort_keys=True))
    else:
        for key, value in info.items():
            print(f"{key:26s} {value}")
    return 0
