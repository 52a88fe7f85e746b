"""M/M/N (Erlang) formulas: blocking, waiting, busy-count probabilities and the mean queue wait.

The hypercube model (``sim.analytic.hypercube``) leans on them: the approximate model takes its
queue and busy-count figures from them, both models the mean wait. Rates are per minute, times
minutes, offered loads in Erlang (arrival rate / service rate of one server).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp, xlogy

from sim.errors import InputError


def erlang_b(servers: int, offered_load_erl: float) -> float:
    """Erlang B: blocking probability of M/M/N/N with ``offered_load_erl`` = lambda/mu.

    Uses the recursion B(k) = A B(k-1) / (k + A B(k-1)), B(0) = 1, which stays in [0, 1]
    (no factorials, no overflow) for any number of servers.
    """
    if servers < 1 or offered_load_erl < 0:
        raise InputError(f"erlang_b: need servers >= 1 and load >= 0, got {servers}, {offered_load_erl}")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load_erl * b / (k + offered_load_erl * b)
    return b


def erlang_c(servers: int, offered_load_erl: float) -> float:
    """Erlang C: probability that a call waits in M/M/N (infinite queue), load A = lambda/mu < N.

    From Erlang B: C = N B / (N - A (1 - B)).
    """
    if offered_load_erl >= servers:
        raise InputError(f"erlang_c: load {offered_load_erl:.6g} Erl >= {servers} servers: no steady state")
    b = erlang_b(servers, offered_load_erl)
    return servers * b / (servers - offered_load_erl * (1.0 - b))


def mean_queue_wait_min(wait_probability: float, total_service_rate_per_min: float,
                        arrival_rate_per_min: float) -> float:
    """Mean queue wait (min) over all calls when the all-busy fleet completes calls at
    ``total_service_rate_per_min``: the queue is then an M/M/1 queue with that rate, so a
    waiting call waits 1 / (sum mu - lambda) on average."""
    return wait_probability / (total_service_rate_per_min - arrival_rate_per_min)


def erlang_c_mean_wait_min(servers: int, arrival_rate_per_min: float, service_rate_per_min: float) -> float:
    """Mean queue wait (min) over all calls in M/M/N: C / (N mu - lambda)."""
    wait = erlang_c(servers, arrival_rate_per_min / service_rate_per_min)
    return mean_queue_wait_min(wait, servers * service_rate_per_min, arrival_rate_per_min)


def mmn_busy_count_prob(servers: int, offered_load_erl: float) -> np.ndarray:
    """(N+1,) probability that k servers are busy in M/M/N; entry N includes every queued state.

    P_k is proportional to A^k / k! for k < N and the tail sums to A^N / N! / (1 - A/N);
    computed in logs so that large N does not overflow.
    """
    if offered_load_erl >= servers:
        raise InputError(f"mmn_busy_count_prob: load {offered_load_erl:.6g} Erl >= {servers} servers")
    k = np.arange(servers + 1)
    log_terms = xlogy(k, offered_load_erl) - gammaln(k + 1)  # xlogy: 0 log 0 = 0 at A = 0
    log_terms[servers] -= np.log1p(-offered_load_erl / servers)
    return np.exp(log_terms - logsumexp(log_terms))
