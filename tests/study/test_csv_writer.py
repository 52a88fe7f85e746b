"""The column-by-column CSV writer gives the bytes the cell-by-cell writer gave, for any rows."""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from sim.study.csv_writer import MAX_FAST, cell, csv_columns_text, csv_rows_text
from sim.study.tables import PIECE_ROWS, csv_piece_calls, csv_text


def old_csv_text(columns, rows) -> str:
    """The writer the result files had: csv.writer, row by row, cell by cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row[c]) for c in columns])
    return buffer.getvalue()


def awkward_floats(rng: np.random.Generator, n: int) -> list:
    """Floats of every kind a result file meets, and some it should not: exact ties at the fifth
    decimal (1.03125), values a hair either side of a tie, -0.0, tiny, huge, NaN, inf, None."""
    exact_ties = (rng.integers(0, 10**6, n) * 2 + 1) / 2**5  # k/32: many are ties at 4 decimals
    near = np.round(rng.uniform(0, 500, n), 4) + 0.00005
    near = near + rng.choice([-1, 0, 1], n) * np.spacing(near)
    wild = np.concatenate([rng.exponential(30.0, n), -rng.exponential(3.0, n), rng.uniform(-1e-5, 1e-5, n),
                           10.0 ** rng.uniform(-8, 14, n), [0.0, -0.0, MAX_FAST, np.nextafter(MAX_FAST, 0), 1e300,
                                                           -1e300, 5e-5, -5e-5, 0.00015, 2.00005]])
    values = np.concatenate([exact_ties, near, wild]).tolist()
    values += [math.nan, math.inf, -math.inf, None] * (n // 50 + 1)
    order = rng.permutation(len(values))
    return [values[i] for i in order]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_columns_of_floats_are_written_as_the_old_writer_did(seed):
    rng = np.random.default_rng(seed)
    a, b = awkward_floats(rng, 4000), awkward_floats(rng, 4000)
    n = min(len(a), len(b))
    rows = [{"a": a[i], "b": b[i]} for i in range(n)]
    assert csv_rows_text(["a", "b"], rows) == old_csv_text(["a", "b"], rows)


def test_every_kind_of_cell_is_written_as_the_old_writer_did():
    rng = np.random.default_rng(7)
    n = 3000
    texts = ["", "plain", "with,comma", 'with "quotes"', "two\nlines", "carriage\rreturn", " spaced ", "Jalan Ambulu ü",
             "-", "'", None]
    columns = {
        "text": [texts[i] for i in rng.integers(0, len(texts), n)],
        "whole": rng.integers(-10**15, 10**15, n).tolist(),
        "small": rng.integers(0, 3, n).tolist(),
        "huge_int": [2**70, -(2**70)] * (n // 2),
        "flag": [bool(x) for x in rng.integers(0, 2, n)],
        "mixed": [[1, 2.5, None, "x", True, np.float64(3.14159), math.nan][i % 7] for i in range(n)],
        "numpy_floats": [np.float64(x) for x in rng.exponential(10.0, n)],
        "floats": awkward_floats(rng, 1000)[:n],
        "empty": [""] * n,
    }
    rows = [{c: values[i] for c, values in columns.items()} for i in range(n)]
    assert csv_rows_text(list(columns), rows) == old_csv_text(list(columns), rows)
    assert csv_columns_text(list(columns), columns) == old_csv_text(list(columns), rows)


def test_a_table_of_one_column_and_an_empty_table_are_written_as_before():
    rows = [{"a": None}, {"a": 1.5}, {"a": ""}, {"a": "x,y"}]
    assert csv_rows_text(["a"], rows) == old_csv_text(["a"], rows)
    assert csv_rows_text(["a", "b"], []) == old_csv_text(["a", "b"], []) == "a,b\n"


@pytest.mark.parametrize("n_rows", [0, 1, PIECE_ROWS - 1, PIECE_ROWS, 2 * PIECE_ROWS + 7])
def test_a_table_written_in_pieces_joins_to_the_table_written_whole(n_rows):
    rng = np.random.default_rng(n_rows)
    rows = [{"plan": "p", "response_min": x} for x in rng.exponential(10.0, n_rows).tolist()]
    whole = csv_text(["plan", "response_min"], rows)
    pieces = csv_piece_calls(["plan", "response_min"], rows, processes=2)
    assert len(pieces) == max(1, math.ceil(n_rows / PIECE_ROWS)), "one piece per PIECE_ROWS rows"
    assert "".join(piece() for piece in pieces) == whole, "the pieces joined in order are not the whole table"
    alone = csv_piece_calls(["plan", "response_min"], rows, processes=1)
    assert len(alone) == 1 and alone[0]() == whole, "one process writes the table in one piece"
