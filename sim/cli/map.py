"""``map``: network, sites, bases and the area a plan covers in time."""
from __future__ import annotations

import argparse

from pathlib import Path

from sim.cli.common import add_network_flag
from sim.errors import InputError

def register(commands) -> dict:
    """Add the command's parser; return its handlers by command name."""
    map_ = commands.add_parser("map", help="network, sites, bases and the area a plan covers in time")
    map_.add_argument("scenario", type=Path)
    map_.add_argument("--plan", required=True, metavar="P")
    map_.add_argument("--compare", metavar="P2", help="draw a second plan beside it")
    map_.add_argument("--out", type=Path, required=True, metavar="FILE.png|FILE.html")
    map_.add_argument("--bands", metavar="MIN,...",
                      help="isochrone bands in minutes (default: thirds of the scenario's target up to 4/3 of it, "
                      "e.g. 5,10,15,20 for a 15-minute target)")
    add_network_flag(map_)
    return {"map": _cmd_map}


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
