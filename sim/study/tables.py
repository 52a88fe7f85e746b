"""Tables as text: the CSV files (fixed columns, floats with 4 decimals) and the terminal table;
the same rows as pandas DataFrames."""
from __future__ import annotations

import math
import textwrap
from functools import partial
from typing import Callable, Iterable, Mapping, Sequence

from sim.i18n import messages
from sim.study.csv_writer import csv_rows_text
from sim.study.shares import Worst

NETWORK_COLUMN = "network"  # closing column of summary and sweep tables (and of comparison's first ones): which roads
PIECE_ROWS = 50_000  # rows of a long table one call writes when processes share the writing


def csv_text(columns: Sequence[str], rows: Iterable[dict], header: bool = True) -> str:
    """CSV with fixed columns; floats with 4 decimals, missing values empty (written column by
    column: sim.study.csv_writer); without ``header``, the rows only (a piece of a longer table)."""
    return csv_rows_text(columns, rows, header)


def csv_piece_calls(columns: Sequence[str], rows: Sequence[dict], processes: int) -> list[Callable[[], str]]:
    """Calls giving ``csv_text(columns, rows)`` in pieces of PIECE_ROWS rows (the header with the
    first), to be made side by side (sim.forked.run_calls) and joined in order; one call for one process."""
    size = max(1, len(rows) if processes < 2 else PIECE_ROWS)
    return [partial(csv_text, columns, rows[start:start + size], start == 0)
            for start in range(0, max(1, len(rows)), size)]


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
Column = tuple[str, Callable[[Mapping], str]]  # header, cell of a row


def _pw(value: float | None, half: float | None, sign: bool = False) -> str:
    """A count per week ± its half-width: one decimal below 100, none from 100 on."""
    if value is None or math.isnan(value):
        return "-"
    digits = 1 if abs(value) < 100 else 0
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text + ("" if half is None or math.isnan(half) else f" ± {half:.{digits}f}")


def laid_out(columns: Sequence[Column], rows: Sequence[Mapping], over: Mapping[str, str] | None = None,
             left: int = 1) -> list[str]:
    """Rows as a table: the first ``left`` columns left-aligned, the others right-aligned, each as
    wide as its widest cell, two spaces apart (one if two would not fit WIDTH); ``over``: a
    header's line above it (a title spanning it)."""
    cells = [[cell(row) for _, cell in columns] for row in rows]
    widths = [max([len(header), *(len(line[k]) for line in cells)]) for k, (header, _) in enumerate(columns)]
    gap = "  " if sum(widths) + 2 * (len(widths) - 1) <= WIDTH else " "

    def line(texts: Sequence[str]) -> str:
        return gap.join(t.ljust(w) if k < left else t.rjust(w) for k, (t, w) in enumerate(zip(texts, widths))).rstrip()

    lines = [line([(over or {}).get(header, "") for header, _ in columns])] if over else []
    lines.append(line([header for header, _ in columns]))
    lines.append("-" * len(lines[-1]))
    return lines + [line(texts) for texts in cells]


