"""Start the planning page: bind the address, load the scenario, warm the workers, serve until Ctrl-C."""
from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Any, Mapping

from sim.config import limits
from sim.config.option_names import API_NAMES, OptionNames
from sim.errors import InputError
from sim.serve.guard import is_loopback, new_token

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_WORKERS = 2
DEFAULT_TIME_LIMIT_S = 60.0


def check_options(host: str, port: int, workers: int, time_limit_s: float, token: str | None) -> None:
    """InputError naming every bad option (before anything is loaded or bound)."""
    problems = []
    if not 0 <= port <= 65535:
        problems.append(f"--port {port}: from 1 to 65535 (0: any free port)")
    if not 1 <= workers <= limits.max_workers():
        problems.append(f"--workers {workers}: from 1 to {limits.max_workers()}")
    if not 0 < time_limit_s <= limits.MAX_SERVE_TIME_LIMIT_S:
        problems.append(f"--time-limit {time_limit_s:g}: seconds, above 0 and at most {limits.MAX_SERVE_TIME_LIMIT_S:g}")
    if token is not None and not 16 <= len(token) <= 256:
        problems.append("--token: 16 to 256 characters (a short token is guessed)")
    if not host or len(host) > 253:
        problems.append(f"--host {host[:60]!r}: a host name or address")
    if problems:
        raise InputError(problems)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); InputError if it cannot be had."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise InputError(f"--host {host}: not a known host or address ({error.strerror})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise InputError(f"--host {host} --port {port}: cannot listen there ({error.strerror}); "
                         "is another server on that port? try --port 0 for any free one") from None
    sock.listen(128)
    return sock


def address(host: str, port: int, token: str | None) -> str:
    """The page's address as printed: with the token as query when there is one."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(source: str | Path | Mapping[str, Any], *, overrides: Mapping[str, object] | None = None,
          network: str | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          token: str | None = None, workers: int = DEFAULT_WORKERS, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
          announce=print, names: OptionNames = API_NAMES) -> None:
    """Serve the page for a scenario until Ctrl-C (or SIGTERM); every worker process ends with it.
    InputError (a bad option, scenario or network) before anything is served, and nothing left running;
    ``names``: how the user gave the overrides and the network (the command line's flags)."""
    from sim.serve.workers import WorkerPool

    check_options(host, port, workers, time_limit_s, token)
    if token is None and not is_loopback(host):
        token = new_token()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    config = {"source": str(source) if isinstance(source, Path) else source, "overrides": dict(overrides or {}),
              "network": network, "names": names}
    # The workers' parent loads the scenario while this process imports and loads its own copy.
    pool = WorkerPool(config, workers)
    pool.launch()
    try:
        from sim.config import load_scenario
        from sim.serve.service import Service

        load_scenario(config["source"], config["overrides"], names=names)  # a bad scenario fails here, with its lines
        service = Service.load(config, pool, time_limit_s)
    except BaseException:
        pool.stop()
        sock.close()
        raise

    import uvicorn

    from sim.serve.app import build_app

    def ready() -> None:
        announce(f"patrolsim planning page: {address(host, port, token)}  (Ctrl-C stops it)")
        if token is not None:
            announce("every request needs the token: the address above carries it")
        sys.stdout.flush()

    app = build_app(service, host, port, token, on_ready=ready)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                           timeout_graceful_shutdown=3, limit_concurrency=200))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down (workers stopped) and then re-raises the Ctrl-C
        pass
    finally:
        sock.close()
    announce("patrolsim planning page stopped")
