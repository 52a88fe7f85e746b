"""Random streams: the indices a random patrol draws are the numbers numpy's own call gives."""
from __future__ import annotations

import numpy as np
import pytest

from sim.streams import IndexDraws


@pytest.mark.parametrize("seed", range(5))
def test_index_draws_are_what_rng_integers_gives(seed):
    """One draw after another, with sizes that change from draw to draw (including 1, which draws
    nothing, and sizes near 2**32, where numpy redraws often), IndexDraws gives what
    ``rng.integers(n)`` gives on a generator of the same seed."""
    sizes = np.random.default_rng(seed + 100).integers(1, 5000, size=2000).tolist()
    sizes += [1, 2, 3, 2**31 + 7, 2**32 - 5, 2**32 - 1, 2**32] * 40
    numpy_rng, draws = np.random.default_rng(seed), IndexDraws(np.random.default_rng(seed))
    got = [draws(n) for n in sizes]
    expected = [int(numpy_rng.integers(n)) for n in sizes]
    assert got == expected, "IndexDraws drew other numbers than rng.integers(n): random patrols would move"


@pytest.mark.parametrize("n", [0, -1, 2**32 + 1])
def test_index_draws_refuse_a_range_numpy_draws_otherwise(n):
    with pytest.raises(ValueError, match="1 <= n <= 2\\*\\*32"):
        IndexDraws(np.random.default_rng(0))(n)
