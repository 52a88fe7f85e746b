"""Larson's hypercube queueing model of a patrol fleet (Larson & Odoni, *Urban Operations
Research*, ch. 5), in plain arrays.

A *unit* is a patrol car, an *atom* is a demand point (a site). Calls from atom ``j`` arrive
as a Poisson stream of ``arrival_rate_per_min[j]`` calls per minute and are sent to the first
free unit on the atom's fixed preference list; unit ``n`` serves a call in an exponential time
of mean ``1 / service_rate_per_min[n]`` minutes (travel + on scene + return, all lumped into
the service time as in the hypercube model). When every unit is busy calls wait in one
infinite FIFO queue.

* ``solve_exact``: the 2^N-state Markov chain (state = set of busy units), N <= 20
  (``sim.analytic.hypercube_balance`` solves its balance equations).
* ``solve_approximate``: Larson's (1975) approximation with the M/M/N correction factors
  Q(N, rho, j), equal service rates only, for any N.
* ``solve``: picks one of the two.
* ``compare_exact_approx``: the approximation's workload error where both run.
* ``larson_q_factors``: Larson's M/M/N correction factors for the approximation.
* ``preference_from_travel``: preference lists from a travel-time matrix.

The plain M/M/N (Erlang) formulas the models lean on live in ``sim.analytic.erlang``.

Rates are per minute, times are minutes, workloads and probabilities are fractions.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import gammaln, logsumexp

from sim.analytic.hypercube_balance import CSR_MAX_UNITS, EXACT_MAX_UNITS, exact_model_bytes, solve_balance
from sim.analytic.erlang import erlang_c, erlang_c_mean_wait_min, mean_queue_wait_min, mmn_busy_count_prob
from sim.errors import InputError

# Relative residual at which GMRES stops on the scaled balance equations (each equation is
# "inflow / outflow - 1" of one state, so this is a relative flow-balance error per state).
_GMRES_RTOL = 1e-12
# The first, coarse pass only has to fix the scale of each state's probability.
_GMRES_COARSE_RTOL = 1e-6
# The approximate model's fixed-point iteration stops when no workload moves more than this.
_APPROX_TOL = 1e-12
_APPROX_MAX_ITER = 10_000
# With hundreds of units the plain iteration can cycle for ever (seen at N = 200, load 0.8: steps
# of 0.35 back and forth). Still stepping more than _APPROX_STALL_STEP after _APPROX_PLAIN_ITER
# iterations (converging fleets are below 1e-10 by then), it goes on damped: each step shortened
# by a factor, halved whenever steps stop shrinking over _APPROX_DAMPING_WINDOW iterations. Damping
# moves no fixed point.
_APPROX_PLAIN_ITER = 300
_APPROX_STALL_STEP = 1e-3
_APPROX_DAMPING_WINDOW = 25
# Service rates closer than this (relative) count as equal for the approximate model.
_EQUAL_RATE_RTOL = 1e-9


@dataclass(frozen=True)
class HypercubeInput:
    """One fleet and its demand, N units and J atoms.

    arrival_rate_per_min: (J,) calls per minute from each atom, >= 0, not all zero.
    preference: (J, N) int, row j lists every unit index once, most preferred first.
    service_rate_per_min: (N,) calls per minute one busy unit completes (1 / mean service min).
    travel_min: (N, J) travel time in minutes from each unit's post or base to each atom,
        or None (then no mean travel time is reported).

    The arrays are copied and made read-only. Every problem found is reported in one
    ``InputError``, including an unstable fleet (total arrival rate >= total service rate:
    the queue would grow without bound).
    """

    arrival_rate_per_min: np.ndarray
    preference: np.ndarray
    service_rate_per_min: np.ndarray
    travel_min: np.ndarray | None = None

    def __post_init__(self) -> None:
        lam = np.array(self.arrival_rate_per_min, dtype=float)
        mu = np.array(self.service_rate_per_min, dtype=float)
        pref_raw = np.array(self.preference)
        travel = None if self.travel_min is None else np.array(self.travel_min, dtype=float)
        problems: list[str] = []
        if lam.ndim != 1 or lam.size == 0:
            problems.append(f"arrival_rate_per_min: expected a non-empty 1-D array, got shape {lam.shape}")
        elif not np.all(np.isfinite(lam)) or np.any(lam < 0) or lam.sum() <= 0:
            problems.append("arrival_rate_per_min: rates must be finite, >= 0 and not all zero")
        if mu.ndim != 1 or mu.size == 0:
            problems.append(f"service_rate_per_min: expected a non-empty 1-D array, got shape {mu.shape}")
        elif not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            problems.append("service_rate_per_min: rates must be finite and > 0")
        if problems:
            raise InputError(problems)
        n_atoms, n_units = lam.size, mu.size
        if pref_raw.shape != (n_atoms, n_units):
            problems.append(f"preference: expected shape (atoms, units) = {(n_atoms, n_units)}, got {pref_raw.shape}")
        elif not np.issubdtype(pref_raw.dtype, np.integer):
            problems.append(f"preference: expected integer unit indices, got dtype {pref_raw.dtype}")
        else:
            # Each row must be a permutation: the dispatcher must know whom to send whatever
            # subset of units is busy.
            bad = np.flatnonzero(np.any(np.sort(pref_raw, axis=1) != np.arange(n_units), axis=1))
            if bad.size:
                problems.append(f"preference: rows {bad[:5].tolist()} are not each unit index 0..{n_units - 1} exactly once")
        if travel is not None:
            if travel.shape != (n_units, n_atoms):
                problems.append(f"travel_min: expected shape (units, atoms) = {(n_units, n_atoms)}, got {travel.shape}")
            elif not np.all(np.isfinite(travel)) or np.any(travel < 0):
                problems.append("travel_min: times must be finite and >= 0")
        if lam.sum() >= mu.sum():
            problems.append(
                f"total arrival rate {lam.sum():.6g}/min >= total service rate {mu.sum():.6g}/min: "
                "the queue grows without bound (the hypercube model needs load < 1)"
            )
        if problems:
            raise InputError(problems)
        pref = pref_raw.astype(np.int64)
        for name, arr in (("arrival_rate_per_min", lam), ("preference", pref),
                          ("service_rate_per_min", mu), ("travel_min", travel)):
            if arr is not None:
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_units(self) -> int:
        return int(self.service_rate_per_min.size)

    @property
    def n_atoms(self) -> int:
        return int(self.arrival_rate_per_min.size)

    @property
    def total_arrival_rate_per_min(self) -> float:
        return float(self.arrival_rate_per_min.sum())


@dataclass(frozen=True)
class HypercubeResult:
    """Steady-state performance of a fleet.

    state_prob: (2^N,) exact model only (None for the approximate one). Entry b is the
        probability that exactly the units whose bits are set in b are busy (bit n = unit n);
        the all-busy entry 2^N - 1 includes every state with a queue.
    busy_count_prob: (N+1,) probability that k units are busy; entry N includes queued states.
    workload: (N,) fraction of time each unit is busy.
    dispatch_fraction: (N, J) fraction of all calls that are atom j's and served by unit n
        (sums to 1), queued calls included.
    mean_travel_min: mean over calls of travel_min[unit, atom], or None without travel times.
    queue_probability: fraction of calls that find every unit busy and wait.
    mean_wait_min: mean queue wait over all calls, minutes (0 for calls that do not queue).
    """

    state_prob: np.ndarray | None
    busy_count_prob: np.ndarray
    workload: np.ndarray
    dispatch_fraction: np.ndarray
    mean_travel_min: float | None
    queue_probability: float
    mean_wait_min: float
    method: Literal["exact", "approximate"]


@dataclass(frozen=True)
class WorkloadError:
    """How far the approximate workloads are from the exact ones (absolute is in busy fraction)."""

    max_abs_error: float
    max_rel_error: float
    exact: HypercubeResult
    approximate: HypercubeResult


# ---------------------------------------------------------------- helpers

def preference_from_travel(travel_min: np.ndarray) -> np.ndarray:
    """(J, N) preference lists from a (N, J) travel-time matrix (min): nearest unit first,
    ties broken by the lower unit index (stable sort)."""
    travel = np.asarray(travel_min, dtype=float)
    if travel.ndim != 2:
        raise InputError(f"travel_min: expected a 2-D (units, atoms) array, got shape {travel.shape}")
    return np.argsort(travel.T, axis=1, kind="stable")


def _result(inp: HypercubeInput, method: Literal["exact", "approximate"], state_prob: np.ndarray | None,
            busy_count_prob: np.ndarray, workload: np.ndarray, dispatch_fraction: np.ndarray,
            queue_probability: float, mean_wait_min: float) -> HypercubeResult:
    """Either model's result, its arrays made read-only, the mean travel time added."""
    for array in (state_prob, busy_count_prob, workload, dispatch_fraction):
        if array is not None:
            array.setflags(write=False)
    mean_travel_min = None if inp.travel_min is None else float(np.sum(dispatch_fraction * inp.travel_min))
    return HypercubeResult(state_prob, busy_count_prob, workload, dispatch_fraction, mean_travel_min,
                           queue_probability, mean_wait_min, method)


