"""What patrols are for besides answering calls (issue #12): detection and deterrence.

```yaml
detection:
  report_delay_min: {dist: exponential, mean: 12}   # public report delay; a disturbance type may override it
  patrol_sight_m: 150          # a unit standing or passing within this distance of the site sees it
deterrence:
  radius_m: 200                # a unit standing (post, dwell) within this of a site deters there
  presence_multiplier: 0.3     # rate multiplier while a unit stands there
  residual_min: 60             # after it leaves, the effect lasts this long ...
  residual_multiplier: 0.7     # ... at this multiplier
```

The models hold the data; ``sim.model.presence`` runs the rules. Multipliers are at most 1:
candidates are drawn at the undeterred rate and only thinned, never added to.
"""
from __future__ import annotations

from pydantic import Field

from sim.config import limits
from sim.config.schema import Minutes
from sim.plugins.base import Spec

Multiplier = Field(ge=0, le=1)


class Detection(Spec):
    """An incident is reported at the earlier of its public report (``report_delay_min`` after it
    arose) and the moment a unit stands at or passes a road node within ``patrol_sight_m`` of its site."""

    report_delay_min: Minutes  # type: ignore[valid-type]
    patrol_sight_m: float = Field(default=0.0, ge=0, le=limits.MAX_SIGHT_M)


class Deterrence(Spec):
    """A candidate incident is kept with the probability in force at its site when it would arise:
    ``presence_multiplier`` while a unit stands within ``radius_m``, ``residual_multiplier`` for
    ``residual_min`` after the last one left, else 1."""

    radius_m: float = Field(ge=0, le=limits.MAX_PRESENCE_RADIUS_M)
    presence_multiplier: float = Multiplier
    residual_min: float = Field(default=0.0, ge=0, le=limits.MAX_MINUTES)
    residual_multiplier: float = Field(default=1.0, ge=0, le=1)
