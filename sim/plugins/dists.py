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
from pydantic import Field, ValidationInfo, field_validator, model_validator

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

    @model_validator(mode="after")
    def _drawable(self) -> Dist:
        """A finite mean and a draw that is a finite number of minutes (what every class promises)."""
        try:
            mean, draw = float(self.mean), float(self.sample(np.random.default_rng(0)))  # type: ignore[attr-defined]
        except (ArithmeticError, ValueError, TypeError, NotImplementedError) as error:
            raise ValueError(f"cannot be drawn from: {type(error).__name__}: {error}") from None
        if not (math.isfinite(mean) and math.isfinite(draw) and draw >= 0):
            raise ValueError(f"cannot be drawn from: mean {mean:g}, a draw {draw:g} (durations are finite "
                             "and not negative)")
        return self

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        """``n`` draws: the numbers ``n`` calls of ``sample`` one after another give (a subclass may
        draw them at once, as long as they are the same)."""
        return [self.sample(rng) for _ in range(n)]


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

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        return [float(self.value)] * n


@register
class Exponential(Dist):
    """Exponential with the given ``mean`` (minutes)."""

    dist: Literal["exponential"] = "exponential"
    PARAMS: ClassVar[tuple[str, ...]] = ("mean",)
    mean: Positive

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean))

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        # numpy draws an array element by element as it draws scalars: the same numbers.
        return rng.exponential(self.mean, n).tolist()


#: The widest lognormal: sd at most this many times the mean (sigma at most 3.03). Wider, a few draws
#: in a million are 10^13 times the median and the mean is a poor guide to the run: not a duration.
MAX_LOGNORMAL_CV = 100.0


def _log1p_square(ratio: float) -> float:
    """ln(1 + ratio²) without overflow for a huge ratio (ratio² would be inf beyond about 1e154)."""
    if ratio > 1e150:
        return 2.0 * math.log(ratio)
    return math.log1p(ratio ** 2)


@register
class Lognormal(Dist):
    """Lognormal given by the ``mean`` and ``sd`` of the variable itself (minutes).

    ``mu`` and ``sigma`` are the parameters of the underlying normal:
    sigma² = ln(1 + sd²/mean²), mu = ln(mean) − sigma²/2. The sd is at most ``MAX_LOGNORMAL_CV``
    times the mean, so that every draw is a finite number of minutes.
    """

    dist: Literal["lognormal"] = "lognormal"
    PARAMS: ClassVar[tuple[str, ...]] = ("mean", "sd")
    mean: Positive
    sd: Annotated[float, Field(gt=0, description="for no spread use dist fixed")]

    @field_validator("sd")
    @classmethod
    def _can_be_drawn(cls, sd: float, info: ValidationInfo) -> float:
        mean = info.data.get("mean")
        if mean is not None and sd > MAX_LOGNORMAL_CV * mean:
            raise ValueError(f"{sd:g} is {sd / mean:.3g} times the mean ({mean:g}): at most {MAX_LOGNORMAL_CV:g} "
                             f"times (sigma {math.sqrt(_log1p_square(sd / mean)):.3g}, at most "
                             f"{math.sqrt(math.log1p(MAX_LOGNORMAL_CV ** 2)):.3g}); a spread this wide is not a "
                             "duration")
        return sd

    @property
    def sigma(self) -> float:
        return math.sqrt(_log1p_square(self.sd / self.mean))

    @property
    def mu(self) -> float:
        return math.log(self.mean) - _log1p_square(self.sd / self.mean) / 2.0

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        # numpy draws an array element by element as it draws scalars: the same numbers.
        return rng.lognormal(self.mu, self.sigma, n).tolist()


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

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        # numpy draws an array element by element as it draws scalars: the same numbers.
        return rng.uniform(self.low, self.high, n).tolist()


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

    def sample_many(self, rng: np.random.Generator, n: int) -> list[float]:
        # numpy draws an array element by element as it draws scalars: the same numbers.
        return rng.triangular(self.low, self.mode, self.high, n).tolist()


def dist_union() -> Any:
    """The schema type of a distribution field: one of ``DISTS`` (as registered when validating),
    chosen by its ``dist`` key."""
    return chosen_by(DISTS, "dist")


def dist_from_dict(d: dict[str, Any]) -> Dist:
    """The distribution described by ``{dist: NAME, PARAM: value, ...}`` (validated here)."""
    return DISTS[str(d["dist"])].model_validate(d)
