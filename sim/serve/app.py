"""The planning page's web application: Starlette routes over a ``Service``, guarded by ``Guard``.

Every answer of ``/api/`` is JSON (the report and the YAML are downloads); every failure is JSON
too, never a traceback: bad input 400 naming the field, a token missing or wrong 401/403, an
unknown id or file 404, a body over the bound 413, a body that is not JSON 415, a superseded
evaluation 409, a busy server or an evaluation past its time limit 503, anything else 500 (its
traceback in the server's log). docs/serve.md documents the API.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sim.config import limits
from sim.errors import InputError
from sim.i18n import LANGUAGE_NAMES, LANGUAGES, catalogue, check_language
from sim.serve.guard import Guard
from sim.serve.requests import OPTIMIZE_KEYS, parse_evaluation, parse_json, problem_fields, query_number
from sim.serve.service import Busy, Service, Unknown
from sim.serve.workers import JobStopped, WorkerFailed

STATIC = Path(__file__).resolve().parent / "static"
PALETTE = resources.files("sim.viz") / "web"   # the share scale for pages (python -m sim.viz.palette writes it)
PALETTE_FILES = {"share_scale.json": "application/json", "share_scale.css": "text/css; charset=utf-8"}
NDJSON = "application/x-ndjson"
log = logging.getLogger("patrolsim.serve")


class TooLarge(Exception):
    pass


class NotJson(Exception):
    pass


def _error(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status, headers={"cache-control": "no-store"})


def error_response(error: BaseException) -> JSONResponse:
    """The JSON answer of a failure (see the module's docstring)."""
    if isinstance(error, InputError):
        return _error(400, "bad request", problems=problem_fields(error.problems))
    if isinstance(error, TooLarge):
        return _error(413, f"body: more than {limits.MAX_SERVE_BODY_BYTES:,} bytes")
    if isinstance(error, NotJson):
        return _error(415, "body: send JSON (Content-Type: application/json)")
    if isinstance(error, Unknown):
        return _error(404, str(error))
    if isinstance(error, Busy):
        return _error(503, "busy", message=str(error))
    if isinstance(error, JobStopped):
        if error.reason == "superseded":
            return _error(409, "superseded", message="a newer evaluation from this page replaced this one")
        if error.reason == "time limit":
            return _error(503, "time limit", message="the evaluation ran past the server's time limit; its worker "
                                                     "was restarted: ask for fewer replications or hours")
        return _error(503, "stopped", message=f"the evaluation stopped ({error.reason})")
    if isinstance(error, WorkerFailed):
        return _error(500, "internal error", message=str(error))
    if isinstance(error, HTTPException):
        return _error(error.status_code, error.detail)
    log.exception("internal error", exc_info=error)
    return _error(500, "internal error", message=f"{type(error).__name__} (see the server's log)")


async def read_json(request: Request) -> Any:
    """The request's JSON body, at most the body bound (413), of JSON type (415)."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise NotJson()
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limits.MAX_SERVE_BODY_BYTES:
        raise TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.MAX_SERVE_BODY_BYTES:
            raise TooLarge()
    return parse_json(bytes(body))


async def _until_gone(request: Request) -> None:
    """Returns when the client closes its connection (the body has been read by then)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _while_connected(request: Request, work) -> Any:
    """Await ``work`` (a coroutine); cancel it when the client goes away first."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_until_gone(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        return Response(status_code=499)
    return task.result()


def build_app(service: Service, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
              on_ready=None) -> Starlette:
    """The application: the page, its static files and the API, behind the Guard; ``on_ready()``
    is called once the scenario is loaded and the workers are warm."""

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def scenario(request: Request) -> Response:
        return Response(service.scenario_json, media_type="application/json")

    async def messages(request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        check_language(lang, "lang")
        return JSONResponse({"lang": lang, "languages": {code: LANGUAGE_NAMES[code] for code in LANGUAGES},
                             "messages": catalogue(lang, "page.")})

    async def evaluate(request: Request) -> Response:
        evaluation = parse_evaluation(await read_json(request))
        if NDJSON in request.headers.get("accept", ""):
            return StreamingResponse(_progress_lines(service, evaluation), media_type=NDJSON,
                                     headers={"cache-control": "no-store"})
        answer = await _while_connected(request, service.evaluate(evaluation))
        return answer if isinstance(answer, Response) else JSONResponse(answer)

    async def optimize(request: Request) -> Response:
        evaluation = parse_evaluation(await read_json(request), OPTIMIZE_KEYS)
        answer = await _while_connected(request, service.optimize(evaluation))
        return answer if isinstance(answer, Response) else JSONResponse(answer)

    async def animation(request: Request) -> Response:
        params = request.query_params
        hours = query_number(params, "hours", 6.0, 0.1, limits.MAX_SERVE_ANIMATION_HOURS)
        frames_per_min = query_number(params, "frames_per_min", 1.0, *limits.SERVE_FRAMES_PER_MIN)
        if hours * 60 * frames_per_min > limits.MAX_SERVE_ANIMATION_FRAMES:
            raise InputError(f"frames_per_min: {hours:g} hours at {frames_per_min:g} frames a minute are more than "
                             f"{limits.MAX_SERVE_ANIMATION_FRAMES:,} frames")
        answer = await service.animation(
            params.get("id", ""), int(query_number(params, "rep", 0, 0, limits.MAX_SERVE_REPS - 1, whole=True)),
            query_number(params, "from", 0.0, 0.0, limits.MAX_DURATION_HOURS), hours, frames_per_min)
        return JSONResponse(answer)

    async def report(request: Request) -> Response:
        lang = check_language(request.query_params.get("lang", "en"), "lang")
        html = await service.report(request.query_params.get("id", ""), lang)
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="report.html"'})

    async def plan_yaml(request: Request) -> Response:
        text, name = await service.plan_yaml(request.query_params.get("id", ""))
        return Response(text, media_type="application/yaml; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    async def share_scale(request: Request) -> Response:
        """The share scale of every figure and page, as ``sim.viz.palette`` writes it for pages."""
        name = request.url.path.rsplit("/", 1)[1]
        return Response((PALETTE / name).read_bytes(), media_type=PALETTE_FILES[name])

    async def not_found(request: Request) -> Response:
        return _error(404, f"{request.url.path[:80]}: no such API call (see docs/serve.md)")

    async def handle(request: Request, error: Exception) -> Response:
        return error_response(error)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            await service.start()
            if on_ready is not None:
                on_ready()
            yield
        finally:  # also when the start fails: no worker is left behind
            await service.close()

    routes = [
        Route("/", index),
        Route("/api/scenario", scenario),
        Route("/api/messages", messages),
        Route("/api/evaluate", evaluate, methods=["POST"]),
        Route("/api/optimize", optimize, methods=["POST"]),
        Route("/api/animation", animation),
        Route("/api/report", report),
        Route("/api/plan.yaml", plan_yaml),
        Route("/api/{rest:path}", not_found, methods=["GET", "POST"]),
        *[Route(f"/static/{name}", share_scale) for name in PALETTE_FILES],
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(Guard, host=host, port=port, token=token), Middleware(GZipMiddleware, minimum_size=2048)]
    handlers = {Exception: handle, InputError: handle, HTTPException: handle, Busy: handle, Unknown: handle,
                JobStopped: handle, WorkerFailed: handle, TooLarge: handle, NotJson: handle}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=lifespan)


async def _progress_lines(service: Service, evaluation):
    """NDJSON: ``{"progress": {"done", "total"}}`` lines while the replications run, then
    ``{"result": ...}`` or ``{"error": ..., "status": ...}``."""
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.ensure_future(service.evaluate(
        evaluation, lambda job: queue.put_nowait({"progress": {"done": job.done, "total": job.total}})))
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield json.dumps(getter.result()) + "\n"
                continue
            getter.cancel()
            while not queue.empty():
                yield json.dumps(queue.get_nowait()) + "\n"
            break
        try:
            yield json.dumps({"result": task.result()}, separators=(",", ":")) + "\n"
        except Exception as error:  # noqa: BLE001 - every failure becomes the JSON line the page reads
            response = error_response(error)
            yield json.dumps({**json.loads(response.body), "status": response.status_code}) + "\n"
    finally:
        if not task.done():  # the client went away: the job stops, its queued replications are dropped
            task.cancel()
