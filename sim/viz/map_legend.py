"""The PNG map's legends: blocks stacked by their measured size, so no title overprints a block.

Each block (a matplotlib legend or a text) is drawn, measured with the renderer and the next
one goes below it; a block that would run off the bottom starts the next column. Blocks name
the plan they belong to, so the figures of a compare map cannot be mistaken; the keys that do not
depend on the plan (bands, site kinds, the share scale, roads) are given once. Words from the message
catalogue (``map.*``) through the ``Messages`` ``m`` given.
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence

from sim.i18n import Messages
from sim.network import RoadNetwork
from sim.viz.coverage import PlanLayer, incident_sites
from sim.viz.map_areas import MAX_SITES_LISTED, AreaResult, area_marks, mark_size_handles, worst_areas_text
from sim.viz.map_marks import MAX_BADGES, SET_SITE_COLOUR, many_sites
from sim.viz.map_results import DETERRED_COLOUR, SiteResult, has_deterrence, missed, share_text
from sim.viz.map_style import (
    BEYOND_COLOUR,
    CHANGE_COLOURS,
    legend_lines,
    road_width,
    road_words,
    set_site_ids,
    site_style,
)
from sim.viz.palette import MISS_BELOW_PCT, NO_SHARE_EDGE, UNIT_COLOUR, band_colours, share_key
from sim.viz.words import kind_words, site_words

GAP_PX = 14.0


def _fill(text: str, chars: int, **options) -> str:
    """``text`` wrapped to ``chars`` characters; a hyphenated name (a plan's, a site's) is kept whole."""
    return textwrap.fill(text, chars, break_on_hyphens=False, **options)


def _px(ax, points: float) -> float:
    return points * ax.figure.dpi / 72.0


def stack(ax, blocks: Sequence[Callable[[float, float], object]], ncols: int, top: float = 1.0,
          spans: int = 0) -> None:
    """Draw ``blocks`` (each ``f(x, y) -> artist`` anchored at its top-left, axes fractions) in
    ``ncols`` columns, each below the one before; a block that does not fit starts a new column.
    The first ``spans`` blocks span the whole width, one under the other, above the columns."""
    renderer = ax.figure.canvas.get_renderer()
    height_px = ax.bbox.height
    for block in blocks[:spans]:
        artist = block(0.0, top)
        top -= (artist.get_window_extent(renderer).height + GAP_PX / 2) / height_px
    blocks = blocks[spans:]
    top -= GAP_PX / 2 / height_px
    col, y, used = 0, top, False
    for block in blocks:
        artist = block(col / ncols, y)
        h = artist.get_window_extent(renderer).height / height_px
        if used and y - h < 0 and col + 1 < ncols:
            col, y = col + 1, top
            _move(artist, col / ncols, y)   # its size is known: moved, not made and measured again
        y -= h + GAP_PX / height_px
        used = True


def _move(artist, x: float, y: float) -> None:
    """Anchor a block's artist (a legend, or a text in axes fractions) at (x, y) instead."""
    from matplotlib.legend import Legend

    if isinstance(artist, Legend):
        artist.set_bbox_to_anchor((x, y))
    else:
        artist.set_position((x, y))


def _legend_block(ax, title: str, handles: list, size_pt: float, chars: int,
                  **spacing) -> Callable[[float, float], object]:
    """A legend whose title and labels are wrapped to ``chars`` characters (the column's width)."""
    title = "\n".join(_fill(line, chars) for line in title.split("\n"))
    for handle in handles:  # a label beside its symbol has the column less the symbol's width
        handle.set_label("\n".join(_fill(line, chars - 6) for line in handle.get_label().split("\n")))

    def draw(x: float, y: float):
        legend = ax.legend(handles=handles, title=title, loc="upper left", fontsize=size_pt, title_fontsize=size_pt,
                           bbox_to_anchor=(x, y), frameon=False, alignment="left", borderaxespad=0.0,
                           borderpad=0.0, handletextpad=0.6, **({"labelspacing": 0.35} | spacing))
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


