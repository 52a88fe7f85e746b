"""Shares of a group's incidents (a site, an area, a priority) with an interval that stays inside
[0, 100] and says how many incidents it rests on, and the "worst" list of groups ranked by a count.

A group's share within target is pooled over every replication: ``in_target`` of ``n`` counted
incidents, with the Wilson score interval (95%). Unlike a Student-t interval over a few
replications' shares ("8 ± 36"), it never leaves [0, 100] and narrows with n. It treats the
incidents as independent trials; incidents of one replication share its queue, so read it as a
lower bound on the uncertainty.

Worst lists rank groups by their late incidents (a count: a site with one late incident of one is
not worse than one with 30 of 200), and say which groups tie with the last one listed and which
rest on few incidents.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sim.i18n import Messages

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile
SMALL_N = 10  # a share resting on fewer counted incidents than this is flagged as unreliable
# The columns a breakdown (sites.csv, priorities.csv, areas) adds for its pooled share.
SHARE_COLUMNS = ["in_target", "late", "within_target_pooled_pct", "within_target_low_pct", "within_target_high_pct"]


def wilson_pct(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high) of the Wilson score interval of ``hits`` of ``n``, in percent; NaN for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    low, high = (centre - spread) / scale, (centre + spread) / scale
    # At 0 or n hits one bound is 0 or 1 exactly; rounding must not put it a hair outside.
    return 100.0 * max(0.0, low if hits else 0.0), 100.0 * min(1.0, high if hits < n else 1.0)


def share_columns(in_target: int, late: int) -> dict:
    """The SHARE_COLUMNS of a group with ``in_target`` and ``late`` counted incidents."""
    n = in_target + late
    low, high = wilson_pct(in_target, n)
    return {"in_target": in_target, "late": late,
            "within_target_pooled_pct": 100.0 * in_target / n if n else math.nan,
            "within_target_low_pct": low, "within_target_high_pct": high}


def _number(value: Any) -> float | None:
    """A figure from a row of numbers or of CSV text (None when empty or missing)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Worst:
    """A worst list: ``rows`` in rank order (most late first), ``tied`` more groups beyond the list
    with as many late incidents as its last row, and the ``small`` rows among those shown that rest
    on fewer than ``small_n`` incidents."""

    rows: list[Mapping[str, Any]]
    tied: int
    small: list[Mapping[str, Any]]
    small_n: int = SMALL_N

    def note(self, m: Messages, what: str = "sites", name: str = "site_name") -> str:
        """What the list leaves unsaid, in words ("" when nothing): ties beyond it, small n; ``what``
        is "sites" or "kecamatan"."""
        parts = []
        if self.tied:
            key = f"common.worst.tied.{what}" + ("" if self.tied > 1 else ".one")
            parts.append(m(key, n=m.num(self.tied, ","), late=m.num(_count(self.rows[-1]["late"]), ",")))
        if self.small:
            names = ", ".join(str(row.get(name) or row.get("site") or "") for row in self.small)
            parts.append(m("common.worst.small", n=self.small_n, names=names))
        return "; ".join(parts)


def _count(value: Any) -> int:
    number = _number(value)
    return 0 if number is None else int(round(number))


def worst_by_late(rows: Sequence[Mapping[str, Any]], count: int = 3, small_n: int = SMALL_N,
                  key: str = "site") -> Worst:
    """The ``count`` groups with the most late incidents (ties: the lower pooled share, then more
    incidents, then ``key``), of those with any; rows of numbers or of CSV text alike."""
    late = [row for row in rows if _count(row.get("late")) > 0]

    def rank(row: Mapping[str, Any]) -> tuple:
        share = _number(row.get("within_target_pooled_pct"))
        return -_count(row["late"]), 100.0 if share is None else share, -_count(row.get("incidents")), \
            str(row.get(key, ""))

    ranked = sorted(late, key=rank)
    shown = ranked[:count]
    tied = sum(1 for row in ranked[count:] if shown and _count(row["late"]) == _count(shown[-1]["late"]))
    small = [row for row in shown if _count(row.get("incidents")) < small_n]
    return Worst(shown, tied, small, small_n)
