"""What the PNG and the HTML map share: colours, symbols, road widths, towns, the title lines, the result.

Both writers read these, so a map looks and reads the same in either format.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.config.kecamatan import load_kecamatan
from sim.network import SYNTHETIC_NOTE
from sim.network import RoadNetwork
from sim.viz.coverage import Coverage
from sim.viz.palette import BEYOND_BANDS_COLOUR, GAINED_COLOUR, LOST_COLOUR, SITE_KIND_COLOUR

MOVING_NOTE = "circuit and random-patrol units counted from their best stop (best case)"
# The note's first clause: short enough for the corner badge of a map.
SYNTHETIC_BADGE = SYNTHETIC_NOTE.partition(":")[0]

# Band colours (sim.viz.palette.band_colours): greens up to the target, oranges beyond; beyond the last band: grey.
BEYOND_COLOUR = BEYOND_BANDS_COLOUR
# The difference layer of a compare map: gained, lost, both, neither (sim.viz.coverage's codes).
CHANGE_COLOURS = {"gained": GAINED_COLOUR, "lost": LOST_COLOUR, "both": "#b8c9b8", "neither": "#e3e3e3"}
BAND_TITLE = "Minutes to the nearest unit"
BAND_NOTE = "travel times: a best case for moving units"
ROAD_WIDTH = {"motorway": 2.4, "trunk": 2.2, "primary": 2.0, "secondary": 1.4, "tertiary": 1.0}
MINOR_ROAD_WIDTH = 0.45
# Site kinds: (marker, colour, legend words). The shape tells the kind; the colour is one neutral
# ink for every kind (a colour is kept for the simulated share, sim.viz.palette). Unknown kinds get
# a plain circle and the words "other site".
SITE_STYLE = {
    "police_hq": ("s", SITE_KIND_COLOUR, "police HQ"),
    "police_post": ("P", SITE_KIND_COLOUR, "police post"),
    "military_post": ("D", SITE_KIND_COLOUR, "military post"),
    "election_office": ("^", SITE_KIND_COLOUR, "election office"),
    "election_warehouse": ("v", SITE_KIND_COLOUR, "election warehouse"),
    "government_office": ("p", SITE_KIND_COLOUR, "government office"),
    "crowd_point": ("o", SITE_KIND_COLOUR, "crowd point"),
    "kecamatan_centre": ("h", SITE_KIND_COLOUR, "kecamatan centre"),
    "polling_station": (".", SITE_KIND_COLOUR, "polling station"),
}
OTHER_SITE_STYLE = ("o", SITE_KIND_COLOUR, "other site")


@dataclass(frozen=True)
class MapResult:
    """What a written map says: its file, title lines and legend text, and the figures behind them."""

    path: Path
    title: str
    subtitle: str
    legend: list[str]               # the drive-time lines of the legend(s) (and joint patrols), plan by plan
    coverages: dict[str, Coverage]  # plan name -> coverage
    difference_km: float | None     # compare maps: covered road length of the second minus the first
    missed: tuple[str, ...] = ()    # with results: the lines naming the sites that miss the target, per plan
    unlabelled: int = 0             # PNG: labels left out for want of room
    nameable: int = 0               # PNG: sites the map names when there is room (on a map of many
    #                                 sites, those listed in the scenario, not those of site sets)
    figures: tuple[str, ...] = ()   # what the terminal prints: per plan a line naming it, then its
    #                                 simulated share and drive-time figures, indented


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def simulated_line(row: Mapping | None, target_min: float) -> str:
    """The plan's simulated share within target from its summary.csv row, or where to get it."""
    share = _number(row.get("within_target_pct")) if row else math.nan
    if not math.isfinite(share):
        return "Simulated share within target: not on this map (a map drawn with a run's results shows it)"
    half = _number(row.get("within_target_ci95"))
    interval = f" ± {half:.1f}" if math.isfinite(half) else ""
    reps, incidents = _number(row.get("reps")), _number(row.get("incidents"))
    counts = f" ({reps:,.0f} replications, {incidents:,.0f} incidents)" if math.isfinite(reps + incidents) else ""
    return f"Simulated: {share:.1f}%{interval} of incidents reached within {target_min:g} min{counts}"


def legend_lines(layer, summary_row: Mapping | None, target_min: float, heading: bool = False) -> list[str]:
    """A plan's figures in words: the simulated share (or where to get it), then the drive-time
    figures, named as such, and any joint patrols; with ``heading``, under a line naming the plan."""
    lines = [simulated_line(summary_row, target_min), *layer.legend]
    return ([f"plan '{layer.name}':"] + [f"  {line}" for line in lines]) if heading else lines


def road_width(road_class: str) -> float:
    """Line width (points) of a road class; classes below tertiary are minor roads."""
    return ROAD_WIDTH.get(road_class, MINOR_ROAD_WIDTH)


def site_style(kind: str) -> tuple[str, str, str]:
    """(marker, colour, legend words) of a site kind."""
    return SITE_STYLE.get(kind, OTHER_SITE_STYLE)


def set_site_ids(scenario) -> set[str]:
    """Ids of the sites a site set added (generated or read from a file), not listed in ``sites:``."""
    raw = scenario.raw.get("sites") if isinstance(scenario.raw, dict) else None
    if not isinstance(raw, list) or not scenario.raw.get("site_sets"):
        return set()
    listed = {site.get("id") for site in raw if isinstance(site, dict)}
    return {site.id for site in scenario.sites if site.id not in listed}


def towns_in(network: RoadNetwork) -> list[tuple[str, float, float]]:
    """Jember's sub-district towns (name, lon, lat) inside the network's bounding box."""
    west, south, east, north = network.bbox()
    return [(k.name, k.lon, k.lat) for k in load_kecamatan()
            if west <= k.lon <= east and south <= k.lat <= north]


def map_title(scenario, plans: Sequence[str]) -> str:
    """The map's headline: target, plan(s), scenario."""
    names = " vs ".join(f"'{p}'" for p in plans)
    return f"Coverage within {scenario.target_response_min:g} min: plan {names} ({scenario.name})"


def map_subtitle(network: RoadNetwork, bands_min: Sequence[float]) -> str:
    """Two lines: what the shading means, and where the roads come from."""
    bands = "/".join(f"{b:g}" for b in bands_min)
    first = f"Roads shaded by minutes from the nearest unit ({bands} min bands); {MOVING_NOTE}."
    note = SYNTHETIC_NOTE[:1].upper() + SYNTHETIC_NOTE[1:]   # it starts a sentence here
    second = note + "." if network.synthetic else f"Roads: {network.source_label}."
    return first + "\n" + second