def band_handles(bands_min: Sequence[float], target_min: float, m: Messages) -> list:
    from matplotlib.lines import Line2D

    handles, lower = [], 0.0
    for colour, upper in zip(band_colours(bands_min, target_min), bands_min):
        handles.append(Line2D([], [], color=colour, linewidth=5,
                              label=m("map.bands.band", low=m.num(lower, "g"), high=m.num(upper, "g"))))
        lower = upper
    handles.append(Line2D([], [], color=BEYOND_COLOUR, linewidth=5, label=m("map.bands.over", low=m.num(lower, "g"))))
    return handles


def _bands_title(m: Messages, which: str, target_min: float, plan: str = "") -> str:
    """The bands' title: ``which`` is "plan" (one plan's map) or "upper" (the compare map's upper maps)."""
    return m(f"map.bands.title.{which}", plan=plan, target=m.num(target_min, "g"))


def _figures_block(ax, layer: PlanLayer, summary: Mapping | None, target_min: float, chars: int, m: Messages) -> list:
    """The plan's figures: its name and simulated share (bold), then the drive-time figures."""
    simulated, *drive = legend_lines(layer, summary, target_min, m)
    first = _fill(m("map.legend.plan", plan=layer.name, simulated=simulated), chars, subsequent_indent="   ")
    rest = "\n".join(_fill(line, chars, subsequent_indent="   ") for line in drive)
    return [text_block(ax, first, 12, fontweight="bold", color="#111111"),
            text_block(ax, rest, 11, color="#333333")]


def _site_block(ax, scenario, results: bool, size_pt: float, chars: int, m: Messages):
    """Site kinds by shape (each kind's words once); the sites of site sets as dots on a map of many."""
    from matplotlib.lines import Line2D

    in_sets = set_site_ids(scenario) if many_sites(scenario) else set()
    kinds: dict[str, tuple[str, str, int]] = {}
    set_kinds: dict[str, int] = {}
    for site in scenario.sites:
        marker, colour = site_style(site.kind)
        words = kind_words(site.kind, m)
        if site.id in in_sets:
            set_kinds[words] = set_kinds.get(words, 0) + 1
        elif words not in kinds:
            kinds[words] = (marker, colour, 0)
    handles = []
    for words, (marker, colour, _) in kinds.items():
        handles.append(Line2D([], [], marker=marker, color=colour, markerfacecolor="#bbbbbb" if results else colour,
                              linestyle="none", markersize=12 if marker in "P" else 9, label=words))
    for words, count in set_kinds.items():
        handles.append(Line2D([], [], marker="o", color=SET_SITE_COLOUR, linestyle="none", markersize=3,
                              label=m("map.legend.setSites", kind=words, n=m.num(count, ","))))
    if not results and any(s.approximate and s.id not in in_sets for s in scenario.sites):
        handles.append(Line2D([], [], marker="o", color="#444444", markerfacecolor="white", linestyle="none",
                              markeredgewidth=2, markersize=9, label=m("map.legend.hollow")))
    elif results:
        handles.append(Line2D([], [], linestyle="none", label=m("map.legend.approx")))
    return _legend_block(ax, m("map.legend.sites"), handles, size_pt, chars)


def _share_block(ax, scenario, target: float, plans: str, deterrence: bool, size_pt: float, chars: int,
                 m: Messages):
    """The share scale (sim.viz.palette): what it colours (sites, or kecamatan circles) and its classes."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", color="#1a1a1a", markerfacecolor=colour, linestyle="none",
                      markersize=11, label=words) for colour, words in share_key(m)]
    handles[-1].set_markeredgecolor(NO_SHARE_EDGE)
    if deterrence:
        handles.append(Line2D([], [], marker="o", color=DETERRED_COLOUR, alpha=0.5, linestyle="none",
                              markersize=14, label=m("map.legend.deterred")))
    title = m("map.legend.share.circles" if many_sites(scenario) else "map.legend.share.sites",
              target=m.num(target, "g"), plans=plans, miss=m.num(MISS_BELOW_PCT, "g"))
    return _legend_block(ax, title, handles, size_pt, chars)


def _circle_block(ax, scenario, network, areas: Mapping[str, AreaResult] | None, size_pt: float, chars: int,
                  m: Messages):
    """What a kecamatan circle's size says (incidents, or incident sites without results)."""
    marks = area_marks(scenario, network, areas)
    title = m("map.legend.circles.incidents" if areas is not None else "map.legend.circles.sites")
    handles = mark_size_handles(marks, m("map.areas.incidents" if areas is not None else "map.areas.sites"), m)
    # Large circles need room: as tall as the largest, and spaced by it.
    tall = max([h.get_markersize() for h in handles] + [size_pt]) / size_pt
    return _legend_block(ax, title, handles, size_pt, chars, handleheight=tall, handlelength=tall,
                         labelspacing=0.6)


