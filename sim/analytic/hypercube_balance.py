"""The exact hypercube model's balance equations, solved by GMRES: a sparse matrix up to 15 units,
matrix-free above (to 20 units within 2 GB).

State b is the set of busy units (bit n = unit n); ``rate[n, b]`` is the rate of the transition
that flips unit n's bit in state b, so every transition goes to a state one bit away. Balance of
state c: outflow_c p_c = sum_n rate[n, c ^ 2^n] p_(c ^ 2^n). Divided by outflow_c s_c, for the
unknowns y = p / s (s a guess of p):

    y_c - sum_n rate[n, c ^ 2^n] s_(c ^ 2^n) / (outflow_c s_c) y_(c ^ 2^n) = 0.

State 0 is pinned (y_0 = 1; it has positive probability: the chain is irreducible since lambda > 0
and every preference list is complete) and its equation, implied by the others, dropped.

Up to ``CSR_MAX_UNITS`` the matrix is built explicitly (as it always was: the answers of existing
scenarios keep every bit). Above, the matrix is never built: ``y_(c ^ 2^n)`` for every c is y with
the two halves of each 2^(n+1) block swapped, a reversed view of y reshaped to (-1, 2, 2^n). The
explicit matrix at N = 20 would take about 1.5 GB with its index arrays; matrix-free, the model's
arrays are ``rate`` (8 N 2^N bytes, 160 MB) and GMRES's Krylov basis (restart x 2^N x 8 bytes).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: Up to this many units the balance matrix is built explicitly (a few hundred MB at most).
CSR_MAX_UNITS = 15
#: The exact model's limit: 2^20 states, about 0.8 GB (2 GB target), a minute or two.
EXACT_MAX_UNITS = 20
# The Krylov basis is restart x 2^N x 8 bytes (400 MB at N = 20). A restart of 20 would halve the
# model's memory, but with service rates 1% apart it did not converge at N = 14 in 200 cycles.
_GMRES_RESTART = 50
# Restart cycles before giving up: a safety net, not the stopping rule. On the fleets tried
# (N <= 20, loads 0.01..0.999, service rates equal or 20x apart, one or 300 atoms) each
# pass stopped within a few cycles.
_GMRES_MAX_CYCLES = 200


def exact_model_bytes(n_units: int) -> int:
    """About the memory the exact model takes at ``n_units`` (matrix-free above CSR_MAX_UNITS)."""
    n_states = 1 << n_units
    return n_states * 8 * (n_units + _GMRES_RESTART + 12) + n_states * n_units


def solve_balance(rate: np.ndarray, outflow: np.ndarray, scale: np.ndarray, rtol: float,
                  matrix_free: bool | None = None) -> np.ndarray:
    """y = p / scale with y_0 = 1, solved by GMRES to relative residual ``rtol``; (2^N,).
    ``matrix_free`` defaults to "above CSR_MAX_UNITS units"."""
    n_units, n_states = rate.shape
    if matrix_free is None:
        matrix_free = n_units > CSR_MAX_UNITS
    matrix, rhs = (_matrix_free_system if matrix_free else _csr_system)(rate, outflow, scale)
    y, info = spla.gmres(matrix, rhs, x0=np.ones(n_states - 1), rtol=rtol, atol=0.0,
                         restart=_GMRES_RESTART, maxiter=_GMRES_MAX_CYCLES)
    if info != 0:
        raise RuntimeError(f"hypercube exact model: GMRES did not reach relative residual {rtol:g} "
                           f"in {_GMRES_MAX_CYCLES} restart cycles ({n_states} states)")
    return np.concatenate(([1.0], y))


def _csr_system(rate: np.ndarray, outflow: np.ndarray, scale: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The balance equations as an explicit sparse matrix and right-hand side."""
    n_units, n_states = rate.shape
    states = np.arange(n_states, dtype=np.int64)
    unit_bit = np.int64(1) << np.arange(n_units, dtype=np.int64)
    src = np.broadcast_to(states, rate.shape).ravel()
    dst = (states[None, :] ^ unit_bit[:, None]).ravel()
    coef = rate.ravel() * scale[src] / (outflow[dst] * scale[dst])
    keep = (coef > 0) & (dst != 0)
    src, dst, coef = src[keep], dst[keep], coef[keep]
    from_zero = src == 0
    rhs = np.zeros(n_states - 1)
    np.add.at(rhs, dst[from_zero] - 1, coef[from_zero])
    off = ~from_zero
    matrix = sp.identity(n_states - 1, format="csr") - sp.csr_matrix(
        (coef[off], (dst[off] - 1, src[off] - 1)), shape=(n_states - 1, n_states - 1))
    return matrix, rhs


def _matrix_free_system(rate: np.ndarray, outflow: np.ndarray,
                        scale: np.ndarray) -> tuple[spla.LinearOperator, np.ndarray]:
    """The same equations as a LinearOperator: inflow by reversed views, no matrix, no index arrays."""
    n_units, n_states = rate.shape
    inv_out = 1.0 / (outflow * scale)
    full = np.empty(n_states)
    weighted = np.empty(n_states)
    inflow = np.empty(n_states)
    term = np.empty(n_states)

    def inflow_of(y: np.ndarray) -> np.ndarray:
        """sum_n rate[n, c ^ 2^n] s_(c ^ 2^n) y_(c ^ 2^n) / (outflow_c s_c), for every state c."""
        np.multiply(scale, y, out=weighted)
        inflow.fill(0.0)
        for unit in range(n_units):
            np.multiply(rate[unit], weighted, out=term)
            block = inflow.reshape(-1, 2, 1 << unit)
            block += term.reshape(-1, 2, 1 << unit)[:, ::-1, :]
        np.multiply(inflow, inv_out, out=inflow)
        return inflow

    def matvec(x: np.ndarray) -> np.ndarray:
        full[0] = 0.0  # y_0's part is the right-hand side
        full[1:] = np.ravel(x)
        return full[1:] - inflow_of(full)[1:]

    unit_state = np.zeros(n_states)
    unit_state[0] = 1.0
    rhs = inflow_of(unit_state)[1:].copy()
    return spla.LinearOperator((n_states - 1, n_states - 1), matvec=matvec, dtype=np.float64), rhs
