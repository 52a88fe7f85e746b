"""Figures of a run and of a parameter sweep: PNG files a planner reads at a glance.

Built on ``matplotlib.figure.Figure`` with the Agg canvas, never pyplot: no global figure state,
so this is safe in worker processes and in tests. Font sizes are passed to each artist rather than
set in ``rcParams`` for the same reason. Words come from the message catalogue (``figure.*``) in the
language of the ``Messages`` ``m`` a figure is given (English when none is).
"""
from __future__ import annotations

import math
import textwrap
import warnings
from functools import partial
from numbers import Real
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.files import write_whole
from sim.i18n import Messages, messages
from sim.viz.palette import share_ink, share_listed_colormap
from sim.viz.words import param_words, plan_label, site_words, synthetic_note, verdict_words

DPI = 100
FIGSIZE_IN = (11.0, 6.5)            # ECDF and within-target figures: 1100 x 650 px
SWEEP_FIGSIZE_IN = (11.0, 9.0)      # two stacked panels: 1100 x 900 px
TITLE_PT, LABEL_PT, TICK_PT, NOTE_PT = 17, 15, 13, 12
HEAT_CMAP = "YlOrRd"                # mean response: light = fast, dark red = slow
MAX_HEAT_SITES = 30                 # rows of the heat table; with more sites it shows the worst
MAX_HEAT_AREAS = 40                 # a regency's kecamatan (Jember: 31) all fit
#: what a heat table's rows are: the key column and the name column (words: figure.heat.<group>.*)
HEAT_GROUPS = {"site": ("site", "site_name"), "area": ("area", "area")}


def _number(value) -> float:
    """A row value as a float; None (missing) becomes NaN."""
    return math.nan if value is None else float(value)


def counted_responses(incidents: Sequence[dict], plans: Sequence[str]) -> dict[str, tuple[int, np.ndarray]]:
    """Each plan's counted incidents: their number and the sorted response times (min) of those
    reached (a response of None, never reached, is left out of the times but counted). One pass over
    the rows, the numbers converted by numpy: a run of 230,000 incidents takes milliseconds."""
    values: dict[str, list] = {plan: [] for plan in plans}
    for row in incidents:
        if row["counted"] and row["plan"] in values:
            values[row["plan"]].append(row["response_min"])
    out = {}
    for plan, plan_values in values.items():
        times = np.array(plan_values, dtype=float)   # None becomes NaN
        out[plan] = (len(plan_values), np.sort(times[~np.isnan(times)]))
    return out


def plan_colors(plans: Sequence[str]) -> dict[str, tuple]:
    """One colour per plan by its position, so the same plan list gives the same colours everywhere."""
    palette = colormaps["tab10"].colors
    return {plan: palette[i % len(palette)] for i, plan in enumerate(plans)}


def _unique(values) -> list:
    """Values in order of first appearance."""
    return list(dict.fromkeys(values))


def figure_title(fig: Figure, what: str, scenario_name: str, synthetic: bool, m: Messages) -> None:
    """The figure's title: what it shows and the scenario; on a synthetic network, the note saying so.
    Each line is wrapped to the figure's width, so a language with longer words is not cut off."""
    chars = int(7.5 * fig.get_size_inches()[0])   # DejaVu Sans at TITLE_PT: about 12 px a character
    lines = f"{what} · {scenario_name}".split("\n") + ([synthetic_note(m)] if synthetic else [])
    fig.suptitle("\n".join(textwrap.fill(line, chars, break_on_hyphens=False) for line in lines), fontsize=TITLE_PT)


def percent_axis(ax, m: Messages) -> None:
    """The y axis of a share (0..1) in whole percent."""
    ax.yaxis.set_major_formatter(lambda y, _: f"{m.num(100 * y, '.0f')}%")


def number_ticks(axis, m: Messages) -> None:
    """An axis's tick labels written with the language's decimal mark (matplotlib writes a point)."""
    if m.lang != "en":
        axis.set_major_formatter(lambda value, _: m.num(value, "g"))


def new_figure(size_in: tuple[float, float]) -> Figure:
    """A figure of ``size_in`` inches with its own canvas (no pyplot state)."""
    fig = Figure(figsize=size_in, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax) -> None:
    """The house style of an axes: tick labels' size, a light grid behind the data."""
    ax.tick_params(labelsize=TICK_PT)
    ax.grid(True, color="0.88")
    ax.set_axisbelow(True)


