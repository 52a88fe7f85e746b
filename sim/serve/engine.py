"""The scenario a server serves, and the studies of the plans the page sends: the numbers of ``Study.run``.

An evaluation of plan P with new sites S, replications R, seed K and hours H is the run
``Study(scenario with S added).with_plan(P).run(plans=[P.name], reps=R, seed=K, hours=H)``: the
sites are added as the optimiser adds its proposals (``sim.optimize.verify.study_with``: the
disturbances' site weights made explicit, so a new post draws no incident), and without new
sites the study is exactly ``Study(scenario).with_plan(P)``. Replications are run anywhere
(``parts``: worker processes run some each) and summed up here by the one loop of ``Study.run``
(``sim.study.runner.run_plans`` with every part already done), so the tables are the same.
"""
from __future__ import annotations

import copy
import re
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

from sim.config import limits
from sim.config.limits import check_work, expected_work
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError, ScenarioWarning
from sim.optimize.verify import study_with
from sim.serve.requests import Evaluation, PlanVariant, digest
from sim.serve.worlds import ServeCache
from sim.study.api import Study
from sim.study.executors import rep_part
from sim.study.parts import MemoryParts
from sim.study.results import Results
from sim.study.runner import run_plans

MAX_STUDIES = 32  # studies of recent plans kept validated (a few ms to a few tens of ms each to make again)


