"""Command line: ``python run_sim.py [command] ...`` (SPEC §3).

Exit codes: 0 ok, 2 bad input, 1 internal error. Bad input prints one line per problem.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from sim.errors import InputError, RunStopped

DEFAULT_SCENARIO = Path("scenarios") / "jember_pilkada_2024.yaml"


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad flags like every other bad input: one line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message} (see --help)")


def _default_scenario() -> Path:
    """The default scenario: from the current folder, else from the project checkout."""
    if DEFAULT_SCENARIO.exists():
        return DEFAULT_SCENARIO
    return Path(__file__).resolve().parent.parent / DEFAULT_SCENARIO


def _add_network_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--network",
        metavar="demo|osm|PATH",
        help="road network: the synthetic demo network, OSM download (place/bbox from the "
        "scenario), or a local .osm/.osm.bz2/.osm.pbf/.graphml file",
    )


def _folder_arg(text: str) -> Path:
    """--out of run and sweep: a folder name; an empty one would mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a folder name (an empty one would mean the current folder)")
    return Path(text)


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reps", metavar="N|auto",
                        help="replications per plan; 'auto' adds them until the interval is narrow")
    parser.add_argument("--precision", type=float, default=0.05, metavar="SHARE",
                        help="with --reps auto: 95%% half-width at most this share of the mean (default 0.05)")
    parser.add_argument("--max-reps", type=int, default=200, help="with --reps auto: at most this many")
    parser.add_argument("--seed", type=int, help="base random seed")
    parser.add_argument("--hours", type=float, help="simulated duration in hours")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                        help="change any scenario value by dotted path (repeatable), e.g. "
                        "disturbances.provocation.rate_per_hour=0.3")
    _add_network_flag(parser)
    parser.add_argument("--out", type=_folder_arg, help="output folder (default results/<scenario name>/)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="local worker processes (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster instead")
    _add_force_flag(parser)


def _add_force_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="run even when the expected work is above the bounds (see the README's Limits on input)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="patrolsim", description="Patrol coverage simulator (SPEC §3).")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = commands.add_parser("run", help="run plans x replications and write the result files")
    run.add_argument("scenario", type=Path)
    run.add_argument("--plan", action="append", metavar="P", help="only this plan (repeatable)")
    _add_run_flags(run)
    run.add_argument("--resume", action="store_true",
                     help="keep the finished replications of an interrupted run in --out; run the rest")

    sweep = commands.add_parser("sweep", help="run the experiment for each value of one parameter")
    sweep.add_argument("scenario", type=Path)
    sweep.add_argument("--param", required=True, metavar="PATH", help="dotted path, as for --set")
    sweep.add_argument("--values", required=True, metavar="V1,V2,...")
    sweep.add_argument("--plan", action="append", metavar="P", help="only this plan (repeatable)")
    _add_run_flags(sweep)

    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("scenario", type=Path)

    network = commands.add_parser("network", help="road network: info or build")
    network_commands = network.add_subparsers(dest="network_command", parser_class=_Parser)
    info = network_commands.add_parser("info", help="nodes, edges, connectivity, bbox, source")
    _add_network_flag(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    build = network_commands.add_parser("build", help="build or download, then cache")
    _add_network_flag(build)

    map_ = commands.add_parser("map", help="network, sites, bases and the area a plan covers in time")
    map_.add_argument("scenario", type=Path)
    map_.add_argument("--plan", required=True, metavar="P")
    map_.add_argument("--compare", metavar="P2", help="draw a second plan beside it")
    map_.add_argument("--out", type=Path, required=True, metavar="FILE.png|FILE.html")
    map_.add_argument("--bands", metavar="MIN,...",
                      help="isochrone bands in minutes (default: thirds of the scenario's target up to 4/3 of it, "
                      "e.g. 5,10,15,20 for a 15-minute target)")
    _add_network_flag(map_)

    animate = commands.add_parser("animate", help="units moving, incidents appearing, dispatch lines")
    animate.add_argument("scenario", type=Path)
    animate.add_argument("--plan", required=True, metavar="P")
    animate.add_argument("--hours", type=float, required=True, help="simulated hours to show")
    animate.add_argument("--out", type=Path, required=True, metavar="FILE.gif|FILE.html")
    animate.add_argument("--from", type=float, default=0.0, dest="from_hours", metavar="H",
                         help="start the picture H hours after the clock's start (default 0)")
    animate.add_argument("--rep", type=int, default=0, help="which replication's random stream")
    animate.add_argument("--seed", type=int, help="base random seed")
    animate.add_argument("--frames-per-min", type=float, default=2.0, help="frames per simulated minute")
    animate.add_argument("--fps", type=float, default=20.0, help="frames per second of playback")
    _add_network_flag(animate)
    _add_force_flag(animate)
    hypercube = commands.add_parser("hypercube", help="Larson's hypercube model beside the simulation")
    hypercube.add_argument("scenario", type=Path)
    hypercube.add_argument("--plan", required=True, metavar="P", help="a plan whose units stay at posts or bases")
    hypercube.add_argument("--json", action="store_true", help="print one JSON object")
    hypercube.add_argument("--no-sim", action="store_true", help="the model only, no simulation")
    hypercube.add_argument("--approximate", action="store_true",
                           help="allow Larson's approximation for more than 15 units")
    hypercube.add_argument("--reps", type=int, help="simulated replications (default: the scenario's)")
    hypercube.add_argument("--seed", type=int, help="base random seed")
    hypercube.add_argument("--hours", type=float, help="simulated duration in hours")
    hypercube.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
    _add_network_flag(hypercube)
    _add_force_flag(hypercube)
    optimize = commands.add_parser("optimize", help="where should the cars stand: an integer program, "
                                   "checked by simulation against the scenario's plans")
    optimize.add_argument("scenario", type=Path)
    optimize.add_argument("--fleet", metavar="PLAN", help="place this plan's vehicles (types, counts, bases); "
                          "default: the scenario's first plan")
    optimize.add_argument("--units", metavar="N|A..B", help="N cars of the first unit type, or a range for the "
                          "fleet-size curve (at most 200)")
    optimize.add_argument("--objective", default="mclp", metavar="mclp|mexclp|pmedian",
                          help="maximal covering (default), expected covering, or least mean travel")
    optimize.add_argument("--candidates", default="sites", metavar="sites|bases|towns|nodes:K",
                          help="where a car may stand (default: the scenario's sites; nodes:K at most 5000)")
    optimize.add_argument("--busy", type=float, metavar="Q", help="MEXCLP busy probability in [0, 1) "
                          "(default: offered load / units)")
    optimize.add_argument("--refine", action="store_true", help="then move units one at a time, keeping a move "
                          "only when the simulation shows it helps")
    optimize.add_argument("--refine-budget", type=int, default=30, metavar="N",
                          help="simulated moves at most (default 30, at most 200)")
    optimize.add_argument("--refine-metric", default="within_target", metavar="within_target|response",
                          help="what a move must improve (default: the share within target)")
    optimize.add_argument("--verify-reps", type=int, metavar="R",
                          help="replications of the verification and of each refine move (default: the scenario's)")
    optimize.add_argument("--time-limit", type=float, default=60.0, metavar="S",
                          help="seconds per integer program (default 60, at most 3600)")
    optimize.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                          help="local worker processes for the simulation (default: the number of cores)")
    _add_network_flag(optimize)
    optimize.add_argument("--out", type=_folder_arg, help="output folder (default results/<scenario>/optimize-<objective>/)")
    optimize.add_argument("--json", action="store_true", help="print one JSON object")
    optimize.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                          help="change any scenario value by dotted path (repeatable), as for run")
    _add_force_flag(optimize)
    return parser


def _network_spec(arg: str | None):
    from sim.config.network_spec import NetworkSpec, network_spec_from_arg

    return network_spec_from_arg(arg) if arg else NetworkSpec("demo")


def _cmd_network(args: argparse.Namespace) -> int:
    from sim.network.roads import load_network

    if args.network_command is None:
        raise InputError("network: say 'info' or 'build' (see --help)")
    network = load_network(_network_spec(args.network))
    info = network.info()
    if args.network_command == "build":
        print(f"{info['source_label']}: {info['nodes']} nodes, {info['edges']} edges")
        print(f"cached at {info['cache_path']}")
    elif args.json:
        print(json.dumps(info, sort_keys=True))
    else:
        for key, value in info.items():
            print(f"{key:26s} {value}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import load_scenario

    scenario = load_scenario(args.scenario)
    print(
        f"{args.scenario}: ok: {len(scenario.sites)} sites, {len(scenario.disturbances)} "
        f"disturbance types, {len(scenario.plans)} plans ("
        + ", ".join(f"{plan.name}: {plan.n_units} units" for plan in scenario.plans)
        + ")"
    )
    return 0


def _run_options(args: argparse.Namespace) -> dict:
    from sim.config.limits import check_replications, check_workers
    from sim.study.experiment import parse_reps

    check_workers(args.workers)
    if not 0 < args.precision < 1:
        raise InputError(f"--precision {args.precision}: must be between 0 and 1")
    check_replications(args.max_reps, "--max-reps")
    return dict(
        plans=args.plan, reps=parse_reps(args.reps), seed=args.seed, hours=args.hours, sets=args.sets,
        network=args.network, workers=args.workers, scheduler=args.scheduler, precision=args.precision,
        max_reps=args.max_reps, command_line=sys.argv, force=args.force,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.study.experiment import run_experiment

    run_experiment(args.scenario, out_dir=args.out, resume=args.resume, **_run_options(args))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.study.experiment import run_sweep

    from sim.config.limits import MAX_SWEEP_VALUES

    values = [v.strip() for v in args.values.split(",") if v.strip()]
    if not values:
        raise InputError("--values: give at least one value, e.g. --values 0.1,0.2,0.4")
    if len(values) > MAX_SWEEP_VALUES:
        raise InputError(f"--values: {len(values):,} values, more than the {MAX_SWEEP_VALUES} a sweep may take")
    run_sweep(args.scenario, args.param, values, out_dir=args.out, **_run_options(args))
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from sim.config import load_scenario, network_spec
    from sim.model import build_world
    from sim.network import load_network
    from sim.viz.maps import check_out, check_plans, parse_bands, target_bands, write_map

    # Flags first (cheap), then the scenario and its plans, before the network loads.
    check_out(args.out)
    bands_min = parse_bands(args.bands) if args.bands is not None else None
    if bands_min is not None:
        _check_bands(bands_min)
    scenario = load_scenario(args.scenario)
    bands_min = bands_min or target_bands(scenario.target_response_min)
    plans = [args.plan] + ([args.compare] if args.compare else [])
    check_plans(scenario, plans)
    network = load_network(network_spec(scenario, args.network))
    result = write_map(scenario, build_world(scenario, network), plans, args.out, bands_min)
    for line in result.legend:
        print(line)
    if result.difference_km is not None:
        print(f"difference in covered road length: {result.difference_km:+,.1f} km")
    if network.synthetic:
        print(f"Road network: {network.described()}.")
    print(f"map written to {args.out}")
    return 0


def _check_bands(bands_min) -> None:
    """--bands: at most MAX_BANDS bands (colours must be told apart), none beyond a day."""
    from sim.config.limits import MAX_BANDS, MAX_TARGET_MIN

    if len(bands_min) > MAX_BANDS:
        raise InputError(f"--bands: {len(bands_min):,} bands, more than the {MAX_BANDS} a map can colour apart")
    if max(bands_min) > MAX_TARGET_MIN:
        raise InputError(f"--bands: {max(bands_min):g} min is more than the bound of {MAX_TARGET_MIN:g} min (a day)")


def _cmd_animate(args: argparse.Namespace) -> int:
    from sim.config import load_scenario, network_spec
    from sim.model import build_world
    from sim.network import SYNTHETIC_NOTE, load_network
    from sim.config.limits import check_work, expected_work
    from sim.viz.animate import check_request, window_overrides, write_animation

    problems = check_request(args.out, args.hours, args.frames_per_min, args.fps, args.rep, args.from_hours)
    if problems:
        raise InputError(problems)
    # The run starts at the clock's start and ends with the window (see window_overrides).
    overrides = window_overrides(load_scenario(args.scenario), args.hours, args.from_hours, args.seed)
    scenario = load_scenario(args.scenario, overrides)
    scenario.plan(args.plan)  # an unknown plan fails here, with a suggestion, before the network loads
    check_work(expected_work(scenario, [args.plan], 1), args.force)
    world = build_world(scenario, load_network(network_spec(scenario, args.network)))
    frames = write_animation(scenario, world, args.plan, args.out, hours=args.hours, from_hours=args.from_hours,
                             rep=args.rep, frames_per_min=args.frames_per_min, fps=args.fps)
    note = f"; {SYNTHETIC_NOTE}" if frames.synthetic else ""
    print(f"{args.out}: {frames.n_frames} frames, {len(frames.unit_ids)} units, {frames.incidents_shown} incidents{note}")
    if frames.incidents_shown == 0:
        print("No incident in this window: try another --rep, or --from 10 to start at ten in the morning "
              "of the first day (most disturbances come by day).")
    return 0


def _cmd_hypercube(args: argparse.Namespace) -> int:
    from sim.study.api import Study
    from sim.study.experiment import scenario_overrides
    from sim.analytic.validation import comparison, format_comparison, plan_model, simulate_figures

    from sim.config.limits import check_replications, check_work, expected_work

    if args.reps is not None:
        check_replications(args.reps)
    study = Study(args.scenario, scenario_overrides(args.reps, args.seed, args.hours, args.sets),
                  network=args.network)
    scenario = study.scenario
    scenario.plan(args.plan)  # an unknown plan fails before the network loads
    if not args.no_sim:
        check_work(expected_work(scenario, [args.plan], scenario.replications), args.force)
    world = study.world()
    model = plan_model(scenario, world, args.plan, allow_approximate=args.approximate)
    simulated = None if args.no_sim else simulate_figures(scenario, world, model, scenario.replications)
    figures = comparison(model, simulated)
    print(json.dumps(figures, sort_keys=True) if args.json else format_comparison(figures))
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    from sim.optimize.command import run_optimize
    from sim.optimize.request import check_request

    return run_optimize(check_request(args), sys.argv)


def _print_scenario_warnings() -> None:
    """Scenario warnings as ``warning: ...`` lines on stderr, each once per command, other
    warnings as usual."""
    import warnings

    from sim.errors import ScenarioWarning

    warnings.simplefilter("default", ScenarioWarning)  # also forgets those shown by an earlier main()
    if getattr(warnings.showwarning, "patrolsim", False):
        return
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 (warnings' signature)
        if issubclass(category, ScenarioWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    show.patrolsim = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _stop_on_sigterm() -> None:
    """SIGTERM stops a run as Ctrl-C does: finished replications are kept, the message says
    how to resume (worker processes end with their parent in any case)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _print_scenario_warnings()
    _stop_on_sigterm()
    try:
        if not argv:
            argv = ["run", str(_default_scenario())]
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 0
        handler = {
            "run": _cmd_run,
            "sweep": _cmd_sweep,
            "validate": _cmd_validate,
            "network": _cmd_network,
            "map": _cmd_map,
            "animate": _cmd_animate,
            "hypercube": _cmd_hypercube,
            "optimize": _cmd_optimize,
        }
        return handler[args.command](args)
    except InputError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except RunStopped as stopped:
        print(f"error: {stopped}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (| head): nothing left to say
        return 1
