"""The election season: dated phases, events, and weekly profiles (issue #11).

```yaml
calendar:
  phases:                       # in order, not overlapping, inside the clock
    - {name: campaign, start: "2024-09-25T00:00", end: "2024-11-24T00:00", rate_multiplier: {all: 1.0}}
events:                         # extra incidents at these sites while the event lasts
  - {id: protest_13nov, start: "2024-11-13T10:00", hours: 4, sites: {dprd_office: 1},
     rate_per_hour: {crowd_unrest: 1.5}}
```

The models here hold the data; ``PhaseTimes`` turns the phases into minutes of the run's clock for
the model. Names of other parts (sites, disturbance types) are checked against ``known`` as a
scenario validates; the phases' order and place on the clock in ``checks``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.config import limits
from sim.config.known import known, unknown_keys
from sim.config.problems import located, raise_located
from sim.errors import shown
from sim.plugins.base import Spec, Tuple

ALL_TYPES = "all"  # rate_multiplier key for every disturbance type without its own
WHEN = "%Y-%m-%dT%H:%M"  # how dates are shown in messages
DAYS_PER_WEEK = 7
Multiplier = Annotated[float, Field(ge=0, le=limits.MAX_PROFILE_VALUE)]


def iso_datetime(value: Any) -> Any:
    """A date-time from YAML text ("2024-11-27T00:00"); datetime/date objects pass (scenarios built in code)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"not an ISO date-time such as \"2024-10-23T00:00\": {shown(value)}")


class Phase(Spec):
    """A dated stretch of the season; its ``rate_multiplier`` scales disturbance rates by type
    (``all``: every type not named), 1 where not given."""

    name: Annotated[str, Field(min_length=1)]
    start: datetime
    end: datetime
    rate_multiplier: dict[str, Multiplier] = {}

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return iso_datetime(value)

    @field_validator("rate_multiplier")
    @classmethod
    def _known_types(cls, multipliers: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        types = known(info).types
        names = None if types is None else {**types, ALL_TYPES: None}
        raise_located(unknown_keys(multipliers, names, "disturbance type"))
        return multipliers

    def multiplier(self, disturbance_type: str) -> float:
        return self.rate_multiplier.get(disturbance_type, self.rate_multiplier.get(ALL_TYPES, 1.0))


class Calendar(Spec):
    """The phases of the season, in order and not overlapping."""

    phases: Annotated[Tuple[Phase], Field(min_length=1, max_length=limits.MAX_PHASES)]


class Event(Spec):
    """Extra incidents (``rate_per_hour`` by disturbance type, constant) at ``sites`` (site id ->
    weight) from ``start`` for ``hours``."""

    id: Annotated[str, Field(min_length=1)]
    name: str = ""
    start: datetime
    hours: float = Field(gt=0, le=limits.MAX_EVENT_HOURS)
    sites: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    rate_per_hour: dict[str, Annotated[float, Field(ge=0, le=limits.MAX_RATE_PER_HOUR)]] = Field(min_length=1)

    @field_validator("start", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return iso_datetime(value)

    @field_validator("sites")
    @classmethod
    def _known_sites(cls, sites: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        raise_located(unknown_keys(sites, known(info).sites, "site"))
        return sites

    @field_validator("rate_per_hour")
    @classmethod
    def _known_types(cls, rates: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        raise_located(unknown_keys(rates, known(info).types, "disturbance type"))
        return rates

    @model_validator(mode="after")
    def _inside_the_clock(self, info: ValidationInfo) -> Event:
        """Inside the clock (a clock the command line set may end before a later event)."""
        names = known(info)
        if names.clock is None:
            return self
        start = names.clock.start
        end = start + timedelta(hours=names.clock.duration_hours)
        if self.start < start or (self.start >= end and not names.clock_set_on_command_line):
            raise located([(("start",), f"{self.start:{WHEN}} is outside the clock ({start:{WHEN}} to {end:{WHEN}})")])
        if self.start + timedelta(hours=self.hours) > end and not names.clock_set_on_command_line:
            raise located([(("hours",), f"the event runs past the end of the clock ({end:{WHEN}})")])
        return self



_WINDOW = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
MIN_PER_DAY = 1440


def daily_window(text: Any) -> tuple[int, int]:
    """``"07:00-15:00"`` -> (420, 900) minutes of the day; the end may be "24:00" and may come
    before the start (a window across midnight: "19:00-07:00"). ValueError if malformed."""
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if match is not None:
        h0, m0, h1, m1 = map(int, match.groups())
        start, end = h0 * 60 + m0, h1 * 60 + m1
        if h0 < 24 and m0 < 60 and m1 < 60 and end <= MIN_PER_DAY and start != end % MIN_PER_DAY:
            return start, end
    raise ValueError(f"{shown(text)} is not a daily window \"HH:MM-HH:MM\" between 00:00 and 24:00 with "
                     "different ends, e.g. \"07:00-15:00\" or \"19:00-07:00\"")


def minutes_after(start: datetime, when: datetime) -> float:
    """Minutes from the clock's start to ``when``."""
    return (when - start).total_seconds() / 60.0


@dataclass(frozen=True)
class PhaseTimes:
    """The phases on the run's clock: names and [start, end) in minutes from the clock's start."""

    names: tuple[str, ...]
    start_min: np.ndarray
    end_min: np.ndarray

    @classmethod
    def of(cls, calendar: Calendar | None, clock_start: datetime) -> PhaseTimes:
        phases = calendar.phases if calendar is not None else ()
        return cls(tuple(p.name for p in phases),
                   np.array([minutes_after(clock_start, p.start) for p in phases], float),
                   np.array([minutes_after(clock_start, p.end) for p in phases], float))

    def index_at(self, t_min: np.ndarray) -> np.ndarray:
        """Index of the phase in force at each time, -1 outside every phase."""
        t_min = np.asarray(t_min, float)
        i = np.searchsorted(self.start_min, t_min, side="right") - 1
        inside = (i >= 0) & (t_min < self.end_min[np.clip(i, 0, None)]) if len(self.names) else i >= 0
        return np.where(inside, i, -1)

