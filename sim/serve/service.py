"""What the server does for each API call, apart from HTTP: validate, split into worker tasks, sum up.

The ``Service`` holds the scenario (an ``Engine`` used from one thread of its own, for
validation and the tables), the worker pool, and bounded caches: the Results of recent
evaluations (to pair a plan with the one before it without running that again) and recent
evaluations by id (for the GETs that name one: animation, report, YAML).
"""
from __future__ import annotations

import asyncio
import copy
import io
import json
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from sim.config import limits
from sim.errors import InputError
from sim.serve.answers import evaluation_answer, paired
from sim.serve.engine import Engine
from sim.serve.requests import Evaluation
from sim.serve.scenario_data import scenario_data
from sim.serve.workers import Job, WorkerPool

MAX_KEPT_RESULTS = 48      # Results of recent evaluations (about 0.5 MB each for 10 weeks of the demo)
MAX_KEPT_EVALUATIONS = 512  # evaluations the GETs may name by id
MIN_OPTIMIZE_LIMIT_S = 120.0  # the optimiser may take this long even under a shorter --time-limit


class Busy(Exception):
    """More requests are waiting than the server takes at once (answered 503)."""


class Unknown(Exception):
    """An id that names no recent evaluation (answered 404)."""


class Service:
    """The scenario, the workers, and the work of each API call."""

    def __init__(self, engine: Engine, pool: WorkerPool, time_limit_s: float = 60.0):
        self.engine = engine
        self.time_limit_s = time_limit_s
        self.pool = pool
        self._main = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patrolsim-serve-main")
        self._results: OrderedDict[str, Any] = OrderedDict()
        self._evaluations: OrderedDict[str, Evaluation] = OrderedDict()
        self._clients: dict[str, Job] = {}
        self.pending = 0
        self.scenario_json = json.dumps(scenario_data(engine), separators=(",", ":")).encode()

    @classmethod
    def load(cls, config: dict, pool: WorkerPool, time_limit_s: float = 60.0) -> Service:
        """The service of the scenario ``config`` names (InputError for a bad one), its page data made."""
        return cls(Engine(config["source"], config.get("overrides"), config.get("network"), warn=True,
                          names=config["names"]), pool, time_limit_s)

    # -- life --------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Fork the workers from their warm parent."""
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()
        self._main.shutdown(wait=False, cancel_futures=True)

    async def call(self, function: Callable, *args: Any) -> Any:
        """Run ``function`` on the service's own thread (the Engine is used from that one only)."""
        return await asyncio.get_running_loop().run_in_executor(self._main, function, *args)

    # -- bookkeeping -------------------------------------------------------------------------------

    def admit(self) -> None:
        if self.pending >= limits.MAX_SERVE_PENDING:
            raise Busy(f"{self.pending} requests are already waiting or running (at most "
                       f"{limits.MAX_SERVE_PENDING}); try again shortly")

    def known(self, evaluation_id: str) -> Evaluation:
        evaluation = self._evaluations.get(evaluation_id)
        if evaluation is None:
            raise Unknown(f"id {evaluation_id[:40]!r}: no recent evaluation has it; evaluate the plan first")
        return evaluation

    def _keep(self, store: OrderedDict, key: str, value: Any, most: int) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > most:
            store.popitem(last=False)

    def _job(self, client: str | None) -> Job:
        job = Job()
        if client is not None:
            earlier = self._clients.get(client)
            if earlier is not None:
                earlier.stop("superseded")
            self._clients[client] = job
        return job

    def _release(self, client: str | None, job: Job) -> None:
        if client is not None and self._clients.get(client) is job:
            del self._clients[client]

    # -- evaluate ----------------------------------------------------------------------------------

    async def _validated(self, evaluation: Evaluation, where: str = "") -> Any:
        try:
            return await self.call(self.engine.run_study, evaluation)
        except InputError as error:
            if not where:
                raise
            raise InputError([f"{where}.{line}" if line[:1].isalpha() else f"{where}: {line}"
                              for line in error.problems]) from None

    async def evaluate(self, evaluation: Evaluation, on_progress: Callable[[Job], None] | None = None) -> dict:
        """The answer of ``POST /api/evaluate`` (InputError, Busy or JobStopped otherwise)."""
        started = time.monotonic()
        self.admit()
        self.pending += 1
        job = self._job(evaluation.client)
        try:
            evaluation = self.engine.defaults(evaluation)
            study = await self._validated(evaluation)
            others = [(label, evaluation.with_variant(variant)) for label, variant in evaluation.against]
            for k, (_, other) in enumerate(others):
                await self._validated(other, f"against[{k}]")
            results = await self._results_of([evaluation] + [other for _, other in others], job,
                                             started + self.time_limit_s, on_progress)
            pairs = [paired(results[0], label, other_results, evaluation.reps)
                     for (label, _), other_results in zip(others, results[1:])]
            self._keep(self._evaluations, evaluation.digest, evaluation, MAX_KEPT_EVALUATIONS)
            return await self.call(evaluation_answer, results[0], study, evaluation, pairs,
                                   time.monotonic() - started)
        finally:
            self.pending -= 1
            self._release(evaluation.client, job)

    async def _results_of(self, evaluations: list[Evaluation], job: Job, deadline: float,
                          on_progress: Callable[[Job], None] | None) -> list[Any]:
        """The Results of each evaluation: from the cache, or from replications run on the workers
        (one task per replication, so both workers share one evaluation)."""
        todo = list({e.digest: e for e in evaluations if e.digest not in self._results}.values())
        tasks = [("parts", (e, [rep])) for e in todo for rep in range(e.reps or 1)]
        if tasks:
            answers = await self.pool.run(job, tasks, deadline, on_progress)
            k = 0
            for e in todo:
                parts = [part for answer in answers[k:k + e.reps] for part in answer]
                k += e.reps
                self._keep(self._results, e.digest, await self.call(self.engine.results, e, parts), MAX_KEPT_RESULTS)
        return [self._results[e.digest] for e in evaluations]

    # -- other calls -------------------------------------------------------------------------------

    async def on_worker(self, kind: str, payload: Any, limit_s: float | None = None) -> Any:
        """One task on a worker, within the time limit."""
        self.admit()
        self.pending += 1
        job = Job()
        try:
            answer, = await self.pool.run(job, [(kind, payload)], time.monotonic() + (limit_s or self.time_limit_s))
            return answer
        finally:
            self.pending -= 1

    async def optimize(self, evaluation: Evaluation) -> dict:
        evaluation = self.engine.defaults(evaluation)
        await self._validated(evaluation)
        return await self.on_worker("optimize", evaluation, max(self.time_limit_s, MIN_OPTIMIZE_LIMIT_S))

    async def animation(self, evaluation_id: str, rep: int, from_hours: float, hours: float,
                        frames_per_min: float) -> dict:
        evaluation = self.known(evaluation_id)
        return await self.on_worker("animation", (evaluation, rep, from_hours, hours, frames_per_min))

    async def report(self, evaluation_id: str, lang: str) -> str:
        evaluation = self.known(evaluation_id)
        return await self.on_worker("report", (evaluation, lang), max(self.time_limit_s, MIN_OPTIMIZE_LIMIT_S))

    async def plan_yaml(self, evaluation_id: str) -> tuple[str, str]:
        """The scenario with the evaluated plan (and its new sites) as YAML ``run`` takes; its file name."""
        evaluation = self.known(evaluation_id)
        study = await self.call(self.engine.plan_study, evaluation.variant)
        return scenario_yaml(study.scenario.raw, evaluation.variant.name), f"{study.name}-{evaluation.variant.name}.yaml"


def scenario_yaml(raw: dict, plan: str) -> str:
    """Scenario data as YAML text, with a first comment saying where it came from."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 4096
    out = io.StringIO()
    out.write(f"# Saved from the patrolsim planning page: the scenario with plan {plan!r}.\n"
              f"# Run it with: python run_sim.py run THIS_FILE --plan {plan}\n")
    yaml.dump(copy.deepcopy(raw), out)
    return out.getvalue()
