"""Upper bounds on every number a user can type, and the expected work of a run.

Each bound is checked before any work starts (the schema, the command line's flags, the
animation request); the "Limits on input" table of docs/limits.md lists them with the reason for each.
A value inside every bound can still ask for too much at once (a year of clock × thousands of
replications), so ``expected_work`` estimates a run's incidents and unit-hours from the rates and
the clock, and ``check_work`` refuses a run above the work bounds unless it is forced.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np

from sim.config.clock import minute_of_day, minute_of_week
from sim.config.option_names import API_NAMES
from sim.errors import InputError, shown

MIN_PER_HOUR = 60.0

# -- the scenario ------------------------------------------------------------------------------------
MAX_DURATION_HOURS = 8784.0   # a leap year: holds a whole season (calendar phases, events, weekdays)
MAX_MINUTES = MAX_DURATION_HOURS * MIN_PER_HOUR  # any time in minutes (on-scene, dwell, escalation)
MAX_REPLICATIONS = 10_000     # intervals narrow as 1/sqrt(n): 10,000 gives 1% of one replication's spread
MAX_SEED = 2**63 - 1          # fits every integer type a result file is read with
MAX_RATE_PER_HOUR = 1000.0    # one incident every 3.6 s at one type: far beyond a patrol fleet
MAX_PROFILE_VALUE = 1000.0    # an hour-of-day multiplier; a ratio of 1,000 between hours is already extreme
MAX_PRIORITY = 1000
MAX_UNITS = 1000              # units in a plan (and units one incident may need): each is a process the
#                               dispatcher scans per incident
MAX_TARGET_MIN = 1440.0       # a response target of a day
MAX_SNAP_M = 50_000.0         # a site 50 km from any road is not on this network
MAX_ROAD_NODES = 10_000       # nodes in a random patrol's pool
MAX_RADIUS_KM = 200.0         # a random patrol's pool radius: a regency is about 100 km across
MAX_BBOX_DEG = 2.0            # an OSM download area's width and height: about 220 km
MAX_PHASES = 100              # calendar phases: a season has a handful; each is a fleet and a summary row
MAX_EVENTS = 1000             # dated events: each is its own random stream per disturbance type
MAX_DUTY_WINDOWS = 24         # daily on-duty windows of a unit group: one an hour is already a patchwork
MAX_TRAVEL_PERIODS = 24       # daily travel periods: each is a set of travel tables in memory
MAX_EVENT_HOURS = MAX_DURATION_HOURS  # an event longer than the clock is a typo for minutes
MAX_SIGHT_M = 5_000.0         # detection.patrol_sight_m: no crew sees an incident 5 km off from the road
MAX_PRESENCE_RADIUS_M = 5_000.0  # deterrence.radius_m: a car standing 5 km away deters nobody there
MAX_JOINT_VEHICLES = 10       # vehicles of one joint patrol: a convoy, not a fleet
MAX_COVERAGE_SLACK_MIN = 60.0  # dispatch.coverage_slack_min: a unit an hour further off is not "about as near"
SPEED_FACTOR_RANGE = (0.01, 100.0)
PLAUSIBLE_SPEED_FACTOR = (0.25, 4.0)  # outside: a warning
PLAUSIBLE_ON_SCENE_MEAN_MIN = 1440.0  # above: a warning (on scene for more than a day)
PLAUSIBLE_EMPTY_SHARE = 0.5   # a plan with no unit on duty for more of the clock than this: a warning

# -- the command line ----------------------------------------------------------------------------------
WORKERS_PER_CORE = 4          # more processes than this per core only add memory and switching
MAX_ANIMATION_FPS = 60.0      # a screen shows no more
MAX_FRAMES_PER_MIN = 60.0     # one frame per simulated second
MAX_HTML_FRAMES = 100_000     # about 30 MB of page (the whole week at 2 per minute is 20,160)
MAX_GIF_FRAMES = 10_000       # about 3 minutes of drawing (720 frames take 12 s)
MAX_BANDS = 12                # coverage bands on a map: more cannot be told apart by colour
MAX_SWEEP_VALUES = 100        # values of one sweep: each is a whole run
DEFAULT_SCHEDULER_TIMEOUT_S = 10.0  # `--scheduler-timeout`: a scheduler answers in milliseconds, a worker
#                                     starts in about a second
SCHEDULER_TIMEOUT_S = (1.0, 600.0)  # under a second a worker still starting (0.5 s on an idle 2-core machine)
#                                     is taken for none; past ten minutes a wrong address is learnt too late

# -- the planning page (serve) ----------------------------------------------------------------------------
MAX_SERVE_BODY_BYTES = 256 * 1024  # a request body: a plan of MAX_SERVE_UNITS groups and its new posts is ~60 KB
MAX_SERVE_REPS = 100          # replications of one evaluation: the page answers in seconds, not minutes
MAX_SERVE_UNITS = 200         # vehicles in a plan the page evaluates (each a process; the optimiser's bound too)
MAX_SERVE_NEW_SITES = 200     # posts placed on the page (sites added to the scenario) in one request
MAX_SERVE_AGAINST = 3         # plans one evaluation is paired against (before the change, the saved plan, the one beside it)
MAX_SERVE_ANIMATION_HOURS = 48.0   # an animation the page plays: two days at one frame a minute
MAX_SERVE_ANIMATION_FRAMES = 6_000  # frames of one animation (hours x 60 x frames per minute)
SERVE_FRAMES_PER_MIN = (0.05, 6.0)  # an animation's frames a minute: one every 20 simulated minutes to every 10 s
MAX_SERVE_TIME_LIMIT_S = 3600.0    # `serve --time-limit`: seconds one evaluation may run
MAX_SERVE_PENDING = 64        # evaluations waiting or running at once; more are answered 503 (busy)
MAX_SERVE_INCIDENTS = 200_000  # expected incidents of one evaluation (rates x hours x replications)
MAX_SERVE_ID_CHARS = 64       # ids, names and client labels in a request

# -- the work of one run --------------------------------------------------------------------------------
MAX_INCIDENTS = 1_000_000     # incident rows: about 1 KB of memory each until the files are written
MAX_UNIT_HOURS = 20_000_000   # simulated unit-hours: about 15 minutes of one core on patrol


def max_workers() -> int:
    """The most local worker processes a run may start: WORKERS_PER_CORE per core."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


