"""``animate``: units moving, incidents appearing, dispatch lines."""
from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from sim.cli.common import add_force_flag, add_lang_flag, add_network_flag, cli_names, count_text, file_arg
from sim.config.clock import minute_of_day
from sim.errors import InputError

DAYTIME_HOUR = 10   # ten in the morning: most disturbances come by day
#: write_animation's arguments as this command names them
ANIMATE_FLAGS = {"out": "--out", "hours": "--hours", "from": "--from", "frames_per_min": "--frames-per-min",
                 "fps": "--fps", "rep": "--rep", "view": "--view", "replace": "--replace"}


def no_incident_hint(from_hours: float, rep: int, clock_start: datetime) -> str:
    """What to try when the window shows no incident: the first day's daytime if the window starts
    before it, else another replication."""
    from sim.config import limits

    other_rep = rep + 1 if rep + 1 < limits.MAX_REPLICATIONS else rep - 1
    daytime_from = (DAYTIME_HOUR - minute_of_day(clock_start) / 60.0) % 24.0
    if from_hours < daytime_from:
        return (f"No incident in this window: try --from {daytime_from:g} to start at ten in the morning of "
                f"the first day (most disturbances come by day), or another replication (--rep {other_rep}).")
    return (f"No incident in this window: try another replication (--rep {other_rep}) or a longer --hours; "
            "incidents are random and a quiet stretch is possible.")


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    animate = commands.add_parser("animate", help="units moving, incidents appearing, dispatch lines")
    animate.add_argument("scenario", type=Path)
    animate.add_argument("--plan", required=True, metavar="P")
    animate.add_argument("--hours", type=float, required=True, help="simulated hours to show")
    animate.add_argument("--out", type=file_arg, required=True, metavar="FILE.gif|FILE.html")
    animate.add_argument("--replace", action="store_true",
                         help="replace --out even if patrolsim did not write it as an animation of this scenario "
                         "and plan")
    animate.add_argument("--from", type=float, default=0.0, dest="from_hours", metavar="H",
                         help="start the picture H hours after the clock's start (default 0)")
    animate.add_argument("--rep", type=int, default=0, help="which replication's random stream")
    animate.add_argument("--seed", type=int, help="base random seed")
    animate.add_argument("--frames-per-min", type=float, default=2.0, help="frames per simulated minute")
    animate.add_argument("--fps", type=float, default=20.0, help="frames per second of playback")
    animate.add_argument("--view", default="regency", metavar="regency|city",
                         help="regency (default): the whole regency with the city beside it; city: the city alone")
    add_network_flag(animate)
    add_force_flag(animate)
    add_lang_flag(animate, what="the title, clock, legend and page")
    return {"animate": _cmd_animate}


def _cmd_animate(args: argparse.Namespace) -> int:
    from sim.config import load_scenario, network_spec
    from sim.config.limits import check_work, expected_work
    from sim.model import build_world
    from sim.network import SYNTHETIC_NOTE, load_network
    from sim.study.experiment import plan_warnings_only
    from sim.viz.animate import check_animation, check_request, window_overrides, write_animation

    problems = check_request(args.out, args.hours, args.frames_per_min, args.fps, args.rep, args.from_hours,
                             args.view, ANIMATE_FLAGS)
    if problems:
        raise InputError(problems)
    # The run starts at the clock's start and ends with the window (see window_overrides).
    names = cli_names()
    with plan_warnings_only([args.plan]):
        overrides = window_overrides(load_scenario(args.scenario, names=names), args.hours, args.from_hours, args.seed)
        scenario = load_scenario(args.scenario, overrides, names=names)
        scenario.plan(args.plan)  # an unknown plan fails here, with a suggestion, before the network loads
    check_animation(scenario, args.plan, args.out, args.replace, ANIMATE_FLAGS)
    check_work(expected_work(scenario, [args.plan], 1), args.force, names.force)
    world = build_world(scenario, load_network(network_spec(scenario, args.network, names.network)))
    frames = write_animation(scenario, world, args.plan, args.out, hours=args.hours, from_hours=args.from_hours,
                             rep=args.rep, frames_per_min=args.frames_per_min, fps=args.fps, view=args.view,
                             replace=args.replace, names=ANIMATE_FLAGS, lang=args.lang)
    note = f"; {SYNTHETIC_NOTE}" if frames.synthetic else ""
    print(f"{args.out}: {count_text(frames.n_frames, 'frame')}, {count_text(len(frames.unit_ids), 'unit')}, "
          f"{count_text(frames.incidents_shown, 'incident')}{note}")
    if frames.incidents_shown == 0:
        print(no_incident_hint(args.from_hours, args.rep, scenario.clock.start))
    return 0
