"""Where replications run: in this process, on local worker processes or on a Dask cluster.

Every executor calls ``on_done(part)`` once per finished (plan, replication), in whatever order
they finish. A part holds table rows only (no random state), so the results do not depend on
which executor ran what. A worker process keeps the worlds it uses in one ``StudyCache``: a forked
local worker has the run's own (the world already built), a spawned or Dask worker one of its own,
bounded, so the network is loaded and the travel tables built once per process, not per task.
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
from urllib.parse import urlsplit

from sim.config.limits import DEFAULT_SCHEDULER_TIMEOUT_S
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError, RunStopped
from sim.model import CollectorPaused, World, incident_rows, simulate, unit_rows, world_key
from sim.network import RoadNetwork
from sim.study.cache import StudyCache
from sim.study.events import rep_event_figures

Task = tuple[str, int]  # (plan name, replication)
OnDone = Callable[[dict], None]

_DASK_POLL_S = 1.0
_MAX_HANDSHAKE_BYTES = 1_000_000  # a Dask scheduler's first message is a few hundred bytes
WORKER_WORLDS = 8  # a long-lived worker (Dask) keeps the most recent few
DASK_BATCHES_PER_THREAD = 4  # a run's replications go to Dask in this many tasks a worker thread

# The cache of a worker process: set when a local worker starts (the run's own, by fork), made on
# first need in a Dask or spawned worker. The process that runs a study never sets it.
_worker_cache: StudyCache | None = None
_worker_scenario = None  # a local pool worker's: the run's scenario, given once when it starts


def _cache_here() -> StudyCache:
    global _worker_cache
    if _worker_cache is None:
        _worker_cache = StudyCache(max_worlds=WORKER_WORLDS)
    return _worker_cache


# Paused from the simulation to the rows: a collector pass in between would scan every record of
# the replication while still alive (0.4 s of Study.run's 3.3 s on bench_outputs' M/M/4 case); once
# they are dropped here, one pass frees their units' cycle.
@CollectorPaused()
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
    if key is None:
        if not isinstance(network, RoadNetwork):
            raise TypeError("a world key is needed when the network is given by its spec")
        key = world_key(scenario, network)
    world = _cache_here().keyed_world(key, scenario, network)
    if trees is not None:
        world.attach_trees(trees)
    return rep_part(scenario, world, plan, rep, event_effects)


def run_reps(scenario, network, batch: Sequence[Task], key: str | None = None, event_effects: bool = False,
             trees: list[str | None] | None = None) -> list[dict]:
    """run_rep of each (plan, replication) of ``batch``, in turn: one Dask task."""
    return [run_rep(scenario, network, plan, rep, key, event_effects, trees) for plan, rep in batch]


def batches(tasks: Sequence[Task], count: int) -> list[list[Task]]:
    """``tasks`` in at most ``count`` batches of consecutive tasks, their sizes differing by one at most."""
    count = max(1, min(count, len(tasks)))
    size, extra = divmod(len(tasks), count)
    bounds = [k * size + min(k, extra) for k in range(count + 1)]
    return [list(tasks[bounds[k]:bounds[k + 1]]) for k in range(count)]


# -- executors ----------------------------------------------------------------------------------------


def executor_label(workers: int, scheduler: str | None) -> str:
    """How a run is executed, in words (the manifest's ``executor``)."""
    return f"Dask at {scheduler}" if scheduler else f"{workers} worker{'s' * (workers > 1)}"


def run_tasks(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone, *,
              workers: int = 1, scheduler: str | None = None,
              scheduler_timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S, cache: StudyCache | None = None,
              names: OptionNames = API_NAMES, event_effects: bool = False,
              meanwhile: Callable[[], object] | None = None) -> None:
    """Run ``tasks`` on Dask (``scheduler``), on ``workers`` local processes or in this process.

    ``scheduler_timeout_s``: how long to wait for the scheduler to answer and have a worker, and
    for a cluster that lost its workers to get one back. ``cache`` is the run's StudyCache
    (holding ``world`` under ``key``): forked local workers start with it. ``names``: how the
    user gave the options (for messages); ``event_effects``: rep_part's. ``meanwhile``: work for
    this process, called once while the tasks run elsewhere (after local workers have started, so
    none is forked in the middle of it), or first when they run here."""
    if not tasks:
        return
    if not scheduler and not (workers > 1 and len(tasks) > 1):
        if meanwhile is not None:
            meanwhile()
        _run_in_process(scenario, world, tasks, on_done, event_effects)
        return
    # Trees made on first need are made once for the whole run and read in place by every process.
    trees = world.share_trees()
    try:
        if scheduler:
            _run_on_dask(scenario, world.network, key, tasks, on_done, scheduler, scheduler_timeout_s, names,
                         event_effects=event_effects, trees=trees, meanwhile=meanwhile)
        else:
            _run_on_processes(scenario, world, key, tasks, on_done, min(workers, len(tasks)), cache, event_effects,
                              trees, meanwhile)
    finally:
        world.unshare_trees()


def _run_in_process(scenario, world: World, tasks: Sequence[Task], on_done: OnDone, event_effects: bool) -> None:
    for plan, rep in tasks:
        on_done(rep_part(scenario, world, plan, rep, event_effects))


def _run_on_processes(scenario, world: World, key: str, tasks: Sequence[Task], on_done: OnDone,
                      workers: int, cache: StudyCache | None, event_effects: bool, trees: list[str | None],
                      meanwhile: Callable[[], object] | None) -> None:
    # Forked workers start at once with the run's cache, the world already built in it; where fork
    # is not the custom (macOS, Windows), spawned ones make their own and load the cached network
    # from its spec once each.
    fork = sys.platform == "linux"
    if fork:
        cache = cache if cache is not None else StudyCache()
        cache.remember(key, world)
    # The scenario goes to each worker once, with its start (inherited by a fork), not with every
    # task: a regency's scenario takes tens of milliseconds to pickle and more to unpickle.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork" if fork else "spawn"),
                             initializer=_start_worker,
                             initargs=(os.getpid(), cache if fork else None, scenario)) as pool:
        pending = {pool.submit(_worker_rep, world.network.spec, plan, rep, key, event_effects, None if fork else trees)
                   for plan, rep in tasks}
        try:
            if meanwhile is not None:  # the workers have started: the pool starts them all at its first task
                meanwhile()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(future.result())
        except BrokenProcessPool:
            raise RunStopped("a worker process died") from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _start_worker(parent_pid: int, cache: StudyCache | None, scenario) -> None:
    """Pool worker initializer: the run's cache (forked: not copied, inherited) and scenario, and an
    end with the parent."""
    global _worker_cache, _worker_scenario
    if cache is not None:
        _worker_cache = cache
    _worker_scenario = scenario
    _end_with_parent(parent_pid)


