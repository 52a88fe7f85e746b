"""What ``optimize`` is asked to do, checked by its front door (the command line or a caller).

Messages name a setting the way the user typed it: ``Request.flags`` maps each setting to that
spelling (the command line passes ``--units`` and the like; a Python caller may keep the names), and
``Request.names`` the options every run shares (``--set``, ``--network``, ``--force``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError
from sim.i18n import Messages, messages
from sim.optimize.refine import DEFAULT_BUDGET

MAX_OPT_UNITS = 200            # cars one program places (also the top of a units range)
MAX_TIME_LIMIT_S = 3600.0      # per integer program
DEFAULT_TIME_LIMIT_S = 60.0
GOAL_TIME_LIMIT_S = 10.0       # per integer program of a goal search, unless given: it solves several
GOAL_RULES = ("lower", "mean")
BASES = ("nearest-post", "hq")


@dataclass(frozen=True)
class Goal:
    """The smallest fleet whose simulated share within target reaches ``share``: of the incidents
    at sites of ``kind``, or of disturbance ``type``, or of all; decided by the interval's lower
    bound or by the mean (``rule``); ``exclude_unreachable`` leaves out the sites no candidate
    reaches within the target."""

    share: float
    kind: str | None = None
    type: str | None = None
    rule: str = "lower"
    exclude_unreachable: bool = False

    @property
    def subject(self) -> str:
        """Which incidents, in words (English, for the terminal and optimize.json)."""
        return self.subject_words(messages("en"))

    def subject_words(self, m: Messages) -> str:
        """Which incidents, in the language of ``m``."""
        if self.kind is not None:
            return m("figure.curve.subject.kind", kind=self.kind)
        if self.type is not None:
            return m("figure.curve.subject.type", type=self.type)
        return m("figure.curve.subject.all")


@dataclass(frozen=True)
class Request:
    """What ``optimize`` is asked to do, checked."""

    scenario: Path
    fleet: str | None            # a plan whose vehicles are placed (None with units)
    units: tuple[int, ...]       # one fleet size, or a range for the fleet-size curve; () with a fleet
    objective: str = "mclp"
    candidates: tuple[str, int] = ("sites", 0)
    busy: float | None = None
    refine: bool = False
    refine_budget: int = DEFAULT_BUDGET
    refine_metric: str = "within_target"
    verify_reps: int | None = None
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    workers: int = 1
    network: str | None = None
    out: Path | None = None
    json: bool = False
    force: bool = False          # run even above the work bounds of a run
    sets: tuple[str, ...] = ()   # KEY=VALUE overrides, as for run
    goal: Goal | None = None
    bases: str = "nearest-post"  # where the placed units are based: the nearest police post, or as today
    phase: str | None = None     # a calendar phase whose demand and fleet are placed
    at: str | None = None        # or the phase in force at this date-time
    replace: bool = False        # --out may hold another optimisation: it is replaced whole
    flags: dict[str, str] = field(default_factory=dict)
    names: OptionNames = API_NAMES  # the options a run shares, as the user names them
    lang: str = "en"             # the language of the map, the verification's figures and report, the curve

    @property
    def curve(self) -> bool:
        """Several fleet sizes: the fleet-size curve (or the sizes a goal search may try)."""
        return len(self.units) > 1

    def flag(self, name: str) -> str:
        """How the user spells setting ``name`` (``--units`` on the command line)."""
        return self.flags.get(name, name)


def parse_units(text: str, flag: str = "units") -> tuple[int, ...]:
    """``N`` or ``A..B`` (1 <= A <= B <= MAX_OPT_UNITS) -> the fleet sizes."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:\.\.\s*(\d{1,9})\s*)?", text)
    if match is None:
        raise InputError(f"{flag} {text[:40]!r}: give a number of cars (8) or a range (1..12)")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if low < 1:
        raise InputError(f"{flag} {text}: at least 1 car")
    if high > MAX_OPT_UNITS:
        raise InputError(f"{flag} {text}: at most {MAX_OPT_UNITS} cars")
    if high < low:
        raise InputError(f"{flag} {text}: the range must go up, e.g. 1..12")
    return tuple(range(low, high + 1))


def units_text(units: tuple[int, ...]) -> str:
    """``8`` or ``3..12``."""
    return str(units[0]) if len(units) == 1 else f"{units[0]}..{units[-1]}"
