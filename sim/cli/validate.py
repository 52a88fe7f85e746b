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
        f"{args.scenario}: ok: {_count(len(scenario.sites), 'site')}, "
        f"{_count(len(scenario.disturbances), 'disturbance type')}, {_count(len(scenario.plans), 'plan')} ("
        + ", ".join(f"{plan.name}: {_count(plan.n_units, 'unit')}" for plan in scenario.plans)
        + ")"
    )
    return 0


def _count(n: int, noun: str) -> str:
    """``1 site``, ``2 sites``, ``4,041 sites``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