def save_png(fig: Figure, path: Path) -> Path:
    """Write the figure as PNG whole or not at all: a temporary file in the same folder, then a rename.
    zlib level 3: on these pictures a third faster than Pillow's 6, the files as small (bench_figures).

    Drawn once, by the Agg canvas at the figure's own dpi (a layout engine runs inside that draw):
    ``savefig`` would first draw the whole figure unrendered whenever a layout engine is set, even one
    already run (the heat table's), to lay it out, then draw it again; the pixels are the same."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return write_whole(path, lambda tmp: canvas.print_png(tmp, pil_kwargs={"compress_level": 3}))


def ecdf_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                incidents: Sequence[dict], m: Messages | None = None) -> Figure:
    """Share of counted incidents reached within x minutes, one step line per plan, target marked.

    Line data: x = sorted response times (min), y = k/n for the k-th of n counted incidents. Counted
    incidents never reached by the end of the run stay in n, so such a plan's curve ends below 100%.
    """
    m = m or messages()
    fig = new_figure(FIGSIZE_IN)
    ax = fig.add_subplot()
    colors = plan_colors(plans)
    counts: dict[str, int] = {}
    responses = counted_responses(incidents, plans)
    for k, plan in enumerate(plans):
        n, times = responses[plan]
        counts[plan] = n
        label = plan_label(plans, plan, m)
        if n > len(times):
            label += m("figure.ecdf.never", n=n - len(times))
        # Earlier plans drawn wider, so a plan hidden under an identical later one still shows.
        width = 4.0 - 2.0 * k / max(len(plans) - 1, 1)
        ax.plot(times, np.arange(1, len(times) + 1) / max(n, 1), drawstyle="steps-post",
                color=colors[plan], lw=width, label=label)
    everything = np.concatenate([times for _, times in responses.values()] or [np.zeros(0)])
    # The axis ends at the 99th percentile (at least twice the target): a few very late
    # responses would otherwise squeeze the part a planner reads into a sliver.
    p99 = float(np.percentile(everything, 99)) if everything.size else target_min
    x_max = max(2.0 * target_min, p99)
    longest = float(everything.max()) if everything.size else 0.0
    cut = "\n" + m("figure.ecdf.cut", longest=m.num(longest, ".0f")) if longest > x_max else ""
    # The count is said once, on the y axis, not repeated in the legend.
    same = len(set(counts.values())) == 1
    of_what = "\n" + (m("figure.ecdf.ofCounted", n=m.num(next(iter(counts.values())), ",")) if same and counts
                      else m("figure.ecdf.ofEach"))
    ax.axvline(target_min, color="black", ls="--", lw=1.8)
    ax.text(target_min, 0.03, " " + m("figure.target", target=m.num(target_min, "g")), fontsize=LABEL_PT,
            ha="left", va="bottom")
    ax.set_xlim(0, x_max * 1.03)
    ax.set_ylim(0, 1.02)
    percent_axis(ax, m)
    number_ticks(ax.xaxis, m)
    ax.set_xlabel(m("figure.ecdf.x") + cut, fontsize=LABEL_PT)
    ax.set_ylabel(m("figure.ecdf.y") + of_what, fontsize=LABEL_PT)
    style_axes(ax)
    ax.legend(fontsize=NOTE_PT, loc="center right", title=m("figure.plan"), title_fontsize=NOTE_PT)
    figure_title(fig, m("figure.ecdf.title"), scenario_name, synthetic, m)
    return fig


def within_target_figure(scenario_name: str, synthetic: bool, target_min: float,
                         summary: Sequence[dict], comparison: Sequence[dict], m: Messages | None = None) -> Figure:
    """Forest plot: each plan's share within target minus the reference's (percentage points),
    the mean of the paired differences by replication with its 95% interval, and the verdict.

    Paired differences, not the plans' own intervals side by side: with common random numbers
    two plans' intervals can overlap while their difference is clearly not zero.
    """
    m = m or messages()
    fig = new_figure(FIGSIZE_IN)
    ax = fig.add_subplot()
    plans = [row["plan"] for row in summary]
    colors = plan_colors(plans)
    share = {row["plan"]: row for row in summary}
    rows = [row for row in comparison if row["plan"] != row["reference"]]
    reference = comparison[0]["reference"] if comparison else (plans[0] if plans else "")
    ref = share.get(reference, {})
    ref_text = _share_text(ref.get("within_target_pct"), ref.get("within_target_ci95"), m)
    target = m.num(target_min, "g")
    figure_title(fig, m("figure.within.title", target=target, reference=reference), scenario_name, synthetic, m)
    if not rows:
        ax.set_axis_off()
        ax.text(0.5, 0.5, m("figure.within.onePlan", reference=reference, share=ref_text),
                transform=ax.transAxes, ha="center", va="center", fontsize=LABEL_PT)
        return fig
    ypos = np.arange(len(rows))
    diff = np.array([_number(row["within_target_diff_pct"]) for row in rows])
    half = np.array([_number(row["within_target_diff_ci95"]) for row in rows])
    for y, row, d, h in zip(ypos, rows, diff, half):
        if math.isnan(d):
            continue
        ax.errorbar([d], [y], xerr=None if math.isnan(h) else [[h], [h]], fmt="o", ms=11,
                    color=colors.get(row["plan"], "black"), elinewidth=3, capsize=8, label=row["plan"])
    ax.axvline(0.0, color="black", lw=1.8)
    reach = np.nanmax(np.abs(np.concatenate([diff, diff + np.nan_to_num(half), diff - np.nan_to_num(half)])),
                      initial=0.0)
    reach = 1.0 if math.isnan(reach) or reach == 0 else 1.15 * reach
    ax.set_xlim(-reach, reach)
    ax.text(0.0, -0.75, m("common.plan.reference", plan=reference), ha="center", va="center", fontsize=NOTE_PT,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    ylim = (len(rows) - 0.5, -1.0)   # first plan on top, room for the reference label
    # Figures and verdicts as the tick labels of a right-hand axis: the layout keeps room for them
    # and long whiskers never hide them.
    right = ax.twinx()
    figures = [(m("figure.within.noFigure") if math.isnan(d) else
                m("figure.within.points", diff=m.num(d, "+.1f") + ("" if math.isnan(h) else f" ± {m.num(h, '.1f')}")))
               + "\n" + textwrap.fill(verdict_words(row["within_target_verdict"], m), 18)
               for row, d, h in zip(rows, diff, half)]
    right.set_yticks(ypos, figures)
    right.set_ylim(*ylim)
    right.tick_params(labelsize=NOTE_PT, length=0)
    labels = []
    for row in rows:
        mine = share.get(row["plan"], {})
        labels.append(f"{row['plan']}\n{_share_text(mine.get('within_target_pct'), mine.get('within_target_ci95'), m)}")
    ax.set_yticks(ypos, labels)
    ax.set_ylim(*ylim)
    ax.set_xlabel(m("figure.within.x", target=target, reference=reference, share=ref_text), fontsize=NOTE_PT)
    number_ticks(ax.xaxis, m)
    style_axes(ax)
    ax.grid(False, axis="y")
    return fig


def _share_text(value: float | None, half: float | None, m: Messages) -> str:
    value, half = _number(value), _number(half)
    if math.isnan(value):
        return m("common.share.none")
    return f"{m.num(value, '.1f')}%" + ("" if math.isnan(half) else f" ± {m.num(half, '.1f')}")


def _share_key(row: dict) -> str:
    """The share a row is coloured by: pooled over replications when the file has it (as the report and
    the maps give it), else the mean over replications."""
    return "within_target_pooled_pct" if "within_target_pooled_pct" in row else "within_target_pct"


def heat_cells(site_rows: Sequence[dict], plans: Sequence[str], metric: str,
               group: str = "site") -> tuple[list[dict], np.ndarray]:
    """The groups (sites, or areas with ``group="area"``) with counted incidents (their first row
    each), worst first, and the metric's value per (group, plan): ``within_target`` (share %) or
    ``response`` (mean min); NaN where a plan has none there. Worst first: with late counts in the
    rows, by the mean over plans of the late incidents (a count: one late of one is not worse than
    30 of 200), then of the lower share; without them by the lower share, then the longer mean
    response (or the other way round for ``response``)."""
    key_column = HEAT_GROUPS[group][0]
    col_of = {p: j for j, p in enumerate(plans)}
    first: dict[str, dict] = {}
    share: dict[str, np.ndarray] = {}
    slow: dict[str, np.ndarray] = {}
    late: dict[str, np.ndarray] = {}
    for row in site_rows:
        if row["plan"] not in col_of or not _number(row["incidents"]):
            continue
        site, j = row[key_column], col_of[row["plan"]]
        first.setdefault(site, row)
        share.setdefault(site, np.full(len(plans), np.nan))[j] = _number(row[_share_key(row)])
        slow.setdefault(site, np.full(len(plans), np.nan))[j] = -_number(row["response_mean_min"])
        late.setdefault(site, np.full(len(plans), np.nan))[j] = -_number(row.get("late"))
    keys = (share, slow) if metric == "within_target" else (slow, share)
    if metric == "within_target" and any("late" in row for row in first.values()):
        keys = (late, share)
    with warnings.catch_warnings():   # a site whose every figure is NaN sorts as NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        order = sorted(first, key=lambda site: (*(float(np.nanmean(k[site])) for k in keys), site))
    values = share if metric == "within_target" else {site: -slow[site] for site in slow}
    matrix = np.array([values[site] for site in order]).reshape(len(order), len(plans))
    return [first[site] for site in order], matrix


def site_response_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                         site_rows: Sequence[dict], metric: str = "within_target",
                         max_sites: int = MAX_HEAT_SITES, group: str = "site", m: Messages | None = None) -> Figure:
    """Heat table of the sites.csv rows (or, with ``group="area"``, of the areas.csv rows): sites
    (by name) as rows, worst first, plans as columns, coloured by the share within target
    (``metric="within_target"``, the share scale of sim.viz.palette) or the mean response
    (``"response"``), both written in each cell with the number of counted incidents (and the late
    ones). With more than ``max_sites`` rows only the worst are drawn, and the title says so.

    The figure is as wide as its widest cell note needs (longer words): laid out unrendered to measure
    them, made afresh wider if one does not fit, the fitting layout kept (a second one would move it)."""
    build = partial(_heat_table, scenario_name, synthetic, target_min, plans, site_rows, metric, max_sites,
                    group, m or messages())
    fig, ax, notes = build(None)
    for _ in range(3):
        extra_in = _overflow_in(fig, ax, notes, len(plans))
        if not extra_in:
            fig.set_layout_engine("none")   # the layout a draw would make, made once
            return fig
        fig, ax, notes = build(float(fig.get_size_inches()[0]) + extra_in)
    return fig   # widened three times: laid out when drawn, unmeasured


def _heat_table(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                site_rows: Sequence[dict], metric: str, max_sites: int, group: str, m: Messages,
                width_in: float | None) -> tuple:
    """The heat table's figure (``width_in`` wide; None: by its plans), its axes and its cells' notes."""
    key_column, name_column = HEAT_GROUPS[group]
    sites, values = heat_cells(site_rows, plans, metric, group)
    by_key = {(row[key_column], row["plan"]): row for row in site_rows}
    total = len(sites)
    sites, values = sites[:max_sites], values[:max_sites]
    within = metric == "within_target"
    target = m.num(target_min, "g")
    what = m(f"figure.heat.{'within' if within else 'response'}.{group}", target=target)
    if total > len(sites):
        what += m(f"figure.heat.worst.{group}", n=len(sites), total=m.num(total, ","))
    if within:
        cmap, norm = share_listed_colormap()
    else:
        norm = Normalize(0.0, max(float(np.nanmax(values, initial=0.0)), target_min))   # target always on the scale
        cmap = colormaps[HEAT_CMAP].with_extremes(bad="0.92")
    cells = {}
    for i, site in enumerate(sites):
        for j, plan in enumerate(plans):
            row = by_key.get((site[key_column], plan))
            if row is None or not _number(row["incidents"]) or math.isnan(values[i, j]):
                continue
            if within:
                ink = share_ink(values[i, j])
            else:   # dark cells get white text: pick by the cell colour's luminance
                r, g, b, _ = cmap(norm(values[i, j]))
                ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            main = f"{m.num(values[i, j], '.0f')}%" if within else m.num(values[i, j], ".1f")
            n = (m("figure.heat.lateOf", late=m.num(_number(row["late"]), ",.0f"),
                   incidents=m.num(_number(row["incidents"]), ",.0f")) if "late" in row
                 else f"n={row['incidents']}")
            small = m("figure.heat.cell", mean=m.num(_number(row["response_mean_min"]), ".1f"), n=n) if within else n
            cells[i, j] = (main, small, ink)
    width_in = width_in or max(9.0, 3.5 + 2.1 * len(plans))
    fig = new_figure((width_in, max(5.0, 2.8 + 0.62 * len(sites))))
    ax = fig.add_subplot()
    figure_title(fig, what, scenario_name, synthetic, m)
    if not sites:
        ax.set_axis_off()
        ax.text(0.5, 0.5, m("figure.heat.none"), transform=ax.transAxes,
                ha="center", va="center", fontsize=LABEL_PT)
        return fig, ax, []
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    notes = []
    for i in range(len(sites)):
        for j in range(len(plans)):
            if (i, j) not in cells:
                ax.text(j, i, "–", ha="center", va="center", fontsize=LABEL_PT, color="0.4")
                continue
            main, small, ink = cells[i, j]
            ax.text(j, i, f"{main}\n", ha="center", va="center", fontsize=LABEL_PT, fontweight="bold", color=ink)
            notes.append(ax.text(j, i, f"\n{small}", ha="center", va="center", fontsize=NOTE_PT - 2, color=ink))
    ax.set_xticks(range(len(plans)), [plan_label(plans, p, m).replace(" (", "\n(") for p in plans])
    ax.set_yticks(range(len(sites)), [textwrap.fill(site_words(str(site[name_column]), m), 30) for site in sites])
    ax.xaxis.tick_top()
    ax.tick_params(labelsize=TICK_PT, length=0)
    ax.set_xticks(np.arange(-0.5, len(plans)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(sites)), minor=True)
    ax.grid(which="minor", color="white", lw=2)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_ylabel(m(f"figure.heat.rows.{group}"), fontsize=LABEL_PT)
    pooled = any("late" in row for row in sites)
    cell = (m("figure.heat.cells.pooled" if pooled else "figure.heat.cells.mean", target=target) if within
            else m("figure.heat.cells.response"))
    ax.set_xlabel(textwrap.fill(cell, int(8 * width_in)), fontsize=NOTE_PT)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(m("figure.heat.bar.within", target=target) if within else m("figure.heat.bar.response"),
                  fontsize=LABEL_PT)
    bar.ax.tick_params(labelsize=TICK_PT)
    number_ticks(bar.ax.yaxis, m)
    if not within:
        bar.ax.axhline(target_min, color="black", lw=2)
        bar.ax.text(-0.1, target_min, m("figure.heat.barTarget", target=target) + " ",
                    transform=bar.ax.get_yaxis_transform(), ha="right", va="center", fontsize=NOTE_PT)
    return fig, ax, notes


def _overflow_in(fig: Figure, ax, notes: Sequence, columns: int, pad_px: float = 10.0) -> float:
    """How much wider (inches) the figure must be for its widest cell note to fit its column; 0 if it
    fits. Lays the figure out (as a draw does first) to measure it, without rendering it."""
    fig.get_layout_engine().execute(fig)
    if not notes:
        return 0.0
    column_px = ax.get_window_extent().width / max(columns, 1)
    widest_px = max(note.get_window_extent().width for note in notes)
    return 0.0 if widest_px + pad_px <= column_px else columns * (widest_px + pad_px - column_px) / fig.dpi


def figure_calls(out_dir: Path, scenario_name: str, synthetic: bool, target_min: float,
                 incidents: Sequence[dict], summary: Sequence[dict], comparison: Sequence[dict],
                 site_rows: Sequence[dict], area_rows: Sequence[dict] | None = None,
                 m: Messages | None = None) -> list[Callable[[], Path]]:
    """The calls that write figures/response_ecdf.png, within_target.png (paired differences against
    the reference) and site_response.png (share within target per site, worst first; per kecamatan
    when ``area_rows`` are given: a scenario of thousands of sites, each with one incident or none)
    under out_dir, each returning its path: to be made side by side (sim.forked) or in turn.

    Plans are taken in summary order (first = reference), so colours match across the figures;
    ``m``: their language (English by default).
    """
    m = m or messages()
    folder = Path(out_dir) / "figures"
    plans = [row["plan"] for row in summary]
    builders = {
        "response_ecdf.png": lambda: ecdf_figure(scenario_name, synthetic, target_min, plans, incidents, m),
        "within_target.png": lambda: within_target_figure(scenario_name, synthetic, target_min, summary, comparison, m),
        "site_response.png": lambda: (
            site_response_figure(scenario_name, synthetic, target_min, plans, area_rows, group="area",
                                 max_sites=MAX_HEAT_AREAS, m=m)
            if area_rows is not None else
            site_response_figure(scenario_name, synthetic, target_min, plans, site_rows, m=m)),
    }
    return [partial(lambda build, path: save_png(build(), path), build, folder / name)
            for name, build in builders.items()]


def write_figures(*args: Any, **kwargs: Any) -> list[Path]:
    """figure_calls' figures (same arguments) written here, one after another; their paths."""
    return [call() for call in figure_calls(*args, **kwargs)]


