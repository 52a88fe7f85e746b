"""Tables as text: the CSV files (fixed columns, floats with 4 decimals) and the terminal table;
the same rows as pandas DataFrames."""
from __future__ import annotations

import csv
import io
import math
from typing import Iterable, Sequence

NETWORK_COLUMN = "network"  # last column of summary, comparison and sweep tables: which roads (SPEC §6)


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


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def format_table(summary: Sequence[dict], comparison: Sequence[dict], target_min: float) -> str:
    """The terminal table printed after a run: headline figures with 95% intervals, verdicts."""
    verdicts = {row["plan"]: row["verdict"] for row in comparison}
    reference = comparison[0]["reference"] if comparison else ""
    header = (
        f"{'plan':22s} {'reps':>4s} {'incidents':>9s} {'mean response (min)':>19s} {'p90':>6s} "
        f"{f'within {target_min:g} min (%)':>20s} {'busy':>5s}  vs {reference}"
    )
    lines = [header, "-" * len(header)]
    for row in summary:
        mean = f"{_fmt(row['response_mean_min'])} ± {_fmt(row['response_mean_ci95'])}"
        within = f"{_fmt(row['within_target_pct'])} ± {_fmt(row['within_target_ci95'])}"
        lines.append(
            f"{row['plan'][:22]:22s} {row['reps']:4d} {row['incidents']:9d} {mean:>19s} "
            f"{_fmt(row['response_p90_min']):>6s} {within:>20s} {_fmt(row['busy_fraction_mean'], 2):>5s}  "
            f"{verdicts.get(row['plan'], '')}"
        )
    return "\n".join(lines)
