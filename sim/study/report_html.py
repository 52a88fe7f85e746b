"""The report page's HTML from what ``sim.study.report`` read: the headline, the scenario in plain
words, the plan table with its verdicts, the worst sites, priorities, the map, the figures and how
it was made. Every text taken from the files is escaped; the layout and CSS are ``viz/web/report.*``.
"""
from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

from sim.study.report_events import events_section
from sim.study.ranking import SHARE_MISLEADS, Measure, headline_measure
from sim.study.ranking import headline as ranking_headline
from sim.study.shares import Worst, worst_by_late
from sim.viz.map_areas import MAX_SITES_LISTED
from sim.viz.palette import share_colour, share_ink, share_key
from sim.viz.web import asset, fill, page_title

WORST_PER_PLAN = 5   # each plan's worst sites (by incidents reached late) that the site table shows
MAX_SITE_ROWS = 25   # at most this many sites in the table (a scenario may have thousands)
MAX_NAMES = 8        # site names listed in one line of the scenario section
FIGURE_CAPTIONS = {
    "response_ecdf.png": "Share of incidents reached within x minutes, per plan; the target is marked.",
    "within_target.png": "Share of incidents reached within the target: each plan against the reference, "
                         "95% intervals.",
    "site_response.png": "Response per site and plan (heat table).",
}
Row = Mapping[str, str]
REPORT_CI = "response_from_report_mean_ci95"


