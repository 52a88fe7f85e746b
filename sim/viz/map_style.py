"""What the PNG and the HTML map share: colours, symbols, road widths, towns, the title lines, the result.

Both writers read these, so a map looks and reads the same in either format. Words come from the
message catalogue (``map.*``) through the ``Messages`` the writer was given.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.config.kecamatan import load_kecamatan
from sim.i18n import Messages, messages
from sim.network import RoadNetwork
from sim.viz.coverage import Coverage, PlanLayer
from sim.viz.map_areas import where_missed
from sim.viz.palette import BEYOND_BANDS_COLOUR, GAINED_COLOUR, LOST_COLOUR, SITE_KIND_COLOUR
from sim.viz.words import synthetic_note

# Band colours (sim.viz.palette.band_colours): greens up to the target, oranges beyond; beyond the last band: grey.
BEYOND_COLOUR = BEYOND_BANDS_COLOUR
# The difference layer of a compare map: gained, lost, both, neither (sim.viz.coverage's codes).
CHANGE_COLOURS = {"gained": GAINED_COLOUR, "lost": LOST_COLOUR, "both": "#b8c9b8", "neither": "#e3e3e3"}
ROAD_WIDTH = {"motorway": 2.4, "trunk": 2.2, "primary": 2.0, "secondary": 1.4, "tertiary": 1.0}
MINOR_ROAD_WIDTH = 0.45
# Site kinds by marker shape; the words are the catalogue's ``map.kind.<kind>``. The shape tells the
# kind; the colour is one neutral ink for every kind (a colour is kept for the simulated share,
# sim.viz.palette). Unknown kinds get a plain circle and the words ``map.kind.other``.
SITE_MARKER = {"police_hq": "s", "police_post": "P", "military_post": "D", "election_office": "^",
               "election_warehouse": "v", "government_office": "p", "crowd_point": "o", "kecamatan_centre": "h",
               "polling_station": "."}


@dataclass(frozen=True)
class MapResult:
    """What a written map says: its file, title lines and legend text, and the figures behind them."""

    path: Path
    title: str
    subtitle: str
    legend: list[str]               # the drive-time lines of the legend(s) (and joint patrols), plan by plan,
    #                                 in the map's language
    coverages: dict[str, Coverage]  # plan name -> coverage
    difference_km: float | None     # compare maps: covered road length of the second minus the first
    missed: tuple[str, ...] = ()    # with results: the lines naming the sites that miss the target, per plan
    unlabelled: int = 0             # PNG: labels left out for want of room
    nameable: int = 0               # PNG: sites the map names when there is room (on a map of many
    #                                 sites, those listed in the scenario, not those of site sets)
    figures: tuple[str, ...] = ()   # what the terminal prints (in English): per plan a line naming it,
    #                                 then its simulated share and drive-time figures, indented
    caption: tuple[str, ...] = ()   # the same lines in the map's language (the report's caption)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def simulated_line(row: Mapping | None, target_min: float, m: Messages) -> str:
    """The plan's simulated share within target from its summary.csv row, or where to get it."""
    share = _number(row.get("within_target_pct")) if row else math.nan
    if not math.isfinite(share):
        return m("map.simulated.none")
    half = _number(row.get("within_target_ci95"))
    interval = f" ± {m.num(half, '.1f')}" if math.isfinite(half) else ""
    reps, incidents = _number(row.get("reps")), _number(row.get("incidents"))
    counts = (m("map.simulated.counts", reps=m.num(reps, ",.0f"), incidents=m.num(incidents, ",.0f"))
              if math.isfinite(reps + incidents) else "")
    return m("map.simulated", share=m.num(share, ".1f"), interval=interval, target=m.num(target_min, "g"),
             counts=counts)


def legend_lines(layer: PlanLayer, summary_row: Mapping | None, target_min: float, m: Messages,
                 heading: bool = False) -> list[str]:
    """A plan's figures in words: the simulated share (or where to get it), then the drive-time
    figures, named as such, and any joint patrols; with ``heading``, under a line naming the plan."""
    lines = [simulated_line(summary_row, target_min, m), *layer.legend(m)]
    return ([m("map.plan.heading", plan=layer.name)] + [f"  {line}" for line in lines]) if heading else lines


def map_result(scenario, layers: Sequence[PlanLayer], out: Path, title: str, subtitle: str,
               results: Sequence[Mapping | None], areas: Sequence[Mapping | None], summary: Sequence[Mapping | None],
               difference: float | None, m: Messages, unlabelled: int = 0, nameable: int = 0) -> MapResult:
    """What a written map says: its title lines and legend in its language (``m``); the figures and
    where each plan misses the target in English for the terminal; the figures again in the map's
    language for the report's caption. ``results``, ``areas``, ``summary``: per layer, or None."""
    english, target = messages("en"), scenario.target_response_min
    missed = tuple(line for layer, plan_results, plan_areas in zip(layers, results, areas) if plan_results is not None
                   for line in where_missed(layer.name, plan_results, plan_areas, scenario, 20, english))

    def lines(words: Messages) -> tuple[str, ...]:
        return tuple(line for layer, row in zip(layers, summary)
                     for line in legend_lines(layer, row, target, words, heading=True))
    return MapResult(out, title, subtitle, [line for layer in layers for line in layer.legend(m)],
                     {layer.name: layer.coverage for layer in layers}, difference, missed, unlabelled, nameable,
                     lines(english), lines(m))


def road_width(road_class: str) -> float:
    """Line width (points) of a road class; classes below tertiary are minor roads."""
    return ROAD_WIDTH.get(road_class, MINOR_ROAD_WIDTH)


def road_words(name: str, m: Messages) -> str:
    """A road class's name in words (``map.road.<class>``: OpenStreetMap's highway values; another
    class by its own name)."""
    return m(f"map.road.{name}") if m.has(f"map.road.{name}") else name


def site_style(kind: str) -> tuple[str, str]:
    """(marker, colour) of a site kind."""
    return SITE_MARKER.get(kind, "o"), SITE_KIND_COLOUR


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


def map_title(scenario, plans: Sequence[str], m: Messages) -> str:
    """The map's headline: target, plan(s), scenario."""
    names = m("map.title.vs").join(f"'{p}'" for p in plans)
    return m("map.title", target=m.num(scenario.target_response_min, "g"), plans=names, scenario=scenario.name)


def map_subtitle(network: RoadNetwork, bands_min: Sequence[float], m: Messages) -> str:
    """Two lines: what the shading means, and where the roads come from."""
    bands = "/".join(m.num(b, "g") for b in bands_min)
    first = m("map.subtitle", bands=bands)
    note = synthetic_note(m)
    note = note[:1].upper() + note[1:]   # it starts a sentence here
    second = note + "." if network.synthetic else m("map.subtitle.roads", network=network.source_label)
    return first + "\n" + second
