"""Which plan is best, compared fairly: among plans with as many units as the reference, by the
figure that points the right way, and what a plan with more units buys with its extra units.

The headline figure is the share of counted incidents reached within the target, except with
deterrence: there a plan that prevents incidents shrinks the denominator of its own share, so the
headline is late incidents per week (a count of incidents that arose and were reached late or
never), which a prevented incident lowers as it should. Rows may be numbers (``Results``) or the
text of the CSV files (the report) alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sim.i18n import Messages
from sim.viz.words import verdict_words

Row = Mapping[str, Any]


def number(value: Any) -> float:
    """A figure from a row of numbers or of CSV text; NaN when empty or missing."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class Measure:
    """The figure plans are ranked by: a summary column, its interval column, and its direction."""

    column: str
    ci_column: str
    higher_is_better: bool
    label: str  # in words, with the target: "share within 15 min"
    suffix: str  # after a value: "% within 15 min"

    def key(self, row: Row) -> float:
        """Sort key, best first; a plan without the figure last."""
        value = number(row.get(self.column))
        if math.isnan(value):
            return math.inf
        return -value if self.higher_is_better else value


def headline_measure(deterrence: bool, target_min: float, m: Messages) -> Measure:
    """Late incidents per week with deterrence (a share would mislead there), else the share within
    target; its words in the language of ``m``."""
    target = m.num(target_min, "g")
    if deterrence:
        return Measure("late_per_week", "late_per_week_ci95", False, m("common.measure.late", target=target),
                       m("common.measure.late.suffix"))
    return Measure("within_target_pct", "within_target_ci95", True, m("common.measure.share", target=target),
                   m("common.measure.share.suffix", target=target))


def share_misleads(m: Messages) -> str:
    """Why a share within target would mislead with deterrence, in words."""
    return m("common.measure.shareMisleads")


def units(row: Row) -> int | None:
    """A plan's number of units from its summary row (None if the row does not say)."""
    value = number(row.get("units"))
    return None if math.isnan(value) else int(value)


def best_plan(summary: Sequence[Row], reference: str, measure: Measure) -> str:
    """The best plan by ``measure`` among those with as many units as ``reference`` (the first of
    equals in run order); every plan when the rows do not say their units."""
    by_plan = {row["plan"]: row for row in summary}
    fleet = units(by_plan[reference])
    peers = [row for row in summary if units(row) == fleet]
    return min(peers, key=measure.key)["plan"]


def larger_plans(summary: Sequence[Row], reference: str) -> list[Row]:
    """The plans with more units than ``reference``, fewest units first."""
    fleet = units(next(row for row in summary if row["plan"] == reference))
    if fleet is None:
        return []
    return sorted((row for row in summary if (units(row) or 0) > fleet), key=lambda row: units(row) or 0)


def _pm(m: Messages, value: Any, half: Any, digits: int = 1, sign: bool = False) -> str:
    mean, ci = number(value), number(half)
    if math.isnan(mean):
        return "–"
    text = m.num(mean, f"{'+' * sign}.{digits}f")
    return text if math.isnan(ci) else f"{text} ± {m.num(ci, f'.{digits}f')}"


def figure_text(row: Row, measure: Measure, m: Messages) -> str:
    """``78.8 ± 4.3% within 15 min`` or ``9.4 ± 1.2 late a week``."""
    return _pm(m, row.get(measure.column), row.get(measure.ci_column)) + measure.suffix


def headline(summary: Sequence[Row], pairs: Sequence[Row], reference: str, measure: Measure,
             target_min: float, m: Messages) -> list[str]:
    """Sentences naming the best plan among those with the reference's fleet size, and each plan
    with more units with what its extra units buy against that best plan (paired, from
    ``pairs``: comparison_pairs.csv rows; without them, the two figures side by side)."""
    by_plan = {row["plan"]: row for row in summary}
    best = best_plan(summary, reference, measure)
    fleet = units(by_plan[best])
    size = (m("common.headline.size.one" if fleet == 1 else "common.headline.size", n=fleet)
            if fleet is not None else m("common.headline.size.unknown"))
    peers = "" if best == reference else m("common.headline.peers", reference=reference)
    lines = [m("common.headline.best", measure=measure.label, size=size, peers=peers, best=best,
               figure=figure_text(by_plan[best], measure, m))]
    pair = {(row.get("plan"), row.get("other")): row for row in pairs}
    if best != reference:
        lines[-1] += m("common.headline.reference", reference=reference,
                       figure=figure_text(by_plan[reference], measure, m))
        against = pair.get((best, reference))
        if against is not None:
            diff, ci, word, what = (
                ("late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict", "common.headline.late")
                if measure.column == "late_per_week" else
                ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict", "common.headline.points"))
            lines[-1] += m("common.headline.paired", best=best, what=m(what),
                           diff=_pm(m, against.get(diff), against.get(ci), sign=True),
                           verdict=verdict_words(against.get(word), m))
        lines[-1] += "."
    for row in larger_plans(summary, best):
        extra = (units(row) or 0) - (fleet or 0)
        text = m("common.headline.larger", plan=row["plan"], units=units(row), extra=extra, best=best,
                 figure=figure_text(row, measure, m))
        buys = pair.get((row["plan"], best))
        if buys is not None:
            # The ranking's own measure first: with deterrence the share can point the wrong way.
            key = ("common.headline.buys" + (".late" if measure.column == "late_per_week" else "")
                   + (".one" if extra == 1 else ""))
            text += m(key, best=best, target=m.num(target_min, "g"),
                      share=_pm(m, buys.get("within_target_diff_pct"), buys.get("within_target_diff_ci95"), sign=True),
                      late=_pm(m, buys.get("late_per_week_diff"), buys.get("late_per_week_diff_ci95"), sign=True))
        lines.append(text + ".")
    return lines
