"""Random towns as hypercube inputs, for tests and benchmarks (light: numpy only, so the
benchmark's memory figures measure the model, not the test tooling)."""
from __future__ import annotations

import numpy as np

from sim.analytic.hypercube import HypercubeInput, preference_from_travel


def town(n_units: int, n_atoms: int, load: float, seed: int, demand: str,
         service_rate_per_min: float = 1 / 40) -> HypercubeInput:
    """A random 12 km x 12 km town: posts uniform; atoms uniform with even weights
    ("spread"), or 70 % of them around the centre (sd 2 km) with lognormal weights
    ("concentrated", like Jember's sites). Travel = 2 min + Manhattan km at 30 km/h."""
    rng = np.random.default_rng(seed)
    if demand == "spread":
        atoms_km = rng.uniform(0, 12, (n_atoms, 2))
        weight = rng.uniform(0.5, 1.5, n_atoms)
    else:
        central = rng.random((n_atoms, 1)) < 0.7
        atoms_km = np.where(central, 6 + rng.normal(0, 2, (n_atoms, 2)), rng.uniform(0, 12, (n_atoms, 2)))
        weight = rng.lognormal(0, 1, n_atoms)
    posts_km = rng.uniform(0, 12, (n_units, 2))
    travel_min = 2.0 + np.abs(posts_km[:, None, :] - atoms_km[None, :, :]).sum(axis=2) / 30 * 60
    mu = np.full(n_units, service_rate_per_min)
    lam = weight / weight.sum() * load * mu.sum()
    return HypercubeInput(lam, preference_from_travel(travel_min), mu, travel_min)
