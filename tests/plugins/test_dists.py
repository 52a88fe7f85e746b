"""Duration distributions: sample moments agree with the stated ones."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pydantic import TypeAdapter, ValidationError

from sim.plugins.dists import DISTS, Exponential, Fixed, Lognormal, Triangular, Uniform, dist_from_dict, dist_union

N = 200_000
Z999 = 3.2905  # two-sided 99.9% normal quantile


def _samples(dist, seed: int = 12345) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([dist.sample(rng) for _ in range(N)])


@pytest.mark.parametrize(
    "dist",
    [Exponential(12.0), Lognormal(40.0, 20.0), Uniform(5.0, 25.0), Triangular(30.0, 60.0, 120.0)],
    ids=lambda d: type(d).__name__,
)
def test_sample_mean_within_999_ci(dist) -> None:
    x = _samples(dist)
    half_width = Z999 * x.std(ddof=1) / math.sqrt(N)
    assert abs(x.mean() - dist.mean) <= half_width


def test_lognormal_sd_within_999_ci() -> None:
    dist = Lognormal(40.0, 20.0)
    x = _samples(dist, seed=777)
    centred = x - x.mean()
    var = centred.var(ddof=1)
    # asymptotic standard error of the sample variance: sqrt((m4 - s^4) / n)
    se_var = math.sqrt((np.mean(centred**4) - var**2) / N)
    assert abs(var - dist.sd**2) <= Z999 * se_var


def test_lognormal_parameters_of_the_underlying_normal() -> None:
    dist = Lognormal(40.0, 20.0)
    assert math.exp(dist.mu + dist.sigma**2 / 2) == pytest.approx(40.0)
    variance = (math.exp(dist.sigma**2) - 1) * math.exp(2 * dist.mu + dist.sigma**2)
    assert math.sqrt(variance) == pytest.approx(20.0)


def test_fixed_is_always_its_value() -> None:
    rng = np.random.default_rng(1)
    dist = Fixed(7.5)
    assert dist.mean == 7.5
    assert {dist.sample(rng) for _ in range(100)} == {7.5}


def test_samples_are_floats_in_range_and_reproducible() -> None:
    dist = Triangular(30.0, 60.0, 120.0)
    a = [dist.sample(np.random.default_rng(3)) for _ in range(3)]
    b = [dist.sample(np.random.default_rng(3)) for _ in range(3)]
    assert a == b and all(type(v) is float for v in a)
    x = _samples(Uniform(5.0, 25.0))
    assert x.min() >= 5.0 and x.max() < 25.0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"dist": "fixed", "value": 5}, Fixed(5.0)),
        ({"dist": "exponential", "mean": 12}, Exponential(12.0)),
        ({"dist": "lognormal", "mean": 40, "sd": 20}, Lognormal(40.0, 20.0)),
        ({"dist": "uniform", "low": 5, "high": 25}, Uniform(5.0, 25.0)),
        ({"dist": "triangular", "low": 30, "mode": 60, "high": 120}, Triangular(30.0, 60.0, 120.0)),
    ],
)
def test_dist_from_dict(spec, expected) -> None:
    assert dist_from_dict(spec) == expected


@pytest.mark.parametrize(
    ("spec", "field", "says"),
    [
        ({"dist": "fixed", "value": -1}, "value", "greater than or equal to 0"),
        ({"dist": "exponential", "mean": 0}, "mean", "greater than 0"),
        ({"dist": "lognormal", "mean": 40, "sd": 0}, "sd", "greater than 0"),
        ({"dist": "uniform", "low": 25, "high": 5}, "high", "must be > low (25), got 5"),
        ({"dist": "triangular", "low": 30, "mode": 160, "high": 120}, "mode", "between low (30) and high (120)"),
        ({"dist": "lognormal", "mean": 40}, "sd", "Field required"),
        ({"dist": "exponential", "mean": 40, "sd": 2}, "sd", "Extra inputs"),
        ({"dist": "exponential", "mean": "40"}, "mean", "valid number"),
    ],
)
def test_each_distribution_checks_its_own_parameters(spec, field, says) -> None:
    with pytest.raises(ValidationError) as caught:
        dist_from_dict(spec)
    (error,) = caught.value.errors()
    assert error["loc"] == (field,) and says in error["msg"]


def test_every_registered_distribution_is_accepted_by_the_scenario_schema() -> None:
    union = TypeAdapter(dist_union())
    for name, cls in DISTS.items():
        params = {"fixed": [3], "exponential": [3], "lognormal": [3, 1], "uniform": [1, 3],
                  "triangular": [1, 2, 3]}[name]
        built = cls(*params)
        assert union.validate_python(built.model_dump()) == built


@pytest.mark.parametrize(
    "dist",
    [Fixed(7.5), Exponential(12.0), Lognormal(40.0, 20.0), Uniform(5.0, 25.0), Triangular(30.0, 60.0, 120.0)],
    ids=lambda d: type(d).__name__,
)
def test_sample_many_gives_the_numbers_of_sample_one_after_another(dist) -> None:
    # The model draws a type's on-scene times at once: replications must not move when it does.
    one_by_one, at_once = np.random.default_rng(99), np.random.default_rng(99)
    expected = [dist.sample(one_by_one) for _ in range(5_000)]
    got = dist.sample_many(at_once, 5_000)
    assert got == expected, f"{type(dist).__name__}.sample_many differs from sample called 5,000 times"
    assert all(type(x) is float for x in got)
    assert one_by_one.random() == at_once.random(), "the generator is left in another state"
    assert dist.sample_many(at_once, 0) == []