def _sweep_positions(values: list) -> tuple[bool, dict, list]:
    """Whether the swept values are numbers, each value's x position, and the values in x order."""
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in values)
    ordered = sorted(values) if numeric else values
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(ordered)}
    return numeric, position, ordered


def sweep_figure(scenario_name: str, synthetic: bool, param: str, rows: Sequence[dict],
                 m: Messages | None = None) -> Figure:
    """Two panels against the swept parameter, one line per plan: mean response (min) and within-target (%).

    Each point has its 95% CI as an error bar, the plans side by side (dodged) around each value
    so five plans' bars stay apart (overlapping translucent bands were unreadable). Numeric values:
    points joined by lines. Text values (e.g. a policy name): points only, since a line between
    categories would mean nothing.
    """
    m = m or messages()
    plans = _unique(row["plan"] for row in rows)
    numeric, position, ordered = _sweep_positions(_unique(row["value"] for row in rows))
    colors = plan_colors(plans)
    fig = new_figure(SWEEP_FIGSIZE_IN)
    ax_resp, ax_within = fig.subplots(2, 1, sharex=True)
    # (axes, mean key, CI key, y label, range the interval is clipped to)
    panels = (
        (ax_resp, "response_mean_min", "response_mean_ci95", m("figure.sweep.response"), (0.0, math.inf)),
        (ax_within, "within_target_pct", "within_target_ci95", m("figure.sweep.within"), (0.0, 100.0)),
    )
    spots = sorted(position.values())
    gap = min((b - a for a, b in zip(spots, spots[1:])), default=1.0)
    for k, plan in enumerate(plans):
        plan_rows = sorted((r for r in rows if r["plan"] == plan), key=lambda r: position[r["value"]])
        # Plans side by side within 30% of the narrowest gap between values, so bars never touch.
        shift = dodge_offset(k, len(plans), gap)
        x = np.array([position[r["value"]] + shift for r in plan_rows])
        for ax, mean_key, ci_key, _, (floor, ceiling) in panels:
            mean = np.array([_number(r[mean_key]) for r in plan_rows])
            half = np.array([_number(r[ci_key]) for r in plan_rows])
            low, high = np.clip(mean - half, floor, ceiling), np.clip(mean + half, floor, ceiling)
            style = dict(color=colors[plan], label=plan_label(plans, plan, m), marker="o", ms=8)
            ax.plot(x, mean, lw=2.0 if numeric else 0, ls="-" if numeric else "none", **style)
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="none", ecolor=colors[plan],
                        elinewidth=2.5, capsize=4)
    for ax, _, _, ylabel, _ in panels:
        ax.set_ylabel(ylabel, fontsize=LABEL_PT)
        number_ticks(ax.yaxis, m)
        style_axes(ax)
    ax_resp.set_ylim(bottom=0)
    ax_within.set_ylim(0, 102)
    if not numeric or len(ordered) <= 12:
        # Ticks at the values actually run: 2, 4, 6 cars, not 3 or 5.
        ax_within.set_xticks([position[v] for v in ordered], [m.num(v, "g") if numeric else str(v) for v in ordered])
    elif numeric:
        number_ticks(ax_within.xaxis, m)
    ax_within.set_xlabel(f"{param_words(param, m)}\n({param})", fontsize=LABEL_PT)
    ax_resp.legend(fontsize=NOTE_PT, title=m("figure.sweep.legend"),
                   title_fontsize=NOTE_PT, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure_title(fig, m("figure.sweep.title", what=param_words(param, m)), scenario_name, synthetic, m)
    return fig


def dodge_offset(k: int, n: int, gap: float) -> float:
    """x offset of the k-th of n plans around a value: spread over 30% of ``gap``, centred."""
    return 0.0 if n <= 1 else 0.3 * gap * (k - (n - 1) / 2) / (n - 1)


def write_sweep_figure(path: Path, scenario_name: str, synthetic: bool, param: str,
                       rows: Sequence[dict], m: Messages | None = None) -> Path:
    """Write the sweep figure (PNG) to path; rows hold one summary per (value, plan)."""
    return save_png(sweep_figure(scenario_name, synthetic, param, rows, m), Path(path))
