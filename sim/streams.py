"""Random streams: every draw in patrolsim comes from ``SeedSequence(seed, spawn_key=key)``.

The purpose numbers below are part of the reproducibility contract (docs/design.md): changing
one changes every result.
"""
from __future__ import annotations

import numpy as np

# Purposes of the random streams.
STREAM_ARRIVALS, STREAM_SITES, STREAM_ON_SCENE, STREAM_PATROL, STREAM_POOL = range(5)


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for (seed, key...): same key, same numbers, in any process."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
