"""The PNG map's legends: blocks stacked by their measured size, so no title overprints a block.

Each block (a matplotlib legend or a text) is drawn, measured with the renderer and the next
one goes below it; a block that would run off the bottom starts the next column. Blocks name
the plan they belong to, so the two legends of a compare map cannot be mistaken.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence

from sim.network import RoadNetwork
from sim.viz.coverage import PlanLayer, incident_sites
from sim.viz.map_areas import MAX_SITES_LISTED, AreaResult, area_legend, worst_areas_text
from sim.viz.map_results import (DETERRED_COLOUR, DETERRED_WORDS, NO_RESULT_COLOUR, NO_RESULT_WORDS, SHARE_CLASSES,
                                 SiteResult, has_deterrence, missed)
from sim.viz.map_style import (
    BAND_NOTE,
    BAND_TITLE,
    BEYOND_COLOUR,
    CHANGE_COLOURS,
    UNIT_COLOUR,
    band_colours,
    road_width,
    site_style,
)

GAP_PX = 14.0


def _px(ax, points: float) -> float:
    return points * ax.figure.dpi / 72.0


def stack(ax, blocks: Sequence[Callable[[float, float], object]], ncols: int, top: float = 1.0) -> None:
    """Draw ``blocks`` (each ``f(x, y) -> artist`` anchored at its top-left, axes fractions) in
    ``ncols`` columns, each below the one before; a block that does not fit starts a new column."""
    renderer = ax.figure.canvas.get_renderer()
    height_px = ax.bbox.height
    col, y, used = 0, top, False
    for block in blocks:
        artist = block(col / ncols, y)
        h = artist.get_window_extent(renderer).height / height_px
        if used and y - h < 0 and col + 1 < ncols:
            artist.remove()
            col, y = col + 1, top
            artist = block(col / ncols, y)
            h = artist.get_window_extent(renderer).height / height_px
        y -= h + GAP_PX / height_px
        used = True


def _legend_block(ax, title: str, handles: list, size_pt: float, chars: int) -> Callable[[float, float], object]:
    """A legend whose title and labels are wrapped to ``chars`` characters (the column's width)."""
    title = "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))
    for handle in handles:  # a label beside its symbol has the column less the symbol's width
        handle.set_label("\n".join(textwrap.fill(line, chars - 6) for line in handle.get_label().split("\n")))

    def draw(x: float, y: float):
        legend = ax.legend(handles=handles, title=title, loc="upper left", fontsize=size_pt, title_fontsize=size_pt,
                           bbox_to_anchor=(x, y), frameon=False, alignment="left", borderaxespad=0.0,
                           borderpad=0.0, handletextpad=0.6, labelspacing=0.35)
        legend.get_title().set_fontweight("bold")
        ax.add_artist(legend)
        return legend
    return draw


def text_block(ax, text: str, size_pt: float, **style) -> Callable[[float, float], object]:
    def draw(x: float, y: float):
        return ax.text(x, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=size_pt, **style)
    return draw


def _chars(ax, ncols: int, size_pt: float) -> int:
    """Characters of ``size_pt`` text that fit in one of ``ncols`` columns."""
    return max(20, int(ax.bbox.width / ncols / (0.6 * _px(ax, size_pt))) - 2)


def band_handles(bands_min: Sequence[float]) -> list:
    from matplotlib.lines import Line2D

    handles, lower = [], 0.0
    for colour, upper in zip(band_colours(len(bands_min)), bands_min):
        handles.append(Line2D([], [], color=colour, linewidth=5, label=f"{lower:g}-{upper:g} min"))
        lower = upper
    handles.append(Line2D([], [], color=BEYOND_COLOUR, linewidth=5, label=f"over {lower:g} min"))
    return handles


def plan_legend(ax, scenario, network: RoadNetwork, layer: PlanLayer, bands_min: Sequence[float], ncols: int,
                results: Mapping[str, SiteResult] | None, with_missed: bool, size_pt: float = 10.5,
                areas: Mapping[str, AreaResult] | None = None) -> None:
    """One plan's legend: its coverage figures, then the keys (bands, sites, results, kecamatan
    with ``areas``, units, roads) and, with results and ``with_missed``, the sites that miss the target."""
    from matplotlib.lines import Line2D

    ax.set_axis_off()
    target = scenario.target_response_min
    width = _chars(ax, 1, 12)
    shares = "\n".join(textwrap.fill(line, width, subsequent_indent="   ") for line in layer.legend)
    blocks = [text_block(ax, f"Plan '{layer.name}'\n{shares}", 12, fontweight="bold", color="#111111")]
    chars = _chars(ax, ncols, size_pt)
    plan_blocks: list = [_legend_block(ax, f"{BAND_TITLE}, plan '{layer.name}' (target {target:g} min; {BAND_NOTE})",
                                       band_handles(bands_min), size_pt, chars)]
    kinds = list(dict.fromkeys(s.kind for s in scenario.sites))
    site_handles = []
    for kind in kinds:
        marker, colour, words = site_style(kind)
        colour = "#333333" if results is not None else colour
        site_handles.append(Line2D([], [], marker=marker, color=colour, markerfacecolor=colour, linestyle="none",
                                   markersize=9, label=words))
    if results is None and any(s.approximate for s in scenario.sites):
        site_handles.append(Line2D([], [], marker="o", color="#444444", markerfacecolor="white", linestyle="none",
                                   markeredgewidth=2, markersize=9, label="hollow: approximate position"))
    elif results is not None:
        site_handles.append(Line2D([], [], linestyle="none", label="(approx.): approximate position"))
    plan_blocks.append(_legend_block(ax, "Sites (symbol: kind)", site_handles, size_pt, chars))
    if results is not None:
        share_handles = [Line2D([], [], marker="o", color=colour, markerfacecolor=colour, linestyle="none",
                                markersize=10, label=words) for _, colour, words in reversed(SHARE_CLASSES)]
        share_handles.append(Line2D([], [], marker="o", color=NO_RESULT_COLOUR, markerfacecolor=NO_RESULT_COLOUR,
                                    linestyle="none", markersize=10, label=NO_RESULT_WORDS))
        if has_deterrence(results):
            share_handles.append(Line2D([], [], marker="o", color=DETERRED_COLOUR, alpha=0.5, linestyle="none",
                                        markersize=14, label=DETERRED_WORDS))
        plan_blocks.append(_legend_block(ax, f"Site colour: simulated share of incidents reached within "
                                         f"{target:g} min, plan '{layer.name}'", share_handles, size_pt, chars))
    if areas is not None:
        plan_blocks.append(_legend_block(ax, *area_legend(target, layer.name), size_pt, chars))
    plan_blocks.append(_legend_block(ax, f"Units, plan '{layer.name}'", [
        Line2D([], [], marker="o", color=UNIT_COLOUR, markerfacecolor=UNIT_COLOUR, markeredgecolor="white",
               linestyle="none", markersize=13, label="vehicles at a post\nor base (number)"),
        Line2D([], [], color=UNIT_COLOUR, linewidth=2, linestyle=(0, (4, 2)), label="circuit route"),
        Line2D([], [], marker="+", color=UNIT_COLOUR, linestyle="none", markersize=8,
               label="random-patrol road points"),
    ], size_pt, chars))
    plan_blocks.append(_legend_block(ax, "Roads", [
        Line2D([], [], color="#777777", linewidth=road_width(n) * 1.5, label=n) for n in network.road_class_names
    ], size_pt, chars))
    if results is not None and with_missed:
        text = _where_missed(layer.name, results, areas, scenario, _chars(ax, ncols, size_pt))
        plan_blocks.append(text_block(ax, text, size_pt, color="#111111"))
    # The figures span the legend's width; the keys flow in columns below them.
    renderer = ax.figure.canvas.get_renderer()
    head = blocks[0](0.0, 1.0)
    below = 1.0 - (head.get_window_extent(renderer).height + GAP_PX) / ax.bbox.height
    stack(ax, plan_blocks, ncols, top=below)


def _where_missed(plan: str, results: Mapping[str, SiteResult], areas: Mapping[str, AreaResult] | None, scenario,
                  chars: int) -> str:
    """Where ``plan`` misses the target (sim.viz.map_areas.where_missed), wrapped to ``chars``."""
    if areas is not None and len(incident_sites(scenario)) > MAX_SITES_LISTED:
        return worst_areas_text(plan, areas, scenario.target_response_min, chars)
    return missed_text(plan, results, scenario, chars)


def missed_text(plan: str, results: Mapping[str, SiteResult], scenario, chars: int, limit: int = 8) -> str:
    """The sites that miss the target in ``plan``, worst first, wrapped to ``chars``."""
    target = scenario.target_response_min
    names = {s.id: s.name for s in scenario.sites}
    worst = missed(results)
    head = f"Sites missing the target, plan '{plan}'\n(simulated, under 90% within {target:g} min):"
    if not worst:
        return textwrap.fill(f"Every site with incidents: 90% or more reached within {target:g} min in plan "
                             f"'{plan}' (simulated).", chars)
    lines = []
    for r in worst[:limit]:
        ci = f" ± {r.within_target_ci95:.0f}" if math.isfinite(r.within_target_ci95) else ""
        lines.append(textwrap.fill(f"{names.get(r.site, r.site)}: {r.within_target_pct:.0f}%{ci} "
                                   f"(p90 {r.response_p90_min:.0f} min, {r.incidents} incidents)", chars,
                                   initial_indent="  ", subsequent_indent="    "))
    if len(worst) > limit:
        lines.append(f"  ... and {len(worst) - limit} more (see sites.csv)")
    return head + "\n" + "\n".join(lines)


def difference_legend(ax, scenario, plans: Sequence[str], headline: str,
                      results: Mapping[str, Mapping[str, SiteResult]] | None, size_pt: float = 11.0,
                      areas: Mapping[str, Mapping[str, AreaResult]] | None = None) -> None:
    """The difference map's key, and with results each plan's sites that miss the target (with
    ``areas`` on a map of many sites: its kecamatan with the most late incidents)."""
    from matplotlib.lines import Line2D

    ax.set_axis_off()
    first, second = plans
    target = scenario.target_response_min
    width = _chars(ax, 1 if results is None else 2, 12)
    blocks = [text_block(ax, textwrap.fill(headline, width), 12, fontweight="bold", color="#111111")]
    blocks.append(_legend_block(ax, f"Roads within {target:g} min of the nearest unit\n(both ends; best case for "
                                "moving units)", [
        Line2D([], [], color=CHANGE_COLOURS["gained"], linewidth=5, label=f"gained: only in '{second}'"),
        Line2D([], [], color=CHANGE_COLOURS["lost"], linewidth=5, label=f"lost: only in '{first}'"),
        Line2D([], [], color=CHANGE_COLOURS["both"], linewidth=5, label="in both plans"),
        Line2D([], [], color=CHANGE_COLOURS["neither"], linewidth=5, label="in neither plan"),
    ], size_pt, width))
    if results is not None:
        chars = _chars(ax, 2, size_pt)
        for plan in plans:
            blocks.append(text_block(ax, _where_missed(plan, results[plan], areas and areas.get(plan), scenario,
                                                       chars), size_pt, color="#111111"))
    stack(ax, blocks, 2 if results is not None else 1)
