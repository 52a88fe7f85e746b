"""Random streams: every draw in patrolsim comes from ``SeedSequence(seed, spawn_key=key)``.

The purpose numbers below are part of the reproducibility contract (docs/design.md): changing
one changes every result.
"""
from __future__ import annotations

import numpy as np

# Purposes of the random streams.
STREAM_ARRIVALS, STREAM_SITES, STREAM_ON_SCENE, STREAM_PATROL, STREAM_POOL = range(5)
STREAM_SITE_SETS = 5  # generated site sets' points: spawn_key (5, kecamatan code), seed of the set
STREAM_EVENTS = 6  # event incidents: spawn_key (rep, 6, event key, type index, part); 5 is site sets'
STREAM_REPORTS = 7  # public report delays (detection): spawn_key (rep, 7, type index), in incident order
STREAM_DETERRENCE = 8  # deterrence draws (one uniform per candidate): spawn_key (rep, 8), in incident order


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for (seed, key...): same key, same numbers, in any process."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
