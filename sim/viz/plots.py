"""Figures of a run and of a parameter sweep (SPEC §5): PNG files a planner reads at a glance.

Built on ``matplotlib.figure.Figure`` with the Agg canvas, never pyplot: no global figure state,
so this is safe in worker processes and in tests. Font sizes are passed to each artist rather than
set in ``rcParams`` for the same reason.
"""
from __future__ import annotations

import math
import textwrap
from numbers import Real
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.files import write_whole
from sim.network import SYNTHETIC_NOTE

DPI = 100
FIGSIZE_IN = (11.0, 6.5)            # ECDF and within-target figures: 1100 x 650 px
SWEEP_FIGSIZE_IN = (11.0, 9.0)      # two stacked panels: 1100 x 900 px
TITLE_PT, LABEL_PT, TICK_PT, NOTE_PT = 17, 15, 13, 12
HEAT_CMAP = "YlOrRd"                # light = fast, dark red = slow


def _number(value) -> float:
    """A row value as a float; None (missing) becomes NaN."""
    return math.nan if value is None else float(value)


def _response(row: dict) -> float | None:
    """Response time (min) of a counted incident; None when uncounted or never reached."""
    if not row["counted"]:
        return None
    value = _number(row["response_min"])
    return None if math.isnan(value) else value


def plan_colors(plans: Sequence[str]) -> dict[str, tuple]:
    """One colour per plan by its position, so the same plan list gives the same colours everywhere."""
    palette = colormaps["tab10"].colors
    return {plan: palette[i % len(palette)] for i, plan in enumerate(plans)}


def plan_label(plans: Sequence[str], plan: str) -> str:
    """The plan name; the first plan is the one the others are compared against."""
    return f"{plan} (reference)" if plans and plan == plans[0] else plan


def _unique(values) -> list:
    """Values in order of first appearance."""
    return list(dict.fromkeys(values))


def _title(fig: Figure, what: str, scenario_name: str, synthetic: bool) -> None:
    text = f"{what} · {scenario_name}"
    if synthetic:
        text += f"\n{SYNTHETIC_NOTE}"
    fig.suptitle(text, fontsize=TITLE_PT)


def _new_figure(size_in: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size_in, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax) -> None:
    ax.tick_params(labelsize=TICK_PT)
    ax.grid(True, color="0.88")
    ax.set_axisbelow(True)


def save_png(fig: Figure, path: Path) -> Path:
    """Write the figure as PNG whole or not at all: a temporary file in the same folder, then a rename."""
    return write_whole(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))


def ecdf_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                incidents: Sequence[dict]) -> Figure:
    """Share of counted incidents reached within x minutes, one step line per plan, target marked.

    Line data: x = sorted response times (min), y = k/n for the k-th of n counted incidents. Counted
    incidents never reached by the end of the run stay in n, so such a plan's curve ends below 100%.
    """
    fig = _new_figure(FIGSIZE_IN)
    ax = fig.add_subplot()
    colors = plan_colors(plans)
    counts: dict[str, int] = {}
    everything: list[float] = []
    for k, plan in enumerate(plans):
        counted = [row for row in incidents if row["plan"] == plan and row["counted"]]
        times = np.sort([t for t in map(_response, counted) if t is not None])
        n = counts[plan] = len(counted)
        label = plan_label(plans, plan)
        if n > len(times):
            label += f" ({n - len(times)} never reached)"
        # Earlier plans drawn wider, so a plan hidden under an identical later one still shows.
        width = 4.0 - 2.0 * k / max(len(plans) - 1, 1)
        ax.plot(times, np.arange(1, len(times) + 1) / max(n, 1), drawstyle="steps-post",
                color=colors[plan], lw=width, label=label)
        everything += times.tolist()
    # The axis ends at the 99th percentile (at least twice the target): a few very late
    # responses would otherwise squeeze the part a planner reads into a sliver.
    p99 = float(np.percentile(everything, 99)) if everything else target_min
    x_max = max(2.0 * target_min, p99)
    longest = max(everything, default=0.0)
    cut = (f"\n(axis cut at the 99th percentile; the longest response took {longest:.0f} min)"
           if longest > x_max else "")
    legend_title = (f"plan ({next(iter(counts.values()))} counted incidents each)"
                    if len(set(counts.values())) == 1 else
                    "plan (counted incidents: " + ", ".join(f"{n}" for n in counts.values()) + ")")
    ax.axvline(target_min, color="black", ls="--", lw=1.8)
    ax.text(target_min, 0.03, f" target {target_min:g} min", fontsize=LABEL_PT, ha="left", va="bottom")
    ax.set_xlim(0, x_max * 1.03)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(lambda y, _: f"{100 * y:.0f}%")
    ax.set_xlabel("response time (min): creation to first unit on scene" + cut, fontsize=LABEL_PT)
    ax.set_ylabel("incidents reached within that time", fontsize=LABEL_PT)
    _style(ax)
    ax.legend(fontsize=NOTE_PT, loc="center right", title=legend_title, title_fontsize=NOTE_PT)
    _title(fig, "How fast incidents are reached, per plan", scenario_name, synthetic)
    return fig


