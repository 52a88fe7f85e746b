"""``validate``: check a scenario file."""
from __future__ import annotations

import argparse

from pathlib import Path

def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("scenario", type=Path)
    return {"validate": _cmd_validate}


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import load_scenario

    scenario = load_scenario(args.scenario)
    print(
        f"{args.scenario}: ok: {len(scenario.sites)} sites, {len(scenario.disturbances)} "
        f"disturbance types, {len(scenario.plans)} plans ("
        + ", ".join(f"{plan.name}: {plan.n_units} units" for plan in scenario.plans)
        + ")"
    )
    return 0
