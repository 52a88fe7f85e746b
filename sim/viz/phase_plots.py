"""The season figure (issue #11): response and share within target by hour of day and by phase.

Pooled figures: every counted incident of every replication of a plan, one mean per hour (or
phase). A response never reached counts as missing the target and stays out of the mean.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.viz.plots import (FIGSIZE_IN, LABEL_PT, NOTE_PT, TICK_PT, figure_title, new_figure, style_axes, plan_colors,
                           plan_label, save_png)

SEASON_FIGURE = "response_by_hour_and_phase.png"
OUTSIDE_PHASES = "(no phase)"  # incidents outside every calendar phase


def _pooled(responses: Sequence[float | None], target_min: float) -> tuple[float, float]:
    """(mean response min, % within target) of counted responses (None: never reached); NaN for none."""
    if not responses:
        return math.nan, math.nan
    reached = [r for r in responses if r is not None]
    within = 100.0 * sum(r <= target_min for r in reached) / len(responses)
    return (float(np.mean(reached)) if reached else math.nan), within


def season_figure(scenario_name: str, synthetic: bool, target_min: float, plans: Sequence[str],
                  by_hour: dict[str, list[list[float | None]]], by_phase: dict[str, dict[str, list[float | None]]],
                  phases: Sequence[str]):
    """Four panels: mean response and % within target, by hour of day (lines) and by phase (bars).

    ``by_hour[plan][h]`` and ``by_phase[plan][phase]`` are counted responses (None: never reached).
    """
    fig = new_figure((FIGSIZE_IN[0], FIGSIZE_IN[1] * 1.5))
    axes = fig.subplots(2, 2)
    colors = plan_colors(plans)
    hours = np.arange(24)
    width = 0.8 / max(len(plans), 1)
    for k, plan in enumerate(plans):
        figures = [_pooled(by_hour[plan][h], target_min) for h in hours]
        for col in (0, 1):
            axes[0, col].plot(hours, [f[col] for f in figures], marker="o", color=colors[plan],
                              label=plan_label(plans, plan))
            values = [_pooled(by_phase[plan].get(p, []), target_min)[col] for p in phases]
            axes[1, col].bar(np.arange(len(phases)) + (k - (len(plans) - 1) / 2) * width, values, width,
                             color=colors[plan], label=plan_label(plans, plan))
    for col, what in enumerate(("mean response (min)", f"within {target_min:g} min (%)")):
        axes[0, col].set_xlabel("hour of day (the clock's local time)", fontsize=LABEL_PT)
        axes[0, col].set_xticks(range(0, 24, 3))
        axes[1, col].set_xticks(np.arange(len(phases)), [p.replace("_", " ") for p in phases],
                                rotation=20, ha="right")
        axes[1, col].set_xlabel("phase", fontsize=LABEL_PT)
        for row in (0, 1):
            axes[row, col].set_ylabel(what, fontsize=LABEL_PT)
            style_axes(axes[row, col])
        if col == 1:
            for row in (0, 1):
                axes[row, col].set_ylim(0, 105)
    for row in (0, 1):
        axes[row, 0].axhline(target_min, color="0.4", linestyle="--", linewidth=1)
    axes[0, 0].legend(fontsize=TICK_PT - 2, loc="upper left")
    figure_title(fig, "Response by hour of day and by phase", scenario_name, synthetic)
    fig.supxlabel("Pooled over every counted incident of every replication; dashed line: the target.\n"
                  "An hour or phase without counted incidents has no point or bar.", fontsize=NOTE_PT)
    return fig


def write_season_figure(folder: Path, *args, **kwargs) -> Path:
    """``season_figure`` saved as ``folder / SEASON_FIGURE``."""
    return save_png(season_figure(*args, **kwargs), Path(folder) / SEASON_FIGURE)
