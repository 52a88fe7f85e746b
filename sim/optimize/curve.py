"""What each car buys: the best covered share (model) and the simulated share within target against
the number of cars, as a table and a figure."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.i18n import Messages, messages
from sim.study.tables import csv_text
from sim.viz.plots import DPI, LABEL_PT, NOTE_PT, TICK_PT, TITLE_PT, number_ticks, plan_colors, save_png
from sim.viz.words import synthetic_note

CURVE_COLUMNS = ["units", "objective", "covered_share", "expected_covered_share", "mean_travel_min", "optimal",
                 "gap", "within_target_pct", "within_target_ci95", "response_mean_min", "response_mean_ci95",
                 "added_within_target_pts", "added_within_target_ci95", "posts", "network"]
_MODEL, _SIMULATED = "#1f4e9c", "#c0392b"
_HAND_MARKERS = "DsP^vX*ph"


def curve_csv(rows: Sequence[dict]) -> str:
    """The table ``fleet_curve.csv``: one row per fleet size (posts joined by spaces; what the car
    added empty where the size one car smaller was not run)."""
    return csv_text(CURVE_COLUMNS, [{"added_within_target_pts": None, "added_within_target_ci95": None, **row,
                                     "posts": " ".join(row["posts"])} for row in rows])


def with_added(rows: Sequence[dict], plans: Sequence[str], pairs: Mapping[tuple[str, str], dict]) -> list[dict]:
    """The curve's rows (of the plans ``plans``, in order) with what each car added in simulation:
    the paired difference of the share within target against the fleet one car smaller and its 95%
    half-width (``pairs``: comparison_pairs rows by (plan, other)), where that size was run."""
    out = []
    for k, row in enumerate(rows):
        pair = pairs.get((plans[k], plans[k - 1])) if k and row["units"] - rows[k - 1]["units"] == 1 else None
        out.append({**row, "added_within_target_pts": None if pair is None else pair["within_target_diff_pct"],
                    "added_within_target_ci95": None if pair is None else pair["within_target_diff_ci95"]})
    return out


def _number(value) -> float:
    return math.nan if value is None else float(value)


def curve_figure(scenario_name: str, synthetic: bool, target_min: float, objective: str, rows: Sequence[dict],
                 hand: Sequence[dict], goal_pct: float | None = None, subject: str | None = None,
                 answer: int | None = None, m: Messages | None = None) -> Figure:
    """Top: model covered share and simulated share within target (95% bars) against cars, the
    hand-written plans as points, the goal as a line. Bottom: what the n-th car adds, model and
    simulation (only between sizes next to each other: a goal search skips sizes). ``subject``: what
    the goal counts, in words (default: incidents); ``m``: the language (English by default)."""
    m = m or messages()
    subject = subject or m("figure.curve.incidents")
    target = m.num(target_min, "g")
    fig = Figure(figsize=(11.0, 9.5), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    units = np.array([row["units"] for row in rows], float)
    model = 100 * np.array([row["covered_share"] for row in rows])
    simulated = np.array([_number(row["within_target_pct"]) for row in rows])
    half = np.array([_number(row["within_target_ci95"]) for row in rows])
    what = m("figure.curve.demand") if goal_pct is None else m("figure.curve.goalDemand", subject=subject)
    top.plot(units, model, color=_MODEL, lw=2.5, marker="s", ms=8,
             label=m("figure.curve.model", objective=objective, what=what, target=target))
    top.errorbar(units, simulated, yerr=np.nan_to_num(half), color=_SIMULATED, lw=2.5, marker="o", ms=8, capsize=4,
                 label=m("figure.curve.simulated", subject=subject, target=target))
    if goal_pct is not None:
        top.axhline(goal_pct, color="black", lw=1.5, ls="--", label=m("figure.curve.goal", goal=m.num(goal_pct, "g")))
    if answer is not None:
        top.axvline(answer, color="black", lw=1.2, ls=":", label=m("figure.curve.answer", n=answer))
    colors = plan_colors([plan["plan"] for plan in hand])
    sizes = [plan["units"] for plan in hand]
    for k, plan in enumerate(hand):
        # Plans of one fleet size side by side, so that their markers and bars do not hide each other.
        same = [j for j, size in enumerate(sizes) if size == plan["units"]]
        shift = 0.12 * (same.index(k) - (len(same) - 1) / 2)
        top.errorbar([plan["units"] + shift], [plan["within_target_pct"]],
                     yerr=[np.nan_to_num(plan["within_target_ci95"])],
                     ls="none", marker=_HAND_MARKERS[k % len(_HAND_MARKERS)], ms=10, capsize=3,
                     color=colors[plan["plan"]], label=m("figure.curve.hand", plan=plan["plan"]))
    top.set_ylim(0, 104)
    top.set_ylabel(m("figure.curve.share"), fontsize=LABEL_PT)
    top.legend(fontsize=NOTE_PT, loc="lower right")
    width = 0.38
    step = np.diff(units) == 1  # what one more car adds: only between sizes next to each other
    bottom.bar(units[1:][step] - width / 2, np.diff(model)[step], width, color=_MODEL, label=m("figure.curve.modelBar"))
    # Paired by replication against the fleet one car smaller, where the run has the pair; else the
    # difference of the two means without an interval.
    added = np.array([_number(row.get("added_within_target_pts")) for row in rows[1:]])
    added_half = np.array([_number(row.get("added_within_target_ci95")) for row in rows[1:]])
    added = np.where(np.isnan(added), np.diff(simulated), added)
    bottom.bar(units[1:][step] + width / 2, added[step], width, color=_SIMULATED,
               yerr=np.where(np.isnan(added_half), 0.0, added_half)[step], capsize=4, ecolor="black",
               label=m("figure.curve.simulatedBar"))
    bottom.axhline(0, color="black", lw=1)
    bottom.set_ylabel(m("figure.curve.added"), fontsize=LABEL_PT)
    bottom.set_xlabel(m("figure.curve.cars"), fontsize=LABEL_PT)
    bottom.legend(fontsize=NOTE_PT, loc="upper right")
    if len(units) <= 25:  # a tick at every fleet size run, while they can be read
        bottom.set_xticks(units, [m.num(u, "g") for u in units])
    for ax in (top, bottom):
        ax.tick_params(labelsize=TICK_PT)
        number_ticks(ax.yaxis, m)
        ax.grid(True, color="0.88")
        ax.set_axisbelow(True)
    title = m("figure.curve.title", scenario=scenario_name)
    fig.suptitle(title + (f"\n{synthetic_note(m)}" if synthetic else ""), fontsize=TITLE_PT)
    return fig


def write_curve_figure(path: Path, *args, **kwargs) -> Path:
    """Write ``curve_figure(*args, **kwargs)`` as a PNG, whole or not at all."""
    return save_png(curve_figure(*args, **kwargs), Path(path))
