"""Duration distributions (minutes), ciw style: each validates its own parameters and has
``sample(rng)`` and ``mean``.

A plug-in point: a new distribution is a ``Dist`` subclass with a ``dist`` literal, registered with
``@register`` (here or in the user's own module); the scenario schema reads ``DISTS`` when it
validates, so ``on_scene_min: {dist: NAME, ...}`` accepts it at once.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from sim.plugins.base import Spec
from sim.plugins.registry import Registry, chosen_by

#: scenario name of each distribution -> its class
DISTS: Registry[type[Dist]] = Registry("distribution")

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class Dist(Spec):
    """A distribution of durations in minutes; each class also has ``mean`` (a field or a property).

    In code the parameters may be given in order: ``Lognormal(40, 20)``, ``Triangular(30, 60, 120)``.
    """

    dist: str
    PARAMS: ClassVar[tuple[str, ...]] = ()  # the parameters, in the order of positional arguments

    def __init__(self, *args: float, **kwargs: Any):
        super().__init__(**dict(zip(self.PARAMS, args)), **kwargs)

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError


def register(cls: type[Dist]) -> type[Dist]:
    """Add a distribution class to ``DISTS`` under the value of its ``dist`` literal."""
    (name,) = cls.model_fields["dist"].annotation.__args__  # type: ignore[union-attr]
    return DISTS.add(name, cls)


def _above(field: str, value: float, info: ValidationInfo) -> float:
    """``value`` if it is above the already validated ``field``; else a ValueError naming both."""
    low = info.data.get(field)
    if low is not None and not value > low:
        raise ValueError(f"must be > {field} ({low:g}), got {value:g}")
    return value


@register
class Fixed(Dist):
    """Always ``value`` minutes."""

    dist: Literal["fixed"] = "fixed"
    PARAMS: ClassVar[tuple[str, ...]] = ("value",)
    value: NonNegative

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.value)


@register
class Exponential(Dist):
    """Exponential with the given ``mean`` (minutes)."""

    dist: Literal["exponential"] = "exponential"
    PARAMS: ClassVar[tuple[str, ...]] = ("mean",)
    mean: Positive

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean))


@register
class Lognormal(Dist):
    """Lognormal given by the ``mean`` and ``sd`` of the variable itself (minutes).

    ``mu`` and ``sigma`` are the parameters of the underlying normal:
    sigma² = ln(1 + sd²/mean²), mu = ln(mean) − sigma²/2.
    """

    dist: Literal["lognormal"] = "lognormal"
    PARAMS: ClassVar[tuple[str, ...]] = ("mean", "sd")
    mean: Positive
    sd: Annotated[float, Field(gt=0, description="for no spread use dist fixed")]

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self) -> float:
        return math.log(self.mean) - math.log1p((self.sd / self.mean) ** 2) / 2.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))


@register
class Uniform(Dist):
    """Uniform on [``low``, ``high``) minutes."""

    dist: Literal["uniform"] = "uniform"
    PARAMS: ClassVar[tuple[str, ...]] = ("low", "high")
    low: NonNegative
    high: float

    @field_validator("high")
    @classmethod
    def _high_above_low(cls, value: float, info: ValidationInfo) -> float:
        return _above("low", value, info)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@register
class Triangular(Dist):
    """Triangular on [``low``, ``high``] minutes with its peak at ``mode``."""

    dist: Literal["triangular"] = "triangular"
    PARAMS: ClassVar[tuple[str, ...]] = ("low", "mode", "high")
    low: NonNegative
    high: float
    mode: float  # after low and high, so that its check sees both

    @field_validator("high")
    @classmethod
    def _high_above_low(cls, value: float, info: ValidationInfo) -> float:
        return _above("low", value, info)

    @field_validator("mode")
    @classmethod
    def _mode_inside(cls, value: float, info: ValidationInfo) -> float:
        low, high = info.data.get("low"), info.data.get("high")
        if low is not None and high is not None and not low <= value <= high:
            raise ValueError(f"must lie between low ({low:g}) and high ({high:g}), got {value:g}")
        return value

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))


def dist_union() -> Any:
    """The schema type of a distribution field: one of ``DISTS`` (as registered when validating),
    chosen by its ``dist`` key."""
    return chosen_by(DISTS, "dist")


def dist_from_dict(d: dict[str, Any]) -> Dist:
    """The distribution described by ``{dist: NAME, PARAM: value, ...}`` (validated here)."""
    return DISTS[str(d["dist"])].model_validate(d)