def _unit_block(ax, name: str, size_pt: float, chars: int, layers: Sequence[PlanLayer], m: Messages):
    from matplotlib.lines import Line2D

    posts = max(len(layer.standing) for layer in layers)
    if posts > MAX_BADGES:
        counts = "; ".join(m("map.legend.posts.count", vehicles=m.num(sum(layer.standing.values()), ","),
                             posts=m.num(len(layer.standing), ","))
                           + (f" ('{layer.name}')" if len(layers) > 1 else "") for layer in layers)
        post = Line2D([], [], marker="s", color=UNIT_COLOUR, markeredgecolor="white", linestyle="none",
                      markersize=8, label=m("map.legend.posts.many", counts=counts))
    else:
        post = Line2D([], [], marker="o", color=UNIT_COLOUR, markerfacecolor=UNIT_COLOUR, markeredgecolor="white",
                      linestyle="none", markersize=13, label=m("map.legend.posts"))
    return _legend_block(ax, m("map.legend.units", plans=name), [
        post,
        Line2D([], [], color=UNIT_COLOUR, linewidth=2, linestyle=(0, (4, 2)), label=m("map.legend.circuit")),
        Line2D([], [], marker="+", color=UNIT_COLOUR, linestyle="none", markersize=8,
               label=m("map.legend.randomPoints")),
    ], size_pt, chars)


def _road_block(ax, network: RoadNetwork, size_pt: float, chars: int, m: Messages):
    from matplotlib.lines import Line2D

    return _legend_block(ax, m("map.legend.roads"), [
        Line2D([], [], color="#777777", linewidth=road_width(n) * 1.5, label=road_words(n, m))
        for n in network.road_class_names
    ], size_pt, chars)


def plan_legend(ax, scenario, network: RoadNetwork, layer: PlanLayer, bands_min: Sequence[float], ncols: int,
                results: Mapping[str, SiteResult] | None, with_missed: bool, m: Messages, size_pt: float = 10.5,
                areas: Mapping[str, AreaResult] | None = None, summary: Mapping | None = None) -> None:
    """One plan's legend: its figures (simulated share, drive-time figures), then the keys (bands,
    sites, share scale with results, kecamatan circles on a map of many sites, units, roads) and,
    with results and ``with_missed``, where the plan misses the target."""
    ax.set_axis_off()
    target = scenario.target_response_min
    head = _figures_block(ax, layer, summary, target, _chars(ax, 1, 12), m)
    chars = _chars(ax, ncols, size_pt)
    plan = m("map.legend.plan.name", plan=layer.name)
    blocks: list = [_legend_block(ax, _bands_title(m, "plan", target, layer.name), band_handles(bands_min, target, m),
                                  size_pt, chars),
                    _site_block(ax, scenario, results is not None, size_pt, chars, m)]
    if results is not None:
        blocks.append(_share_block(ax, scenario, target, plan, has_deterrence(results), size_pt, chars, m))
    if many_sites(scenario):
        blocks.append(_circle_block(ax, scenario, network, areas, size_pt, chars, m))
    blocks += [_unit_block(ax, plan, size_pt, chars, [layer], m), _road_block(ax, network, size_pt, chars, m)]
    if results is not None and with_missed:
        blocks.append(text_block(ax, _where_missed(layer.name, results, areas, scenario, chars, m), size_pt,
                                 color="#111111"))
    # The figures span the legend's width; the keys flow in columns below them.
    stack(ax, head + blocks, ncols, spans=len(head))


