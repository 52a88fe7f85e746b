"""Where replications run: in this process, on local worker processes or on a Dask cluster.

Every executor calls ``on_done(part)`` once per finished (plan, replication), in whatever order
they finish. A part holds table rows only (no random state), so the results do not depend on
which executor ran what. Worker processes keep the worlds they use (``_WORLDS``): the network is
loaded and the travel tables built once per process, not per task.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Callable, Sequence

from sim.errors import InputError, RunStopped
from sim.model import World, build_world, incident_rows, simulate, unit_rows, world_key
from sim.network import RoadNetwork, load_network
from sim.study.events import rep_event_figures

Task = tuple[str, int]  # (plan name, replication)
OnDone = Callable[[dict], None]

DASK_TIMEOUT_S = 10.0  # to reach a scheduler, for it to have a worker, for a cluster without workers to get one
_DASK_POLL_S = 1.0
_MAX_HANDSHAKE_BYTES = 1_000_000  # a Dask scheduler's first message is a few hundred bytes

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


def rep_part(scenario, world: World, plan: str, rep: int, event_effects: bool = False) -> dict:
    """Simulate one (plan, replication) and return its table rows as a part; with
    ``event_effects`` and calendar events, also what each event did to the other incidents
    (``events``: sim.study.events, the replication run again without each event)."""
    started = time.perf_counter()
    result = simulate(scenario, world, plan, rep)
    part = {"plan": plan, "rep": rep, "incidents": incident_rows(result), "units": unit_rows(result)}
    if event_effects and scenario.events:
        part["events"] = {"run_s": time.perf_counter() - started,
                          "events": rep_event_figures(scenario, world, result)}
    return part


def run_rep(scenario, network, plan: str, rep: int, key: str | None = None, event_effects: bool = False,
            trees: list[str | None] | None = None) -> dict:
    """One (plan, replication) in a worker: ``network`` is a RoadNetwork (Dask ships the arrays:
    the file its spec names may not be there) or a spec (local workers load it from the cache);
    ``key`` is its world_key (computed from a RoadNetwork when not given); ``trees``: the files of
    the run's shared travel trees (World.share_trees), used where this process can reach them."""
    world = _world(scenario, network, key)
    if trees is not None:
        world.attach_trees(trees)
    return rep_part(scenario, world, plan, rep, event_effects)


# -- executors ----------------------------------------------------------------------------------------


def executor_label(workers: int, scheduler: str | None) -> str:
    """How a run is executed, in words (the manifest's ``executor``)."""
    return f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' * (workers > 1)}"


def run_tasks(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone, *,
              workers: int = 1, scheduler: str | None = None, event_effects: bool = False) -> None:
    """Run ``tasks`` on Dask (``scheduler``), on ``workers`` local processes or in this process
    (``event_effects``: rep_part's)."""
    if not tasks:
        return
    if not scheduler and not (workers > 1 and len(tasks) > 1):
        _run_in_process(scenario, world, tasks, on_done, event_effects)
        return
    # Trees made on first need are made once for the whole run and read in place by every process.
    trees = world.share_trees()
    try:
        if scheduler:
            _run_on_dask(scenario, world.network, key, tasks, on_done, scheduler, event_effects=event_effects,
                         trees=trees)
        else:
            _run_on_processes(scenario, world, key, tasks, on_done, min(workers, len(tasks)), event_effects, trees)
    finally:
        world.unshare_trees()


def _run_in_process(scenario, world: World, tasks: Sequence[Task], on_done: OnDone, event_effects: bool) -> None:
    for plan, rep in tasks:
        on_done(rep_part(scenario, world, plan, rep, event_effects))


def _run_on_processes(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone,
                      workers: int, event_effects: bool, trees: list[str | None]) -> None:
    # Forked workers start at once with the world already built (it is in _WORLDS when they
    # fork); where fork is not the custom (macOS, Windows), spawned ones load the cached network
    # from its spec once each.
    context = get_context("fork" if sys.platform == "linux" else "spawn")
    added = key not in _WORLDS
    _remember(key, world)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_end_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            pending = {pool.submit(run_rep, scenario, world.network.spec, plan, rep, key, event_effects,
                                   None if context.get_start_method() == "fork" else trees)
                       for plan, rep in tasks}
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


