"""Tests of the hypercube queueing model (sim/analytic/hypercube.py) and the M/M/N formulas
(sim/analytic/erlang.py).

Tolerances: the exact model is a linear solve stopped at a relative residual of 1e-12 on
equations scaled to O(1); its condition number is modest, so probabilities are good to
about 1e-10 and we compare at 1e-9. Exact-arithmetic references use fractions.Fraction.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import cache
from itertools import permutations

import numpy as np
import pytest

from sim.errors import InputError
from tests.towns import town
from sim.analytic.erlang import erlang_b, erlang_c, erlang_c_mean_wait_min, mmn_busy_count_prob
from sim.analytic.hypercube import (
    HypercubeInput,
    compare_exact_approx,
    larson_q_factors,
    preference_from_travel,
    solve,
    solve_approximate,
    solve_exact,
)

TOL = 1e-9


# ---------------------------------------------------------------- references and fixtures

def mmn_direct(servers: int, load_erl: Fraction) -> list[Fraction]:
    """M/M/N busy-count probabilities from the textbook formula, exact arithmetic."""
    terms = [load_erl**k / math.factorial(k) for k in range(servers)]
    terms.append(load_erl**servers / math.factorial(servers) / (1 - load_erl / servers))
    total = sum(terms)
    return [t / total for t in terms]


def naive_state_prob(inp: HypercubeInput) -> np.ndarray:
    """Independent reference: dense generator built by plain loops, solved with lstsq."""
    n = inp.n_units
    size = 1 << n
    gen = np.zeros((size, size))
    for b in range(size):
        for unit in range(n):
            if b >> unit & 1:
                gen[b, b ^ (1 << unit)] += inp.service_rate_per_min[unit]
        if b != size - 1:
            for j, rate in enumerate(inp.arrival_rate_per_min):
                unit = next(int(u) for u in inp.preference[j] if not b >> int(u) & 1)
                gen[b, b | (1 << unit)] += rate
    np.fill_diagonal(gen, -gen.sum(axis=1))
    system = np.vstack([gen.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    p = np.linalg.lstsq(system, rhs, rcond=None)[0]
    a = inp.total_arrival_rate_per_min / inp.service_rate_per_min.sum()
    p[-1] /= 1 - a  # queue tail, geometric with ratio a
    return p / p.sum()


# ---------------------------------------------------------------- Erlang formulas

@pytest.mark.parametrize("servers, load_erl", [(5, 1.361), (10, 4.461), (20, 12.031)])
def test_erlang_b_matches_table_at_one_percent(servers: int, load_erl: float) -> None:
    # Standard Erlang B table, 1 % blocking. The table rounds the load to 0.0005 Erl;
    # dB/dA = B (N/A - 1 + B) <= 0.027 here, so the rounding moves B by < 1.4e-5.
    assert erlang_b(servers, load_erl) == pytest.approx(0.01, abs=2e-5)


def test_erlang_b_and_c_match_direct_formulas() -> None:
    for servers in (1, 2, 3, 7, 15, 30):
        for load in (Fraction(1, 10), Fraction(1, 2), Fraction(3, 1), Fraction(29, 2)):
            terms = [load**k / math.factorial(k) for k in range(servers + 1)]
            assert erlang_b(servers, float(load)) == pytest.approx(float(terms[-1] / sum(terms)), rel=1e-12)
            if load < servers:
                p = mmn_direct(servers, load)
                assert erlang_c(servers, float(load)) == pytest.approx(float(p[-1]), rel=1e-12)
                assert np.allclose(mmn_busy_count_prob(servers, float(load)), [float(x) for x in p],
                                   rtol=1e-12, atol=0)
    assert erlang_b(1, 1.0) == 0.5
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-15)
    # M/M/1: C = rho and W = rho / (mu - lambda).
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-15)
    assert erlang_c_mean_wait_min(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3, rel=1e-14)


def test_erlang_b_is_stable_for_large_fleets() -> None:
    servers, load = 2000, 1900.0
    k = np.arange(servers + 1)
    log_terms = k * np.log(load) - np.array([math.lgamma(i + 1) for i in k])
    expected = math.exp(log_terms[-1] - np.logaddexp.reduce(log_terms))
    assert erlang_b(servers, load) == pytest.approx(expected, rel=1e-10)
    assert 0 < erlang_c(servers, load) < 1


def test_erlang_c_rejects_overload() -> None:
    with pytest.raises(InputError):
        erlang_c(3, 3.0)


# ---------------------------------------------------------------- exact model

@pytest.mark.parametrize("n_units", range(1, 9))
@pytest.mark.parametrize("load", [0.2, 0.5, 0.8])
def test_exact_equal_rates_is_mmn(n_units: int, load: float) -> None:
    # With equal rates the number of busy units is a birth-death chain (arrivals always
    # served while a unit is free, completions at k mu), whatever the preference lists.
    inp = town(n_units, 25, load, seed=n_units, demand="concentrated")
    result = solve_exact(inp)
    mu = inp.service_rate_per_min[0]
    offered = Fraction(inp.total_arrival_rate_per_min / mu)
    expected = [float(x) for x in mmn_direct(n_units, offered)]
    assert np.allclose(result.busy_count_prob, expected, rtol=0, atol=TOL)
    assert result.workload.sum() == pytest.approx(float(offered), abs=TOL)
    assert result.queue_probability == pytest.approx(expected[-1], abs=TOL)
    assert result.mean_wait_min == pytest.approx(
        erlang_c_mean_wait_min(n_units, inp.total_arrival_rate_per_min, mu), rel=1e-8)
    assert result.state_prob.sum() == pytest.approx(1.0, abs=1e-12)


def test_exact_two_units_two_atoms_by_hand() -> None:
    # Units 0, 1 with mu = (1, 2)/min; atom 0 (lambda 1/min) prefers (0, 1), atom 1
    # (lambda 1/2 per min) prefers (1, 0). lambda = 3/2, sum mu = 3, a = lambda / sum mu = 1/2.
    # States: P00 (both free), P10 (only unit 0 busy), P01 (only unit 1 busy), P11 (both).
    # Balance of the four busy-set states (the queue tail has no net flow with P11):
    #   P00: (3/2) P00 = 1 P10 + 2 P01
    #   P10: (3/2 + 1) P10 = 1 P00 + 2 P11      (atom 0 sends unit 0; unit 1 finishes)
    #   P01: (3/2 + 2) P01 = (1/2) P00 + 1 P11  (atom 1 sends unit 1; unit 0 finishes)
    #   P11: 3 P11 = (3/2) (P10 + P01)
    # With P00 = 1: P11 = (P10 + P01)/2, so 3/2 P10 = 1 + P01 and 3 P01 = 1/2 + P10/2,
    # hence P10 = 6 P01 - 1, 9 P01 - 3/2 = 1 + P01: P01 = 5/16, P10 = 7/8, P11 = 19/32.
    # Queue tail: P11 (a + a^2 + ...) = P11 a/(1-a) = 19/32. Total = 108/32, so
    #   P00 = 8/27, P10 = 7/27, P01 = 5/54, P(both busy, any queue) = 19/54.
    # Workloads: unit 0: 7/27 + 19/54 = 11/18; unit 1: 5/54 + 19/54 = 4/9.
    # Queued calls go to unit n with probability mu_n / sum mu = (1/3, 2/3).
    # Dispatch fractions (divide by lambda = 3/2):
    #   unit 0, atom 0: [1 (P00 + P01) + 1 * 19/54 * 1/3] / (3/2)
    #   unit 0, atom 1: [1/2 P01 + 1/2 * 19/54 * 1/3] / (3/2)
    #   unit 1, atom 0: [1 P10 + 1 * 19/54 * 2/3] / (3/2)
    #   unit 1, atom 1: [1/2 (P00 + P10) + 1/2 * 19/54 * 2/3] / (3/2)
    # Wait: P(wait) / (sum mu - lambda) = (19/54) / (3/2) = 19/81 min.
    f = Fraction
    p00, p10, p01, p11 = f(8, 27), f(7, 27), f(5, 54), f(19, 54)
    lam = f(3, 2)
    dispatch = [
        [(p00 + p01 + p11 / 3) / lam, (f(1, 2) * p01 + f(1, 2) * p11 / 3) / lam],
        [(p10 + p11 * 2 / 3) / lam, (f(1, 2) * (p00 + p10) + f(1, 2) * p11 * 2 / 3) / lam],
    ]
    travel = np.array([[2.0, 5.0], [4.0, 3.0]])
    inp = HypercubeInput(np.array([1.0, 0.5]), preference_from_travel(travel), np.array([1.0, 2.0]), travel)
    assert inp.preference.tolist() == [[0, 1], [1, 0]]
    result = solve_exact(inp)
    # Bit n of the state index is unit n: index 1 = only unit 0 busy, 2 = only unit 1.
    assert np.allclose(result.state_prob, [float(x) for x in (p00, p10, p01, p11)], rtol=0, atol=TOL)
    assert np.allclose(result.workload, [11 / 18, 4 / 9], rtol=0, atol=TOL)
    assert np.allclose(result.busy_count_prob, [float(p00), float(p10 + p01), float(p11)], rtol=0, atol=TOL)
    assert np.allclose(result.dispatch_fraction, [[float(x) for x in row] for row in dispatch], rtol=0, atol=TOL)
    assert result.queue_probability == pytest.approx(19 / 54, abs=TOL)
    assert result.mean_wait_min == pytest.approx(19 / 81, abs=TOL)
    expected_travel = sum(float(dispatch[n][j]) * travel[n, j] for n in range(2) for j in range(2))
    assert result.mean_travel_min == pytest.approx(expected_travel, abs=TOL)


@pytest.mark.parametrize("n_units", [1, 3, 6, 10])
def test_exact_matches_naive_dense_solution(n_units: int) -> None:
    rng = np.random.default_rng(100 + n_units)
    mu = rng.uniform(1 / 60, 1 / 20, n_units)  # unequal rates
    travel = rng.uniform(1, 30, (n_units, 15))
    lam = rng.uniform(0, 1, 15)
    lam *= 0.7 * mu.sum() / lam.sum()
    inp = HypercubeInput(lam, preference_from_travel(travel), mu, travel)
    assert np.allclose(solve_exact(inp).state_prob, naive_state_prob(inp), rtol=0, atol=TOL)


def test_exact_dispatches_balance_busy_time_with_unequal_rates() -> None:
    # Unit n is busy rho_n of the time and completes mu_n calls per busy minute, so it
    # must receive lambda * sum_j f[n, j] = mu_n rho_n calls per minute.
    rng = np.random.default_rng(7)
    inp = town(8, 30, 0.75, seed=7, demand="spread")
    mu = rng.uniform(1 / 60, 1 / 20, 8)
    inp = HypercubeInput(inp.arrival_rate_per_min / inp.arrival_rate_per_min.sum() * 0.75 * mu.sum(),
                         inp.preference, mu, inp.travel_min)
    result = solve_exact(inp)
    assert result.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(inp.total_arrival_rate_per_min * result.dispatch_fraction.sum(axis=1),
                       mu * result.workload, rtol=1e-9, atol=0)
    # Each atom's calls are all served by someone.
    assert np.allclose(result.dispatch_fraction.sum(axis=0),
                       inp.arrival_rate_per_min / inp.total_arrival_rate_per_min, rtol=1e-9, atol=0)


# ---------------------------------------------------------------- approximate model

def test_q_factors_are_exact_for_exchangeable_preferences() -> None:
    # Every ordering of 4 units is one atom's list with the same rate: all busy sets of a
    # given size are then equally likely, which is exactly the case Q(N, rho, j) is built
    # from, so the approximation must reproduce the exact dispatch fractions.
    n_units = 4
    pref = np.array(list(permutations(range(n_units))))
    mu = np.full(n_units, 0.05)
    lam = np.full(len(pref), 0.6 * mu.sum() / len(pref))
    inp = HypercubeInput(lam, pref, mu)
    exact, approx = solve_exact(inp), solve_approximate(inp)
    assert np.allclose(approx.workload, exact.workload, rtol=0, atol=TOL)
    assert np.allclose(approx.dispatch_fraction, exact.dispatch_fraction, rtol=0, atol=TOL)
    assert np.allclose(approx.busy_count_prob, exact.busy_count_prob, rtol=0, atol=TOL)
    assert approx.queue_probability == pytest.approx(exact.queue_probability, abs=TOL)
    assert larson_q_factors(n_units, 0.6)[0] == pytest.approx(1.0, abs=1e-12)


def test_approximation_reproduces_larson_odoni_three_server_example() -> None:
    # Larson & Odoni, Urban Operations Research (1981), sec. 5.4.3 and 5.5.3
    # (web.mit.edu/urban_or_book/www/book/chapter5/5.5.3.html): 3 units, mu = 1, lambda = 1.5,
    # so rho = 0.5. Unit 1's own area has half the calls: atoms 1-2 prefer units (1, 2, 3),
    # atom 4 (1, 3, 2); unit 1 is the first backup of the other two areas, (2, 1, 3) and
    # (3, 1, 2) (book Table 5-4; units 0-based below). Only the preference list matters to
    # either model, so each list is one atom here. The online text
    # gives its per-atom rates only in a figure; the list totals 0.50, 0.25, 0.35, 0.40 are
    # our reconstruction: with them the exact model gives the book's exact workloads
    # (0.5574, 0.4734, 0.4693) to 4 decimals. The book prints Q(3, 1/2, .) = 1, 0.73684,
    # 0.63158 and approximate workloads 0.5627, 0.4716, 0.4657 after the third iteration
    # (stopping rule 0.001); our converged values are 0.56263, 0.47170, 0.46566 (the third
    # iterate from rho_n = rho is 0.5628, 0.4716, 0.4657). Without the normalisation step
    # (workloads rescaled to sum to lambda / mu) the fixed point is 0.5610, 0.4701, 0.4641,
    # which the book's figures rule out.
    inp = HypercubeInput(np.array([0.50, 0.25, 0.35, 0.40]),
                         np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [2, 0, 1]]), np.ones(3))
    assert np.allclose(larson_q_factors(3, 0.5), [1.0, 0.73684, 0.63158], rtol=0, atol=5e-6)
    assert np.allclose(solve_exact(inp).workload, [0.5574, 0.4734, 0.4693], rtol=0, atol=5e-5)
    assert np.allclose(solve_approximate(inp).workload, [0.5627, 0.4716, 0.4657], rtol=0, atol=1.5e-4)


@cache
def approximation_errors(demand: str, load: float) -> tuple[tuple[int, int, float, float, float], ...]:
    """(N, seed, max rel error, max abs error, max abs error of the equal-share guess r/N)
    for N = 4..12 and seeds 0..2, 60 atoms."""
    rows = []
    for n_units in range(4, 13):
        for seed in range(3):
            cmp = compare_exact_approx(town(n_units, 60, load, seed, demand))
            equal_share = float(np.max(np.abs(load - cmp.exact.workload)))
            rows.append((n_units, seed, cmp.max_rel_error, cmp.max_abs_error, equal_share))
    return tuple(rows)


# Measured, not tuned (N = 4..12, 3 seeds each). These misses are properties of Larson's
# approximation, not of the code: sim/hypercube.py reproduces Larson & Odoni's worked example
# (test above) and its fixed point is unique from random starts. Larson & Odoni (sec. 5.5,
# 5.5.3) report errors "within 1 or 2 percent", illustrated by one 3-unit example whose
# workloads are all near 0.5 (max error 0.0053 = 1 % relative); our random towns are harder:
# posts placed at random leave some units with a tiny or empty own area, so their workload
# comes from deep in other atoms' preference lists, where the M/M/N correction factors
# (symmetric units) miss the geographic correlation of busy units: even fed the exact
# workloads, Larson's product Q(N, rho, k-1) rho_1..rho_{k-1} (1 - rho_n) puts the rate
# of rank-5..12 dispatches to the 0.0005 unit 4-100 times too low (concentrated, load 0.2,
# N = 12, seed 0), and rank-5..8 dispatches 23-31 % too low for a unit busy 46 % of the
# time (spread, load 0.5, N = 12, seed 0). Worst unit's exact
# workload, and worst relative error over units busy at least rho/2 of the time:
#   spread 0.2: 0.042, 3.9 %          spread 0.5: 0.30, 5.3 %
#   concentrated 0.2: 0.0005, 9.9 %   concentrated 0.5: 0.13, 6.3 %   concentrated 0.8: 0.62, 3.5 %
# Spread demand at load 0.8 meets 3 % (worst 0.9 %).
_MISSES_3_PERCENT = {
    ("spread", 0.2): "worst relative error 13.7 % (absolute 0.007), on a unit busy 4 % of the time",
    ("spread", 0.5): "worst relative error 5.3 % (absolute 0.016), on a unit busy 30 % of the time",
    ("concentrated", 0.2): "worst relative error 91 % (absolute 0.023), on a unit busy 0.05 % of the time",
    ("concentrated", 0.5): "worst relative error 28 % (absolute 0.036), on a unit busy 13 % of the time",
    ("concentrated", 0.8): "worst relative error 3.5 % (absolute 0.022), on a unit busy 62 % of the time",
}


@pytest.mark.parametrize("demand, load", [
    pytest.param(d, ld, marks=[pytest.mark.xfail(strict=True, reason=_MISSES_3_PERCENT[(d, ld)])]
                 if (d, ld) in _MISSES_3_PERCENT else [])
    for d in ("spread", "concentrated") for ld in (0.2, 0.5, 0.8)
])
def test_approximate_workloads_within_3_percent_of_exact(demand: str, load: float) -> None:
    worst = max(rel for _, _, rel, _, _ in approximation_errors(demand, load))
    assert worst <= 0.03, f"worst relative workload error {worst:.3%}"


@pytest.mark.parametrize("demand", ["spread", "concentrated"])
@pytest.mark.parametrize("load", [0.2, 0.5, 0.8])
def test_approximate_absolute_workload_error_stays_as_measured(demand: str, load: float) -> None:
    # Regression guard (the xfails above only catch improvements): the worst absolute
    # workload error measured over N = 4..12 is 0.036 (concentrated, load 0.5).
    worst = max(abs_err for _, _, _, abs_err, _ in approximation_errors(demand, load))
    assert worst <= 0.04, f"worst absolute workload error {worst:.4f}"


@pytest.mark.parametrize("demand", ["spread", "concentrated"])
@pytest.mark.parametrize("load", [0.2, 0.5, 0.8])
def test_approximate_beats_equal_share_guess(demand: str, load: float) -> None:
    # The approximation must use the geometry: in every case its worst workload error is
    # below that of giving every unit the mean workload r/N.
    for n_units, seed, _, abs_err, equal_share in approximation_errors(demand, load):
        assert abs_err < equal_share, (n_units, seed)


def test_approximate_large_fleet_is_consistent() -> None:
    inp = town(100, 300, 0.8, seed=3, demand="concentrated")
    result = solve(inp)
    assert result.method == "approximate" and result.state_prob is None
    offered = inp.total_arrival_rate_per_min / inp.service_rate_per_min[0]
    assert result.workload.sum() == pytest.approx(offered, rel=1e-12)
    assert np.all((result.workload > 0) & (result.workload < 1))
    assert result.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.queue_probability == pytest.approx(erlang_c(100, offered), rel=1e-12)
    assert result.mean_travel_min is not None and result.mean_travel_min > 2.0


def test_approximate_rejects_unequal_service_rates() -> None:
    inp = HypercubeInput(np.array([0.1]), np.array([[0, 1]]), np.array([0.1, 0.2]))
    with pytest.raises(InputError, match="equal service rates"):
        solve_approximate(inp)


# ---------------------------------------------------------------- choosing and bad input

def test_solve_chooses_model_by_fleet_size() -> None:
    small = town(5, 10, 0.5, seed=1, demand="spread")
    assert solve(small).method == "exact"
    assert solve(small, max_exact_units=4).method == "approximate"
    big = town(16, 10, 0.5, seed=1, demand="spread")
    with pytest.raises(InputError, match="max_exact_units = 15"):
        solve(big, allow_approximate=False)


@pytest.mark.parametrize("load", [1.0, 1.3])
def test_unstable_fleet_is_rejected(load: float) -> None:
    mu = np.array([0.05, 0.05, 0.1])
    with pytest.raises(InputError, match="grows without bound"):
        HypercubeInput(np.array([0.1, 0.1]) * load, np.array([[0, 1, 2], [2, 1, 0]]), mu)


def test_bad_arrays_are_reported_together() -> None:
    with pytest.raises(InputError) as err:
        HypercubeInput(np.array([0.1, 0.1]), np.array([[0, 0], [1, 0]]), np.array([1.0, 1.0]),
                       travel_min=np.ones((3, 2)))
    assert len(err.value.problems) == 2
    assert "rows [0]" in err.value.problems[0] and "travel_min" in err.value.problems[1]


def test_preference_ties_go_to_lower_unit_index() -> None:
    travel = np.array([[5.0, 1.0], [3.0, 1.0], [3.0, 0.5]])
    assert preference_from_travel(travel).tolist() == [[1, 2, 0], [2, 0, 1]]


# ---------------------------------------------------------------- regency scale (issue 14)

@pytest.mark.parametrize("n_units, equal_rates", [(6, False), (10, False), (10, True)])
def test_matrix_free_balance_gives_the_sparse_matrix_answer(n_units: int, equal_rates: bool) -> None:
    rng = np.random.default_rng(40 + n_units)
    inp = town(n_units, 40, 0.85, seed=n_units, demand="concentrated")
    if not equal_rates:  # up to 20x apart, as the sparse solver was tried on
        mu = rng.uniform(1 / 200, 1 / 10, n_units)
        inp = HypercubeInput(inp.arrival_rate_per_min * 0.85 * mu.sum() / inp.total_arrival_rate_per_min,
                             inp.preference, mu, inp.travel_min)
    sparse, free = solve_exact(inp, matrix_free=False), solve_exact(inp, matrix_free=True)
    assert np.allclose(free.state_prob, sparse.state_prob, rtol=0, atol=1e-12)
    assert np.allclose(free.dispatch_fraction, sparse.dispatch_fraction, rtol=0, atol=1e-12)
    if n_units <= 6:
        assert np.allclose(free.state_prob, naive_state_prob(inp), rtol=0, atol=TOL)


@pytest.mark.slow
def test_exact_above_15_units_is_mmn_with_equal_rates() -> None:
    inp = town(16, 8, 0.8, seed=16, demand="spread")
    result = solve_exact(inp)  # 65,536 states, solved matrix-free
    mu = inp.service_rate_per_min[0]
    offered = Fraction(inp.total_arrival_rate_per_min / mu)
    assert np.allclose(result.busy_count_prob, [float(x) for x in mmn_direct(16, offered)], rtol=0, atol=TOL)
    assert result.workload.sum() == pytest.approx(float(offered), abs=TOL)
    assert result.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)


def test_exact_refuses_more_than_20_units_with_a_clear_message() -> None:
    inp = town(21, 5, 0.5, seed=1, demand="spread")
    with pytest.raises(InputError, match=r"at most 20 units .*21 units would need about [0-9.]+ GB.*approximation"):
        solve_exact(inp)


@pytest.mark.parametrize("n_units", [200, 500])
def test_approximate_settles_for_hundreds_of_units(n_units: int) -> None:
    """At N = 200 the plain iteration cycles for ever; damped, it reaches a fixed point of the same map."""
    inp = town(n_units, 300, 0.8, seed=0, demand="concentrated")
    result = solve_approximate(inp)
    offered = inp.total_arrival_rate_per_min / inp.service_rate_per_min[0]
    assert result.workload.sum() == pytest.approx(offered, rel=1e-12)
    assert np.all((result.workload >= 0) & (result.workload <= 1))
    assert result.dispatch_fraction.sum() == pytest.approx(1.0, abs=1e-12)
    # A fixed point: one more plain step of Larson's iteration moves no workload.
    mu, q, pref = inp.service_rate_per_min[0], larson_q_factors(n_units, offered / n_units), inp.preference
    before = np.cumprod(result.workload[pref], axis=1)
    before = np.concatenate((np.ones((len(pref), 1)), before[:, :-1]), axis=1)
    weight = inp.arrival_rate_per_min[:, None] * q[None, :] * before
    v = np.bincount(pref.ravel(), weights=weight.ravel(), minlength=n_units) / mu
    step = (v + offered * erlang_c(n_units, offered) / n_units) / (1 + v)
    assert np.max(np.abs(step * offered / step.sum() - result.workload)) < 1e-10
