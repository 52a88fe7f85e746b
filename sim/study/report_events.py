"""The report page's section on calendar events, from events.csv: for each event, its own
incidents and, per plan and window (during it, each hour after it until the effect is gone), how
the other incidents were answered with the event and without it."""
from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

from sim.study.events import AFTER_MAX_H, MIN_REPS_NOISE, SMALL_REPS_NOTE

Row = Mapping[str, str]


def _num(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _fmt(value: Any, digits: int = 1) -> str:
    number = _num(value)
    return "–" if number is None else f"{number:,.{digits}f}".replace("-", "−")


def _pct(value: Any) -> str:
    return "–" if _num(value) is None else f"{_fmt(value, 0)}%"


def _diff(row: Row) -> str:
    """The paired difference ± its 95% half-width, and the verdict when it is one."""
    diff, half = _num(row.get("others_response_diff_min")), _num(row.get("others_response_diff_ci95"))
    if diff is None:
        return "–"
    text = f"{diff:+,.1f}".replace("-", "−") + ("" if half is None else f" ± {half:,.1f}")
    word = row.get("others_response_verdict", "")
    kind = {"better": "better", "worse": "worse"}.get(word)
    return text + (f'<br><span class="verdict {kind}">{escape(word)}</span>' if kind else "")


def _window(row: Row) -> str:
    """``during`` or ``2 h after``, and below it the window's hours (``14:00–15:00``)."""
    name = row["window"]
    label = "during" if name == "during" else name.replace("after_", "").replace("h", " h after")
    hours = f"{str(row.get('start', ''))[11:16]}–{str(row.get('end', ''))[11:16]}"
    return f"{escape(label)}<br><small>{escape(hours)}</small>"


def _gone(row: Row) -> str:
    hours = _num(row.get("recovered_after_h"))
    if hours is None:
        return f"not within {AFTER_MAX_H} h of its end"
    return "by its end" if hours == 0 else f"{hours:.0f} h after its end"


def events_section(data: Mapping[str, Any]) -> str:
    """The section (with its heading), or "" for a scenario without calendar events."""
    raw_events = [e for e in data["manifest"]["scenario"].get("events") or [] if isinstance(e, dict)]
    if not raw_events:
        return ""
    rows: Sequence[Row] | None = data.get("events")
    head = '<section id="events">\n<h2>What each event does to everyone else</h2>\n'
    if not rows:
        return (head + '<p class="unavailable">Not available: the runs without each event were not made '
                "(they were skipped, or the folder has no events.csv).</p>\n</section>")
    target = f"{_num(data['manifest']['scenario'].get('target_response_min')) or 0:g} min"
    parts = [head, "<p>Each replication was run again without the event's incidents: with common random numbers "
             "every other incident arises at the same time and place, so the difference is the event's knock-on "
             "effect alone. Per window (the event itself, then each hour after it, until the first hour without "
             "an effect): the other incidents created in it (per replication), their mean response with the event "
             f"and without it, the paired difference (± 95% interval over replications), the share reached within "
             f"{target} and the incidents reached late (per replication). From events.csv.</p>"]
    if min(int(_num(row.get("reps")) or 0) for row in rows) < MIN_REPS_NOISE:
        parts.append(f'<p class="note">{escape(SMALL_REPS_NOTE)}</p>')
    for event in dict.fromkeys(row["event"] for row in rows):
        mine = [row for row in rows if row["event"] == event]
        first = mine[0]
        own = "; ".join(f"{escape(plan)}: {_fmt(row.get('event_incidents'))} a replication, mean response "
                        f"{_fmt(row.get('event_response_mean_min'))} min, {_fmt(row.get('event_within_target_pct'), 0)}% "
                        f"within {target}, effect on the others gone {_gone(row)}"
                        for plan, row in {row["plan"]: row for row in mine}.items())
        header = ('<tr><th class="name">plan</th><th>window</th><th>others</th><th>mean response with (min)</th>'
                  "<th>without</th><th>difference</th><th>within target with</th><th>without</th><th>late with</th>"
                  "<th>without</th></tr>")
        body = "".join(
            f'<tr><td class="name">{escape(row["plan"]) if row["window"] == "during" else ""}</td>'
            f"<td>{_window(row)}</td><td>{_fmt(row.get('others_incidents'))}</td>"
            f"<td>{_fmt(row.get('others_response_mean_min'))}</td>"
            f"<td>{_fmt(row.get('others_response_mean_min_without'))}</td><td class=\"num\">{_diff(row)}</td>"
            f"<td>{_pct(row.get('others_within_target_pct'))}</td>"
            f"<td>{_pct(row.get('others_within_target_pct_without'))}</td>"
            f"<td>{_fmt(row.get('others_late'))}</td><td>{_fmt(row.get('others_late_without'))}</td></tr>"
            for row in mine)
        when = str(first.get("start", "")).replace("T", " ")
        parts.append(f"<h3>{escape(first.get('event_name') or event)} <small>({escape(event)}, from "
                     f"{escape(when)})</small></h3>\n<p>Its own incidents: {own}.</p>\n"
                     f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{body}</tbody></table></div>')
    return "\n".join(parts) + "\n</section>"
