"""The season figure: response and share within target by hour of day and by phase, each with its
95% interval and the count it rests on.

Pooled figures: every counted incident of every replication of a plan, one mean per hour (or
phase). A response never reached counts as missing the target and stays out of the mean. The
share's interval is the one the caller gives (``share_interval(hits, n)``: sim.study.shares' Wilson
interval, inside 0-100); the mean's is mean ± 1.96 standard errors of the pooled responses. Both
treat incidents as independent (incidents of one replication share its queue), so read them as
lower bounds on the uncertainty; an hour or phase with few incidents shows it by a wide bar.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.i18n import Messages, messages
from sim.viz.plots import (FIGSIZE_IN, LABEL_PT, NOTE_PT, TICK_PT, dodge_offset, figure_title, new_figure, number_ticks,
                           plan_colors, save_png, style_axes)
from sim.viz.words import plan_label

SEASON_FIGURE = "response_by_hour_and_phase.png"
OUTSIDE_PHASES = "(no phase)"  # incidents outside every calendar phase
Z95 = 1.959963984540054
Interval = Callable[[int, int], tuple[float, float]]


def _pooled(responses: Sequence[float | None], target_min: float,
            share_interval: Interval) -> tuple[float, float, float, float, float, float, int]:
    """(mean response, its low, high; % within target, its low, high; incidents) of counted responses
    (None: never reached); NaN without any."""
    nan = math.nan
    if not responses:
        return nan, nan, nan, nan, nan, nan, 0
    reached = np.array([r for r in responses if r is not None], float)
    hits = int((reached <= target_min).sum())
    within = 100.0 * hits / len(responses)
    low, high = share_interval(hits, len(responses))
    if len(reached) == 0:
        return nan, nan, nan, within, low, high, len(responses)
    mean = float(reached.mean())
    half = Z95 * float(reached.std(ddof=1)) / math.sqrt(len(reached)) if len(reached) > 1 else nan
    return mean, max(mean - half, 0.0), mean + half, within, low, high, len(responses)


def season_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                  by_hour: dict[str, list[list[float | None]]], by_phase: dict[str, dict[str, list[float | None]]],
                  phases: Sequence[str], share_interval: Interval, m: Messages | None = None):
    """Four panels: mean response and % within target, by hour of day (points joined, with 95%
    intervals, plans side by side) and by phase (bars with 95% intervals, the incident count on each).

    ``by_hour[plan][h]`` and ``by_phase[plan][phase]`` are counted responses (None: never reached);
    ``m``: the figure's language (English by default).
    """
    m = m or messages()
    fig = new_figure((FIGSIZE_IN[0] * 1.15, FIGSIZE_IN[1] * 1.6))
    axes = fig.subplots(2, 2)
    colors = plan_colors(plans)
    hours = np.arange(24)
    width = 0.8 / max(len(plans), 1)
    for k, plan in enumerate(plans):
        figures = np.array([_pooled(by_hour[plan][h], target_min, share_interval) for h in hours])
        per_phase = np.array([_pooled(by_phase[plan].get(p, []), target_min, share_interval) for p in phases])
        x_hour = hours + dodge_offset(k, len(plans), 1.0)
        x_phase = np.arange(len(phases)) + (k - (len(plans) - 1) / 2) * width
        for col, (mean, low, high) in enumerate(((0, 1, 2), (3, 4, 5))):
            value = figures[:, mean]
            axes[0, col].errorbar(x_hour, value, yerr=_yerr(value, figures[:, low], figures[:, high]), marker="o",
                                  ms=4, lw=1.5, elinewidth=1, capsize=2, color=colors[plan],
                                  label=plan_label(plans, plan, m))
            bars = per_phase[:, mean]
            axes[1, col].bar(x_phase, np.nan_to_num(bars), width, color=colors[plan], label=plan_label(plans, plan, m),
                             yerr=_yerr(bars, per_phase[:, low], per_phase[:, high]), capsize=3,
                             error_kw={"elinewidth": 1.2, "ecolor": "#333333"})
            if k == len(plans) - 1 and col == 1:   # counts once, above the last plan's bars
                for i, n in enumerate(per_phase[:, 6]):
                    if n:
                        axes[1, col].text(i, 101, f"n={m.num(int(n), ',')}", ha="center", va="bottom",
                                          fontsize=TICK_PT - 3)
    target = m.num(target_min, "g")
    for col, what in enumerate((m("figure.season.mean"), m("figure.season.within", target=target))):
        axes[0, col].set_xlabel(m("figure.season.hour"), fontsize=LABEL_PT)
        axes[0, col].set_xticks(range(0, 24, 3))
        axes[1, col].set_xticks(np.arange(len(phases)), [phase_words(p, m) for p in phases],
                                rotation=20, ha="right")
        axes[1, col].set_xlabel(m("figure.season.phase"), fontsize=LABEL_PT)
        for row in (0, 1):
            axes[row, col].set_ylabel(what, fontsize=LABEL_PT)
            number_ticks(axes[row, col].yaxis, m)
            style_axes(axes[row, col])
        if col == 1:
            for row in (0, 1):
                axes[row, col].set_ylim(0, 110)
                axes[row, col].set_yticks(range(0, 101, 20))
    for row in (0, 1):
        axes[row, 0].axhline(target_min, color="0.3", linestyle="--", linewidth=1.2)
        axes[row, 0].set_ylim(bottom=0)
        axes[row, 0].text(0.01, target_min, " " + m("figure.target", target=target),
                          transform=axes[row, 0].get_yaxis_transform(), ha="left", va="bottom", fontsize=TICK_PT - 2,
                          color="0.3")
    axes[0, 0].legend(fontsize=TICK_PT - 2, loc="upper left", title=m("figure.season.legend"),
                      title_fontsize=TICK_PT - 2)
    figure_title(fig, m("figure.season.title"), scenario_name, synthetic, m)
    # Wrapped to the figure's width (about 10 characters an inch at this size): longer words fit too.
    fig.supxlabel(textwrap.fill(m("figure.season.note").replace("\n", " "), int(10 * fig.get_size_inches()[0])),
                  fontsize=NOTE_PT - 1)
    return fig


def phase_words(phase: str, m: Messages) -> str:
    """A phase's name as the figure writes it (a scenario's own name, or the catalogue's words for
    incidents outside every phase)."""
    return m("figure.season.outside") if phase == OUTSIDE_PHASES else phase.replace("_", " ")


def _yerr(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Error bar lengths below and above ``value`` (0 where there is no interval)."""
    return np.nan_to_num(np.array([value - low, high - value]).clip(min=0))


def write_season_figure(folder: Path, *args, **kwargs) -> Path:
    """``season_figure`` saved as ``folder / SEASON_FIGURE``."""
    return save_png(season_figure(*args, **kwargs), Path(folder) / SEASON_FIGURE)