def format_table(summary: Sequence[dict], comparison: Sequence[dict], target_min: float,
                 top_priority: Mapping[str, dict] | None = None, worst: Mapping[str, Worst] | None = None,
                 headline: Sequence[str] = (), weeks: float | None = None, worst_of: str = "sites",
                 count_scale: float = 1.0) -> str:
    """The terminal table printed after a run, at most WIDTH columns: the ``headline`` sentences;
    each plan's units and headline figures with 95% intervals (late incidents a week first with
    deterrence; the response from the report beside the one from creation with detection; the
    most urgent priority's pooled within-target share from ``top_priority``: plan -> its
    priorities.csv row); the counts per week of the measured window (``weeks`` long); the paired
    differences against the reference with verdicts; each plan's worst sites (``worst``: plan ->
    the sites with the most late incidents) or, with ``worst_of="kecamatan"``, its areas with the
    most late incidents (areas.csv rows). ``summary`` and ``comparison`` are the rows of
    summary.csv and comparison.csv."""
    top_priority = top_priority or {}
    level = next(iter(top_priority.values()))["priority"] if top_priority else 1
    first = summary[0] if summary else {}
    deterrence, detection = "deterred" in first, "response_from_report_mean_min" in first
    within, mean = f"≤{target_min:g} min (%)", "from creation" if detection else "mean (min)"
    columns: list[Column] = [("plan", lambda row: row["plan"]), ("units", lambda row: f"{row['units']:,}")]
    if deterrence:
        columns.append(("late/week", lambda row: _pw(row["late_per_week"], row["late_per_week_ci95"])))
    columns += [(within, lambda row: _pm(row["within_target_pct"], row["within_target_ci95"])),
                (f"P{level} {within}", lambda row: _bounded(top_priority.get(row["plan"], {}))),
                (mean, lambda row: _pm(row["response_mean_min"], row["response_mean_ci95"]))]
    if detection:
        columns.append(("from report", lambda row: _pm(row["response_from_report_mean_min"],
                                                       row.get("response_from_report_mean_ci95"))))
    columns += [("p90", lambda row: _fmt(row["response_p90_min"])),
                ("busy", lambda row: _fmt(row["busy_fraction_mean"], 2))]
    lines = [part for sentence in headline for part in textwrap.wrap(sentence, WIDTH)]
    lines += [""] * bool(headline)
    lines += laid_out(columns, summary, {mean: "mean response (min)", "from report": ""} if detection else None)
    reps = first.get("reps", 0)
    notes = [f"± = half-width of the 95% interval over {reps} replication{'s' * (reps != 1)}."]
    if deterrence:
        notes.append(f"late/week = incidents a week reached after {target_min:g} min or never (a count: see below).")
    notes.append(f"P{level} = priority-{level} incidents as handled (an escalated incident counts at the priority it "
                 "escalated to), pooled over replications, with its 95% Wilson interval.")
    if detection:
        notes.append("Response from creation: from when the incident arose (the public's report delay included); "
                     "from report: from when dispatch heard of it.")
    notes.append("p90 in min. busy = mean share of the measured time a unit spent on incidents (from dispatch to "
                 "leaving the scene).")
    lines += textwrap.wrap(" ".join(notes), WIDTH)
    lines += _count_lines(summary, target_min, weeks, deterrence, count_scale)
    lines += _paired_lines(comparison, target_min, deterrence)
    lines += _worst_lines(worst or {}, target_min, worst_of)
    return "\n".join(lines)


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _count_lines(summary: Sequence[dict], target_min: float, weeks: float | None, deterrence: bool,
                 scale: float) -> list[str]:
    """The counts per week of each plan (candidates and prevented with deterrence), times ``scale``
    (below 1: a clock shorter than a week, its counts as counted in the ``weeks`` measured)."""
    if not summary or "incidents_per_week" not in summary[0]:
        return []
    names = [("incidents", "incidents"), ("in_target", "in time"), ("late", "late"), ("unanswered", "unanswered")]
    if deterrence:
        names = [("candidates", "candidates"), ("prevented", "prevented"), *names]
    columns: list[Column] = [("plan", lambda row: row["plan"]), ("units", lambda row: f"{row['units']:,}")]
    columns += [(title, lambda row, name=name: _pw(_times(row[f"{name}_per_week"], scale),
                                                   _times(row[f"{name}_per_week_ci95"], scale)))
                for name, title in names]
    if scale < 1:
        heading = (f"Incidents in the {weeks * 7 * 24:,.0f} h measured of each replication (summary.csv gives them "
                   "a week)")
    else:
        heading = "Incidents a week" + (f" ({weeks * 7 * 24:,.0f} h measured)" if weeks is not None else "")
    lines = ["", f"{heading}, mean ± 95% interval over replications:", *laid_out(columns, summary)]
    text = ("incidents = counted (created after the warm-up" + (", not prevented" if deterrence else "")
            + f") = in time (first unit within {target_min:g} min) + late (after it, or never); unanswered = "
            "counted incidents with no unit on scene by the end of the clock.")
    if deterrence:
        text = ("candidates = incidents that would arise with no deterrence = prevented (deterred) + incidents; "
                + text)
    return lines + textwrap.wrap(text, WIDTH)


def _paired_lines(comparison: Sequence[dict], target_min: float, deterrence: bool = False) -> list[str]:
    """Each plan minus the reference, paired by replication, with a one-word verdict per figure
    (late incidents a week first with deterrence)."""
    others = [row for row in comparison if row["verdict"] != "reference"]
    if not others:
        return []
    reference = others[0]["reference"]
    within = ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict", f"≤{target_min:g} min (pts)")
    mean = ("response_diff_min", "response_diff_ci95", "verdict", "mean response (min)")
    if deterrence:
        figures = [("late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict", "late/week"), within,
                   mean]
    else:
        figures = [mean, within, ("p90_diff_min", "p90_diff_ci95", "p90_verdict", "p90 (min)")]
    reasons: list[str] = []

    def cell(row: Mapping, diff: str, half: str, word: str) -> str:
        verdict = row[word]
        if verdict not in _SHORT_VERDICT:
            reasons.append(verdict)
        shown = _pw if diff == "late_per_week_diff" else _pm
        return f"{shown(row[diff], row[half], sign=True)} {_SHORT_VERDICT.get(verdict, ''):7s}"

    columns: list[Column] = [("plan", lambda row: row["plan"]), ("units", lambda row: f"{row['units']:,}")]
    columns += [(title, lambda row, d=diff, h=half, w=word: cell(row, d, h, w)) for diff, half, word, title in figures]
    lines = ["", f"vs {reference} ({others[0]['reference_units']:,} units), paired by replication (plan minus "
                 f"{reference}, 95% interval):", *laid_out(columns, others)]
    lines.append("better/worse: the interval excludes 0; unclear: it does not. comparison_pairs.csv has every pair.")
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
    width = max([18, *(len(plan) for plan in worst)])   # plan names whole: the column is as wide as the longest
    for plan, found in worst.items():
        cells = [f"{row[name]} {row['late']:,}/{row['incidents']:,} late "
                 f"({_fmt(row['within_target_low_pct'], 0)}–{_fmt(row['within_target_high_pct'], 0)}% in time)"
                 for row in found.rows] or ["none late"]
        note = found.note(messages("en"), what, name)  # the terminal's tables are in English
        cells[-1] += ";" if note else ""
        lines += _flowed(f"{plan:{width}s} ", [*cells, *([note] if note else [])])
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
