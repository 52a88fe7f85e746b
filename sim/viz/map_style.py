"""What the PNG and the HTML map share: colours, symbols, road widths, towns, the title lines, the result.

Both writers read these, so a map looks and reads the same in either format.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sim.config.kecamatan import load_kecamatan
from sim.network import SYNTHETIC_NOTE
from sim.network import RoadNetwork
from sim.viz.coverage import Coverage

MOVING_NOTE = "circuit and random-patrol units counted from their best stop (best case)"
# The note's first clause: short enough for the corner badge of a map.
SYNTHETIC_BADGE = SYNTHETIC_NOTE.partition(":")[0]

# Band colours from fast (dark green) to slow (orange-red); beyond the last band: grey.
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#a50026")
BEYOND_COLOUR = "#c9c9c9"
# The difference layer of a compare map: gained, lost, both, neither (sim.viz.coverage's codes).
CHANGE_COLOURS = {"gained": "#2166ac", "lost": "#d6604d", "both": "#b8c9b8", "neither": "#e3e3e3"}
BAND_TITLE = "Minutes to the nearest unit"
BAND_NOTE = "travel times: a best case for moving units"
ROAD_WIDTH = {"motorway": 2.4, "trunk": 2.2, "primary": 2.0, "secondary": 1.4, "tertiary": 1.0}
MINOR_ROAD_WIDTH = 0.45
UNIT_COLOUR = "#1f2d6b"
# Site kinds: (marker, colour, legend words). Unknown kinds get a plain circle.
SITE_STYLE = {
    "police_hq": ("s", "#08306b", "police HQ"),
    "police_post": ("s", "#2171b5", "police post"),
    "military_post": ("D", "#4d6b1f", "military post"),
    "election_office": ("^", "#6a3d9a", "election office"),
    "election_warehouse": ("v", "#6a3d9a", "election warehouse"),
    "crowd_point": ("o", "#b2182b", "crowd point"),
}
OTHER_SITE_STYLE = ("o", "#444444", "other site")


@dataclass(frozen=True)
class MapResult:
    """What a written map says: its file, title lines and legend text, and the figures behind them."""

    path: Path
    title: str
    subtitle: str
    legend: list[str]               # the coverage lines printed in the legend(s), in order
    coverages: dict[str, Coverage]  # plan name -> coverage
    difference_km: float | None     # compare maps: covered road length of the second minus the first
    missed: tuple[str, ...] = ()    # with results: the lines naming the sites that miss the target, per plan
    unlabelled: int = 0             # PNG: labels left out for want of room


def band_colours(n_bands: int) -> list[str]:
    """Colours of n_bands bands, fast to slow; more bands than colours reuse the slowest."""
    return [BAND_COLOURS[min(k, len(BAND_COLOURS) - 1)] for k in range(n_bands)]


def road_width(road_class: str) -> float:
    """Line width (points) of a road class; classes below tertiary are minor roads."""
    return ROAD_WIDTH.get(road_class, MINOR_ROAD_WIDTH)


def site_style(kind: str) -> tuple[str, str, str]:
    """(marker, colour, legend words) of a site kind."""
    return SITE_STYLE.get(kind, OTHER_SITE_STYLE)


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
