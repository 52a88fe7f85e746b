"""The report page's section on calendar events, from events.csv: for each event, its own
incidents and, per plan and window (during it, each hour after it until the effect is gone), how
the other incidents were answered with the event and without it. Words from the message
catalogue (``report.events.*``) through the ``Messages`` given."""
from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Mapping, Sequence

from sim.i18n import Messages
from sim.study.events import AFTER_MAX_H, MIN_REPS_NOISE
from sim.study.report_cells import fmt, num
from sim.viz.words import verdict_words

Row = Mapping[str, str]


def _pct(m: Messages, value: Any) -> str:
    return "–" if num(value) is None else f"{fmt(m, value, 0)}%"


def _diff(m: Messages, row: Row) -> str:
    """The paired difference ± its 95% half-width, and the verdict when it is one."""
    diff, half = num(row.get("others_response_diff_min")), num(row.get("others_response_diff_ci95"))
    if diff is None:
        return "–"
    text = m.num(diff, "+,.1f").replace("-", "−") + ("" if half is None else f" ± {m.num(half, ',.1f')}")
    word = row.get("others_response_verdict", "")
    kind = {"better": "better", "worse": "worse"}.get(word)
    return text + (f'<br><span class="verdict {kind}">{escape(verdict_words(word, m))}</span>' if kind else "")


def _window(m: Messages, row: Row) -> str:
    """``during`` or ``2 h after``, and below it the window's hours (``14:00–15:00``)."""
    name = row["window"]
    label = m("report.events.during") if name == "during" else \
        m("report.events.after", hours=name.replace("after_", "").replace("h", ""))
    hours = f"{str(row.get('start', ''))[11:16]}–{str(row.get('end', ''))[11:16]}"
    return f"{escape(label)}<br><small>{escape(hours)}</small>"


def _gone(m: Messages, row: Row) -> str:
    hours = num(row.get("recovered_after_h"))
    if hours is None:
        return m("report.events.gone.never", hours=AFTER_MAX_H)
    return m("report.events.gone.byEnd") if hours == 0 else m("report.events.gone.after", hours=m.num(hours, ".0f"))


def _when(m: Messages, text: str) -> str:
    try:
        return m.date(datetime.fromisoformat(text))
    except ValueError:
        return text.replace("T", " ")


def events_section(data: Mapping[str, Any], m: Messages) -> str:
    """The section (with its heading), or "" for a scenario without calendar events."""
    raw_events = [e for e in data["manifest"]["scenario"].get("events") or [] if isinstance(e, dict)]
    if not raw_events:
        return ""
    rows: Sequence[Row] | None = data.get("events")
    head = f'<section id="events">\n<h2>{m("report.events.title")}</h2>\n'
    if not rows:
        return head + f'<p class="unavailable">{m("report.events.unavailable")}</p>\n</section>'
    target = m("common.minutes", n=m.num(num(data["manifest"]["scenario"].get("target_response_min")) or 0, "g"))
    parts = [head, f"<p>{m('report.events.intro', target=target)}</p>"]
    if min(int(num(row.get("reps")) or 0) for row in rows) < MIN_REPS_NOISE:
        parts.append(f'<p class="note">{escape(m("report.events.fewReps", reps=MIN_REPS_NOISE))}</p>')
    for event in dict.fromkeys(row["event"] for row in rows):
        mine = [row for row in rows if row["event"] == event]
        first = mine[0]
        own = "; ".join(m("report.events.own.plan", plan=escape(plan), incidents=fmt(m, row.get("event_incidents")),
                          mean=fmt(m, row.get("event_response_mean_min")),
                          share=fmt(m, row.get("event_within_target_pct"), 0), target=target, gone=_gone(m, row))
                        for plan, row in {row["plan"]: row for row in mine}.items())
        header = f'<tr><th class="name">{m("report.plan")}</th>' + "".join(
            f"<th>{m('report.events.head.' + key)}</th>" for key in (
                "window", "others", "meanWith", "without", "difference", "withinWith", "without", "lateWith",
                "without")) + "</tr>"
        body = "".join(
            f'<tr><td class="name">{escape(row["plan"]) if row["window"] == "during" else ""}</td>'
            f"<td>{_window(m, row)}</td><td>{fmt(m, row.get('others_incidents'))}</td>"
            f"<td>{fmt(m, row.get('others_response_mean_min'))}</td>"
            f"<td>{fmt(m, row.get('others_response_mean_min_without'))}</td><td class=\"num\">{_diff(m, row)}</td>"
            f"<td>{_pct(m, row.get('others_within_target_pct'))}</td>"
            f"<td>{_pct(m, row.get('others_within_target_pct_without'))}</td>"
            f"<td>{fmt(m, row.get('others_late'))}</td><td>{fmt(m, row.get('others_late_without'))}</td></tr>"
            for row in mine)
        when = _when(m, str(first.get("start", "")))
        parts.append(f"<h3>{escape(first.get('event_name') or event)} <small>"
                     f"{m('report.events.from', event=escape(event), when=escape(when))}</small></h3>\n"
                     f"<p>{m('report.events.own', own=own)}</p>\n"
                     f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{body}</tbody></table></div>')
    return "\n".join(parts) + "\n</section>"
