"""``hypercube``: Larson's hypercube model beside the simulation."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.cli.common import add_force_flag, add_network_flag, cli_names


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    hypercube = commands.add_parser("hypercube", help="Larson's hypercube model beside the simulation")
    hypercube.add_argument("scenario", type=Path)
    hypercube.add_argument("--plan", required=True, metavar="P", help="a plan whose units stay at posts or bases")
    hypercube.add_argument("--json", action="store_true", help="print one JSON object")
    hypercube.add_argument("--no-sim", action="store_true", help="the model only, no simulation")
    hypercube.add_argument("--approximate", action="store_true",
                           help="allow Larson's approximation for more than 20 units (the exact model's limit)")
    hypercube.add_argument("--reps", type=int, help="simulated replications (default: the scenario's)")
    hypercube.add_argument("--seed", type=int, help="base random seed")
    hypercube.add_argument("--hours", type=float, help="simulated duration in hours")
    hypercube.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
    add_network_flag(hypercube)
    add_force_flag(hypercube)
    return {"hypercube": _cmd_hypercube}


def _cmd_hypercube(args: argparse.Namespace) -> int:
    from sim.analytic.validation import comparison, format_comparison, plan_model, simulate_figures
    from sim.config.limits import check_replications, check_work, expected_work
    from sim.study.api import Study
    from sim.study.experiment import scenario_overrides

    names = cli_names()
    if args.reps is not None:
        check_replications(args.reps, names.reps)
    study = Study(args.scenario, scenario_overrides(args.reps, args.seed, args.hours, args.sets, names),
                  network=args.network, names=names)
    scenario = study.scenario
    scenario.plan(args.plan)  # an unknown plan fails before the network loads
    if not args.no_sim:
        check_work(expected_work(scenario, [args.plan], scenario.replications), args.force, names.force)
    world = study.world()
    model = plan_model(scenario, world, args.plan, allow_approximate=args.approximate, names=names)
    simulated = None if args.no_sim else simulate_figures(scenario, world, model, scenario.replications)
    figures = comparison(model, simulated)
    print(json.dumps(figures, sort_keys=True) if args.json else format_comparison(figures))
    return 0
