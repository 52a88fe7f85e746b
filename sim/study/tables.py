"""Tables as text: the CSV files (fixed columns, floats with 4 decimals) and the terminal table;
the same rows as pandas DataFrames."""
from __future__ import annotations

import csv
import io
import math
import textwrap
from typing import Iterable, Mapping, Sequence

from sim.study.shares import Worst

NETWORK_COLUMN = "network"  # closing column of summary and sweep tables (and of comparison's first ones): which roads


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    """CSV with fixed columns; floats with 4 decimals, missing values empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return buffer.getvalue()


def data_frame(columns: Sequence[str], rows: Sequence[dict]):
    """The rows as a pandas DataFrame with exactly these columns (in this order), full precision;
    missing values are NaN (None in text columns)."""
    import pandas as pd

    return pd.DataFrame.from_records([[row[c] for c in columns] for row in rows], columns=list(columns))


def _fmt(value: float | None, digits: int = 1, sign: bool = False) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _pm(value: float | None, half: float | None, sign: bool = False) -> str:
    """``value ± half``; the ± part left out when there is no interval."""
    if value is None or math.isnan(value):
        return "-"
    return _fmt(value, sign=sign) + ("" if half is None or math.isnan(half) else f" ± {_fmt(half)}")


def _bounded(row: Mapping) -> str:
    """A pooled share and its interval, ``35 (28–42)`` (sim.study.shares); "-" for none."""
    share = row.get("within_target_pooled_pct")
    if share is None or math.isnan(share):
        return "-"
    return f"{share:.0f} ({row['within_target_low_pct']:.0f}–{row['within_target_high_pct']:.0f})"


WIDTH = 100  # terminal columns the table is laid out for
_SHORT_VERDICT = {"better": "better", "worse": "worse", "no clear difference": "unclear"}


def format_table(summary: Sequence[dict], comparison: Sequence[dict], target_min: float,
                 top_priority: Mapping[str, dict] | None = None,
                 worst: Mapping[str, Worst] | None = None, worst_of: str = "sites") -> str:
    """The terminal table printed after a run, at most WIDTH columns: headline figures with 95%
    intervals (and the most urgent priority's pooled within-target share from ``top_priority``:
    plan -> its priorities.csv row), the paired differences against the reference with verdicts,
    and each plan's worst sites (``worst``: plan -> the sites with the most late incidents) or, with
    ``worst_of="kecamatan"``, its areas with the most late incidents (areas.csv rows)."""
    top_priority = top_priority or {}
    level = next(iter(top_priority.values()))["priority"] if top_priority else 1
    within = f"within {target_min:g} min (%)"
    header = (f"{'plan':18s} {'reps':>4s} {'incidents':>9s} {'mean (min)':>12s} {'p90 (min)':>9s} "
              f"{within:>17s} {f'P{level} within (%)':>13s} {'busy':>5s}")
    lines = [header, "-" * len(header)]
    for row in summary:
        urgent = top_priority.get(row["plan"], {})
        lines.append(
            f"{row['plan'][:18]:18s} {row['reps']:4d} {row['incidents']:9d} "
            f"{_pm(row['response_mean_min'], row['response_mean_ci95']):>12s} {_fmt(row['response_p90_min']):>9s} "
            f"{_pm(row['within_target_pct'], row['within_target_ci95']):>17s} "
            f"{_bounded(urgent):>13s} "
            f"{_fmt(row['busy_fraction_mean'], 2):>5s}"
        )
    lines += textwrap.wrap(
        f"± = half-width of the 95% interval over replications. P{level} = priority-{level} incidents as "
        "handled (an escalated incident counts at the priority it escalated to), pooled over replications, "
        "with its 95% Wilson interval. busy = mean share of "
        "the measured time a unit spent on incidents (from dispatch to leaving the scene).", WIDTH)
    lines += _paired_lines(comparison, target_min)
    lines += _worst_lines(worst or {}, target_min, worst_of)
    return "\n".join(lines)


def _paired_lines(comparison: Sequence[dict], target_min: float) -> list[str]:
    """Each plan minus the reference, paired by replication, with a one-word verdict per figure."""
    others = [row for row in comparison if row["verdict"] != "reference"]
    if not others:
        return []
    reference = others[0]["reference"]
    figures = (("response_diff_min", "response_diff_ci95", "verdict"),
               ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict"),
               ("p90_diff_min", "p90_diff_ci95", "p90_verdict"))
    lines = ["", f"vs {reference}, paired by replication (plan minus {reference}, 95% interval):",
             f"{'plan':18s} " + "  ".join(f"{title:^23s}" for title in
                                          ("mean response (min)", f"within {target_min:g} min (pts)", "p90 (min)")).rstrip()]
    reasons = []
    for row in others:
        cells = []
        for diff, half, word in figures:
            verdict = row[word]
            if verdict not in _SHORT_VERDICT:
                reasons.append(verdict)
            shown = _SHORT_VERDICT.get(verdict, "")
            cells.append(f"{_pm(row[diff], row[half], sign=True):>14s} {shown:8s}")
        lines.append((f"{row['plan'][:18]:18s} " + "  ".join(cells)).rstrip())
    lines.append("better/worse: the interval excludes 0; unclear: it does not.")
    lines += [f"no verdict: {reason}" for reason in dict.fromkeys(reasons)]
    return lines


def _worst_lines(worst: Mapping[str, Worst], target_min: float, what: str = "sites") -> list[str]:
    """The worst sites (or, ``what`` "kecamatan", areas) of each plan by name with their late count of
    counted incidents and the 95% Wilson interval of the share in time, then what the list leaves
    unsaid (ties, small n), wrapped to WIDTH."""
    name = "site_name" if what == "sites" else "area"
    if not any(w.rows for w in worst.values()):
        return []
    lines = ["", f"Worst {what} per plan: incidents reached late (after {target_min:g} min or never) of those "
                 "counted, all replications; the share in time's 95% interval:"]
    for plan, found in worst.items():
        cells = [f"{row[name]} {row['late']:,}/{row['incidents']:,} late "
                 f"({_fmt(row['within_target_low_pct'], 0)}–{_fmt(row['within_target_high_pct'], 0)}% in time)"
                 for row in found.rows] or ["none late"]
        note = found.note(what, name)
        cells[-1] += ";" if note else ""
        lines += _flowed(f"{plan[:18]:18s} ", [*cells, *([note] if note else [])])
    return lines


def _flowed(first: str, cells: Sequence[str]) -> list[str]:
    """Cells joined by commas after ``first``, indented under it on later lines, at most WIDTH
    columns; a cell is split only if it is longer than a line."""
    indent = " " * len(first)
    lines, line = [], first + cells[0]
    for cell in cells[1:]:
        joint = " " if line.endswith(";") else ", "
        if len(line) + len(joint) + len(cell) <= WIDTH:
            line += joint + cell
        else:
            lines.append(line + ("" if line.endswith(";") else ","))
            line = indent + cell
    lines.append(line)
    return [part for text in lines for part in (textwrap.wrap(text, WIDTH, subsequent_indent=indent)
                                                if len(text) > WIDTH else [text])]
