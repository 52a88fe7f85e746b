"""``map``: network, sites, bases and the area a plan covers in time."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.common import add_lang_flag, add_network_flag, cli_names, file_arg
from sim.errors import InputError

#: write_map's arguments as this command names them
MAP_FLAGS = {"out": "--out", "bands": "--bands", "plans": "--plan", "compare": "--compare", "results": "--results",
             "replace": "--replace"}


def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    map_ = commands.add_parser("map", help="network, sites, bases and the area a plan covers in time")
    map_.add_argument("scenario", type=Path)
    map_.add_argument("--plan", required=True, metavar="P")
    map_.add_argument("--compare", metavar="P2", help="draw a second plan beside it")
    map_.add_argument("--out", type=file_arg, required=True, metavar="FILE.png|FILE.html|FILE.geojson|FILE.gpkg",
                      help="a picture (.png), an interactive page (.html) or GIS layers (.geojson, .gpkg)")
    map_.add_argument("--replace", action="store_true",
                      help="replace --out even if patrolsim did not write it as a map of this scenario and plan(s)")
    map_.add_argument("--results", type=Path, metavar="DIR",
                      help="a run's results folder of this scenario: colour each site by its simulated share "
                      "within the target (from DIR/sites.csv), list the sites that miss it and add the "
                      "kecamatan layer (DIR/areas.csv; .png and .html)")
    map_.add_argument("--bands", metavar="MIN,...",
                      help="isochrone bands in minutes (default: thirds of the scenario's target up to 4/3 of it, "
                      "e.g. 5,10,15,20 for a 15-minute target)")
    add_network_flag(map_)
    add_lang_flag(map_, what="the map's words (.png, .html)")
    return {"map": _cmd_map}


def _cmd_map(args: argparse.Namespace) -> int:
    from sim.config import load_scenario, network_spec
    from sim.model import build_world
    from sim.network import load_network
    from sim.viz.maps import check_map, check_out, parse_bands, target_bands, write_map

    # Flags first (cheap), then the scenario and its plans, before the network loads.
    check_out(args.out, "--out")
    bands_min = parse_bands(args.bands, "--bands") if args.bands is not None else None
    if bands_min is not None:
        _check_bands(bands_min)
    names = cli_names()
    scenario = load_scenario(args.scenario, names=names)
    bands_min = bands_min or target_bands(scenario.target_response_min)
    plans = [args.plan] + ([args.compare] if args.compare else [])
    check_map(scenario, plans, args.out, args.replace, MAP_FLAGS)
    results = areas = summary = None
    if args.results is not None:
        results = read_results(args.results, scenario, plans)
        areas = read_areas(args.results, plans)
        summary = read_summary(args.results, plans)
        scenario = run_clock(args.scenario, scenario, args.results)
    network = load_network(network_spec(scenario, args.network, names.network))
    result = write_map(scenario, build_world(scenario, network), plans, args.out, bands_min, results, areas,
                       summary, replace=args.replace, names=MAP_FLAGS, lang=args.lang)
    for line in result.figures:
        print(line)
    for line in result.missed:
        print(line)
    if result.difference_km is not None:
        print(f"difference in covered road length: {result.difference_km:+,.1f} km")
    if network.synthetic:
        print(f"Road network: {network.described()}.")
    if result.unlabelled:
        print(f"{result.unlabelled:,} of {result.nameable:,} site names left out of the picture for want of room "
              "(the .html map names them as you zoom in)")
    print(f"map written to {args.out}")
    return 0


def read_results(folder: Path, scenario, plans) -> dict:
    """plan -> site id -> SiteResult from FOLDER/sites.csv (read and checked by SavedResults), after
    checking FOLDER/manifest.json says the results are of this scenario (its sites, target and the
    plans shown as they are now)."""
    from sim.study.saved import SavedResults
    from sim.viz.map_results import SITE_COLUMNS, site_results

    where = f"--results {str(folder)!r}"
    if not folder.is_dir():
        raise InputError(f"{where}: not a folder (give the folder a run wrote, e.g. results/{scenario.name})")
    saved = SavedResults.open(folder, where)
    ran, ran_plans = saved.scenario, saved.plans
    if ran.get("name") != scenario.name:
        raise InputError(f"{where}: these are results of scenario '{ran.get('name')}', not '{scenario.name}'")
    missing = [p for p in plans if p not in ran_plans]
    if missing:
        raise InputError(f"{where}: plan '{missing[0]}' was not run there (it has: {', '.join(ran_plans)})")
    now = scenario.raw
    changed = [key for key in ("sites", "target_response_min") if _canonical(ran.get(key)) != _canonical(now.get(key))]
    plans_then = {p.get("name"): p for p in ran.get("plans", []) if isinstance(p, dict)}
    plans_now = {p.get("name"): p for p in now.get("plans", [])}
    changed += [f"plan '{p}'" for p in plans if _canonical(plans_then.get(p)) != _canonical(plans_now.get(p))]
    if changed:
        sha = str(saved.manifest.get("scenario_sha256", "?"))[:12]
        raise InputError(f"{where}: the scenario's {', '.join(changed)} differ from those the results were made with "
                         f"(scenario sha256 {sha}); run it again")
    rows = saved.csv_rows("sites.csv")
    if rows is None:
        raise InputError(f"{where}: cannot read sites.csv (the folder has none); a run writes it with its other "
                         "result files")
    absent = [c for c in SITE_COLUMNS if rows and c not in rows[0]]
    if absent or not rows:
        raise InputError(f"{where}: sites.csv lacks column(s) {', '.join(absent or SITE_COLUMNS)}")
    try:
        return {plan: site_results(rows, plan) for plan in plans}
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{where}: sites.csv: unreadable row ({error})") from None


def read_areas(folder: Path, plans) -> dict | None:
    """plan -> kecamatan -> AreaResult from FOLDER/areas.csv (read and checked by SavedResults;
    read_results has checked the folder); None, said on stderr, for a folder written before runs
    wrote areas.csv."""
    from sim.study.saved import SavedResults
    from sim.viz.map_areas import AREA_COLUMNS, area_results

    where = f"--results {str(folder)!r}"
    rows = SavedResults.open(folder, where).csv_rows("areas.csv")
    if rows is None:
        print(f"{folder / 'areas.csv'}: not there (an older run): the map has no kecamatan layer", file=sys.stderr)
        return None
    absent = [c for c in AREA_COLUMNS if rows and c not in rows[0]]
    if absent:
        raise InputError(f"{where}: areas.csv lacks column(s) {', '.join(absent)}")
    try:
        return {plan: area_results(rows, plan) for plan in plans}
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{where}: areas.csv: unreadable row ({error})") from None


def read_summary(folder: Path, plans) -> dict:
    """plan -> its row of FOLDER/summary.csv (read and checked by SavedResults; read_results has
    checked the folder); plans without a row, or a folder without the file, are left out (the map
    then says it has no simulated share)."""
    from sim.study.saved import SavedResults

    rows = {row.get("plan"): row for row in SavedResults.open(folder, f"--results {str(folder)!r}")
            .csv_rows("summary.csv") or []}
    return {plan: rows[plan] for plan in plans if plan in rows}


def run_clock(path: Path, scenario, folder: Path):
    """The scenario with the clock of the run in FOLDER (a run cut with --hours measured a shorter
    clock: its incident sites are those of that clock)."""
    from sim.config import load_scenario
    from sim.study.saved import SavedResults

    try:
        clock = SavedResults.open(folder, f"--results {str(folder)!r}").scenario["clock"]
        hours = {key: float(clock[key]) for key in ("duration_hours", "warmup_hours") if key in clock}
    except (ValueError, KeyError, TypeError):
        return scenario
    now = scenario.clock
    if hours.get("duration_hours", now.duration_hours) == now.duration_hours and \
            hours.get("warmup_hours", now.warmup_hours) == now.warmup_hours:
        return scenario
    return load_scenario(path, {f"clock.{key}": value for key, value in hours.items()}, names=cli_names())


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _check_bands(bands_min) -> None:
    """--bands: at most MAX_BANDS bands (colours must be told apart), none beyond a day."""
    from sim.config.limits import MAX_BANDS, MAX_TARGET_MIN

    if len(bands_min) > MAX_BANDS:
        raise InputError(f"--bands: {len(bands_min):,} bands, more than the {MAX_BANDS} a map can colour apart")
    if max(bands_min) > MAX_TARGET_MIN:
        raise InputError(f"--bands: {max(bands_min):g} min is more than the bound of {MAX_TARGET_MIN:g} min (a day)")