class Engine:
    """A scenario on its network, and the studies of plans sent to it (validated, cached)."""

    def __init__(self, source: str | Path | Mapping[str, Any], overrides: Mapping[str, object] | None = None,
                 network: str | None = None, cache: ServeCache | None = None, warn: bool = False,
                 names: OptionNames = API_NAMES):
        """``warn``: let the scenario's warnings through (the server's own copy says them, once);
        ``names``: how the user gave the overrides and the network (the command line's flags)."""
        self.cache = cache if cache is not None else ServeCache()
        study = Study(source, overrides, network=network, cache=self.cache, names=names) if warn else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            if study is None:
                study = Study(source, overrides, network=network, cache=self.cache, names=names)
            # Variants are derived from the scenario's data, not its file: a file would be read
            # and parsed again for every variant (YAML with lines: tenths of a second each).
            folder = Path(source).resolve().parent if study.source_path else None
            self.base = Study(study.scenario.raw, network=network, folder=folder, cache=self.cache, names=names)
            self.base.source_path = study.source_path
        self._studies: OrderedDict[str, Study] = OrderedDict()
        self._runs: OrderedDict[str, Study] = OrderedDict()

    @property
    def scenario(self):
        return self.base.scenario

    def defaults(self, evaluation: Evaluation) -> Evaluation:
        """The evaluation with the scenario's replications, seed and hours where it gives none."""
        clock = self.scenario.clock
        return Evaluation(evaluation.variant,
                          evaluation.reps if evaluation.reps is not None else min(self.scenario.replications,
                                                                                  limits.MAX_SERVE_REPS),
                          evaluation.seed if evaluation.seed is not None else self.scenario.seed,
                          evaluation.hours if evaluation.hours is not None else float(clock.duration_hours),
                          evaluation.against, evaluation.client, evaluation.extra)

    # -- studies -----------------------------------------------------------------------------

    def plan_study(self, variant: PlanVariant) -> Study:
        """The scenario with the variant's sites and plan; InputError naming the request's fields."""
        key = digest(variant.data())
        if key in self._studies:
            self._studies.move_to_end(key)
            return self._studies[key]
        base = self.base
        n_sites = len(base.scenario.sites)
        plan_names = base.plans
        if variant.sites:  # study_with keeps the other plans and puts this one last
            plan_index = len([name for name in plan_names if name != variant.name])
        else:  # with_plan replaces the plan of the same name, or appends it
            plan_index = plan_names.index(variant.name) if variant.name in plan_names else len(plan_names)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ScenarioWarning)
                if variant.sites:
                    study = study_with(base, list(copy.deepcopy(variant.sites)), [copy.deepcopy(variant.plan)])
                else:
                    study = base.with_plan(variant.plan)
        except InputError as error:
            raise InputError([request_field(line, plan_index, n_sites) for line in error.problems]) from None
        except (TypeError, ValueError) as error:  # a shape the schema's own checks do not reach
            raise InputError(f"plan: {str(error)[:300]}") from None
        units = study.plan(variant.name).n_units
        if units > limits.MAX_SERVE_UNITS:
            raise InputError(f"plan.units: {units:,} vehicles, more than the {limits.MAX_SERVE_UNITS} a plan on the "
                             "page may have")
        self._studies[key] = study
        while len(self._studies) > MAX_STUDIES:
            self._studies.popitem(last=False)
        return study

    def run_study(self, evaluation: Evaluation) -> Study:
        """The plan's study with the evaluation's replications, seed and hours, as ``Study.run`` makes it;
        InputError when the expected work is above the page's bound."""
        key = evaluation.digest
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        study = self.plan_study(evaluation.variant)
        hours = evaluation.hours
        overrides = {key: value for key, value in (("replications", evaluation.reps), ("seed", evaluation.seed),
                                                   ("clock.duration_hours", hours)) if value is not None}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)
            try:
                run = study.with_overrides(overrides) if overrides else study
            except InputError as error:  # e.g. hours shorter than the warm-up
                raise InputError([_renamed(line) for line in error.problems]) from None
        work = expected_work(run.scenario, [evaluation.variant.name], run.scenario.replications)
        if work.incidents > limits.MAX_SERVE_INCIDENTS:
            raise InputError(f"reps: {work.describe()}, more than the {limits.MAX_SERVE_INCIDENTS:,} incidents one "
                             "evaluation on the page may take; lower reps or hours")
        check_work(work, force=False, force_name=None)  # the page cannot force
        self._runs[key] = run
        while len(self._runs) > MAX_STUDIES:
            self._runs.popitem(last=False)
        return run

    # -- running -----------------------------------------------------------------------------

    def parts(self, evaluation: Evaluation, reps: list[int]) -> list[dict]:
        """Replications ``reps`` of the evaluation's plan, as parts (table rows)."""
        study = self.run_study(evaluation)
        world = study.world()
        return [rep_part(study.scenario, world, evaluation.variant.name, rep) for rep in reps]

    def results(self, evaluation: Evaluation, parts: list[dict]) -> Results:
        """The Results of ``Study.run`` from the parts of every replication (none is run here)."""
        study = self.run_study(evaluation)
        done = MemoryParts()
        for part in parts:
            done.save(part)
        return run_plans(study, [evaluation.variant.name], parts=done)


_INDEXED = re.compile(r"\b(plans|sites)\[(\d+)\]")
_WHERE = re.compile(r"^(?:scenario|[^:]*\.ya?ml(?::\d+)?): ")
_GIVEN = re.compile(r" \(value given [^()]* for (?:reps|hours)\)")  # the request's own field: said already


def _renamed(line: str) -> str:
    """A scenario problem without its "scenario: " place; an override named as the request's field."""
    line = _WHERE.sub("", line)
    return _GIVEN.sub("", line.replace("replications", "reps").replace("clock.duration_hours", "hours"))


def request_field(line: str, plan_index: int | None, n_base_sites: int) -> str:
    """A scenario problem line named as the request names it: ``plans[K]`` (the plan sent) as
    ``plan``, ``sites[N + j]`` (the j-th new site) as ``sites[j]``."""
    line = _WHERE.sub("", line)

    def rename(match: re.Match) -> str:
        kind, index = match[1], int(match[2])
        if kind == "plans" and index == plan_index:
            return "plan"
        if kind == "sites" and index >= n_base_sites:
            return f"sites[{index - n_base_sites}]"
        return match[0]

    line = _INDEXED.sub(rename, line)
    return re.sub(r" \(value given on the command line for \w+\)", "", line)
