"""The lines under the terminal table of a run: detection and deterrence, automatic replications'
precision, and the sites whose positions are approximate."""
from __future__ import annotations

import math
from typing import Sequence

from sim.config.option_names import API_NAMES, OptionNames

MAX_LISTED_SITES = 12  # approximate sites named in the terminal table; the manifest lists them all


def presence_notes(summary_rows: Sequence[dict]) -> list[str]:
    """With detection or deterrence (issue #12): lines giving, per plan, the share reported first by
    a patrol and the mean response from the report, and the candidates deterred (not in the counts)."""
    def pct(value: float) -> str:
        return "–" if value is None or math.isnan(value) else f"{value:.1f}%"

    lines = []
    if summary_rows and "detected_by_patrol_pct" in summary_rows[0]:
        lines.append("Detection: share reported first by a patrol (mean response from the report): " + "; ".join(
            f"{row['plan']} {pct(row['detected_by_patrol_pct'])} ({row['response_from_report_mean_min']:.1f} min)"
            for row in summary_rows) + ".")
    if summary_rows and "deterred" in summary_rows[0]:
        lines.append("Deterrence: candidate incidents deterred (not counted above): " + "; ".join(
            f"{row['plan']} {row['deterred']:,} ({pct(row['deterred_pct'])})" for row in summary_rows) + ".")
    return lines


def precision_note(precision: dict, names: OptionNames = API_NAMES) -> str:
    """One line on what automatic replications reached: every plan within the aim, or where their bound
    stopped them; ``names`` say how the user gives the options."""
    aim, reps = precision["aim_share"], precision["replications"]
    reached = precision["per_plan"]
    if precision["reached"]:
        return (f"{names.reps} auto: after {reps} replications every plan's 95% interval on mean response is within "
                f"±{100 * aim:g}% of its mean.")
    short = ", ".join(f"{plan} " + ("no interval" if share is None else f"±{100 * share:.1f}%")
                      for plan, share in reached.items() if share is None or share > aim) or "none"
    return (f"Warning: {names.reps} auto stopped at {names.max_reps} {precision['max_reps']} before every 95% "
            f"interval on mean response was within ±{100 * aim:g}% of its mean; short of it: {short}.")


def site_notes(sites: Sequence) -> list[str]:
    """Lines naming the placeholder sites (the note says "placeholder") and counting the other
    approximate or synthetic ones, a few by id when there are many (the manifest lists all)."""
    placeholders = [s.id for s in sites if s.approximate and "placeholder" in s.note.lower()]
    others = [s.id for s in sites if s.approximate and "placeholder" not in s.note.lower()]
    lines = []
    if placeholders:
        lines.append(f"Placeholder positions (not verified): {_listed(placeholders)}.")
    if others:
        lines.append(f"{len(others):,} other sites have approximate or synthetic positions: {_listed(others)}.")
    return lines


def _listed(ids: Sequence[str]) -> str:
    if len(ids) <= MAX_LISTED_SITES:
        return ", ".join(ids)
    return ", ".join(ids[:5]) + f", … ({len(ids) - 5:,} more; manifest.json lists them all)"
