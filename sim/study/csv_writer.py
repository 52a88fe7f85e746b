"""The result files' CSV text, written column by column: byte for byte what ``csv.writer`` writes
for the cells the result files hold (floats with 4 decimals, None and NaN empty, text quoted
where CSV needs it), in a fraction of the time.

Each column becomes a block of bytes, one fixed-width row per cell with NUL bytes where the cell
is shorter; the blocks are laid side by side with the commas and line ends, and the NUL bytes
are dropped, which leaves the text. A float is laid out from its value times 10,000 rounded to a
whole number, in groups of four digits looked up in a table: what ``f"{value:.4f}"`` prints
(both round the exact binary value to 4 decimals) wherever the product is not within a hundredth
of a half, where the float product could round the other way. Those few values, and negative,
non-finite or huge ones, are printed by Python. Whole numbers are laid out the same way; text
goes through ``csv.writer`` once per distinct value; any other column cell by cell.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Iterable, Mapping, Sequence

import numpy as np

MAX_FAST = 1e8  # larger magnitudes are printed by Python (times 10,000, the float product is within 1e-4)
NEAR_HALF = 1e-2  # a product this close to a half is printed by Python
CHUNK_ROWS = 50_000  # rows laid out at once (memory: about 250 bytes a row)


def cell(value) -> str:
    """One value as the result files write it: floats with 4 decimals, None and NaN empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _group_table(padded: bool) -> np.ndarray:
    """(10000, 4) bytes of 0..9999: zero-padded, or right-aligned after NULs (0 as "0")."""
    text = [f"{k:04d}" if padded else f"{k:>4d}".replace(" ", "\0") for k in range(10_000)]
    return np.frombuffer("".join(text).encode(), np.uint8).reshape(10_000, 4)


_PADDED, _UNPADDED = _group_table(True), _group_table(False)
_LEADING = _UNPADDED.copy()
_LEADING[0] = 0  # a leading group of 0 is no digits at all


def _whole_block(whole: np.ndarray) -> np.ndarray:
    """(n, 8): the digits of whole numbers 0 <= w < 10**8, NUL before them."""
    high, low = np.divmod(whole, 10_000)
    return np.concatenate([_LEADING[high], np.where((high > 0)[:, None], _PADDED[low], _UNPADDED[low])], axis=1)


def _with_python_cells(block: np.ndarray, rows: np.ndarray, texts: list[str]) -> np.ndarray:
    """``block`` with the cells of ``rows`` replaced by ``texts`` (NUL-padded, the block widened if needed)."""
    if not len(rows):
        return block
    encoded = [text.encode("utf-8") for text in texts]
    width = max(block.shape[1], max(map(len, encoded)))
    if width > block.shape[1]:
        block = np.concatenate([block, np.zeros((len(block), width - block.shape[1]), np.uint8)], axis=1)
    block[rows] = np.frombuffer(b"".join(e.ljust(width, b"\0") for e in encoded), np.uint8).reshape(-1, width)
    return block


def _float_block(values: list) -> np.ndarray:
    x = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    fast = (x < MAX_FAST) & ~np.signbit(x)  # NaN, inf and negative values (-0.0 too) are not
    scaled = np.where(fast, x, 0.0) * 1e4
    fast &= np.abs(scaled - np.floor(scaled) - 0.5) > NEAR_HALF
    whole, fraction = np.divmod(np.rint(np.where(fast, scaled, 0.0)).astype(np.int64), 10_000)
    fast &= whole < 10**8  # (a value just under MAX_FAST may round up to it)
    whole = np.where(fast, whole, 0)
    point = np.full((len(x), 1), ord("."), np.uint8)
    block = np.concatenate([_whole_block(whole), point, _PADDED[fraction]], axis=1)
    slow = np.flatnonzero(~fast)
    return _with_python_cells(block, slow, [cell(values[i]) for i in slow.tolist()])


def _int_block(values: list) -> np.ndarray:
    x = np.array(values, dtype=np.int64)
    fast = (x >= 0) & (x < 10**8)
    block = _whole_block(np.where(fast, x, 0))
    slow = np.flatnonzero(~fast)
    return _with_python_cells(block, slow, [str(values[i]) for i in slow.tolist()])


def _quoted(text: str) -> bytes:
    """One text cell as csv.writer writes it among others (quoted where CSV needs it)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[:-2].encode("utf-8")


def _table_block(values: list, keys: list) -> np.ndarray | None:
    """Cells looked up by ``keys`` in a table of each distinct key's written cell (values with one
    key write alike); None if one holds a NUL byte."""
    written = {key: _quoted(cell(value)) for key, value in dict(zip(keys, values)).items()}
    index = {key: i for i, key in enumerate(written)}
    width = max(1, max(map(len, written.values())))
    table = b"".join(text.ljust(width, b"\0") for text in written.values())
    if b"\0" in b"".join(written.values()):
        return None
    return np.frombuffer(table, np.uint8).reshape(-1, width)[np.array([index[key] for key in keys], np.int64)]


def _block(values: list) -> np.ndarray | None:
    """The column's cells as an (n, width) NUL-padded byte block; None if a cell holds a NUL."""
    kinds = set(map(type, values))
    if kinds <= {float, type(None)}:
        return _float_block(values)
    if kinds == {int} and -2**62 < min(values) and max(values) < 2**62:
        return _int_block(values)
    if kinds <= {str, type(None)}:
        return _table_block(values, values)
    # mixed kinds, numpy numbers, bools: a value of one type writes as any equal one (NaN: itself)
    return _table_block(values, [(type(v), v) if v == v else (type(v), id(v)) for v in values])


def _chunk_text(columns: Sequence[str], values: Mapping[str, list], start: int, stop: int) -> str | None:
    blocks = [_block(list(values[c][start:stop])) for c in columns]
    if any(block is None for block in blocks):
        return None
    n = stop - start
    comma, newline = np.full((n, 1), ord(","), np.uint8), np.full((n, 1), ord("\n"), np.uint8)
    parts = [part for block in blocks for part in (block, comma)]
    parts[-1] = newline
    laid = np.concatenate(parts, axis=1).ravel()
    return laid[laid != 0].tobytes().decode("utf-8")


def _rows_text(columns: Sequence[str], values: Mapping[str, list], n: int) -> str:
    """The lines of the rows as csv.writer writes them, one cell at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([cell(values[c][i]) for c in columns] for i in range(n))
    return buffer.getvalue()


def csv_columns_text(columns: Sequence[str], values: Mapping[str, Sequence], header: bool = True) -> str:
    """CSV text of a table given column by column (``values[column]``, sequences of equal length);
    without ``header``, its rows only (a piece of a table written in pieces)."""
    buffer = io.StringIO()
    if header:
        csv.writer(buffer, lineterminator="\n").writerow(columns)
    n = len(values[columns[0]]) if columns else 0
    # csv.writer quotes a row of one empty cell: a table of one column is written as it does.
    if len(columns) < 2:
        return buffer.getvalue() + _rows_text(columns, values, n)
    lines = []
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        text = _chunk_text(columns, values, start, stop)
        lines.append(text if text is not None else _rows_text(columns, {c: values[c][start:stop] for c in columns},
                                                              stop - start))
    return buffer.getvalue() + "".join(lines)


def csv_rows_text(columns: Sequence[str], rows: Iterable[Mapping], header: bool = True) -> str:
    """CSV text of rows (dicts holding every column), column by column; without ``header``, the rows only."""
    rows = rows if isinstance(rows, list) else list(rows)
    return csv_columns_text(columns, {c: [row[c] for row in rows] for c in columns}, header)
