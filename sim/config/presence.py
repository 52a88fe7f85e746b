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

from typing import Any

from pydantic import Field

from sim.config import limits
from sim.config.problems import Report
from sim.plugins.base import Spec
from sim.plugins.dists import dist_union

Multiplier = Field(ge=0, le=1)


class Detection(Spec):
    """An incident is reported at the earlier of its public report (``report_delay_min`` after it
    arose) and the moment a unit stands at or passes a road node within ``patrol_sight_m`` of its site."""

    report_delay_min: dist_union()  # type: ignore[valid-type]
    patrol_sight_m: float = Field(default=0.0, ge=0, le=limits.MAX_SIGHT_M)


class Deterrence(Spec):
    """A candidate incident is kept with the probability in force at its site when it would arise:
    ``presence_multiplier`` while a unit stands within ``radius_m``, ``residual_multiplier`` for
    ``residual_min`` after the last one left, else 1."""

    radius_m: float = Field(ge=0, le=limits.MAX_PRESENCE_RADIUS_M)
    presence_multiplier: float = Multiplier
    residual_min: float = Field(default=0.0, ge=0, le=limits.MAX_MINUTES)
    residual_multiplier: float = Field(default=1.0, ge=0, le=1)


def presence_checks(data: dict[str, Any], report: Report, minutes) -> None:
    """A type's own ``report_delay_min`` needs a ``detection`` block; every delay parameter is at
    most MAX_MINUTES (``minutes(path, block)`` reports it)."""
    detection = data.get("detection")
    if isinstance(detection, dict):
        minutes(("detection", "report_delay_min"), detection.get("report_delay_min"))
    disturbances = data.get("disturbances")
    for i, dist in enumerate(disturbances if isinstance(disturbances, list) else []):
        if not isinstance(dist, dict) or "report_delay_min" not in dist:
            continue
        if detection is None:
            report.at(("disturbances", i, "report_delay_min"),
                      "a type's report_delay_min needs a 'detection' block (detection: {report_delay_min: ...})")
        minutes(("disturbances", i, "report_delay_min"), dist.get("report_delay_min"))