def profile_mean(profile: Sequence[float] | None, start: datetime, from_min: float, to_min: float) -> float:
    """Mean of an hour-of-day profile over minutes [from_min, to_min) of a clock that starts at
    ``start`` (1 without a profile); by the minute, which is exact for a start on a whole minute."""
    if profile is None or to_min <= from_min:
        return 1.0
    minutes = np.arange(math.floor(from_min), math.ceil(to_min)) + 0.5
    hours = ((minute_of_day(start) + minutes) // MIN_PER_HOUR).astype(np.int64) % 24
    return float(np.asarray(profile, float)[hours].mean())


def incidents_per_replication(scenario) -> float:
    """Expected incidents in one replication: the integral of every type's rate over the clock."""
    if getattr(scenario, "calendar", None) is not None or getattr(scenario, "events", ()) \
            or any(getattr(d, "weekly_profile", None) is not None for d in scenario.disturbances):
        return _season_incidents(scenario)
    horizon_min = scenario.clock.duration_hours * MIN_PER_HOUR
    return sum(d.rate_per_hour * scenario.clock.duration_hours
               * profile_mean(d.hourly_profile, scenario.clock.start, 0.0, horizon_min)
               for d in scenario.disturbances)


def _season_incidents(scenario) -> float:
    """Expected incidents of one replication with season keys: every type's rate × hourly × weekly ×
    phase multiplier, summed by the minute, plus each event's rates × hours."""
    start = scenario.clock.start
    minutes = np.arange(math.ceil(scenario.clock.duration_hours * MIN_PER_HOUR)) + 0.5
    of_week = minute_of_week(start) + minutes
    hour, day = (of_week // MIN_PER_HOUR).astype(np.int64) % 24, (of_week // 1440.0).astype(np.int64) % 7
    phases = scenario.calendar.phases if scenario.calendar is not None else ()
    bounds = [((p.start - start).total_seconds() / 60.0, (p.end - start).total_seconds() / 60.0) for p in phases]
    total = 0.0
    for d in scenario.disturbances:
        value = np.asarray(d.hourly_profile or [1.0] * 24, float)[hour]
        if d.weekly_profile is not None:
            value = value * np.asarray(d.weekly_profile, float)[day]
        for phase, (t0, t1) in zip(phases, bounds):
            value = np.where((minutes >= t0) & (minutes < t1), value * phase.multiplier(d.type), value)
        total += d.rate_per_hour * float(value.sum()) / MIN_PER_HOUR
    return total + sum(rate * e.hours for e in scenario.events for rate in e.rate_per_hour.values())


@dataclass(frozen=True)
class Work:
    """What a run will simulate: expected incidents and unit-hours over all plans and replications."""

    incidents: float
    unit_hours: float
    replications: int
    plans: int

    def describe(self) -> str:
        return (f"about {_count(self.incidents)} incidents and {_count(self.unit_hours)} unit-hours "
                f"({self.plans} plan{'s' * (self.plans != 1)} × {self.replications:,} replications)")


def _count(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.1f} million"
    return f"{value:,.0f}"


def expected_work(scenario, plans: Sequence[str], replications: int) -> Work:
    """The expected incidents (rate × clock × replications × plans) and unit-hours of a run."""
    per_rep = incidents_per_replication(scenario)
    units = sum(scenario.plan(name).n_units for name in plans)
    return Work(incidents=per_rep * replications * len(plans),
                unit_hours=units * scenario.clock.duration_hours * replications,
                replications=replications, plans=len(plans))


def check_work(work: Work, force: bool, force_name: str | None = API_NAMES.force) -> None:
    """InputError if a run would exceed the work bounds, unless ``force``; the message says to add
    ``force_name`` (how the user asks to force; None: the user cannot)."""
    if force:
        return
    over = []
    if work.incidents > MAX_INCIDENTS:
        over.append(f"{MAX_INCIDENTS:,} incidents")
    if work.unit_hours > MAX_UNIT_HOURS:
        over.append(f"{MAX_UNIT_HOURS:,} unit-hours")
    if over:
        without = f" without {force_name}" if force_name else ""
        raise InputError(f"expected work: {work.describe()}, more than the {' and '.join(over)} a run may take"
                         f"{without}; lower the replications, the hours or the rates"
                         + (f", or add {force_name}" if force_name else ""))


def check_workers(workers: object, name: str = API_NAMES.workers) -> int:
    """``workers`` if it is a whole number from 1 to max_workers(), else InputError naming ``name``."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= max_workers():
        raise InputError(f"{name} {str(workers)[:40]}: must be a whole number from 1 to {max_workers()} "
                         f"({WORKERS_PER_CORE} per core on this machine's {os.cpu_count() or 1})")
    return workers


def check_scheduler_timeout(seconds: object, name: str = API_NAMES.scheduler_timeout) -> float:
    """``seconds`` as a float if it is a number within SCHEDULER_TIMEOUT_S, else InputError naming ``name``."""
    low, high = SCHEDULER_TIMEOUT_S
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not low <= seconds <= high:
        shown_value = f"{seconds:.15g}" if isinstance(seconds, float) else shown(seconds, 40)
        raise InputError(f"{name} {shown_value}: must be a number of seconds from {low:g} to {high:g} (the bound on "
                         "waiting for a Dask scheduler; see docs/limits.md)")
    return float(seconds)


def check_replications(reps: int, name: str = API_NAMES.reps) -> int:
    """``reps`` if it is from 1 to MAX_REPLICATIONS, else InputError naming ``name``."""
    if reps < 1:
        raise InputError(f"{name} {reps}: must be at least 1")
    if reps > MAX_REPLICATIONS:
        raise InputError(f"{name} {str(reps)[:40]}: at most {MAX_REPLICATIONS:,} replications (the bound on "
                         "replications; see docs/limits.md)")
    return reps
