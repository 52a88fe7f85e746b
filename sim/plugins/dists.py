"""Small duration distributions (minutes), ciw style: one ``sample(rng)`` method each.

Parameters are validated by ``sim.config`` on the way in; the constructors here trust them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Union

import numpy as np


@dataclass(frozen=True)
class Fixed:
    """Always ``value`` minutes."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Exponential:
    """Exponential with the given ``mean`` (minutes)."""

    mean: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean))


@dataclass(frozen=True)
class Lognormal:
    """Lognormal given by the ``mean`` and ``sd`` of the variable itself (minutes).

    ``mu`` and ``sigma`` are the parameters of the underlying normal:
    sigma² = ln(1 + sd²/mean²), mu = ln(mean) − sigma²/2.
    """

    mean: float
    sd: float
    mu: float = field(init=False, repr=False)
    sigma: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        # frozen dataclass: derived fields are set once here, through object.__setattr__
        object.__setattr__(self, "sigma", math.sqrt(sigma2))
        object.__setattr__(self, "mu", math.log(self.mean) - sigma2 / 2.0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))


@dataclass(frozen=True)
class Uniform:
    """Uniform on [``low``, ``high``) minutes."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class Triangular:
    """Triangular on [``low``, ``high``] minutes with its peak at ``mode``."""

    low: float
    mode: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))


Dist = Union[Fixed, Exponential, Lognormal, Uniform, Triangular]

#: scenario name of each distribution -> its class; the parameter names are the field names
DISTS: dict[str, type[Dist]] = {
    "fixed": Fixed,
    "exponential": Exponential,
    "lognormal": Lognormal,
    "uniform": Uniform,
    "triangular": Triangular,
}

#: parameters each distribution takes, in the order of its constructor
PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "lognormal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}


def dist_from_dict(d: Mapping[str, object]) -> Dist:
    """The distribution described by ``{dist: NAME, PARAM: value, ...}`` (already validated)."""
    name = str(d["dist"])
    params = {key: float(d[key]) for key in PARAMS[name]}  # type: ignore[arg-type]
    return DISTS[name](**params)
