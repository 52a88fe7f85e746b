"""What a worker process does for the server: run replications, the optimiser, an animation, a report.

Each task is a function of the worker's ``Engine`` (the scenario, its network and travel trees,
loaded once) and a payload of plain data; it returns plain data (pickled back to the server).
"""
from __future__ import annotations

from typing import Any

from sim.serve.engine import Engine


class Tasks:
    """The tasks a worker runs, by kind."""

    def __init__(self, config: dict):
        self.engine = Engine(config["source"], config.get("overrides"), config.get("network"), names=config["names"])

    def run(self, kind: str, payload: Any) -> Any:
        handler = getattr(self, f"task_{kind}", None)
        if handler is None:
            raise ValueError(f"no task {kind!r}")
        return handler(payload)

    def task_warm(self, payload: Any) -> int:
        """Load the network and build the scenario's world (the first request then finds them)."""
        self.engine.base.world()
        return self.engine.base.network().n_nodes

    def task_parts(self, payload: tuple) -> list[dict]:
        """Replications of one evaluation: ``(evaluation, [rep, ...])`` -> parts."""
        evaluation, reps = payload
        return self.engine.parts(evaluation, list(reps))

    def task_optimize(self, payload: Any) -> dict:
        from sim.serve.optimise import propose

        return propose(self.engine, payload)

    def task_animation(self, payload: Any) -> dict:
        from sim.serve.animation import animation_data

        return animation_data(self.engine, *payload)

    def task_report(self, payload: Any) -> str:
        from sim.serve.report import report_html

        return report_html(self.engine, payload)
