"""The optimiser's flags, checked before any work: every number has an upper bound."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from sim.config.limits import check_replications, check_workers
from sim.errors import InputError
from sim.optimize.candidates import parse_candidates
from sim.optimize.programs import OBJECTIVES
from sim.optimize.refine import DEFAULT_BUDGET, MAX_BUDGET
from sim.optimize.verify import METRICS

MAX_OPT_UNITS = 200            # cars one program places (also the top of a --units range)
MAX_TIME_LIMIT_S = 3600.0      # per integer program
DEFAULT_TIME_LIMIT_S = 60.0


@dataclass(frozen=True)
class Request:
    """What ``optimize`` is asked to do, checked."""

    scenario: Path
    fleet: str | None            # a plan whose vehicles are placed (None with --units)
    units: tuple[int, ...]       # one fleet size, or a range for the fleet-size curve; () with a fleet
    objective: str = "mclp"
    candidates: tuple[str, int] = ("sites", 0)
    busy: float | None = None
    refine: bool = False
    refine_budget: int = DEFAULT_BUDGET
    refine_metric: str = "within_target"
    verify_reps: int | None = None
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    workers: int = 1
    network: str | None = None
    out: Path | None = None
    json: bool = False
    force: bool = False          # run even above the work bounds of a run
    sets: tuple[str, ...] = ()   # --set KEY=VALUE, as for run

    @property
    def curve(self) -> bool:
        """Several fleet sizes: the fleet-size curve."""
        return len(self.units) > 1


def parse_units(text: str) -> tuple[int, ...]:
    """``N`` or ``A..B`` (1 <= A <= B <= MAX_OPT_UNITS) -> the fleet sizes."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:\.\.\s*(\d{1,9})\s*)?", text)
    if match is None:
        raise InputError(f"--units {text[:40]!r}: give a number of cars (8) or a range (1..12)")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if low < 1:
        raise InputError(f"--units {text}: at least 1 car")
    if high > MAX_OPT_UNITS:
        raise InputError(f"--units {text}: at most {MAX_OPT_UNITS} cars")
    if high < low:
        raise InputError(f"--units {text}: the range must go up, e.g. 1..12")
    return tuple(range(low, high + 1))


def check_request(args) -> Request:
    """A Request from parsed command-line flags; InputError with every problem at once."""
    problems: list[str] = []

    def attempt(check, *values):
        try:
            return check(*values)
        except InputError as error:
            problems.extend(error.problems)
            return None

    units = attempt(parse_units, args.units) if args.units is not None else ()
    if args.units is not None and args.fleet is not None:
        problems.append("--fleet and --units: give one (a plan's vehicles, or N cars of the first unit type)")
    if args.objective not in OBJECTIVES:
        problems.append(f"--objective {args.objective[:40]!r}: one of {', '.join(OBJECTIVES)}")
    candidates = attempt(parse_candidates, args.candidates)
    if args.busy is not None and not (math.isfinite(args.busy) and 0.0 <= args.busy < 1.0):
        problems.append(f"--busy {args.busy}: a probability from 0 up to (not including) 1")
    if units and len(units) > 1 and args.refine:
        problems.append("--refine works on one fleet size: give --units N, not a range")
    if not 1 <= args.refine_budget <= MAX_BUDGET:
        problems.append(f"--refine-budget {args.refine_budget}: from 1 to {MAX_BUDGET} simulated moves")
    if args.refine_metric not in METRICS:
        problems.append(f"--refine-metric {args.refine_metric[:40]!r}: one of {', '.join(METRICS)}")
    if args.verify_reps is not None:
        attempt(check_replications, args.verify_reps, "--verify-reps")
        if args.refine and args.verify_reps == 1:
            problems.append(f"--verify-reps {args.verify_reps}: --refine needs at least 2 replications "
                            "(a paired interval needs two)")
    if not (math.isfinite(args.time_limit) and 0 < args.time_limit <= MAX_TIME_LIMIT_S):
        problems.append(f"--time-limit {args.time_limit}: seconds, more than 0 and at most {MAX_TIME_LIMIT_S:g}")
    attempt(check_workers, args.workers)
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        problems.append(f"--out {args.out}: is a file; name a folder")
    if problems:
        raise InputError(problems)
    return Request(scenario=args.scenario, fleet=args.fleet, units=units, objective=args.objective,
                   candidates=candidates, busy=args.busy, refine=args.refine, refine_budget=args.refine_budget,
                   refine_metric=args.refine_metric, verify_reps=args.verify_reps, time_limit_s=args.time_limit,
                   workers=args.workers, network=args.network, out=args.out, json=args.json,
                   force=args.force, sets=tuple(args.sets))
