"""The report page's numbers and table cells, in the page's language: a figure ± its 95% interval, a
share in the colour of the share scale (sim.viz.palette, as on the maps and the heat table), the
target, a date; numbers written by ``Messages.num``."""
from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Any, Mapping

from sim.i18n import Messages
from sim.viz.palette import share_colour, share_ink, share_key

Row = Mapping[str, str]


def num(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def fmt(m: Messages, value: Any, digits: int = 1) -> str:
    number = num(value)
    return "–" if number is None else m.num(number, f",.{digits}f").replace("-", "−")


def pm(m: Messages, mean: Any, ci: Any, digits: int = 1) -> str:
    if num(mean) is None:
        return "–"
    return fmt(m, mean, digits) + ("" if num(ci) is None else f" ± {fmt(m, ci, digits)}")


def share_cell(m: Messages, row: Mapping[str, Any], note: str, digits: int = 1) -> str:
    """A table cell: the share within target ± its 95% half-width, coloured, with a small note below."""
    share = num(row.get("within_target_pct"))
    return (f'<td class="share"{share_style(share)}>{pm(m, share, row.get("within_target_ci95"), digits)}'
            f"<br><small>{note}</small></td>")


def share_style(share: float | None) -> str:
    """The cell's background and ink: the share's class colour (sim.viz.palette, as on the maps and
    the heat table)."""
    if share is None:
        return ""
    return f' style="background:{share_colour(share)};color:{share_ink(share)}"'


def key_html(m: Messages) -> str:
    """The share scale's classes as small coloured words (sim.viz.palette)."""
    return ", ".join(f'<span class="key" style="background:{colour}">&nbsp;&nbsp;</span> {escape(words)}'
                     for colour, words in share_key(m)[:-1])


def target_text(m: Messages, manifest: Mapping[str, Any]) -> str:
    return m("common.minutes", n=m.num(num(manifest["scenario"].get("target_response_min")) or 0, "g"))


def when_text(m: Messages, text: Any) -> str:
    """A date and time of the scenario (ISO, as in the files) written as the language writes it;
    a text that is not one, as it is."""
    try:
        return m.date(datetime.fromisoformat(str(text)))
    except ValueError:
        return str(text)


def late_item(m: Messages, name: str, row: Row) -> str:
    """``Name (3 of 9 late; 40–80% in time)``: a worst site's or kecamatan's figures."""
    return m("report.worst.item", name=escape(name), late=fmt(m, row["late"], 0), incidents=fmt(m, row["incidents"], 0),
             low=fmt(m, row["within_target_low_pct"], 0), high=fmt(m, row["within_target_high_pct"], 0))


def bounded_cell(m: Messages, row: Mapping[str, Any], note: str) -> str:
    """A table cell: the pooled share within target and its 95% Wilson interval (from 0 to 100),
    coloured, with a small note below; a narrow column breaks the note only after its punctuation
    (``8 late;`` / ``post 38.9 min``), never between a number and its unit."""
    note = re.sub(r"(?<![;,]) ", "\u00a0", note)
    share = num(row.get("within_target_pooled_pct"))
    if share is None:
        return f'<td class="share">–<br><small>{note}</small></td>'
    low, high = fmt(m, row.get("within_target_low_pct"), 0), fmt(m, row.get("within_target_high_pct"), 0)
    return (f'<td class="share"{share_style(share)}>{fmt(m, share, 0)}% <small>({low}–{high})</small>'
            f"<br><small>{note}</small></td>")
