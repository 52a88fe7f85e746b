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


class IndexDraws:
    """Uniform indices from a generator, each the number ``rng.integers(n)`` would give there.

    numpy draws a bounded integer below 2**32 from one or more 32-bit outputs of the bit generator
    (Lemire's method: multiply, keep the high word, redraw while the low word falls under the
    threshold); here the same outputs are fetched ``BATCH`` at a time and the same arithmetic is
    done in Python, because one numpy call costs microseconds (a random patrol draws once a leg).
    Once used, the generator must be read only through this object: its outputs are fetched ahead.
    """

    BATCH = 64
    MAX_N = 2**32

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._ahead: list[int] = []  # fetched outputs, the next one last

    def _next32(self) -> int:
        if not self._ahead:
            self._ahead = self.rng.integers(0, 2**32, size=self.BATCH, dtype=np.uint32).tolist()[::-1]
        return self._ahead.pop()

    def __call__(self, n: int) -> int:
        """An index in range(n), 1 <= n <= 2**32."""
        if not 1 <= n <= self.MAX_N:
            raise ValueError(f"an index needs 1 <= n <= 2**32, got {n}")
        if n == 1:  # numpy draws nothing for a single choice
            return 0
        m = self._next32() * n
        if (m & 0xFFFFFFFF) < n:
            threshold = (2**32 - n) % n
            while (m & 0xFFFFFFFF) < threshold:
                m = self._next32() * n
        return m >> 32