def _worker_rep(network, plan: str, rep: int, key: str, event_effects: bool, trees: list[str | None] | None) -> dict:
    """run_rep in a pool worker, of the scenario its start was given."""
    return run_rep(_worker_scenario, network, plan, rep, key, event_effects, trees)


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


def scheduler_host(address: str, name: str = "scheduler") -> tuple[str, int] | None:
    """(host, port) of a Dask scheduler's ``tcp://HOST:PORT`` address (``HOST:PORT`` too, as Dask
    takes it); None for another protocol (``tls://``, ``ucx://``: Dask's client checks those).
    InputError for an address that cannot be one, naming it as ``name``."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return None
    expected = "expected tcp://HOST:PORT with a port from 1 to 65535 (an IPv6 host in brackets: tcp://[::1]:8786)"
    try:
        parts = urlsplit(f"tcp://{rest}")
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise InputError(f"{name} {address[:200]}: not a valid address ({error}); {expected}") from None
    if not host or port is None or not 1 <= port <= 65535 or parts.path or parts.query or parts.fragment:
        raise InputError(f"{name} {address[:200]}: not a valid address; {expected}")
    return host, port


def probe_scheduler(address: str, timeout_s: float = DEFAULT_SCHEDULER_TIMEOUT_S,
                    names: OptionNames = API_NAMES) -> None:
    """InputError unless ``address`` is well formed and, for ``tcp://``, a Dask scheduler answers
    there within ``timeout_s`` (to connect, then to speak): what can be checked before a run
    touches its folder. ``names``: how the user gave the options.

    A Dask scheduler speaks first: on a new connection it sends its handshake, a message whose
    first 8 bytes give its (small) length. Anything else (a web server, a silent listener) is
    refused here, before Dask's client would wait for ever or read an HTTP reply as the length
    of a 3 EiB message."""
    name, longer = names.scheduler, f"{names.scheduler_timeout} waits longer"
    where = scheduler_host(address, name)
    if where is None:
        return
    connected, head = False, b""
    try:
        with socket.create_connection(where, timeout=timeout_s) as sock:
            connected = True
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except TimeoutError:
        if not connected:
            raise InputError(f"{name} {address}: no connection there in {timeout_s:g} s (nothing at that address, "
                             f"or a firewall drops the connection; {longer})") from None
        raise InputError(f"{name} {address}: something listens there but does not answer as a Dask "
                         f"scheduler does (nothing in {timeout_s:g} s; {longer})") from None
    except OSError as error:
        raise InputError(f"{name} {address}: cannot reach a Dask scheduler there "
                         f"({error.strerror or error})") from None
    if len(head) < 8 or not 0 < int.from_bytes(head, "little") <= _MAX_HANDSHAKE_BYTES:
        raise InputError(f"{name} {address}: the program there is not a Dask scheduler (it answered "
                         f"{head[:8]!r}, not a Dask handshake)")


def _connect(address: str, timeout_s: float, names: OptionNames):
    """A Dask client connected to a scheduler that has at least one worker; InputError if not."""
    name = names.scheduler
    try:
        from distributed import Client
    except ImportError:
        raise InputError(f"{name} needs Dask's distributed package: pip install -e \".[cluster]\" "
                         "(or pip install distributed)") from None

    probe_scheduler(address, timeout_s, names)
    try:
        client = Client(address, timeout=f"{timeout_s:g}s")
    except Exception as error:  # noqa: BLE001 - Dask raises many kinds for an address that is not a scheduler
        raise InputError(f"{name} {address}: cannot reach a Dask scheduler there "
                         f"({type(error).__name__}: {str(error)[:200]})") from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(f"{name} {address}: the scheduler has no workers (waited {timeout_s:g} s); start "
                         f"some with: dask worker {address} (or, while they start, {names.scheduler_timeout} "
                         "waits longer)") from None
    return client


def _run_on_dask(scenario, network: RoadNetwork, key: str, tasks: Sequence[Task], on_done: OnDone,
                 address: str, timeout_s: float, names: OptionNames, event_effects: bool = False,
                 trees: list[str | None] | None = None, meanwhile: Callable[[], object] | None = None) -> None:
    from distributed import KilledWorker
    from distributed import wait as dask_wait

    client = _connect(address, timeout_s, names)
    with client:
        try:
            # Ship the network and scenario to every worker once; tasks then refer to them. The
            # replications go in a few batches a worker: each Dask task costs the scheduler
            # milliseconds, as much as a short replication.
            scenario_data, network_data = client.scatter([scenario, network], broadcast=True)
            threads = max(1, sum(client.nthreads().values()))
            pending = {client.submit(run_reps, scenario_data, network_data, batch, key, event_effects, trees,
                                     pure=False) for batch in batches(tasks, DASK_BATCHES_PER_THREAD * threads)}
        except (OSError, TimeoutError) as error:
            raise RunStopped(f"the Dask cluster at {address} failed ({type(error).__name__}: {str(error)[:200]})") \
                from None
        without_workers_since: float | None = None
        try:
            if meanwhile is not None:
                meanwhile()
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
                for part in (part for batch in finished for part in batch):
                    on_done(part)
                if workers:
                    without_workers_since = None
                elif without_workers_since is None:
                    without_workers_since = time.monotonic()
                elif time.monotonic() - without_workers_since > timeout_s:
                    raise RunStopped(f"the Dask cluster at {address} has had no workers for {timeout_s:g} s "
                                     f"({names.scheduler_timeout})")
        except BaseException:
            try:
                client.cancel(list(pending))
            except Exception:  # noqa: BLE001 - the cluster may be gone; the error above is the one to report
                pass
            raise
