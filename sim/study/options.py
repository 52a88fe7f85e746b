"""How a run is asked for: ``RunOptions``, one frozen object made once (by the command line from
its flags, by ``Study.run`` from its arguments) and handed down to the loop, the executors and
the writer of the result folder. Its defaults are the only ones.

``names`` (``sim.config.option_names.OptionNames``) says how the user gave each option, so that a
message from below the command line names it as the user knows it: ``--out`` on the command line,
``out_dir`` in Python.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from sim.config.limits import DEFAULT_SCHEDULER_TIMEOUT_S, check_replications, check_scheduler_timeout, check_workers
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError, shown
from sim.i18n import DEFAULT_LANGUAGE, check_language

DEFAULT_PRECISION = 0.05  # reps="auto": 95% half-width on mean response at most this share of the mean
DEFAULT_MAX_REPS = 200    # reps="auto": at most this many replications
AUTO = "auto"


@dataclass(frozen=True)
class RunOptions:
    """Everything a run is asked for besides the scenario.

    ``plans``: names, the first the reference (None: every plan). ``reps``: a count, ``"auto"``
    (add replications until every plan's 95% interval on mean response is narrower than
    ``precision`` times the mean, at most ``max_reps``), or None (the scenario's). ``seed``,
    ``hours`` and ``sets`` (``KEY=VALUE`` texts, as ``--set``) change the scenario. ``workers``
    local processes or a Dask ``scheduler`` run the replications; ``scheduler_timeout_s`` is how long
    to wait for the scheduler to answer, to have a worker, and for a cluster that lost its workers
    to get one back (None: DEFAULT_SCHEDULER_TIMEOUT_S; only with a scheduler). ``out`` is the result folder
    (None: ``results/<scenario name>``), ``replace`` lets a different run's results there go,
    ``resume`` keeps finished replications found there, ``keep_parts`` keeps them after the files
    are written. ``force`` runs above the work bounds. ``progress`` prints progress (and, on the
    command line, the table); ``figures`` and ``report`` write figures/ and report.html.
    ``reference`` is the plan the others are compared with, or ``"best"`` (``Results.with_reference``;
    None: the first plan). ``event_effects``: with calendar events, each replication is run again
    without each event (``sim.study.events``: events.csv; it costs time). ``lang`` ("en", "id") is the
    language of the figures and report.html, recorded in manifest.json (the CSV files are the same in
    every language).
    """

    plans: tuple[str, ...] | None = None
    reps: int | str | None = None
    precision: float = DEFAULT_PRECISION
    max_reps: int = DEFAULT_MAX_REPS
    seed: int | None = None
    hours: float | None = None
    sets: tuple[str, ...] = ()
    network: str | None = None
    workers: int = 1
    scheduler: str | None = None
    scheduler_timeout_s: float | None = None
    out: Path | None = None
    replace: bool = False
    resume: bool = False
    keep_parts: bool = False
    force: bool = False
    progress: bool = False
    figures: bool = True
    report: bool = True
    command_line: tuple[str, ...] = ()
    reference: str | None = None
    event_effects: bool = False
    lang: str = DEFAULT_LANGUAGE
    names: OptionNames = field(default=API_NAMES, repr=False)

    def __post_init__(self) -> None:
        def tidy(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        if isinstance(self.plans, str):
            tidy("plans", (self.plans,))
        elif self.plans is not None:
            tidy("plans", tuple(self.plans))
        tidy("sets", tuple(self.sets))
        tidy("command_line", tuple(self.command_line))
        if self.out is not None and not isinstance(self.out, Path):
            tidy("out", Path(self.out))
        if isinstance(self.hours, int) and not isinstance(self.hours, bool):
            tidy("hours", float(self.hours))  # as --hours gives it: the same scenario data, the same hash

    @property
    def scheduler_wait_s(self) -> float:
        """Seconds to wait for the Dask scheduler (``scheduler_timeout_s`` or the default)."""
        return DEFAULT_SCHEDULER_TIMEOUT_S if self.scheduler_timeout_s is None else float(self.scheduler_timeout_s)

    @property
    def auto(self) -> bool:
        """Whether replications are added until the interval is narrow (``reps="auto"``)."""
        return self.reps == AUTO

    def with_(self, **changes) -> RunOptions:
        """A copy with these options changed."""
        return dataclasses.replace(self, **changes)

    def check(self) -> RunOptions:
        """Itself, if every option is within its bounds; else InputError naming each as the user gave it."""
        names = self.names
        if self.reps is not None and not self.auto:
            if isinstance(self.reps, bool) or not isinstance(self.reps, int):
                raise InputError(f"{names.reps} {shown(self.reps, 40)}: expected a whole number >= 1 or '{AUTO}'")
            check_replications(self.reps, names.reps)
        check_workers(self.workers, names.workers)
        if isinstance(self.precision, bool) or not isinstance(self.precision, (int, float)) \
                or not 0 < self.precision < 1:
            raise InputError(f"{names.precision} {shown(self.precision, 40)}: must be between 0 and 1")
        if isinstance(self.max_reps, bool) or not isinstance(self.max_reps, int):
            raise InputError(f"{names.max_reps} {shown(self.max_reps, 40)}: expected a whole number >= 1")
        check_replications(self.max_reps, names.max_reps)
        if self.reference is not None and not isinstance(self.reference, str):
            raise InputError(f"{names.reference} {shown(self.reference, 40)}: give a plan's name, or 'best'")
        check_language(self.lang, names.lang)
        if self.scheduler is not None and not isinstance(self.scheduler, str):
            raise InputError(f"{names.scheduler} {shown(self.scheduler, 40)}: expected an address, tcp://HOST:PORT")
        if self.scheduler_timeout_s is not None:
            check_scheduler_timeout(self.scheduler_timeout_s, names.scheduler_timeout)
            if self.scheduler is None:
                raise InputError(f"{names.scheduler_timeout} {self.scheduler_timeout_s:g}: only with {names.scheduler} "
                                 "(how long to wait for a Dask scheduler; a local run waits for none)")
        return self

    def overrides(self, extra_sets: Sequence[str] = ()) -> dict[str, object]:
        """The scenario values these options set, by dotted path (``sets`` and ``extra_sets`` last, so
        they win): replications (not with ``"auto"``), seed, hours."""
        from sim.config import parse_override

        overrides: dict[str, object] = {}
        reps = None if self.auto else self.reps
        for key, value in (("replications", reps), ("seed", self.seed), ("clock.duration_hours", self.hours)):
            if value is not None:
                overrides[key] = value
        for text in (*self.sets, *extra_sets):
            key, value = parse_override(text, self.names.sets)
            overrides[key] = value
        return overrides