def within_target_figure(scenario_name: str, synthetic: bool, target_min: float,
                         summary: Sequence[dict]) -> Figure:
    """Horizontal bar per plan: mean share (%) of incidents reached within the target, 95% CI as error bar.

    The drawn error bar is clipped to 0-100% (a share cannot leave it); the printed value is the raw interval.
    """
    fig = _new_figure(FIGSIZE_IN)
    ax = fig.add_subplot()
    plans = [row["plan"] for row in summary]
    colors = plan_colors(plans)
    ypos = np.arange(len(plans))
    share = np.array([_number(row["within_target_pct"]) for row in summary])
    half = np.array([_number(row["within_target_ci95"]) for row in summary])
    ax.barh(ypos, np.nan_to_num(share), color=[colors[p] for p in plans], height=0.6)
    low = np.clip(share - half, 0, 100)
    high = np.clip(share + half, 0, 100)
    has_ci = ~np.isnan(half) & ~np.isnan(share)
    ax.errorbar(share[has_ci], ypos[has_ci], xerr=[share[has_ci] - low[has_ci], high[has_ci] - share[has_ci]],
                fmt="none", ecolor="black", elinewidth=2, capsize=6)
    for y, value, ci in zip(ypos, share, half):
        # Values sit in a column right of the axes so long error bars never hide them.
        text = "no data" if math.isnan(value) else f"{value:.1f}%" + ("" if math.isnan(ci) else f" ± {ci:.1f}")
        ax.text(101.5, y, text, fontsize=LABEL_PT, va="center", ha="left", clip_on=False)
    ax.set_yticks(ypos, [plan_label(plans, p) for p in plans])
    ax.invert_yaxis()   # first plan (the reference) on top
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"incidents reached within {target_min:g} min (%), mean over replications ± 95% CI",
                  fontsize=LABEL_PT)
    _style(ax)
    ax.grid(False, axis="y")
    _title(fig, f"Share of incidents reached within the {target_min:g}-minute target",
           scenario_name, synthetic)
    return fig


