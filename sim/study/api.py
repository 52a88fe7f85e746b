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
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.config import choose_plans, load_scenario, network_spec, use_plugins
from sim.config.limits import check_replications, check_work, check_workers, expected_work
from sim.errors import InputError, shown
from sim.model import World, build_world, simulate, world_key
from sim.network import load_network, network_cache_key
from sim.study.parts import MemoryParts
from sim.study.results import Results
from sim.study.runner import run_plans


class StudyCache:
    """Road networks (by network cache key) and worlds (by world_key), shared by a Study and the
    studies derived from it. ``network_loads`` and ``world_builds`` count the misses."""

    def __init__(self) -> None:
        self.networks: dict[str, Any] = {}
        self.worlds: dict[str, World] = {}
        self.network_loads = 0
        self.world_builds = 0

    def network(self, spec):
        """The RoadNetwork of a spec, loaded (from the on-disk cache, or built) the first time."""
        try:
            key = network_cache_key(spec)
        except OSError:  # e.g. a file that is not there: load_network says so as bad input
            return load_network(spec)
        if key not in self.networks:
            self.networks[key] = load_network(spec)
            self.network_loads += 1
        return self.networks[key]

    def world(self, scenario, network) -> tuple[str, World]:
        """(world_key, World) of a scenario on a network, built the first time."""
        key = world_key(scenario, network)
        if key not in self.worlds:
            self.worlds[key] = build_world(scenario, network)
            self.world_builds += 1
        return key, self.worlds[key]

    def clear(self) -> None:
        """Forget every network and world (they are loaded again when next needed)."""
        self.networks.clear()
        self.worlds.clear()

    def __repr__(self) -> str:
        return (f"<StudyCache: {len(self.networks)} networks ({self.network_loads} loaded), "
                f"{len(self.worlds)} worlds ({self.world_builds} built)>")


class Study:
    """A scenario, validated, on a road network: run it, or derive variants of it.

    ``source`` is a scenario YAML file or a dict of scenario data (the keys of the YAML);
    ``overrides`` maps dotted paths to values, as ``--set`` does (``{"seed": 7}``);
    ``network`` is what ``--network`` takes (``"demo"``, ``"osm"`` or a file), default the
    scenario's own; ``folder`` resolves relative network paths of a dict (default: the current
    folder); ``cache`` shares a StudyCache with other studies (those derived from this one
    share its cache anyway); ``plugins`` are modules (or ``.py`` files) of plug-ins to import
    first, as a scenario's ``plugins:`` key does. Bad input raises ``sim.errors.InputError`` whose
    ``problems`` name each place.
    """

    def __init__(self, source: str | Path | Mapping[str, Any], overrides: Mapping[str, object] | None = None, *,
                 network: str | None = None, folder: str | Path | None = None, cache: StudyCache | None = None,
                 plugins: Sequence[str] = ()):
        mapping = isinstance(source, Mapping)
        self._source: Path | dict = copy.deepcopy(dict(source)) if mapping else Path(source)
        self._overrides = dict(overrides or {})
        self._folder = Path(folder) if folder is not None else (Path.cwd() if mapping else None)
        self._network_arg = network
        self._plugins = use_plugins(plugins)  # module names: a derived study finds them imported
        #: The validated scenario (sim.config.Scenario): sites, disturbances, plans, ``raw``, ``sha256``.
        self.scenario = load_scenario(self._source, self._overrides, folder=self._folder)
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
            self._spec = network_spec(self.scenario, self._network_arg)
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
                      plugins=self._plugins)
        study.source_path = self.source_path
        return study

    def with_overrides(self, overrides: Mapping[str, object]) -> Study:
        """A new Study with these values set by dotted path (``{"disturbances.provocation.rate_per_hour":
        0.5, "plans.mixed.units[0].count": 2}``), validated like ``--set``; later values win."""
        if not isinstance(overrides, Mapping):
            raise InputError("with_overrides: give a dict of dotted path -> value, "
                             "e.g. {'disturbances.provocation.rate_per_hour': 0.5}")
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

    def _for_run(self, reps, seed, hours) -> Study:
        if isinstance(hours, int) and not isinstance(hours, bool):
            hours = float(hours)  # as --hours gives it: the same scenario data, the same hash
        overrides = {key: value for key, value in (("replications", reps), ("seed", seed),
                                                   ("clock.duration_hours", hours)) if value is not None}
        return self.with_overrides(overrides) if overrides else self

    def run(self, plans: str | Sequence[str] | None = None, reps: int | str | None = None, *,
            seed: int | None = None, hours: float | None = None, workers: int = 1, scheduler: str | None = None,
            precision: float = 0.05, max_reps: int = 200, progress: bool = False, force: bool = False,
            event_effects: bool = False) -> Results:
        """Run plans x replications and return the Results; nothing is written to disk.

        ``plans``: names (the first is the reference of the comparison), default all.
        ``reps``, ``seed``, ``hours``: the scenario's replications, seed and duration unless given;
        ``reps="auto"`` adds replications until every 95% interval on mean response is narrower
        than ``precision`` times the mean (at most ``max_reps``). ``workers`` > 1 runs on that many
        local processes, ``scheduler="tcp://host:port"`` on a Dask cluster; the numbers are the
        same whatever runs them. ``progress`` shows replications done on stderr. A run whose
        expected work is above the bounds of ``sim.config.limits`` raises InputError unless ``force``.
        ``event_effects``: with calendar events, also run each replication without each event, for
        ``Results.events`` (events.csv, as the command line's ``run`` does; it costs time).
        """
        auto = reps == "auto"
        if not auto and reps is not None:
            if isinstance(reps, bool) or not isinstance(reps, int):
                raise InputError(f"reps {shown(reps, 40)}: expected a whole number >= 1 or 'auto'")
            check_replications(reps, "reps")
        check_workers(workers, "workers")
        if auto and not 0 < precision < 1:
            raise InputError(f"precision {shown(precision, 40)}: must be between 0 and 1")
        if auto:
            check_replications(max_reps, "max_reps")
        names = [plans] if isinstance(plans, str) else plans
        for name in names or ():
            self.scenario.plan(name)
        study = self._for_run(None if auto else reps, seed, hours)
        chosen = choose_plans(study.scenario, names)
        check_work(expected_work(study.scenario, chosen, max_reps if auto else study.scenario.replications), force)
        return run_plans(study, chosen, auto=auto, precision=precision,
                         max_reps=max_reps, parts=MemoryParts(), workers=workers, scheduler=scheduler,
                         quiet=not progress, event_effects=event_effects)

    def simulate(self, plan: str, rep: int = 0):
        """One replication of one plan in this process, as the model's RepResult (its incidents
        and units, for a closer look); the same as replication ``rep`` of ``run``."""
        return simulate(self.scenario, self.world(), plan, rep)

    def __repr__(self) -> str:
        where = self.source_path or "scenario data"
        network = self._network_arg or self.scenario.network.source
        return f"<Study {self.name} ({where}): {len(self.plans)} plans, network {network}>"
