"""Where replications run: in this process, on local worker processes or on a Dask cluster.

Every executor calls ``on_done(part)`` once per finished (plan, replication), in whatever order
they finish. A part holds table rows only (no random state), so the results do not depend on
which executor ran what. Worker processes keep the worlds they use (``_WORLDS``): the network is
loaded and the travel tables built once per process, not per task.
"""
from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Callable, Sequence

from sim.errors import InputError, RunStopped
from sim.model import World, build_world, incident_rows, simulate, unit_rows, world_key
from sim.network import RoadNetwork, load_network

Task = tuple[str, int]  # (plan name, replication)
OnDone = Callable[[dict], None]

# -- the per-process world cache ------------------------------------------------------------------

_WORLDS: dict[str, World] = {}  # world_key -> World, in whichever process runs replications
_MAX_WORLDS = 8  # a long-lived worker (Dask) keeps the most recent few


def _remember(key: str, world: World) -> None:
    _WORLDS.pop(key, None)
    _WORLDS[key] = world
    while len(_WORLDS) > _MAX_WORLDS:
        del _WORLDS[next(iter(_WORLDS))]


def _world(scenario, network, key: str | None) -> World:
    """The world of ``key`` in this process, built from ``network`` (a RoadNetwork, or a spec
    to load) the first time it is asked for."""
    if key is None:
        if not isinstance(network, RoadNetwork):
            raise TypeError("a world key is needed when the network is given by its spec")
        key = world_key(scenario, network)
    world = _WORLDS.get(key)
    if world is None:
        road_network = network if isinstance(network, RoadNetwork) else load_network(network)
        world = build_world(scenario, road_network)
        _remember(key, world)
    return world


def rep_part(scenario, world: World, plan: str, rep: int) -> dict:
    """Simulate one (plan, replication) and return its table rows as a part."""
    result = simulate(scenario, world, plan, rep)
    return {"plan": plan, "rep": rep, "incidents": incident_rows(result), "units": unit_rows(result)}


def run_rep(scenario, network, plan: str, rep: int, key: str | None = None) -> dict:
    """One (plan, replication) in a worker: ``network`` is a RoadNetwork (Dask ships the arrays:
    the file its spec names may not be there) or a spec (local workers load it from the cache);
    ``key`` is its world_key (computed from a RoadNetwork when not given)."""
    return rep_part(scenario, _world(scenario, network, key), plan, rep)


# -- executors ----------------------------------------------------------------------------------------


def executor_label(workers: int, scheduler: str | None) -> str:
    """How a run is executed, in words (the manifest's ``executor``)."""
    return f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' * (workers > 1)}"


def run_tasks(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone, *,
              workers: int = 1, scheduler: str | None = None) -> None:
    """Run ``tasks`` on Dask (``scheduler``), on ``workers`` local processes or in this process."""
    if not tasks:
        return
    if scheduler:
        _run_on_dask(scenario, world.network, key, tasks, on_done, scheduler)
    elif workers > 1 and len(tasks) > 1:
        _run_on_processes(scenario, world, key, tasks, on_done, min(workers, len(tasks)))
    else:
        _run_in_process(scenario, world, tasks, on_done)


def _run_in_process(scenario, world: World, tasks: Sequence[Task], on_done: OnDone) -> None:
    for plan, rep in tasks:
        on_done(rep_part(scenario, world, plan, rep))


def _run_on_processes(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone,
                      workers: int) -> None:
    # Forked workers start at once with the world already built (it is in _WORLDS when they
    # fork); where fork is not the custom (macOS, Windows), spawned ones load the cached network
    # from its spec once each.
    context = get_context("fork" if sys.platform == "linux" else "spawn")
    added = key not in _WORLDS
    _remember(key, world)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = {pool.submit(run_rep, scenario, world.network.spec, plan, rep, key) for plan, rep in tasks}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        on_done(future.result())
            except BrokenProcessPool:
                raise RunStopped("a worker process died") from None
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    finally:
        if added:
            _WORLDS.pop(key, None)


def _run_on_dask(scenario, network: RoadNetwork, key: str, tasks: Sequence[Task], on_done: OnDone,
                 address: str) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package: pip install -e \".[cluster]\" "
                         "(or pip install distributed)") from None

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there ({error})") from None
    with client:
        # Ship the network and scenario to every worker once; tasks then refer to them.
        scenario_data, network_data = client.scatter([scenario, network], broadcast=True)
        futures = [client.submit(run_rep, scenario_data, network_data, plan, rep, key, pure=False)
                   for plan, rep in tasks]
        try:
            for future in as_completed(futures):
                on_done(future.result())
        except BaseException:
            client.cancel(futures)
            raise