def _num(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _fmt(value: Any, digits: int = 1) -> str:
    number = _num(value)
    return "–" if number is None else f"{number:,.{digits}f}".replace("-", "−")


def _pm(mean: Any, ci: Any, digits: int = 1) -> str:
    if _num(mean) is None:
        return "–"
    return _fmt(mean, digits) + ("" if _num(ci) is None else f" ± {_fmt(ci, digits)}")


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(escape(name) for name in names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES:,} more" if len(names) > MAX_NAMES else "")


def _share_cell(row: Mapping[str, Any], note: str, digits: int = 1) -> str:
    """A table cell: the share within target ± its 95% half-width, coloured, with a small note below."""
    share = _num(row.get("within_target_pct"))
    return (f'<td class="share"{_share_style(share)}>{_pm(share, row.get("within_target_ci95"), digits)}'
            f"<br><small>{note}</small></td>")


def _share_style(share: float | None) -> str:
    """The cell's background and ink: the share's class colour (sim.viz.palette, as on the maps and
    the heat table)."""
    if share is None:
        return ""
    return f' style="background:{share_colour(share)};color:{share_ink(share)}"'


def _key_html() -> str:
    """The share scale's classes as small coloured words (sim.viz.palette)."""
    return ", ".join(f'<span class="key" style="background:{colour}">&nbsp;&nbsp;</span> {escape(words)}'
                     for colour, words in share_key()[:-1])


def _target(manifest: Mapping[str, Any]) -> str:
    return f"{_num(manifest['scenario'].get('target_response_min')) or 0:g} min"


# -- headline and scenario -------------------------------------------------------------------------


def measure_of(data: Mapping[str, Any]) -> Measure:
    """What the plans are ranked by (late incidents a week with deterrence, else the share within target)."""
    deterrence = "deterred" in data["summary"][0]
    return headline_measure(deterrence, _num(data["manifest"]["scenario"].get("target_response_min")) or 0.0)


def reference_of(data: Mapping[str, Any]) -> str:
    """The plan the comparison is against (comparison.csv's reference; else the first plan)."""
    return next((row["reference"] for row in data["comparison"] if row.get("reference")), data["summary"][0]["plan"])


def headline(data: Mapping[str, Any]) -> str:
    manifest, summary = data["manifest"], data["summary"]
    raw, target = manifest["scenario"], _target(manifest)
    by_plan = {row["plan"]: row for row in summary}
    best, measure = by_plan[data["map_plan"]], measure_of(data)
    parts = [f"<h1>Where should the patrol cars stand? {escape(str(raw.get('name', '')))}</h1>"]
    sentences = ranking_headline(summary, data.get("pairs") or [], reference_of(data), measure,
                                 _num(raw.get("target_response_min")) or 0.0)
    parts.append(f'<p class="lede">{escape(sentences[0])} (95% intervals over {escape(str(best.get("reps", "")))} '
                 "replications.)</p>")
    parts += [f"<p>{escape(sentence)}</p>" for sentence in sentences[1:]]
    if not measure.higher_is_better:
        parts.append(f'<p class="note">{escape(SHARE_MISLEADS)}</p>')
    sites = data.get("sites") or []
    if lists_areas(data):
        parts.append(weakest_areas(data, best["plan"]))
        worst = Worst([], 0, [])
    else:
        worst = _late_sites(sites, best["plan"], 3)
    if sites and "late" in sites[0] and not worst.rows and not lists_areas(data):
        parts.append(f"<p>At every one of its sites every incident was reached within {target}.</p>")
    if worst.rows:
        listed = ", ".join(f"{escape(row.get('site_name') or row['site'])} ({_fmt(row['late'], 0)} of "
                           f"{_fmt(row['incidents'], 0)} late; {_fmt(row['within_target_low_pct'], 0)}–"
                           f"{_fmt(row['within_target_high_pct'], 0)}% in time)" for row in worst.rows)
        note = f" ({escape(worst.note())})" if worst.note() else ""
        parts.append(f"<p>Its weakest sites, by incidents reached late over all replications: {listed}{note}.</p>")
    if manifest["network"].get("synthetic"):
        parts.append('<p class="warning"><b>Read these numbers as a demonstration of the method, not as findings '
                     f"about the place</b>: the road network is {escape(manifest['network']['source_label'])}. "
                     "See below for what else is synthetic or a placeholder.</p>")
    elif _placeholders(raw):
        parts.append('<p class="warning">Some site positions are placeholders (listed below): geocode them '
                     "before planning use.</p>")
    return "\n".join(parts)


def _placeholders(raw: Mapping[str, Any]) -> list[dict]:
    return [site for site in raw.get("sites") or [] if isinstance(site, dict) and site.get("approximate")
            and str(site.get("note", "")).lower().startswith("placeholder")]


def _assumptions(raw: Mapping[str, Any], network: Mapping[str, Any]) -> list[str]:
    """What is synthetic, a placeholder or an assumption, in plain words."""
    lines = []
    if network.get("synthetic"):
        lines.append(f"The road network is a {escape(network['source_label'])}: response times on it show the "
                     "method, not the place.")
    by_note: dict[str, list[str]] = {}
    for site in raw.get("sites") or []:
        if isinstance(site, dict) and site.get("approximate"):
            note = str(site.get("note") or "approximate position")
            by_note.setdefault(note, []).append(str(site.get("name") or site.get("id")))
    for note in sorted(by_note, key=lambda n: (not n.lower().startswith("placeholder"), n)):
        placeholder = note.lower().startswith("placeholder")
        label = "Placeholder positions" if placeholder else "Approximate positions"
        why = note.split(":", 1)[1].strip() if placeholder and ":" in note else note
        lines.append(f"{label} ({escape(why)}): {_names(by_note[note])}.")
    for spec in raw.get("site_sets") or []:
        if not isinstance(spec, dict):
            continue
        kind = escape(str(spec.get("kind", "")))
        if spec.get("generate"):
            count = _num(spec.get("count"))
            shown = f"{int(count):,}" if count is not None else ""
            lines.append(f"{shown} {kind} sites are synthetic: generated "
                         f"({escape(str(spec['generate']))}), not real positions.")
        elif spec.get("file"):
            lines.append(f"{kind} sites from the file {escape(str(spec['file']))}.")
    lines.append("Incident rates, on-scene times and escalation limits are inputs of the scenario file: "
                 "planning assumptions unless the file cites a source for them.")
    return lines


def scenario_section(data: Mapping[str, Any]) -> str:
    manifest = data["manifest"]
    raw, network = manifest["scenario"], manifest["network"]
    clock = raw.get("clock") if isinstance(raw.get("clock"), dict) else {}
    facts = []
    if raw.get("description"):
        facts.append(("What", escape(str(raw["description"]))))
    facts.append(("Clock", f"from {escape(str(clock.get('start', '?')))}, {_fmt(clock.get('duration_hours'), 0)} h; "
                           f"the first {_fmt(clock.get('warmup_hours', 0), 0)} h are warm-up, not counted"))
    facts.append(("Target", f"first unit on scene within {_target(manifest)}"))
    disturbances = []
    for item in raw.get("disturbances") or []:
        if not isinstance(item, dict):
            continue
        text = (f"{escape(str(item.get('type')))}: {_fmt(item.get('rate_per_hour'), 3)} an hour, priority "
                f"{escape(str(item.get('priority', '?')))}, {escape(str(item.get('units_required', 1)))} unit(s)")
        escalation = item.get("escalation")
        if isinstance(escalation, dict):
            text += (f", becomes {escape(str(escalation.get('to')))} if no unit is there within "
                     f"{_fmt(escalation.get('after_min'), 0)} min")
        disturbances.append(text)
    facts.append(("Disturbances", "<br>".join(disturbances) or "–"))
    sites = [s for s in raw.get("sites") or [] if isinstance(s, dict)]
    generated = sum(int(_num(s.get("count")) or 0) for s in raw.get("site_sets") or [] if isinstance(s, dict))
    facts.append(("Sites", f"{len(sites):,} named" + (f", {generated:,} more from site sets" if generated else "")))
    facts.append(("Runs", f"{len(manifest['plans'])} plans × {escape(str(manifest.get('replications')))} "
                          f"replications, seed {escape(str(manifest.get('seed')))}; replication k of every plan "
                          "meets the same incidents (common random numbers)"))
    facts.append(("Roads", f"{escape(network['source_label'])}, {int(_num(network.get('nodes')) or 0):,} nodes"))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    assumptions = "".join(f"<li>{line}</li>" for line in _assumptions(raw, network))
    return (f'<dl class="facts">{rows}</dl>\n<h3>What is synthetic, a placeholder or an assumption</h3>\n'
            f"<ul>{assumptions}</ul>")


# -- plans, sites, priorities -------------------------------------------------------------------------


def _verdict(row: Row | None, diff: str, ci: str, verdict: str, unit: str) -> str:
    if row is not None and row.get("verdict") == "reference":
        return '<td><span class="verdict reference">reference</span></td>'
    if row is None or verdict not in row:
        return '<td class="unclear">not available</td>'
    word = row[verdict] or "–"
    kind = {"better": "better", "worse": "worse", "reference": "reference"}.get(word, "unclear")
    figure = "" if kind == "reference" else f"<br><small>{_pm(row.get(diff), row.get(ci))} {unit}</small>"
    return f'<td><span class="verdict {kind}">{escape(word)}</span>{figure}</td>'


def _figure(row: Row, column: str) -> str:
    """A table cell: the figure ± its 95% half-width (the column named ``column + "_ci95"``)."""
    return f'<td class="num">{_pm(row.get(column), row.get(column + "_ci95"))}</td>'


def plans_section(data: Mapping[str, Any]) -> str:
    manifest, summary = data["manifest"], data["summary"]
    target = _target(manifest)
    plans = {p.get("name"): p for p in manifest["scenario"].get("plans") or [] if isinstance(p, dict)}
    comparison = {row["plan"]: row for row in data["comparison"]}
    first = {row["plan"]: row for row in data.get("priorities") or [] if row.get("priority") == "1"}
    deterrence = not measure_of(data).higher_is_better
    detection = "response_from_report_mean_min" in summary[0]
    mean = "mean response from creation (min)" if detection else "mean response (min)"
    head = ["units", *(["late a week"] if deterrence else []), f"within {target} (%)",
            f"priority 1 within {target} (%)", mean, *(["mean response from report (min)"] if detection else []),
            "p90 (min)", "busy"]
    paired = [("late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict", "late a week", "a week")]
    paired = paired * deterrence + [
        ("response_diff_min", "response_diff_ci95", "verdict", "mean response", "min"),
        ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict", f"within {target}", "points"),
        ("p90_diff_min", "p90_diff_ci95", "p90_verdict", "p90", "min")]
    header = (f'<tr><th colspan="{len(head) + 1}"></th><th colspan="{len(paired)}">against '
              f"{escape(reference_of(data))} (paired)</th></tr>"
              f'<tr><th class="name">plan</th>' + "".join(f"<th>{escape(h)}</th>" for h in head)
              + "".join(f"<th>{escape(p[3])}</th>" for p in paired) + "</tr>")
    body = []
    for row in summary:
        plan = plans.get(row["plan"], {})
        p1 = first.get(row["plan"])
        compared = comparison.get(row["plan"])
        share = _num(row.get("within_target_pct"))
        cells = [f"<td>{_fmt(row.get('units'), 0)}</td>"]
        if deterrence:
            cells.append(f'<td class="num"><b>{_pm(row.get("late_per_week"), row.get("late_per_week_ci95"))}</b></td>')
        cells.append(f"<td class=\"share\"{_share_style(share)}>{_pm(share, row.get('within_target_ci95'))}</td>")
        cells.append("<td>not available</td>" if p1 is None else
                     _bounded_cell(p1, f"{_fmt(p1.get('late'), 0)} late of {_fmt(p1.get('incidents'), 0)}")
                     if "late" in p1 else f'<td class="share"{_share_style(_num(p1.get("within_target_pct")))}>'
                     f"{_pm(p1.get('within_target_pct'), p1.get('within_target_ci95'))}</td>")
        cells.append(f"<td>{_pm(row.get('response_mean_min'), row.get('response_mean_ci95'))}</td>")
        if detection:
            cells.append(f"<td>{_pm(row.get('response_from_report_mean_min'), row.get(REPORT_CI))}</td>")
        cells += [f"<td>{_fmt(row.get('response_p90_min'))}</td>", f"<td>{_fmt(row.get('busy_fraction_mean'), 2)}</td>"]
        cells += [_verdict(compared, diff, ci, word, unit) for diff, ci, word, _, unit in paired]
        body.append(f'<tr><td class="name"><b>{escape(row["plan"])}</b><small>{escape(str(plan.get("description", "")))}'
                    f"</small></td>{''.join(cells)}</tr>")
    report = (" Response from creation counts from when the incident arose (the public's report delay included), "
              "from report from when dispatch heard of it." if detection else "")
    return (f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>\n'
            f'<p class="note">Shares are coloured as on the maps: {_key_html()}. '
            '± is the half-width of a 95% interval over replications. <b>better</b> or '
            "<b>worse</b>: the 95% interval of the paired difference against the reference (the same incidents "
            "in both plans, replication by replication) excludes zero; otherwise no clear difference, or why no "
            "verdict can be given; comparison_pairs.csv pairs every plan with every other. units: the plan's "
            "fleet; compare plans of equal size, or read a difference as what the extra units buy. busy: the "
            f"mean share of the measured time a unit spends on incidents (from dispatch to leaving the scene).{report}"
            " From summary.csv and comparison.csv.</p>\n" + _counts_table(data, deterrence))


def _counts_table(data: Mapping[str, Any], deterrence: bool) -> str:
    """Each plan's incidents a week: (candidates, prevented,) counted, in time, late, unanswered."""
    summary = data["summary"]
    if "incidents_per_week" not in summary[0]:
        return '<p class="unavailable">Counts a week: not available (a summary.csv by an older patrolsim).</p>'
    target = _target(data["manifest"])
    names = [("incidents", "incidents (counted)"), ("in_target", f"in time (within {target})"),
             ("late", "late (after it, or never)"), ("unanswered", "unanswered at the end of the clock")]
    if deterrence:
        names = [("candidates", "candidates"), ("prevented", "prevented (deterred)"), *names]
    header = '<tr><th class="name">plan</th><th>units</th>' + "".join(f"<th>{escape(t)}</th>" for _, t in names) + "</tr>"
    body = "".join(f'<tr><td class="name">{escape(row["plan"])}</td><td>{_fmt(row.get("units"), 0)}</td>'
                   + "".join(_figure(row, f"{name}_per_week") for name, _ in names) + "</tr>" for row in summary)
    identity = ("candidates (what would arise with no deterrence) = prevented + incidents; " if deterrence else "")
    return (f"<h3>Incidents a week</h3>\n<p>Counts per week of the measured window (after the warm-up), mean ± 95% "
            f"interval over replications. {identity}incidents = in time + late.</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{body}</tbody></table></div>')


def _late_sites(rows: Sequence[Row], plan: str, count: int) -> Worst:
    """The sites of ``plan`` with the most late incidents (sim.study.shares.worst_by_late)."""
    return worst_by_late([row for row in rows if row.get("plan") == plan], count)


def _bounded_cell(row: Mapping[str, Any], note: str) -> str:
    """A table cell: the pooled share within target and its 95% Wilson interval (from 0 to 100),
    coloured, with a small note below."""
    share = _num(row.get("within_target_pooled_pct"))
    if share is None:
        return f'<td class="share">–<br><small>{note}</small></td>'
    low, high = _fmt(row.get("within_target_low_pct"), 0), _fmt(row.get("within_target_high_pct"), 0)
    return (f'<td class="share"{_share_style(share)}>{_fmt(share, 0)}% <small>({low}–{high})</small>'
            f"<br><small>{note}</small></td>")


def sites_section(data: Mapping[str, Any]) -> str:
    rows = data.get("sites")
    if rows is None:
        return '<p class="unavailable">Not available: this folder has no sites.csv.</p>'
    if rows and "late" not in rows[0]:
        return ('<p class="unavailable">Not available: this sites.csv has no late counts (a run by an older '
                "patrolsim); run again to rank the sites.</p>")
    if lists_areas(data):
        return (f"<p>{_fmt(_incident_sites(data), 0)} sites can have incidents, too many to list one by one: "
                'see <a href="#areas">by kecamatan</a> below. Every site of every plan is in sites.csv.</p>')
    plans = [row["plan"] for row in data["summary"]]
    cell = {(row.get("plan"), row.get("site")): row for row in rows}
    chosen: list[str] = []
    notes = []
    for plan in plans:
        worst = _late_sites(rows, plan, WORST_PER_PLAN)
        chosen += [row["site"] for row in worst.rows if row["site"] not in chosen]
        if worst.note():
            notes.append(f"{escape(plan)}: {escape(worst.note())}")
    if not chosen:
        return f'<p>No site has an incident reached late (after {_target(data["manifest"])} or never).</p>'

    def total_late(site: str) -> float:
        return sum(_num(cell.get((plan, site), {}).get("late")) or 0.0 for plan in plans)

    chosen = sorted(chosen, key=lambda site: (-total_late(site), site))[:MAX_SITE_ROWS]
    target = _target(data["manifest"])
    header = ('<tr><th class="name">site</th><th>incidents</th>'
              + "".join(f"<th>{escape(plan)}</th>" for plan in plans) + "</tr>")
    body = []
    for site in chosen:
        some = next(cell[(plan, site)] for plan in plans if (plan, site) in cell)
        tds = []
        for plan in plans:
            row = cell.get((plan, site), {})
            tds.append(_bounded_cell(row, f"{_fmt(row.get('late'), 0)} late, {_fmt(row.get('response_mean_min'))} min"))
        kind = escape(some.get("kind", ""))
        body.append(f'<tr><td class="name">{escape(some.get("site_name") or site)}<small>{kind}</small></td>'
                    f"<td>{_fmt(some.get('incidents'), 0)}</td>{''.join(tds)}</tr>")
    sites = len({row.get("site") for row in rows})
    ties = "".join(f"<li>{note}</li>" for note in notes)
    return (f"<p>Each plan's {WORST_PER_PLAN} sites with the most incidents reached late (after {target} or never), "
            f"at most {MAX_SITE_ROWS} of {sites:,} sites, most late first. A cell gives the share of the site's "
            "incidents reached in time, pooled over all replications, with its 95% Wilson interval (it stays "
            "between 0 and 100 and widens when a site has few incidents), and below it the late count and the "
            "mean response; incidents are over all replications (the same in every plan). Every site of every plan "
            "is in sites.csv.</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>'
            + (f'\n<ul class="note">{ties}</ul>' if ties else ""))


# -- by kecamatan ------------------------------------------------------------------------------------


def _incident_sites(data: Mapping[str, Any]) -> int:
    first = data["summary"][0]["plan"]
    return sum(int(_num(row.get("sites")) or 0) for row in data.get("areas") or [] if row.get("plan") == first)


def lists_areas(data: Mapping[str, Any]) -> bool:
    """Whether the page names kecamatan instead of single sites (as the terminal table does)."""
    return _incident_sites(data) > MAX_SITES_LISTED


def weakest_areas(data: Mapping[str, Any], plan: str) -> str:
    """The headline's line on the plan's kecamatan with the most late incidents."""
    worst = worst_by_late([row for row in data.get("areas") or [] if row.get("plan") == plan], 3, key="area")
    if not worst.rows:
        return f"<p>In every kecamatan every incident was reached within {_target(data['manifest'])}.</p>"
    listed = ", ".join(f"{escape(row['area'])} ({_fmt(row['late'], 0)} of {_fmt(row['incidents'], 0)} late; "
                       f"{_fmt(row['within_target_low_pct'], 0)}–{_fmt(row['within_target_high_pct'], 0)}% in time)"
                       for row in worst.rows)
    note = worst.note("kecamatan", "area")
    return (f"<p>Its kecamatan with the most incidents reached late, over all replications: {listed}"
            f"{f' ({escape(note)})' if note else ''}.</p>")


def areas_section(data: Mapping[str, Any]) -> str:
    """Every kecamatan with incident sites, most late incidents (in the drawn plan) first: per plan the
    pooled share within target with its 95% Wilson interval, the late count and the drive from the
    nearest post."""
    rows = data.get("areas")
    if rows is None:
        return '<p class="unavailable">Not available: this folder has no areas.csv (a run by an older patrolsim).</p>'
    plans = [row["plan"] for row in data["summary"]]
    cell = {(row.get("plan"), row.get("area")): row for row in rows}
    first = data.get("map_plan") or plans[0]

    def late(plan: str, area: str) -> float:
        return _num(cell.get((plan, area), {}).get("late")) or 0.0

    areas = sorted(dict.fromkeys(row.get("area") for row in rows),
                   key=lambda area: (-late(first, area), -sum(late(plan, area) for plan in plans), area))
    header = ('<tr><th class="name">kecamatan</th><th>incident sites</th><th>incidents</th>'
              + "".join(f"<th>{escape(plan)}</th>" for plan in plans) + "</tr>")
    body = []
    for area in areas:
        some = next(cell[(plan, area)] for plan in plans if (plan, area) in cell)
        tds = [_bounded_cell(row, f"{_fmt(row.get('late'), 0)} late; post {_fmt(row.get('post_drive_mean_min'))} min")
               for row in (cell.get((plan, area), {}) for plan in plans)]
        nearest = int(_num(some.get("sites_by_nearest_centre")) or 0)
        note = f"<small>{nearest:,} by nearest centre</small>" if nearest else ""
        body.append(f'<tr><td class="name">{escape(area)}{note}</td><td>{_fmt(some.get("sites"), 0)}</td>'
                    f"<td>{_fmt(some.get('incidents'), 0)}</td>{''.join(tds)}</tr>")
    return (f"<p>Each kecamatan's incidents reached in time (within {_target(data['manifest'])}), pooled over all "
            "replications, with the 95% Wilson interval; below it the late count and the drive from the plan's "
            "nearest post (mean over the kecamatan's incident sites, weighted by their expected incidents; roads "
            f"at base speed). Most late incidents in {escape(first)} first. A site counts in its own "
            "<code>area</code>, a generated site in the kecamatan it was drawn in, any other in the kecamatan whose "
            "centre is nearest: approximate, the data has no boundaries. From areas.csv.</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>')


def priorities_section(data: Mapping[str, Any]) -> str:
    rows = data.get("priorities")
    if rows is None:
        return '<p class="unavailable">Not available: this folder has no priorities.csv.</p>'
    plans = [row["plan"] for row in data["summary"]]
    levels = sorted({row.get("priority", "") for row in rows}, key=lambda p: (_num(p) is None, _num(p) or 0, p))
    cell = {(row.get("plan"), row.get("priority")): row for row in rows}
    header = ('<tr><th class="name">plan</th>'
              + "".join(f"<th>priority {escape(level)}</th>" for level in levels) + "</tr>")
    body = []
    for plan in plans:
        tds = []
        for level in levels:
            row = cell.get((plan, level), {})
            note = f"{_fmt(row.get('late'), 0)} late of {_fmt(row.get('incidents'), 0)}"
            tds.append(_bounded_cell(row, note) if "late" in row else _share_cell(row, note))
        body.append(f'<tr><td class="name">{escape(plan)}</td>{"".join(tds)}</tr>')
    return (f"<p>Share of incidents reached within {_target(data['manifest'])} by priority as handled (an "
            "escalated incident counts at the priority it was handled at), pooled over all replications, with its "
            "95% Wilson interval; below it the incidents reached late of those counted. From priorities.csv.</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>')


# -- map, figures, provenance, the page ----------------------------------------------------------------


def map_section(data: Mapping[str, Any]) -> str:
    if not data.get("map"):
        return f'<p class="unavailable">{escape(data["map_text"])}</p>'
    return (f'<figure><img src="{data["map"]}" alt="coverage map of plan {escape(data["map_plan"])}">'
            f"<figcaption>{escape(data['map_text'])}. The headline's best plan is drawn; "
            "roads are shaded by minutes of drive from the nearest unit, every unit free (not simulated: a best case "
            "for units that move), and sites by their simulated share within target (on a map of many sites, a "
            "circle per kecamatan, sized by its incidents, approximate). "
            "<code>python run_sim.py map</code> draws any plan, or two side by side.</figcaption></figure>")


def figures_section(data: Mapping[str, Any]) -> str:
    if not data["figure_uris"]:
        return '<p class="unavailable">Not available: this folder has no figures (a run with figures writes them).</p>'
    known = [name for name in FIGURE_CAPTIONS if any(n == name for n, _ in data["figure_uris"])]
    order = known + [n for n, _ in data["figure_uris"] if n not in known]
    uris = dict(data["figure_uris"])
    return "\n".join(
        f'<figure><img src="{uris[name]}" alt="{escape(name)}"><figcaption>{escape(FIGURE_CAPTIONS.get(name, ""))} '
        f"<code>figures/{escape(name)}</code></figcaption></figure>" for name in order)


def provenance(data: Mapping[str, Any]) -> str:
    manifest = data["manifest"]
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
    command = " ".join(str(arg) for arg in manifest.get("command_line") or []) or "the Python API"
    facts = [
        ("patrolsim", escape(str(versions.get("patrolsim", "?")))),
        ("command", f"<code>{escape(command)}</code>"),
        ("ran on", f"{escape(str(manifest.get('executor', '?')))}, {_fmt(manifest.get('wall_time_s'))} s"),
        ("random numbers", escape(str(manifest.get("rep_seeds", "")))),
        ("scenario sha256", f"<code>{escape(str(manifest.get('scenario_sha256', '')))}</code>"),
        ("road network sha256", f"<code>{escape(str(manifest['network'].get('content_hash', '')))}</code>"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (f'<dl class="facts">{rows}</dl><p>Every number on this page is from the files beside it '
            "(manifest.json, summary.csv, comparison.csv, sites.csv, areas.csv, priorities.csv, figures/); "
            "<code>python run_sim.py report FOLDER</code> makes this page again.</p>")


def page(data: Mapping[str, Any]) -> str:
    """The whole report page."""
    name = str(data["manifest"]["scenario"].get("name", ""))
    events = events_section(data)
    return fill("report.html", title=page_title(f"patrolsim report: {name}"), style=asset("report.css"),
                events=events, eventlink='<a href="#events">Events</a> ' if events else "",
                headline=headline(data), scenario=scenario_section(data), plans=plans_section(data),
                sites=sites_section(data), areas=areas_section(data), priorities=priorities_section(data),
                map=map_section(data),
                figures=figures_section(data), provenance=provenance(data))