def _dispatch_sets(pref_row: np.ndarray, states: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """For one preference list, yield (unit, states in which that unit is the first free one).

    Walks the list keeping the states where every unit so far is busy; that set halves at
    each step, so one list costs about 2 * len(states) element operations in total.
    """
    candidates = states
    for unit in pref_row:
        free = ((candidates >> unit) & 1) == 0
        yield int(unit), candidates[free]
        candidates = candidates[~free]


# ---------------------------------------------------------------- exact model

def solve_exact(inp: HypercubeInput, matrix_free: bool | None = None) -> HypercubeResult:
    """Exact hypercube model: 2^N busy/free states plus the M/M/N queue tail.

    Tail: with all N units busy and k >= 1 calls queued, arrivals add a call (rate lambda)
    and any completion (total rate sum(mu)) hands a queued call to the freed unit, so the
    tail is a geometric series P(full, k) = P(full, 0) a^k with a = lambda / sum(mu) < 1,
    and the cut between it and the rest carries no net flow. The 2^N busy-set states
    therefore balance exactly as in the loss system (no arrivals out of the all-busy state);
    the tail's mass P(full, 0) a / (1 - a) is added afterwards.

    Queued calls: the next unit to free is unit n with probability mu_n / sum(mu)
    (competing exponential completions), independent of the queue, so each queued call
    of atom j is served by unit n with probability mu_n / sum(mu). Its travel time is
    counted as travel_min[n, j] from the unit's post, the usual hypercube assumption
    (in reality the unit leaves from its previous call).

    Solver: the balance equations, each divided by its state's outflow, one state pinned
    instead of the normalisation, solved by GMRES for p / guess twice: to a relative
    residual of 1e-6 from an M/M/N guess, then to 1e-12 from that coarse answer, so the
    unknowns are near 1 and the residual is a per-state flow-balance error (stopping on a
    tolerance, not an iteration count). A direct sparse LU (spsolve) is exact but the hypercube graph's
    separators are dense: measured 0.6 s at N = 12, 5 s at N = 13, 36 s and 0.8 GB at
    N = 14 (MMD ordering; COLAMD is slower), hence far over 10 s at N = 15. Above 15 units the
    equations are solved matrix-free (``sim.analytic.hypercube_balance``), up to 20 units;
    ``matrix_free`` True or False chooses either way at any size.
    """
    n_units = inp.n_units
    if n_units > EXACT_MAX_UNITS:
        raise InputError(f"the exact hypercube model takes at most {EXACT_MAX_UNITS} units (2^{EXACT_MAX_UNITS} "
                         f"states, about {exact_model_bytes(EXACT_MAX_UNITS) / 2**30:.1f} GB); {n_units} units "
                         f"would need about {exact_model_bytes(n_units) / 2**30:,.1f} GB: use Larson's approximation")
    n_states = 1 << n_units
    full = n_states - 1
    lam = inp.total_arrival_rate_per_min
    mu = inp.service_rate_per_min
    states = np.arange(n_states, dtype=np.int64)
    busy = np.empty((n_units, n_states), dtype=bool)  # (N, S), one unit at a time: no (N, S) int temporary
    for unit in range(n_units):
        busy[unit] = (states >> unit) & 1
    busy_count = busy.sum(axis=0)

    # Atoms with the same preference list move the chain identically: merge their rates.
    pref_rows, atom_row = np.unique(inp.preference, axis=0, return_inverse=True)
    atom_row = atom_row.ravel()
    row_rate = np.bincount(atom_row, weights=inp.arrival_rate_per_min, minlength=len(pref_rows))

    # rate[n, b]: rate of the transition that flips unit n's bit in state b: a dispatch to n
    # if n is free in b, the completion of n's call (mu_n) if n is busy.
    rate = np.where(busy, mu[:, None], 0.0)
    for row, row_lam in zip(pref_rows, row_rate):
        for unit, idx in _dispatch_sets(row, states):
            rate[unit, idx] += row_lam
    outflow = rate.sum(axis=0)  # > 0 everywhere: lambda > 0 at state 0, a completion elsewhere

    # First guess of p: the M/M/N (mean rate) loss-system probability of b's layer shared
    # evenly over the layer. A coarse solve corrects it; the fine solve then works on
    # unknowns near 1, where its relative residual is a per-state flow-balance error.
    # (Unscaled, p spans many decades at N = 15 and GMRES stalls above 1e-12.)
    layer = np.arange(n_units + 1)
    log_layer = (layer * np.log(lam / mu.mean()) - gammaln(layer + 1)
                 - (gammaln(n_units + 1) - gammaln(layer + 1) - gammaln(n_units - layer + 1)))
    scale = np.exp(log_layer - log_layer[0])[busy_count]
    coarse = solve_balance(rate, outflow, scale, _GMRES_COARSE_RTOL, matrix_free)
    # States the coarse pass leaves at or below zero are numerically zero at its
    # precision: floor their scale so the fine pass resolves them relative to the rest.
    scale *= np.maximum(coarse, _GMRES_COARSE_RTOL)
    p = scale * solve_balance(rate, outflow, scale, _GMRES_RTOL, matrix_free)
    a = lam / mu.sum()
    p[full] /= 1.0 - a  # all busy, queue of any length: P(full, 0) sum_k a^k
    p /= p.sum()
    queue_probability = float(p[full])  # PASTA: calls see the time-average state

    dispatch_prob = np.zeros((len(pref_rows), n_units))  # P(no queue and unit n goes), per list
    for r, row in enumerate(pref_rows):
        for unit, idx in _dispatch_sets(row, states):
            dispatch_prob[r, unit] = p[idx].sum()
    dispatch_prob += queue_probability * mu / mu.sum()
    dispatch_fraction = (dispatch_prob[atom_row] * (inp.arrival_rate_per_min / lam)[:, None]).T

    busy_count_prob = np.bincount(busy_count, weights=p, minlength=n_units + 1)
    if n_units <= CSR_MAX_UNITS and not matrix_free:
        workload = busy.astype(float) @ p
    else:  # without the (N, S) float copy of busy (160 MB at N = 20)
        workload = np.array([p[busy[unit]].sum() for unit in range(n_units)])
    return _result(inp, "exact", p, busy_count_prob, workload, dispatch_fraction, queue_probability,
                   mean_queue_wait_min(queue_probability, float(mu.sum()), lam))


# ---------------------------------------------------------------- approximate model

def larson_q_factors(servers: int, mean_workload: float) -> np.ndarray:
    """(N,) Larson's correction factors Q(N, rho, j), j = 0..N-1, for M/M/N with an
    infinite queue and mean workload rho = lambda / (N mu).

    Q(N, rho, j) rho^j (1 - rho) is the probability, in the symmetric M/M/N system (every
    busy set of a given size equally likely), that j given units are busy and a given other
    unit is free:  Q = sum_{k=j}^{N-1} P_k C(N-j-1, k-j) / C(N, k) / (rho^j (1 - rho)),
    which is Larson's (1975) closed form sum (N-j-1)! (N-k) N^k rho^(k-j) P_0 / ((k-j)! N! (1-rho)).
    Evaluated in logs. Q(N, rho, 0) = 1.
    """
    p_k = mmn_busy_count_prob(servers, servers * mean_workload)[:servers]
    j = np.arange(servers)[:, None]
    k = np.arange(servers)[None, :]
    valid = k >= j
    kj = np.where(valid, k - j, 0)

    def log_comb(n: np.ndarray, m: np.ndarray) -> np.ndarray:
        return gammaln(n + 1) - gammaln(m + 1) - gammaln(n - m + 1)

    with np.errstate(divide="ignore"):
        log_terms = np.log(p_k)[None, :] + log_comb(servers - j - 1, kj) - log_comb(np.full_like(k, servers), k)
    log_terms = np.where(valid, log_terms, -np.inf)
    log_q = logsumexp(log_terms, axis=1) - j[:, 0] * np.log(mean_workload) - np.log1p(-mean_workload)
    return np.exp(log_q)


def solve_approximate(inp: HypercubeInput) -> HypercubeResult:
    """Larson's (1975) approximate hypercube model, infinite queue, equal service rates.

    Assumption (the Q factors come from the symmetric M/M/N system): every unit has the
    same service rate mu; unequal rates raise ``InputError``. With r = lambda / mu and
    rho = r / N, the probability that atom j's k-th choice n is sent is approximated by
    Q(N, rho, k-1) (prod of the workloads of its first k-1 choices) (1 - rho_n); calls that
    find all units busy (Erlang C, P_sat) are shared equally. Workloads solve the fixed point
        rho_n = (V_n + r P_sat / N) / (1 + V_n),
        V_n = (1 / mu) sum_j sum_k [pref_jk = n] lambda_j Q(N, rho, k-1) prod_{l<k} rho_{pref_jl},
    iterated from rho_n = rho until no workload moves more than 1e-12, each iterate
    rescaled so the workloads sum to r. That sum is exact (every call is served by one unit
    for 1/mu on average) and the rescaling is the normalisation step of Larson's procedure;
    without it the iteration can drift to the spurious fixed point where every unit is
    always busy (seen at N = 100, load 0.8). Dispatch fractions use the same products,
    rescaled per atom to the atom's share of calls because the product form does not make
    them sum exactly to 1 outside the symmetric case. Busy-count probabilities, queue
    probability and wait are the M/M/N (Erlang) ones, exact when rates are equal whatever
    the dispatch rule.

    Checked against Larson & Odoni, *Urban Operations Research*, sec. 5.5-5.5.3 (Q factors
    0.73684 and 0.63158 at N = 3, rho = 1/2; their 3-unit example's approximate workloads
    0.5627, 0.4716, 0.4657 reproduced to 1e-4, which only the normalised iteration does).

    Accuracy (tests/analytic/test_hypercube.py, N = 4..12, 60 atoms, random 12 km towns): workload
    errors up to 0.016 absolute with spread-out demand and 0.036 with demand concentrated
    in the centre; relative errors on lightly used units reach 14 % and 91 % at load 0.2.
    These are errors of Larson's product-form conjecture itself (it underestimates how
    often neighbouring units are busy together), far above the book's "1 or 2 percent",
    which it illustrates with a districted 3-unit fleet whose workloads are all near 0.5.
    """
    mu_all = inp.service_rate_per_min
    if not np.allclose(mu_all, mu_all[0], rtol=_EQUAL_RATE_RTOL, atol=0.0):
        raise InputError(
            f"approximate hypercube model needs equal service rates; got "
            f"{mu_all.min():.6g}..{mu_all.max():.6g}/min (use the exact model, N <= 20)")
    n_units = inp.n_units
    mu = float(mu_all[0])
    lam_j = inp.arrival_rate_per_min
    lam = inp.total_arrival_rate_per_min
    offered_erl = lam / mu
    mean_workload = offered_erl / n_units
    p_sat = erlang_c(n_units, offered_erl)
    q = larson_q_factors(n_units, mean_workload)
    pref = inp.preference
    saturated_share = offered_erl * p_sat / n_units  # workload each unit gets from queued calls

    def dispatch_weight(workload: np.ndarray) -> np.ndarray:
        """(J, N) lambda_j Q(k-1) prod_{l<k} rho_{pref_jl}: call rate reaching choice k, before (1 - rho_n)."""
        before = np.cumprod(workload[pref], axis=1)
        before = np.concatenate((np.ones((len(pref), 1)), before[:, :-1]), axis=1)
        return lam_j[:, None] * q[None, :] * before

    workload = np.full(n_units, mean_workload)
    steps: list[float] = []
    damping = 1.0
    for _ in range(_APPROX_MAX_ITER):
        v = np.bincount(pref.ravel(), weights=dispatch_weight(workload).ravel(), minlength=n_units) / mu
        new = (v + saturated_share) / (1.0 + v)
        new *= offered_erl / new.sum()
        moved = float(np.max(np.abs(new - workload)))
        workload = new if damping == 1.0 else workload + damping * (new - workload)
        if moved <= _APPROX_TOL:
            break
        steps.append(moved)
        if damping == 1.0:
            if len(steps) >= _APPROX_PLAIN_ITER and moved > _APPROX_STALL_STEP:
                damping = 0.5
                steps.clear()
        elif len(steps) > _APPROX_DAMPING_WINDOW and moved > 0.9 * steps[-1 - _APPROX_DAMPING_WINDOW]:
            damping = max(damping / 2.0, 1.0 / 1024)
            steps.clear()
    else:
        raise RuntimeError(f"approximate hypercube model: workloads did not settle to {_APPROX_TOL:g} "
                           f"in {_APPROX_MAX_ITER} iterations (N = {n_units})")

    sent = dispatch_weight(workload) * (1.0 - workload[pref])  # (J, N) by rank
    by_unit = np.zeros((inp.n_atoms, n_units))
    np.put_along_axis(by_unit, pref, sent, axis=1)
    by_unit += lam_j[:, None] * p_sat / n_units
    by_unit *= (lam_j / by_unit.sum(axis=1))[:, None]  # rescale each atom to its arrival rate
    dispatch_fraction = by_unit.T / lam

    busy_count_prob = mmn_busy_count_prob(n_units, offered_erl)
    return _result(inp, "approximate", None, busy_count_prob, workload, dispatch_fraction, p_sat,
                   erlang_c_mean_wait_min(n_units, lam, mu))


# ---------------------------------------------------------------- front doors

def solve(inp: HypercubeInput, allow_approximate: bool = True, max_exact_units: int = 15) -> HypercubeResult:
    """Exact model up to ``max_exact_units`` units (2^N states), Larson's approximation above."""
    if inp.n_units <= max_exact_units:
        return solve_exact(inp)
    if not allow_approximate:
        raise InputError(
            f"{inp.n_units} units exceed max_exact_units = {max_exact_units} for the exact hypercube "
            f"model (2^{inp.n_units} states); allow the approximate model or raise the limit")
    return solve_approximate(inp)


def compare_exact_approx(inp: HypercubeInput) -> WorkloadError:
    """Solve both models and report the largest workload error of the approximation
    (absolute, and relative to the exact workload)."""
    exact = solve_exact(inp)
    approx = solve_approximate(inp)
    diff = np.abs(approx.workload - exact.workload)
    return WorkloadError(
        max_abs_error=float(diff.max()),
        max_rel_error=float(np.max(diff / exact.workload)),
        exact=exact,
        approximate=approx,
    )
