"""The one call of the integer-program solver (HiGHS through ``scipy.optimize.milp``), held to a
deadline.

HiGHS checks its time limit between steps, and some steps (presolve of a wide covering program,
rounds of cuts at the root) run on for many seconds past it. So the program runs in a forked
child process with HiGHS's own limit a little before the deadline, and the child is stopped at
the deadline; the caller then has no answer from the program and keeps its own placement and
bound. A small program, or any where fork is not available, runs in this process, on HiGHS's
limit alone.
"""
from __future__ import annotations

import math
import multiprocessing
import time
from dataclasses import dataclass

import numpy as np
import scipy
from scipy.optimize import Bounds, milp

SOLVER = f"HiGHS (scipy.optimize.milp, scipy {scipy.__version__})"
MIN_SECONDS = 0.2       # HiGHS gets at least this long, so that a nearly spent limit still gives an answer
_HIGHS_MARGIN_S = 2.0   # HiGHS's own limit: the time left less this (at least _HIGHS_SHARE of it),
_HIGHS_SHARE = 0.7      # so that it usually stops by itself and keeps what it found
_STOP_GRACE_S = 0.5     # after the deadline, to collect an answer already on its way
_IN_PROCESS_NONZEROS = 50_000  # a program this small is solved in this process: a fork costs more


@dataclass(frozen=True)
class ProgramResult:
    """What the solver found: ``x`` (None if nothing in time), status 0 when proven optimal."""

    x: np.ndarray | None
    status: int
    fun: float | None
    dual_bound: float | None
    message: str


def _solve(cost, integrality, bounds, constraints, options) -> ProgramResult:
    result = milp(cost, integrality=integrality, bounds=bounds, constraints=constraints, options=options)
    dual = getattr(result, "mip_dual_bound", None)
    return ProgramResult(None if result.x is None else np.asarray(result.x), int(result.status),
                         None if result.fun is None else float(result.fun), None if dual is None else float(dual),
                         str(result.message))


def _child(pipe, args) -> None:
    pipe.send(_solve(*args))
    pipe.close()


def run_milp(cost: np.ndarray, integrality: np.ndarray, bounds: Bounds, constraints: list, deadline: float,
             rel_gap: float, presolve: bool = True) -> ProgramResult:
    """Minimise ``cost @ x`` under ``constraints`` by the deadline (``time.perf_counter()`` seconds)."""
    left = max(deadline - time.perf_counter(), MIN_SECONDS)
    own = max(left - _HIGHS_MARGIN_S, _HIGHS_SHARE * left, MIN_SECONDS) if math.isfinite(left) else left
    options = {"time_limit": own, "mip_rel_gap": float(rel_gap), "disp": False,
               "presolve": presolve}
    args = (cost, integrality, bounds, constraints, options)
    size = sum(getattr(constraint.A, "nnz", np.size(constraint.A)) for constraint in constraints)
    if size <= _IN_PROCESS_NONZEROS or "fork" not in multiprocessing.get_all_start_methods():
        return _solve(*args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, args), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(left + _STOP_GRACE_S if math.isfinite(left) else None):
            return receive.recv()
        return ProgramResult(None, 1, None, None, f"stopped at the time limit ({left:.1f} s) by patrolsim")
    except EOFError:
        return ProgramResult(None, 4, None, None, "the solver process ended without an answer")
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
