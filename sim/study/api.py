"""The Python API: a ``Study`` is a validated scenario on a road network, ready to run.

    from sim import Study
    study = Study("scenarios/jember_pilkada_2024.yaml", network="demo")
    res = study.run(plans=["mixed", "fixed-posts"], reps=10, workers=2)
    res.summary                      # pandas DataFrame, the columns of summary.csv
    res.to_dir("results/x")          # the files the command line writes

Studies are immutable: ``with_overrides``, ``with_plan`` and ``with_network`` return new ones,
validated like the scenario file. A study and every study derived from it share one cache of
road networks (by the network's cache key) and worlds (snapped sites, patrol pools, travel
tables; by ``world_key``, i.e. by content), so evaluating hundreds of variants of a scenario
loads the network and builds the travel tables once.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.config import choose_plans, load_scenario, network_spec, use_plugins
from sim.config.limits import MAX_REPLICATIONS, check_work, expected_work
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError, shown
from sim.model import World, simulate
from sim.study.cache import StudyCache
from sim.study.options import DEFAULT_MAX_REPS, DEFAULT_PRECISION, RunOptions
from sim.study.parts import MemoryParts
from sim.study.results import Results
from sim.study.runner import run_plans

__all__ = ["Study", "StudyCache"]


def _check_arguments(source: object, overrides: object, network: object, folder: object, cache: object,
                     names: object) -> None:
    """InputError for arguments of Study that cannot be what they stand for."""
    if not isinstance(source, (str, os.PathLike, Mapping)):
        raise InputError(f"Study: the scenario is the path of a YAML file or a dict of scenario data, not "
                         f"{type(source).__name__} {shown(source, 40)}")
    check_overrides(overrides, "overrides")
    if network is not None and not isinstance(network, (str, os.PathLike)):
        raise InputError(f"network {shown(network, 40)}: give 'demo', 'osm' or the path of a road network file")
    if folder is not None and not isinstance(folder, (str, os.PathLike)):
        raise InputError(f"folder {shown(folder, 40)}: give a folder's path")
    if cache is not None and not isinstance(cache, StudyCache):
        raise InputError(f"cache {shown(cache, 40)}: give a StudyCache (or nothing)")
    if not isinstance(names, OptionNames):
        raise InputError(f"names {shown(names, 40)}: give an OptionNames (or nothing)")


def check_overrides(overrides: object, what: str) -> None:
    """InputError unless ``overrides`` is None or a dict whose keys are dotted paths (text)."""
    example = "e.g. {'seed': 7, 'disturbances.provocation.rate_per_hour': 0.5}"
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        raise InputError(f"{what} {shown(overrides, 40)}: give a dict of dotted path -> value, {example}")
    for key in overrides:
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{what}: the key {shown(key, 40)} is not a dotted path (text such as 'seed'), {example}")


class Study:
    """A scenario, validated, on a road network: run it, or derive variants of it.

    ``source`` is a scenario YAML file or a dict of scenario data (the keys of the YAML);
    ``overrides`` maps dotted paths to values, as ``--set`` does (``{"seed": 7}``);
    ``network`` is what ``--network`` takes (``"demo"``, ``"osm"`` or a file), default the
    scenario's own; ``folder`` resolves relative network paths of a dict (default: the current
    folder); ``cache`` shares a StudyCache with other studies (those derived from this one
    share its cache anyway); ``plugins`` are modules (or ``.py`` files) of plug-ins to import
    first, as a scenario's ``plugins:`` key does; ``names`` say how messages name the options
    (``sim.config.option_names``: the Python names unless a front door hands down its own). Bad input
    raises ``sim.errors.InputError`` whose ``problems`` name each place.
    """

    def __init__(self, source: str | Path | Mapping[str, Any], overrides: Mapping[str, object] | None = None, *,
                 network: str | None = None, folder: str | Path | None = None, cache: StudyCache | None = None,
                 plugins: Sequence[str] = (), names: OptionNames = API_NAMES):
        _check_arguments(source, overrides, network, folder, cache, names)
        mapping = isinstance(source, Mapping)
        network = os.fspath(network) if network is not None else None
        self._source: Path | dict = copy.deepcopy(dict(source)) if mapping else Path(source)
        self._overrides = dict(overrides or {})
        self._folder = Path(folder) if folder is not None else (Path.cwd() if mapping else None)
        self._network_arg = network
        self._plugins = use_plugins(plugins)  # module names: a derived study finds them imported
        self.names = names
        #: The validated scenario (sim.config.Scenario): sites, disturbances, plans, ``raw``, ``sha256``.
        self.scenario = load_scenario(self._source, self._overrides, folder=self._folder, names=names)
        #: The YAML file this study comes from (also for the studies derived from it), else None.
        self.source_path: str | None = None if mapping else str(source)
        self.cache = cache if cache is not None else StudyCache()
        self._spec = None
        self._network = None
        self._world: tuple[str, World] | None = None

    # -- what it holds --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The scenario's name (also its results folder under results/)."""
        return self.scenario.name

    @property
    def plans(self) -> list[str]:
        """The plan names, in scenario order."""
        return [plan.name for plan in self.scenario.plans]

    def plan(self, name: str):
        """The validated plan called ``name`` (its ``units``, ``n_units``); InputError if none."""
        return self.scenario.plan(name)

    def plan_data(self, name: str) -> dict:
        """A copy of plan ``name`` as scenario data (a dict like the YAML): change it and pass it
        to ``with_plan``."""
        self.scenario.plan(name)
        return copy.deepcopy(next(p for p in self.scenario.raw["plans"] if p["name"] == name))

    @property
    def network_spec(self):
        """Which road network (a NetworkSpec): the scenario's, or the ``network`` given."""
        if self._spec is None:
            self._spec = network_spec(self.scenario, self._network_arg, self.names.network)
        return self._spec

    def network(self):
        """The RoadNetwork (loaded once per cache)."""
        if self._network is None:
            self._network = self.cache.network(self.network_spec)
        return self._network

    def world(self) -> World:
        """The World: snapped sites, random-patrol road pools, travel tables (built once per
        content: studies that differ only in rates, posts or clocks share it)."""
        return self._keyed_world()[1]

    def world_key(self) -> str:
        """The digest of what the world depends on (sim.model.world_key)."""
        return self._keyed_world()[0]

    def _keyed_world(self) -> tuple[str, World]:
        if self._world is None:
            self._world = self.cache.world(self.scenario, self.network())
        return self._world

    # -- variants ----------------------------------------------------------------------------------

    def _derived(self, source, overrides: Mapping[str, object] | None, network: str | None) -> Study:
        mapping = isinstance(source, Mapping)
        folder = self._folder if self._folder is not None else self._source.resolve().parent
        study = Study(source, overrides, network=network, folder=folder if mapping else None, cache=self.cache,
                      plugins=self._plugins, names=self.names)
        study.source_path = self.source_path
        return study

    def with_overrides(self, overrides: Mapping[str, object]) -> Study:
        """A new Study with these values set by dotted path (``{"disturbances.provocation.rate_per_hour":
        0.5, "plans.mixed.units[0].count": 2}``), validated like ``--set``; later values win."""
        check_overrides(overrides, "with_overrides")
        merged = {key: value for key, value in self._overrides.items() if key not in overrides}
        merged.update(overrides)
        return self._derived(self._source, merged, self._network_arg)

    def with_plan(self, plan: Mapping[str, Any]) -> Study:
        """A new Study with this plan (a dict like a plan in the YAML: name, description, units)
        added, or replacing the plan of the same name; validated like the file."""
        if not isinstance(plan, Mapping):
            raise InputError(f"with_plan: a plan is a dict with name and units, got {type(plan).__name__}")
        data = copy.deepcopy(self.scenario.raw)
        plans = list(data.get("plans") or [])
        plan = copy.deepcopy(dict(plan))
        same = [i for i, p in enumerate(plans) if isinstance(p, Mapping) and p.get("name") == plan.get("name")]
        if same:
            plans[same[0]] = plan
        else:
            plans.append(plan)
        data["plans"] = plans
        return self._derived(data, None, self._network_arg)

    def with_network(self, network: str | None) -> Study:
        """A new Study on another road network (what ``--network`` takes; None: the scenario's)."""
        return self._derived(self._source, self._overrides, network)

    # -- running -----------------------------------------------------------------------------------

    def run(self, plans: str | Sequence[str] | None = None, reps: int | str | None = None, *,
            seed: int | None = None, hours: float | None = None, workers: int = 1, scheduler: str | None = None,
            scheduler_timeout_s: float | None = None, precision: float = DEFAULT_PRECISION,
            max_reps: int = DEFAULT_MAX_REPS, progress: bool = False, force: bool = False,
            event_effects: bool = False) -> Results:
        """Run plans x replications and return the Results; nothing is written to disk.

        ``plans``: names (the first is the reference of the comparison), default all.
        ``reps``, ``seed``, ``hours``: the scenario's replications, seed and duration unless given;
        ``reps="auto"`` adds replications until every 95% interval on mean response is narrower
        than ``precision`` times the mean (at most ``max_reps``). ``workers`` > 1 runs on that many
        local processes, ``scheduler="tcp://host:port"`` on a Dask cluster, waiting at most
        ``scheduler_timeout_s`` seconds (default 10, 1 to 600) for it to answer and have a worker,
        and for a cluster that lost its workers to get one back; the numbers are the same whatever
        runs them. ``progress`` shows replications done on stderr. A run whose expected work is
        above the bounds of ``sim.config.limits`` raises InputError unless ``force``.
        ``event_effects``: with calendar events, also run each replication without each event, for
        ``Results.events`` (events.csv, as the command line's ``run`` does; it costs time).
        """
        if plans is not None and not isinstance(plans, str) and (
                not isinstance(plans, Sequence) or not all(isinstance(name, str) for name in plans)):
            raise InputError(f"plans {shown(plans, 40)}: give a plan's name or a list of names")
        options = RunOptions(plans=plans, reps=reps, seed=seed, hours=hours, workers=workers, scheduler=scheduler,
                             scheduler_timeout_s=scheduler_timeout_s, precision=precision, max_reps=max_reps,
                             progress=progress, force=force, event_effects=event_effects).check()
        return self.run_with(options)

    def run_with(self, options: RunOptions) -> Results:
        """``run`` with its options as one RunOptions; nothing is written."""
        options.check()
        for name in options.plans or ():
            self.scenario.plan(name)
        overrides = options.overrides()
        study = self.with_overrides(overrides) if overrides else self
        chosen = choose_plans(study.scenario, options.plans, options.names.plans)
        replications = options.max_reps if options.auto else study.scenario.replications
        check_work(expected_work(study.scenario, chosen, replications), options.force, options.names.force)
        return run_plans(study, chosen, options, parts=MemoryParts())

    def simulate(self, plan: str, rep: int = 0):
        """One replication of one plan in this process, as the model's RepResult (its incidents
        and units, for a closer look); the same as replication ``rep`` of ``run``."""
        if not isinstance(plan, str):
            raise InputError(f"plan {shown(plan, 40)}: give a plan's name ({', '.join(self.plans)})")
        self.scenario.plan(plan)
        if isinstance(rep, bool) or not isinstance(rep, int) or not 0 <= rep < MAX_REPLICATIONS:
            raise InputError(f"rep {shown(rep, 40)}: a replication is a whole number from 0 to {MAX_REPLICATIONS - 1:,}")
        return simulate(self.scenario, self.world(), plan, rep)

    def __repr__(self) -> str:
        where = self.source_path or "scenario data"
        network = self._network_arg or self.scenario.network.source
        return f"<Study {self.name} ({where}): {len(self.plans)} plans, network {network}>"
