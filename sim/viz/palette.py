"""One vocabulary of colour for what a planner reads: the scale of "share of incidents reached within
the target", its classes and words, and the neutral look of site kinds.

Every figure, map and page that colours a share takes it from here (the PNG and HTML maps, the
report's tables, the heat table of sites or areas), so a share has one colour wherever it is read.
The scale is matplotlib's cividis (colour-blind safe, readable in grey): dark blue for shares far
below the target, yellow for shares that meet it, cut into classes at ``SHARE_BREAKS_PCT``; each
class takes the scale's colour at its place among the classes. Red and green are left for nothing:
site kinds are told apart by shape, never by a colour that could read as failing.

The same values are kept for pages that do not run Python (``web/share_scale.json`` and
``web/share_scale.css``); ``python -m sim.viz.palette`` writes them and a test checks they agree.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache

from sim.i18n import Messages, messages

SHARE_COLOURMAP = "cividis"
#: class edges (% of incidents reached within the target): under 50, 50-75, 75-90, 90 or more
SHARE_BREAKS_PCT = (50.0, 75.0, 90.0)
#: a place "misses the target" below this share (the top class's lower edge)
MISS_BELOW_PCT = SHARE_BREAKS_PCT[-1]
#: no counted incidents there: no share, so no colour of the scale
NO_SHARE_COLOUR = "#eeeeee"
NO_SHARE_EDGE = "#8c8c8c"
#: every site kind is drawn in this colour; its shape says its kind
SITE_KIND_COLOUR = "#3d3d3d"
#: the difference map: roads gained and lost within the target (blue and orange, colour-blind safe)
GAINED_COLOUR = "#2166ac"
LOST_COLOUR = "#e08214"
#: roads by minutes from the nearest unit: greens (dark: fast) up to the target, oranges beyond it,
#: grey beyond the last band; no yellow, which the share scale uses
WITHIN_BANDS_COLOURMAP, BEYOND_BANDS_COLOURMAP = "Greens", "Oranges"
BEYOND_BANDS_COLOUR = "#c9c9c9"
#: units (posts' badges, circuits, patrol points): a hue neither scale uses
UNIT_COLOUR = "#b0197a"


@dataclass(frozen=True)
class ShareClass:
    """One class of the share scale: [low_pct, high_pct) (the top class includes 100), its colour
    and the ink readable on it."""

    low_pct: float
    high_pct: float
    colour: str
    ink: str

    def words(self, m: Messages) -> str:
        """``under 50%``, ``50-75%``, ``90% or more``, in the language of ``m``."""
        low, high = m.num(self.low_pct, "g"), m.num(self.high_pct, "g")
        if self.low_pct == 0.0:
            return m("common.share.under", high=high)
        return m("common.share.from", low=low) if self.high_pct >= 100.0 else m("common.share.range", low=low, high=high)


def _ink(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (by its luminance)."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "#000000"


@cache
def share_classes() -> tuple[ShareClass, ...]:
    """The classes, lowest share first; class k of n takes the colour map at k / (n - 1)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    edges = (0.0, *SHARE_BREAKS_PCT, 100.0)
    n = len(edges) - 1
    out = []
    for k in range(n):
        colour = to_hex(colormaps[SHARE_COLOURMAP](k / (n - 1)))
        out.append(ShareClass(edges[k], edges[k + 1], colour, _ink(colour)))
    return tuple(out)


def share_class(share_pct: float | None) -> ShareClass | None:
    """The class of a share (0..100 %); None for no share (None or NaN)."""
    if share_pct is None or not math.isfinite(share_pct):
        return None
    classes = share_classes()
    for item in reversed(classes):
        if share_pct >= item.low_pct:
            return item
    return classes[0]


def share_colour(share_pct: float | None) -> str:
    """The colour of a share (0..100 %); NO_SHARE_COLOUR for none."""
    item = share_class(share_pct)
    return NO_SHARE_COLOUR if item is None else item.colour


def share_ink(share_pct: float | None) -> str:
    """The text colour that reads on ``share_colour(share_pct)``."""
    item = share_class(share_pct)
    return "#000000" if item is None else item.ink


def share_key(m: Messages) -> list[tuple[str, str]]:
    """(colour, words) of every class, best first, then "no counted incidents": a legend's rows."""
    return [(c.colour, c.words(m)) for c in reversed(share_classes())] + [(NO_SHARE_COLOUR, m("common.share.none"))]


def share_listed_colormap():
    """(cmap, norm) of matplotlib drawing a share with exactly the classes' colours (NaN: no share)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    classes = share_classes()
    cmap = ListedColormap([c.colour for c in classes]).with_extremes(bad=NO_SHARE_COLOUR)
    return cmap, BoundaryNorm([classes[0].low_pct, *SHARE_BREAKS_PCT, 100.0 + 1e-9], len(classes))


def band_colours(bands_min, target_min: float) -> list[str]:
    """Colours of the drive-time bands (upper limits ``bands_min``, minutes), fast to slow: bands up
    to the target in greens from dark to light, bands beyond it in oranges from light to dark."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    within = sum(1 for b in bands_min if b <= target_min * (1 + 1e-9))
    beyond = len(bands_min) - within
    greens = [to_hex(colormaps[WITHIN_BANDS_COLOURMAP](0.9 - 0.5 * k / max(within - 1, 1))) for k in range(within)]
    oranges = [to_hex(colormaps[BEYOND_BANDS_COLOURMAP](0.35 + 0.4 * k / max(beyond - 1, 1))) for k in range(beyond)]
    return greens + oranges


def scale_data() -> dict:
    """The scale as plain data, for pages: breaks, classes (low, high, colour, ink, words), no-share;
    the words in English (the planning page says its own from the catalogue)."""
    english = messages("en")
    return {
        "name": SHARE_COLOURMAP,
        "breaks_pct": list(SHARE_BREAKS_PCT),
        "miss_below_pct": MISS_BELOW_PCT,
        "classes": [{"low_pct": c.low_pct, "high_pct": c.high_pct, "colour": c.colour, "ink": c.ink,
                     "words": c.words(english)} for c in share_classes()],
        "none": {"colour": NO_SHARE_COLOUR, "edge": NO_SHARE_EDGE, "words": english("common.share.none")},
        "site_kind_colour": SITE_KIND_COLOUR,
    }


def scale_json() -> str:
    """``scale_data`` as the text of ``web/share_scale.json``."""
    return json.dumps(scale_data(), indent=2) + "\n"


def scale_css() -> str:
    """The scale as CSS custom properties and classes (``web/share_scale.css``): ``--share-0`` (lowest)
    to ``--share-N``, ``--share-none``; ``.share-0`` ... set background and ink."""
    lines = ["/* The share-within-target scale (sim/viz/palette.py; written by python -m sim.viz.palette). */",
             ":root {"]
    lines += [f"  --share-{k}: {c.colour}; --share-{k}-ink: {c.ink};" for k, c in enumerate(share_classes())]
    lines += [f"  --share-none: {NO_SHARE_COLOUR};", "}"]
    lines += [f".share-{k} {{ background: var(--share-{k}); color: var(--share-{k}-ink); }}"
              for k in range(len(share_classes()))]
    lines.append(".share-none { background: var(--share-none); }")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":   # python -m sim.viz.palette: write the page files from the values above
    from pathlib import Path

    folder = Path(__file__).parent / "web"
    (folder / "share_scale.json").write_text(scale_json(), encoding="utf-8")
    (folder / "share_scale.css").write_text(scale_css(), encoding="utf-8")