def site_means(incidents: Sequence[dict], plans: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Sites (most counted incidents first), mean response (min) and count per (site, plan).

    Only counted incidents that were reached enter; a (site, plan) without any has NaN mean, count 0.
    """
    reached = [(row["site"], row["plan"], t) for row in incidents if (t := _response(row)) is not None]
    totals: dict[str, int] = {}
    for site, _, _ in reached:
        totals[site] = totals.get(site, 0) + 1
    sites = sorted(totals, key=lambda s: (-totals[s], s))
    row_of = {s: i for i, s in enumerate(sites)}
    col_of = {p: j for j, p in enumerate(plans)}
    sums = np.zeros((len(sites), len(plans)))
    counts = np.zeros((len(sites), len(plans)), int)
    for site, plan, t in reached:
        if plan in col_of:
            sums[row_of[site], col_of[plan]] += t
            counts[row_of[site], col_of[plan]] += 1
    with np.errstate(invalid="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return sites, means, counts


def site_response_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                         incidents: Sequence[dict], site_names: Mapping[str, str] | None = None) -> Figure:
    """Heat table of mean response time (min): sites as rows (by name when ``site_names`` has
    them), plans as columns, value in each cell."""
    sites, means, counts = site_means(incidents, plans)
    # Grow with the table so every cell keeps room for its two-line label.
    fig = _new_figure((max(9.0, 3.5 + 1.9 * len(plans)), max(5.0, 2.4 + 0.62 * len(sites))))
    ax = fig.add_subplot()
    _title(fig, "Mean response time per site and plan", scenario_name, synthetic)
    if not sites:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no counted incident was reached in this run", transform=ax.transAxes,
                ha="center", va="center", fontsize=LABEL_PT)
        return fig
    top = float(np.nanmax(means))
    norm = Normalize(0.0, max(top, target_min))   # target always on the colour scale
    cmap = colormaps[HEAT_CMAP].with_extremes(bad="0.92")
    image = ax.imshow(np.ma.masked_invalid(means), cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(sites)):
        for j in range(len(plans)):
            if counts[i, j] == 0:
                ax.text(j, i, "–", ha="center", va="center", fontsize=LABEL_PT, color="0.4")
                continue
            # Dark cells get white text: pick by the cell colour's luminance.
            r, g, b, _ = cmap(norm(means[i, j]))
            ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            ax.text(j, i, f"{means[i, j]:.1f}\n", ha="center", va="center", fontsize=LABEL_PT,
                    fontweight="bold", color=ink)
            ax.text(j, i, f"\nn={counts[i, j]}", ha="center", va="center", fontsize=NOTE_PT - 2, color=ink)
    ax.set_xticks(range(len(plans)), [plan_label(plans, p).replace(" (", "\n(") for p in plans])
    names = site_names or {}
    ax.set_yticks(range(len(sites)), [textwrap.fill(names.get(s, s), 30) for s in sites])
    ax.xaxis.tick_top()
    ax.tick_params(labelsize=TICK_PT, length=0)
    ax.set_xticks(np.arange(-0.5, len(plans)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(sites)), minor=True)
    ax.grid(which="minor", color="white", lw=2)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_ylabel("site (most incidents first)", fontsize=LABEL_PT)
    ax.set_xlabel("each cell: mean response time (min) of the counted incidents at that site; n = their number",
                  fontsize=NOTE_PT)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label("mean response time (min)", fontsize=LABEL_PT)
    bar.ax.tick_params(labelsize=TICK_PT)
    bar.ax.axhline(target_min, color="black", lw=2)
    bar.ax.text(-0.1, target_min, f"target {target_min:g} ", transform=bar.ax.get_yaxis_transform(),
                ha="right", va="center", fontsize=NOTE_PT)
    return fig


def write_figures(out_dir: Path, scenario_name: str, synthetic: bool, target_min: float,
                  incidents: Sequence[dict], summary: Sequence[dict],
                  site_names: Mapping[str, str] | None = None) -> list[Path]:
    """Write figures/response_ecdf.png, within_target.png, site_response.png under out_dir; return the paths.

    Plans are taken in summary order (first = reference), so colours match across the figures.
    """
    folder = Path(out_dir) / "figures"
    plans = [row["plan"] for row in summary]
    builders = {
        "response_ecdf.png": lambda: ecdf_figure(scenario_name, synthetic, target_min, plans, incidents),
        "within_target.png": lambda: within_target_figure(scenario_name, synthetic, target_min, summary),
        "site_response.png": lambda: site_response_figure(scenario_name, synthetic, target_min, plans, incidents,
                                                          site_names),
    }
    return [save_png(build(), folder / name) for name, build in builders.items()]


def _sweep_positions(values: list) -> tuple[bool, dict, list]:
    """Whether the swept values are numbers, each value's x position, and the values in x order."""
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in values)
    ordered = sorted(values) if numeric else values
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(ordered)}
    return numeric, position, ordered


