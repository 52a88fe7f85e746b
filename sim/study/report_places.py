"""The report page's sections on places: each plan's worst sites, every kecamatan with incident
sites (when there are too many sites to list), and the share in time by priority; from sites.csv,
areas.csv and priorities.csv, in the page's language."""
from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

from sim.i18n import Messages
from sim.study.report_cells import Row, bounded_cell, fmt, late_item, num, share_cell, target_text
from sim.study.shares import Worst, worst_by_late
from sim.viz.map_areas import MAX_SITES_LISTED
from sim.viz.words import kind_words, site_words

WORST_PER_PLAN = 5   # each plan's worst sites (by incidents reached late) that the site table shows
MAX_SITE_ROWS = 25   # at most this many sites in the table (a scenario may have thousands)


def late_sites(rows: Sequence[Row], plan: str, count: int) -> Worst:
    """The sites of ``plan`` with the most late incidents (sim.study.shares.worst_by_late)."""
    return worst_by_late([row for row in rows if row.get("plan") == plan], count)


def sites_section(data: Mapping[str, Any], m: Messages) -> str:
    rows = data.get("sites")
    if rows is None:
        return f'<p class="unavailable">{m("report.sites.noFile")}</p>'
    if rows and "late" not in rows[0]:
        return f'<p class="unavailable">{m("report.sites.noLate")}</p>'
    if lists_areas(data):
        return f"<p>{m('report.sites.many', n=fmt(m, incident_sites(data), 0))}</p>"
    plans = [row["plan"] for row in data["summary"]]
    cell = {(row.get("plan"), row.get("site")): row for row in rows}
    chosen: list[str] = []
    notes = []
    for plan in plans:
        worst = late_sites(rows, plan, WORST_PER_PLAN)
        chosen += [row["site"] for row in worst.rows if row["site"] not in chosen]
        if worst.note(m):
            notes.append(f"{escape(plan)}: {escape(worst.note(m))}")
    if not chosen:
        return f'<p>{m("report.sites.noneLate", target=target_text(m, data["manifest"]))}</p>'

    def total_late(site: str) -> float:
        return sum(num(cell.get((plan, site), {}).get("late")) or 0.0 for plan in plans)

    chosen = sorted(chosen, key=lambda site: (-total_late(site), site))[:MAX_SITE_ROWS]
    target = target_text(m, data["manifest"])
    header = (f'<tr><th class="name">{m("report.sites.site")}</th><th>{m("report.incidents")}</th>'
              + "".join(f"<th>{escape(plan)}</th>" for plan in plans) + "</tr>")
    body = []
    for site in chosen:
        some = next(cell[(plan, site)] for plan in plans if (plan, site) in cell)
        tds = []
        for plan in plans:
            row = cell.get((plan, site), {})
            tds.append(bounded_cell(m, row, m("report.sites.cell", late=fmt(m, row.get("late"), 0),
                                               mean=fmt(m, row.get("response_mean_min")))))
        kind = escape(kind_words(some.get("kind", ""), m, unknown=some.get("kind", "")))
        body.append(f'<tr><td class="name">{escape(site_words(some.get("site_name") or site, m))}<small>{kind}</small></td>'
                    f"<td>{fmt(m, some.get('incidents'), 0)}</td>{''.join(tds)}</tr>")
    sites = len({row.get("site") for row in rows})
    ties = "".join(f"<li>{note}</li>" for note in notes)
    intro = m("report.sites.intro", worst=WORST_PER_PLAN, target=target, rows=m.num(min(MAX_SITE_ROWS, sites), ","),
              sites=m.num(sites, ","))
    return (f"<p>{intro}</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>'
            + (f'\n<ul class="note">{ties}</ul>' if ties else ""))


# -- by kecamatan ------------------------------------------------------------------------------------


def incident_sites(data: Mapping[str, Any]) -> int:
    first = data["summary"][0]["plan"]
    return sum(int(num(row.get("sites")) or 0) for row in data.get("areas") or [] if row.get("plan") == first)