def _end_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end this process when the run's process ends, however it ends
    (``kill -9`` included), instead of living on as an orphan."""
    if sys.platform == "linux":
        import ctypes
        import signal

        try:  # PR_SET_PDEATHSIG: the kernel sends SIGKILL when the parent dies
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:  # where there is no PDEATHSIG: notice the parent is gone within a second
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="patrolsim-parent-watch", daemon=True).start()


def _probe_scheduler(address: str, timeout_s: float) -> None:
    """InputError unless a Dask scheduler answers at a ``tcp://`` address within ``timeout_s``.

    A Dask scheduler speaks first: on a new connection it sends its handshake, a message whose
    first 8 bytes give its (small) length. Anything else (a web server, a silent listener) is
    refused here, before Dask's client would wait for ever or read an HTTP reply as the length
    of a 3 EiB message."""
    where = address.split("://", 1)[1] if "://" in address else address
    if "://" in address and not address.startswith("tcp://"):
        return  # tls://, ucx://: Dask's client reports on those itself
    host, _, port_text = where.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise InputError(f"--scheduler {address[:200]}: expected tcp://HOST:PORT") from None
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            head = b""
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except socket.timeout:
        raise InputError(f"--scheduler {address}: something listens there but does not answer as a Dask "
                         f"scheduler does (nothing in {timeout_s:g} s)") from None
    except OSError as error:
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there "
                         f"({error.strerror or error})") from None
    if len(head) < 8 or not 0 < int.from_bytes(head, "little") <= _MAX_HANDSHAKE_BYTES:
        raise InputError(f"--scheduler {address}: the program there is not a Dask scheduler (it answered "
                         f"{head[:8]!r}, not a Dask handshake)")


def _connect(address: str, timeout_s: float):
    """A Dask client connected to a scheduler that has at least one worker; InputError if not."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package: pip install -e \".[cluster]\" "
                         "(or pip install distributed)") from None

    _probe_scheduler(address, timeout_s)
    try:
        client = Client(address, timeout=f"{timeout_s:g}s")
    except Exception as error:  # noqa: BLE001 - Dask raises many kinds for an address that is not a scheduler
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there "
                         f"({type(error).__name__}: {str(error)[:200]})") from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(f"--scheduler {address}: the scheduler has no workers (waited {timeout_s:g} s); start "
                         f"some with: dask worker {address}") from None
    return client


def _run_on_dask(scenario, network: RoadNetwork, key: str, tasks: Sequence[Task], on_done: OnDone,
                 address: str, timeout_s: float = DASK_TIMEOUT_S, event_effects: bool = False,
                 trees: list[str | None] | None = None) -> None:
    from distributed import KilledWorker
    from distributed import wait as dask_wait

    client = _connect(address, timeout_s)
    with client:
        try:
            # Ship the network and scenario to every worker once; tasks then refer to them.
            scenario_data, network_data = client.scatter([scenario, network], broadcast=True)
            pending = {client.submit(run_rep, scenario_data, network_data, plan, rep, key, event_effects, trees,
                                     pure=False) for plan, rep in tasks}
        except (OSError, TimeoutError) as error:
            raise RunStopped(f"the Dask cluster at {address} failed ({type(error).__name__}: {str(error)[:200]})") \
                from None
        without_workers_since: float | None = None
        try:
            while pending:
                try:
                    try:
                        done = dask_wait(pending, timeout=_DASK_POLL_S, return_when="FIRST_COMPLETED").done
                    except TimeoutError:
                        done = set()
                    finished = [future.result() for future in done]
                    workers = bool(done) or bool(client.nthreads())
                except KilledWorker as error:
                    raise RunStopped(f"a Dask worker died running a replication ({str(error)[:200]})") from None
                except CancelledError:  # the cluster dropped a task, e.g. the scenario died with its worker
                    raise RunStopped(f"the Dask cluster at {address} lost a replication's task "
                                     "(did a worker die?)") from None
                except OSError as error:  # the scheduler went away (CommClosedError is an OSError)
                    raise RunStopped(f"lost the Dask scheduler at {address} "
                                     f"({type(error).__name__}: {str(error)[:200]})") from None
                pending -= done
                for part in finished:
                    on_done(part)
                if workers:
                    without_workers_since = None
                elif without_workers_since is None:
                    without_workers_since = time.monotonic()
                elif time.monotonic() - without_workers_since > timeout_s:
                    raise RunStopped(f"the Dask cluster at {address} has had no workers for {timeout_s:g} s")
        except BaseException:
            try:
                client.cancel(list(pending))
            except Exception:  # noqa: BLE001 - the cluster may be gone; the error above is the one to report
                pass
            raise