def shared_legend(ax, missed_ax, scenario, network: RoadNetwork, layers: Sequence[PlanLayer],
                  bands_min: Sequence[float], results: Sequence[Mapping[str, SiteResult] | None],
                  areas: Sequence[Mapping[str, AreaResult] | None], summary: Sequence[Mapping | None],
                  m: Messages, size_pt: float = 11.0) -> None:
    """The legend of a compare map: each plan's figures, the difference map's key, then the keys both
    plans share (bands, sites, share scale, circles, units, roads) once; in ``missed_ax``, where each
    plan misses the target, side by side."""
    from matplotlib.lines import Line2D

    ax.set_axis_off()
    missed_ax.set_axis_off()
    target = scenario.target_response_min
    first, second = (layer.name for layer in layers)
    wide = _chars(ax, 1, 12)
    head = [block for layer, row in zip(layers, summary)
            for block in _figures_block(ax, layer, row, target, wide, m)]
    chars = _chars(ax, 2, size_pt)
    blocks: list = [_legend_block(ax, m("map.legend.difference", target=m.num(target, "g")), [
        Line2D([], [], color=CHANGE_COLOURS["gained"], linewidth=5, label=m("map.change.gained", plan=second)),
        Line2D([], [], color=CHANGE_COLOURS["lost"], linewidth=5, label=m("map.change.lost", plan=first)),
        Line2D([], [], color=CHANGE_COLOURS["both"], linewidth=5, label=m("map.change.both")),
        Line2D([], [], color=CHANGE_COLOURS["neither"], linewidth=5, label=m("map.change.neither")),
    ], size_pt, chars),
        _legend_block(ax, _bands_title(m, "upper", target), band_handles(bands_min, target, m), size_pt, chars),
        _site_block(ax, scenario, results[0] is not None, size_pt, chars, m)]
    if results[0] is not None:
        blocks.append(_share_block(ax, scenario, target, m("map.legend.eachPlan"),
                                   any(has_deterrence(r) for r in results), size_pt, chars, m))
    if many_sites(scenario):
        blocks.append(_circle_block(ax, scenario, network, areas[0], size_pt, chars, m))
    blocks += [_unit_block(ax, m("map.legend.bothPlans"), size_pt, chars, layers, m),
               _road_block(ax, network, size_pt, chars, m)]
    stack(ax, head + blocks, 2, spans=len(head))
    missed_chars = _chars(missed_ax, 2, size_pt)
    shown = [(layer.name, plan_results, plan_areas) for layer, plan_results, plan_areas in zip(layers, results, areas)
             if plan_results is not None]
    renderer = missed_ax.figure.canvas.get_renderer()
    for k, (plan, plan_results, plan_areas) in enumerate(shown):
        # At most 6 places each, fewer when their words wrap beyond the space below the maps.
        for limit in range(6, 0, -1):
            text = text_block(missed_ax, _where_missed(plan, plan_results, plan_areas, scenario, missed_chars, m, limit),
                              size_pt, color="#111111")(k / 2, 1.0)
            if text.get_window_extent(renderer).y0 >= missed_ax.bbox.y0 or limit == 1:
                break
            text.remove()


def _where_missed(plan: str, results: Mapping[str, SiteResult], areas: Mapping[str, AreaResult] | None, scenario,
                  chars: int, m: Messages, limit: int = 8) -> str:
    """Where ``plan`` misses the target (sim.viz.map_areas.where_missed), wrapped to ``chars``."""
    if areas is not None and len(incident_sites(scenario)) > MAX_SITES_LISTED:
        return worst_areas_text(plan, areas, scenario.target_response_min, chars, m, limit)
    return missed_text(plan, results, scenario, chars, m, limit)


def missed_text(plan: str, results: Mapping[str, SiteResult], scenario, chars: int, m: Messages,
                limit: int = 8) -> str:
    """The sites that miss the target in ``plan``, most late first, wrapped to ``chars``."""
    target, miss = m.num(scenario.target_response_min, "g"), m.num(MISS_BELOW_PCT, "g")
    names = {s.id: site_words(s.name, m) for s in scenario.sites}
    worst = missed(results)
    if not worst:
        return _fill(m("map.missed.none", miss=miss, target=target, plan=plan), chars)
    lines = [_fill(m("map.missed.head", plan=plan, miss=miss, target=target), chars)]
    for r in worst[:limit]:
        late = (m("map.lateOf", late=m.num(r.late, ","), incidents=m.num(r.incidents, ",")) if r.pooled
                else m("map.incidents", n=m.num(r.incidents, ",")))
        lines.append(_fill(f"{names.get(r.site, r.site)}: {share_text(r)}, {late}", chars,
                                   initial_indent="  ", subsequent_indent="    "))
    if len(worst) > limit:
        lines.append("  " + m("map.missed.more", n=len(worst) - limit, file="sites.csv"))
    return "\n".join(lines)
