"""``validate``: check a scenario file."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import count_text


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("scenario", type=Path)
    return {"validate": _cmd_validate}


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import load_scenario

    scenario = load_scenario(args.scenario)
    print(
        f"{args.scenario}: ok: {count_text(len(scenario.sites), 'site')}, "
        f"{count_text(len(scenario.disturbances), 'disturbance type')}, {count_text(len(scenario.plans), 'plan')} ("
        + ", ".join(f"{plan.name}: {_fleet_text(plan)}" for plan in scenario.plans)
        + ")"
    )
    return 0


def _fleet_text(plan) -> str:
    """``8 units``, or with fleets by phase ``8 units (voting_day 46, counting 10)``."""
    by_phase = [f"{phase} {sum(group.count for group in fleet.units):,}" for phase, fleet in plan.by_phase.items()]
    return count_text(plan.n_units, "unit") + (f" ({', '.join(by_phase)})" if by_phase else "")

