"""How an animation looks, in one place: colours, legend words and fonts of the GIF and the HTML page.

Both renderers read these (the page gets them through its JSON), so a colour changes here only.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

# Per unit state (the codes of sim.viz.animate_frames): standing grey and patrolling blue, so a
# parked car and a moving one are told apart at a glance.
UNIT_COLOURS = ("#b3b3b3", "#1f5fbf", "#f07f00", "#8e2bc9", "#1a9e77")
# Per incident state (index 0: not shown).
INCIDENT_COLOURS = ("#ffffff", "#e3111b", "#f0a800", "#8e2bc9", "#2a9d3a", "#8c8c8c", "#ffe600")
MARKER_EDGE = "#222222"            # the ring around unit dots, joint discs and stars
DISPATCH_COLOUR = UNIT_COLOURS[2]  # a dispatch line has the colour of a unit driving to an incident
# Roads by class (main, secondary, minor): colour and line width in pixels, light enough to keep units in front.
ROAD_STYLES = (("#a3a8ae", 1.4), ("#c3c7cc", 0.8), ("#e0e2e5", 0.5))
BASE_COLOUR, SITE_COLOUR, MANY_SITE_COLOUR = "#333333", "#777777", "#9a9a9a"
# A site beyond the target's drive from every unit of the plan: its name and a ring, in one colour
# that no state uses (red means waiting for a unit).
BEYOND_COLOUR = "#a01a7d"
SITE_TEXT, TOWN_TEXT, UNIT_TEXT = "#444444", "#7a7a7a", "#111111"
CLOCK_TEXT, TEXT, QUIET_TEXT = "#111111", "#222222", "#555555"   # the clock; figures, title, legend; the speed
STAR_EDGE = "#000000"
LEADER_COLOUR = "#555555"          # the short line from a unit to a label set at its corner
CITY_BOX_COLOUR = "#222222"        # the city's box on the regency map, and the city panel's frame
PANEL_EDGE = "#999999"             # the page's frame around each panel
NOTE_COLOUR = "#b00020"            # the synthetic-network note
HALO = "#ffffff"                   # the outline that keeps text readable over roads; the map's ground


@lru_cache(maxsize=4)
def font_path(bold: bool = False, italic: bool = False) -> str:
    """The DejaVu Sans file matplotlib ships (the font of the other figures), for Pillow's text; found
    without importing matplotlib, which the animations do not otherwise need."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: the animations take their font from it")
    name = "DejaVuSans" + ("-" if bold or italic else "") + ("Bold" if bold else "") + ("Oblique" if italic else "")
    return str(Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / f"{name}.ttf")