def sweep_figure(scenario_name: str, synthetic: bool, param: str, rows: Sequence[dict]) -> Figure:
    """Two panels against the swept parameter, one line per plan: mean response (min) and within-target (%).

    Numeric values: lines with a dashed 95% CI band. Text values (e.g. a policy name): points with
    95% CI error bars, plans side by side, since a line between categories would mean nothing.
    """
    plans = _unique(row["plan"] for row in rows)
    numeric, position, ordered = _sweep_positions(_unique(row["value"] for row in rows))
    colors = plan_colors(plans)
    fig = _new_figure(SWEEP_FIGSIZE_IN)
    ax_resp, ax_within = fig.subplots(2, 1, sharex=True)
    # (axes, mean key, CI key, y label, range the interval is clipped to)
    panels = (
        (ax_resp, "response_mean_min", "response_mean_ci95", "mean response time (min)", (0.0, math.inf)),
        (ax_within, "within_target_pct", "within_target_ci95", "incidents within target (%)", (0.0, 100.0)),
    )
    for k, plan in enumerate(plans):
        plan_rows = sorted((r for r in rows if r["plan"] == plan), key=lambda r: position[r["value"]])
        # Side-by-side offset for text values so error bars of different plans do not overlap.
        shift = 0.0 if numeric else 0.25 * (k - (len(plans) - 1) / 2) / max(len(plans) - 1, 1)
        x = np.array([position[r["value"]] + shift for r in plan_rows])
        for ax, mean_key, ci_key, _, (floor, ceiling) in panels:
            mean = np.array([_number(r[mean_key]) for r in plan_rows])
            half = np.array([_number(r[ci_key]) for r in plan_rows])
            low, high = np.clip(mean - half, floor, ceiling), np.clip(mean + half, floor, ceiling)
            style = dict(color=colors[plan], label=plan_label(plans, plan), marker="o", ms=8)
            if numeric:
                ax.plot(x, mean, lw=2.5, **style)
                # Faint fill with dashed edges: overlapping bands of several plans stay tellable apart.
                ax.fill_between(x, low, high, facecolor=(*colors[plan][:3], 0.10), edgecolor=colors[plan],
                                ls="--", lw=1.2)
            else:
                ax.plot(x, mean, ls="none", **style)
                ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="none", ecolor=colors[plan],
                            elinewidth=2.5, capsize=0)
    for ax, _, _, ylabel, _ in panels:
        ax.set_ylabel(ylabel, fontsize=LABEL_PT)
        _style(ax)
    ax_resp.set_ylim(bottom=0)
    ax_within.set_ylim(0, 102)
    if not numeric or len(ordered) <= 12:
        # Ticks at the values actually run: 2, 4, 6 cars, not 3 or 5.
        ax_within.set_xticks([position[v] for v in ordered], [f"{v:g}" if numeric else str(v) for v in ordered])
    ax_within.set_xlabel(param, fontsize=LABEL_PT)
    ax_resp.legend(fontsize=NOTE_PT, title=f"plan ({'dashed band' if numeric else 'bar'}: 95% CI)",
                   title_fontsize=NOTE_PT, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _title(fig, f"Response against {param}", scenario_name, synthetic)
    return fig


def write_sweep_figure(path: Path, scenario_name: str, synthetic: bool, param: str,
                       rows: Sequence[dict]) -> Path:
    """Write the sweep figure (PNG) to path; rows hold one summary per (value, plan)."""
    return save_png(sweep_figure(scenario_name, synthetic, param, rows), Path(path))
