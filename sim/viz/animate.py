"""Animations of one replication: ``write_animation`` simulates a plan with movement tracing and
writes a window of it as a GIF or an HTML page.

The frames are computed in ``sim.viz.animate_frames``; ``sim.viz.animate_gif`` and
``sim.viz.animate_html`` draw them. The run starts at the clock's start, so units are where their
patrol has taken them when the window opens: the scenario must run at least until the window's
end (``window_overrides`` says how). Bad requests raise InputError before any work, named as
``names`` says (the command line passes its flags); an existing file is replaced only if patrolsim
wrote it as an animation of the same scenario and plan, or with ``replace``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sim.config import limits
from sim.errors import InputError
from sim.i18n import DEFAULT_LANGUAGE, messages
from sim.files import check_output, output_stamp, write_output
from sim.model import World, simulate
from sim.model.incidents import MIN_PER_HOUR
from sim.viz.animate_frames import Frames, build_frames, frame_count, frame_times_min
from sim.viz.animate_gif import MAX_GIF_FPS, gif_labels, gif_map_aspect, gif_picture, write_gif
from sim.viz.animate_html import HTML_MAP_ASPECT, html_labels, write_html
from sim.viz.animate_views import REGENCY, VIEWS

FORMATS = (".gif", ".html")
GIF_SIZE_PX = (800, 600)
#: how write_animation's arguments are named in its messages; the command line passes its flags
NAMES = {"out": "out_path", "hours": "hours", "from": "from_hours", "frames_per_min": "frames_per_min", "fps": "fps",
         "rep": "rep", "view": "view", "replace": "replace=True"}


def check_request(out: Path, hours: float, frames_per_min: float, fps: float, rep: int,
                  from_hours: float = 0.0, view: str = REGENCY, names: Mapping[str, str] | None = None) -> list[str]:
    """Problems with what an animation is asked for (empty if none), each naming its argument as
    ``names`` says."""
    n = NAMES | dict(names or {})
    problems = []
    if view not in VIEWS:
        problems.append(f"{n['view']} {str(view)[:40]}: say {' or '.join(VIEWS)}")
    gif = Path(out).suffix.lower() == ".gif"
    if not 0 <= from_hours <= limits.MAX_DURATION_HOURS:
        problems.append(f"{n['from']} {from_hours:g}: must be from 0 to {limits.MAX_DURATION_HOURS:g} hours after "
                        "the clock's start")
    if Path(out).suffix.lower() not in FORMATS:
        problems.append(f"{n['out']} {str(out)[:200]}: say FILE.gif or FILE.html "
                        f"(got '{Path(out).suffix[:20] or 'no extension'}')")
    if not 0 < hours <= limits.MAX_DURATION_HOURS:
        problems.append(f"{n['hours']} {hours:g}: must be more than 0 and at most {limits.MAX_DURATION_HOURS:g}")
    if not 0 < frames_per_min <= limits.MAX_FRAMES_PER_MIN:
        problems.append(f"{n['frames_per_min']} {frames_per_min:g}: must be more than 0 and at most "
                        f"{limits.MAX_FRAMES_PER_MIN:g} (one frame per simulated second)")
    elif 0 < hours <= limits.MAX_DURATION_HOURS:
        frames, most = frame_count(hours, frames_per_min), limits.MAX_GIF_FRAMES if gif else limits.MAX_HTML_FRAMES
        if frames < 1:
            problems.append(f"{n['hours']} {hours:g} at {n['frames_per_min']} {frames_per_min:g} gives no frame")
        elif frames > most:
            problems.append(f"{n['hours']} {hours:g} at {n['frames_per_min']} {frames_per_min:g} gives {frames:,} "
                            f"frames, more than the {most:,} of a{' GIF' if gif else 'n HTML page'}; lower one of them")
    fps_bound = MAX_GIF_FPS if gif else limits.MAX_ANIMATION_FPS
    if not 0 < fps <= fps_bound:
        why = "a GIF plays at most" if gif else "a page shows at most"
        problems.append(f"{n['fps']} {fps:g}: must be more than 0; {why} {fps_bound:g} frames per second")
    if not 0 <= rep < limits.MAX_REPLICATIONS:
        problems.append(f"{n['rep']} {str(rep)[:40]}: must be from 0 to {limits.MAX_REPLICATIONS - 1:,}")
    return problems


def animation_stamp(scenario, plan: str) -> str:
    """The mark of an animation file (sim.files.output_stamp): an animation of this scenario and plan."""
    return output_stamp("animation", scenario.name, plan)


def check_animation(scenario, plan: str, out_path: str | Path, replace: bool = False,
                    names: Mapping[str, str] | None = None) -> Path:
    """``out_path`` as a Path if an animation of ``plan`` may be written there (InputError for a
    folder, or a file patrolsim did not write as this animation, unless ``replace``)."""
    n = NAMES | dict(names or {})
    return check_output(out_path, animation_stamp(scenario, plan), replace, n["out"], n["replace"])


def window_overrides(as_written, hours: float, from_hours: float = 0.0, seed: int | None = None) -> dict[str, object]:
    """Scenario overrides (for ``load_scenario``) that run the clock exactly to the window's end.

    ``as_written`` is the scenario without overrides. A warm-up as long as the run would leave
    nothing to count, and warm-up only excludes incidents from statistics, so it is dropped then.
    """
    overrides: dict[str, object] = {"clock.duration_hours": from_hours + hours}
    if seed is not None:
        overrides["seed"] = seed
    if as_written.clock.warmup_hours >= from_hours + hours:
        overrides["clock.warmup_hours"] = 0.0
    return overrides


def write_animation(
    scenario,
    world: World,
    plan: str,
    out_path: Path,
    hours: float,
    from_hours: float = 0.0,
    rep: int = 0,
    frames_per_min: float = 2.0,
    fps: float = 20.0,
    size_px: tuple[int, int] = GIF_SIZE_PX,
    view: str = REGENCY,
    on_step: Callable[[str], None] | None = None,
    *,
    replace: bool = False,
    names: Mapping[str, str] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> Frames:
    """Simulate replication ``rep`` of ``plan`` with movement tracing; write ``hours`` of it, from
    ``from_hours`` after the clock's start, to ``out_path`` (.gif of ``size_px`` pixels, or .html),
    framed as ``view`` (the regency with the city beside it, or the city: see ``animate_views``).

    ``on_step(name)``, if given, is called as each step ends: "simulate", "frames", "labels", then
    "background" and "encode" (GIF) or "page" (HTML); the benchmark times the steps with it.
    InputError, before any work, for bad arguments, an unknown plan, a scenario clock that ends
    before the window does (see ``window_overrides``), or a file at ``out_path`` that patrolsim did
    not write as an animation of this scenario and plan (unless ``replace``). ``names``: how the
    caller's user names the arguments (keys of NAMES). ``lang`` ("en", "id"): the language of the
    title, clock, legend and the page's words.
    """
    step = on_step or (lambda name: None)
    m = messages(lang)
    n = NAMES | dict(names or {})
    problems = check_request(Path(out_path), hours, frames_per_min, fps, rep, from_hours, view, n)
    if problems:
        raise InputError(problems)
    scenario.plan(plan)  # an unknown plan fails here, with a suggestion
    out_path = check_animation(scenario, plan, out_path, replace, n)
    if scenario.clock.duration_hours < from_hours + hours:
        raise InputError(f"{n['from']} {from_hours:g} {n['hours']} {hours:g}: the window ends after the scenario's "
                         f"clock ({scenario.clock.duration_hours:g} h)")
    result = simulate(scenario, world, plan, rep, trace=True)
    step("simulate")
    gif = out_path.suffix.lower() == ".gif"
    aspect = gif_map_aspect(size_px) if gif else HTML_MAP_ASPECT
    times_min = from_hours * MIN_PER_HOUR + frame_times_min(hours, frames_per_min)
    frames = build_frames(scenario, world, result, times_min, frames_per_min, aspect, view, m)
    step("frames")

    def write(tmp: Path) -> None:
        if gif:
            labels = gif_labels(frames, size_px)
            step("labels")
            picture = gif_picture(frames, size_px, fps, labels)
            step("background")
            write_gif(frames, tmp, fps, size_px, picture)
            step("encode")
        else:
            labels = html_labels(frames)
            step("labels")
            write_html(frames, tmp, fps, labels)
            step("page")

    write_output(out_path, animation_stamp(scenario, plan), write)
    return frames
