"""The time of day and of the week of a moment on the scenario's clock: one helper, used by every
layer that lays the hour-of-day profile, duty windows, travel periods or weekly profiles on the run's
minutes, so that they agree to the second whatever the clock's start (07:30:45 included)."""
from __future__ import annotations

from datetime import datetime

MIN_PER_HOUR = 60.0
MIN_PER_DAY = 1440.0


def minute_of_day(moment: datetime) -> float:
    """Minutes since midnight of ``moment`` (local clock time), seconds and microseconds included."""
    return moment.hour * MIN_PER_HOUR + moment.minute + (moment.second + moment.microsecond / 1e6) / 60.0


def minute_of_week(moment: datetime) -> float:
    """Minutes since Monday 00:00 of ``moment``'s week, seconds included."""
    return moment.weekday() * MIN_PER_DAY + minute_of_day(moment)