def lists_areas(data: Mapping[str, Any]) -> bool:
    """Whether the page names kecamatan instead of single sites (as the terminal table does)."""
    return incident_sites(data) > MAX_SITES_LISTED


def weakest_areas(data: Mapping[str, Any], plan: str, m: Messages) -> str:
    """The headline's line on the plan's kecamatan with the most late incidents."""
    worst = worst_by_late([row for row in data.get("areas") or [] if row.get("plan") == plan], 3, key="area")
    if not worst.rows:
        return f"<p>{m('report.areas.allInTime', target=target_text(m, data['manifest']))}</p>"
    listed = ", ".join(late_item(m, row["area"], row) for row in worst.rows)
    note = worst.note(m, "kecamatan", "area")
    return f"<p>{m('report.areas.weakest', listed=listed, note=f' ({escape(note)})' if note else '')}</p>"


def areas_section(data: Mapping[str, Any], m: Messages) -> str:
    """Every kecamatan with incident sites, most late incidents (in the drawn plan) first: per plan the
    pooled share within target with its 95% Wilson interval, the late count and the drive from the
    nearest post."""
    rows = data.get("areas")
    if rows is None:
        return f'<p class="unavailable">{m("report.areas.noFile")}</p>'
    plans = [row["plan"] for row in data["summary"]]
    cell = {(row.get("plan"), row.get("area")): row for row in rows}
    first = data.get("map_plan") or plans[0]

    def late(plan: str, area: str) -> float:
        return num(cell.get((plan, area), {}).get("late")) or 0.0

    areas = sorted(dict.fromkeys(row.get("area") for row in rows),
                   key=lambda area: (-late(first, area), -sum(late(plan, area) for plan in plans), area))
    header = (f'<tr><th class="name">{m("report.areas.kecamatan")}</th><th>{m("report.areas.sites")}</th>'
              f'<th>{m("report.incidents")}</th>' + "".join(f"<th>{escape(plan)}</th>" for plan in plans) + "</tr>")
    body = []
    for area in areas:
        some = next(cell[(plan, area)] for plan in plans if (plan, area) in cell)
        tds = [bounded_cell(m, row, m("report.areas.cell", late=fmt(m, row.get("late"), 0),
                                       drive=fmt(m, row.get("post_drive_mean_min"))))
               for row in (cell.get((plan, area), {}) for plan in plans)]
        nearest = int(num(some.get("sites_by_nearest_centre")) or 0)
        note = f"<small>{m('report.areas.nearest', n=m.num(nearest, ','))}</small>" if nearest else ""
        body.append(f'<tr><td class="name">{escape(area)}{note}</td><td>{fmt(m, some.get("sites"), 0)}</td>'
                    f"<td>{fmt(m, some.get('incidents'), 0)}</td>{''.join(tds)}</tr>")
    intro = m("report.areas.intro", target=target_text(m, data["manifest"]), plan=escape(first))
    return (f"<p>{intro}</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>')


def priorities_section(data: Mapping[str, Any], m: Messages) -> str:
    rows = data.get("priorities")
    if rows is None:
        return f'<p class="unavailable">{m("report.priorities.noFile")}</p>'
    plans = [row["plan"] for row in data["summary"]]
    levels = sorted({row.get("priority", "") for row in rows}, key=lambda p: (num(p) is None, num(p) or 0, p))
    cell = {(row.get("plan"), row.get("priority")): row for row in rows}
    header = (f'<tr><th class="name">{m("report.plan")}</th>'
              + "".join(f"<th>{m('report.priorities.level', level=escape(level))}</th>" for level in levels) + "</tr>")
    body = []
    for plan in plans:
        tds = []
        for level in levels:
            row = cell.get((plan, level), {})
            note = m("report.lateOf", late=fmt(m, row.get("late"), 0), incidents=fmt(m, row.get("incidents"), 0))
            tds.append(bounded_cell(m, row, note) if "late" in row else share_cell(m, row, note))
        body.append(f'<tr><td class="name">{escape(plan)}</td>{"".join(tds)}</tr>')
    return (f"<p>{m('report.priorities.intro', target=target_text(m, data['manifest']))}</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>')
