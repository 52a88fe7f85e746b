"""The report page's HTML from what ``sim.study.report`` read: the headline, the scenario in plain
words, the plan table with its verdicts, the worst sites, priorities, the map, the figures and how
it was made. Every text taken from the files is escaped; the layout and CSS are ``viz/web/report.*``.
Every word comes from the message catalogue (keys ``report.*``, ``common.*``) through the ``Messages``
``m`` each function is given; numbers are written by ``m.num``.
"""
from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

from sim.i18n import Messages
from sim.study.ranking import Measure, headline_measure, share_misleads
from sim.study.ranking import headline as ranking_headline
from sim.study.report_cells import (Row, bounded_cell, fmt, key_html, late_item, num, pm, share_style, target_text,
                                    when_text)
from sim.study.report_events import events_section
from sim.study.report_places import (areas_section, late_sites, lists_areas, priorities_section, sites_section,
                                     weakest_areas)
from sim.study.shares import Worst
from sim.study.stats import MIN_PER_WEEK, Window
from sim.viz.web import asset, fill, page_title
from sim.viz.words import network_words, site_words, verdict_words

MAX_NAMES = 8        # site names listed in one line of the scenario section
#: the figures with a caption (report.figure.<name without .png>), in the order the page shows them
CAPTIONED_FIGURES = ("response_ecdf.png", "within_target.png", "site_response.png")
REPORT_CI = "response_from_report_mean_ci95"


def _names(m: Messages, names: Sequence[str]) -> str:
    shown = ", ".join(escape(name) for name in names[:MAX_NAMES])
    if len(names) <= MAX_NAMES:
        return shown
    return m("report.names.more", names=shown, n=m.num(len(names) - MAX_NAMES, ","))


# -- headline and scenario -------------------------------------------------------------------------


def measure_of(data: Mapping[str, Any], m: Messages) -> Measure:
    """What the plans are ranked by (late incidents a week with deterrence, else the share within target)."""
    deterrence = "deterred" in data["summary"][0]
    return headline_measure(deterrence, num(data["manifest"]["scenario"].get("target_response_min")) or 0.0, m)


def reference_of(data: Mapping[str, Any]) -> str:
    """The plan the comparison is against (comparison.csv's reference; else the first plan)."""
    return next((row["reference"] for row in data["comparison"] if row.get("reference")), data["summary"][0]["plan"])


def _network(m: Messages, network: Mapping[str, Any]) -> str:
    """The run's road network in words (escaped): the demo network's name in the page's language."""
    return escape(network_words(m, str(network.get("source_label", "")), network.get("source") == "demo"))


def headline(data: Mapping[str, Any], m: Messages) -> str:
    manifest, summary = data["manifest"], data["summary"]
    raw, target = manifest["scenario"], target_text(m, manifest)
    by_plan = {row["plan"]: row for row in summary}
    best, measure = by_plan[data["map_plan"]], measure_of(data, m)
    parts = [f"<h1>{m('report.title', name=escape(str(raw.get('name', ''))))}</h1>"]
    sentences = ranking_headline(summary, data.get("pairs") or [], reference_of(data), measure,
                                 num(raw.get("target_response_min")) or 0.0, m)
    intervals = m("report.lede.intervals", reps=escape(str(best.get("reps", ""))))
    parts.append(f'<p class="lede">{escape(sentences[0])} {intervals}</p>')
    parts += [f"<p>{escape(sentence)}</p>" for sentence in sentences[1:]]
    if not measure.higher_is_better:
        parts.append(f'<p class="note">{escape(share_misleads(m))}</p>')
    sites = data.get("sites") or []
    if lists_areas(data):
        parts.append(weakest_areas(data, best["plan"], m))
        worst = Worst([], 0, [])
    else:
        worst = late_sites(sites, best["plan"], 3)
    if sites and "late" in sites[0] and not worst.rows and not lists_areas(data):
        parts.append(f"<p>{m('report.headline.allInTime', target=target)}</p>")
    if worst.rows:
        listed = ", ".join(late_item(m, site_words(row.get("site_name") or row["site"], m), row) for row in worst.rows)
        note = f" ({escape(worst.note(m))})" if worst.note(m) else ""
        parts.append(f"<p>{m('report.headline.weakest', listed=listed, note=note)}</p>")
    if manifest["network"].get("synthetic"):
        parts.append(f'<p class="warning">{m("report.headline.synthetic", network=_network(m, manifest["network"]))}</p>')
    elif _placeholders(raw):
        parts.append(f'<p class="warning">{m("report.headline.placeholders")}</p>')
    return "\n".join(parts)


def _placeholders(raw: Mapping[str, Any]) -> list[dict]:
    return [site for site in raw.get("sites") or [] if isinstance(site, dict) and site.get("approximate")
            and str(site.get("note", "")).lower().startswith("placeholder")]


def _assumptions(raw: Mapping[str, Any], network: Mapping[str, Any], m: Messages) -> list[str]:
    """What is synthetic, a placeholder or an assumption, in plain words."""
    lines = []
    if network.get("synthetic"):
        lines.append(m("report.assume.network", network=_network(m, network)))
    by_note: dict[str, list[str]] = {}
    for site in raw.get("sites") or []:
        if isinstance(site, dict) and site.get("approximate"):
            note = str(site.get("note") or m("report.assume.approximateNote"))
            by_note.setdefault(note, []).append(str(site.get("name") or site.get("id")))
    for note in sorted(by_note, key=lambda n: (not n.lower().startswith("placeholder"), n)):
        placeholder = note.lower().startswith("placeholder")
        why = note.split(":", 1)[1].strip() if placeholder and ":" in note else note
        lines.append(m("report.assume.placeholder" if placeholder else "report.assume.approximate",
                       why=escape(why), names=_names(m, by_note[note])))
    for spec in raw.get("site_sets") or []:
        if not isinstance(spec, dict):
            continue
        kind = escape(str(spec.get("kind", "")))
        if spec.get("generate"):
            count = num(spec.get("count"))
            shown = m.num(int(count), ",") if count is not None else ""
            lines.append(m("report.assume.generated", count=shown, kind=kind, how=escape(str(spec["generate"]))))
        elif spec.get("file"):
            lines.append(m("report.assume.file", kind=kind, file=escape(str(spec["file"]))))
    lines.append(m("report.assume.inputs"))
    return lines


def scenario_section(data: Mapping[str, Any], m: Messages) -> str:
    manifest = data["manifest"]
    raw, network = manifest["scenario"], manifest["network"]
    clock = raw.get("clock") if isinstance(raw.get("clock"), dict) else {}
    facts = []
    if raw.get("description"):
        facts.append((m("report.facts.what"), escape(str(raw["description"]))))
    facts.append((m("report.facts.clock"), m("report.facts.clock.text", start=escape(when_text(m, clock.get("start", "?"))),
                                              hours=fmt(m, clock.get("duration_hours"), 0),
                                              warmup=fmt(m, clock.get("warmup_hours", 0), 0))))
    facts.append((m("report.facts.target"), m("report.facts.target.text", target=target_text(m, manifest))))
    disturbances = []
    for item in raw.get("disturbances") or []:
        if not isinstance(item, dict):
            continue
        text = m("report.facts.disturbance", type=escape(str(item.get("type"))), rate=fmt(m, item.get("rate_per_hour"), 3),
                 priority=escape(str(item.get("priority", "?"))), units=escape(str(item.get("units_required", 1))))
        escalation = item.get("escalation")
        if isinstance(escalation, dict):
            text += m("report.facts.escalation", to=escape(str(escalation.get("to"))),
                      after=fmt(m, escalation.get("after_min"), 0))
        disturbances.append(text)
    facts.append((m("report.facts.disturbances"), "<br>".join(disturbances) or "–"))
    sites = [s for s in raw.get("sites") or [] if isinstance(s, dict)]
    generated = sum(int(num(s.get("count")) or 0) for s in raw.get("site_sets") or [] if isinstance(s, dict))
    facts.append((m("report.facts.sites"), m("report.facts.sites.named", n=m.num(len(sites), ","))
                  + (m("report.facts.sites.sets", n=m.num(generated, ",")) if generated else "")))
    facts.append((m("report.facts.runs"), m("report.facts.runs.text", plans=len(manifest["plans"]),
                                             reps=escape(str(manifest.get("replications"))),
                                             seed=escape(str(manifest.get("seed"))))))
    facts.append((m("report.facts.roads"), m("report.facts.roads.text", network=_network(m, network),
                                              nodes=m.num(int(num(network.get("nodes")) or 0), ","))))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    assumptions = "".join(f"<li>{line}</li>" for line in _assumptions(raw, network, m))
    return (f'<dl class="facts">{rows}</dl>\n<h3>{m("report.assume.title")}</h3>\n'
            f"<ul>{assumptions}</ul>")


# -- plans -------------------------------------------------------------------------


def _verdict(m: Messages, row: Row | None, diff: str, ci: str, verdict: str, unit: str) -> str:
    if row is not None and row.get("verdict") == "reference":
        return f'<td><span class="verdict reference">{m("common.verdict.reference")}</span></td>'
    if row is None or verdict not in row:
        return f'<td class="unclear">{m("report.notAvailable")}</td>'
    word = row[verdict] or "–"
    kind = {"better": "better", "worse": "worse", "reference": "reference"}.get(word, "unclear")
    figure = "" if kind == "reference" else f"<br><small>{pm(m, row.get(diff), row.get(ci))} {unit}</small>"
    return f'<td><span class="verdict {kind}">{escape(verdict_words(word, m))}</span>{figure}</td>'


def _scaled(row: Row, column: str, factor: float) -> dict:
    """The row with ``column`` and its ``_ci95`` multiplied by ``factor`` (text as in the CSV rows)."""
    out = dict(row)
    for key in (column, column + "_ci95"):
        value = num(row.get(key))
        if value is not None:
            out[key] = value * factor
    return out


def _figure(m: Messages, row: Row, column: str) -> str:
    """A table cell: the figure ± its 95% half-width (the column named ``column + "_ci95"``)."""
    return f'<td class="num">{pm(m, row.get(column), row.get(column + "_ci95"))}</td>'


def plans_section(data: Mapping[str, Any], m: Messages) -> str:
    manifest, summary = data["manifest"], data["summary"]
    target = target_text(m, manifest)
    plans = {p.get("name"): p for p in manifest["scenario"].get("plans") or [] if isinstance(p, dict)}
    comparison = {row["plan"]: row for row in data["comparison"]}
    first = {row["plan"]: row for row in data.get("priorities") or [] if row.get("priority") == "1"}
    deterrence = not measure_of(data, m).higher_is_better
    detection = "response_from_report_mean_min" in summary[0]
    mean = m("report.plans.meanFromCreation" if detection else "report.plans.mean")
    head = [m("report.plans.units"), *([m("report.plans.late")] if deterrence else []),
            m("report.plans.within", target=target), m("report.plans.p1", target=target), mean,
            *([m("report.plans.meanFromReport")] if detection else []), m("report.plans.p90"), m("report.plans.busy")]
    paired = [("late_per_week_diff", "late_per_week_diff_ci95", "late_per_week_verdict", m("report.plans.late"),
               m("report.plans.perWeek"))]
    paired = paired * deterrence + [
        ("response_diff_min", "response_diff_ci95", "verdict", m("report.plans.paired.mean"), m("report.unit.min")),
        ("within_target_diff_pct", "within_target_diff_ci95", "within_target_verdict",
         m("report.plans.paired.within", target=target), m("report.unit.points")),
        ("p90_diff_min", "p90_diff_ci95", "p90_verdict", m("report.plans.paired.p90"), m("report.unit.min"))]
    header = (f'<tr><th colspan="{len(head) + 1}"></th><th colspan="{len(paired)}">'
              f"{m('report.plans.against', reference=escape(reference_of(data)))}</th></tr>"
              f'<tr><th class="name">{m("report.plan")}</th>' + "".join(f"<th>{escape(h)}</th>" for h in head)
              + "".join(f"<th>{escape(p[3])}</th>" for p in paired) + "</tr>")
    body = []
    for row in summary:
        plan = plans.get(row["plan"], {})
        p1 = first.get(row["plan"])
        compared = comparison.get(row["plan"])
        share = num(row.get("within_target_pct"))
        cells = [f"<td>{fmt(m, row.get('units'), 0)}</td>"]
        if deterrence:
            cells.append(f'<td class="num"><b>{pm(m, row.get("late_per_week"), row.get("late_per_week_ci95"))}</b></td>')
        cells.append(f"<td class=\"share\"{share_style(share)}>{pm(m, share, row.get('within_target_ci95'))}</td>")
        late_of = (m("report.lateOf", late=fmt(m, p1.get("late"), 0), incidents=fmt(m, p1.get("incidents"), 0))
                   if p1 is not None else "")
        cells.append(f"<td>{m('report.notAvailable')}</td>" if p1 is None else bounded_cell(m, p1, late_of)
                     if "late" in p1 else f'<td class="share"{share_style(num(p1.get("within_target_pct")))}>'
                     f"{pm(m, p1.get('within_target_pct'), p1.get('within_target_ci95'))}</td>")
        cells.append(f"<td>{pm(m, row.get('response_mean_min'), row.get('response_mean_ci95'))}</td>")
        if detection:
            cells.append(f"<td>{pm(m, row.get('response_from_report_mean_min'), row.get(REPORT_CI))}</td>")
        cells += [f"<td>{fmt(m, row.get('response_p90_min'))}</td>",
                  f"<td>{fmt(m, row.get('busy_fraction_mean'), 2)}</td>"]
        cells += [_verdict(m, compared, diff, ci, word, unit) for diff, ci, word, _, unit in paired]
        body.append(f'<tr><td class="name"><b>{escape(row["plan"])}</b><small>{escape(str(plan.get("description", "")))}'
                    f"</small></td>{''.join(cells)}</tr>")
    report = m("report.plans.note.detection") if detection else ""
    return (f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{"".join(body)}</tbody></table></div>\n'
            f'<p class="note">{m("report.plans.note", key=key_html(m), detection=report)}</p>\n'
            + _counts_table(data, deterrence, m))


def _counts_table(data: Mapping[str, Any], deterrence: bool, m: Messages) -> str:
    """Each plan's incidents a week: (candidates, prevented,) counted, in time, late, unanswered."""
    summary = data["summary"]
    if "incidents_per_week" not in summary[0]:
        return f'<p class="unavailable">{m("report.counts.unavailable")}</p>'
    target = target_text(m, data["manifest"])
    names = [("incidents", m("report.counts.incidents")), ("in_target", m("report.counts.inTime", target=target)),
             ("late", m("report.counts.late")), ("unanswered", m("report.counts.unanswered"))]
    if deterrence:
        names = [("candidates", m("report.counts.candidates")), ("prevented", m("report.counts.prevented")), *names]
    header = (f'<tr><th class="name">{m("report.plan")}</th><th>{m("report.plans.units")}</th>'
              + "".join(f"<th>{escape(t)}</th>" for _, t in names) + "</tr>")
    clock = data["manifest"]["scenario"].get("clock") or {}
    window = Window(60 * (num(clock.get("warmup_hours")) or 0.0), 60 * (num(clock.get("duration_hours")) or 0.0),
                    num(data["manifest"]["scenario"].get("target_response_min")) or 0.0)
    scale, measured_h = window.count_scale, window.weeks * MIN_PER_WEEK / 60
    body = "".join(f'<tr><td class="name">{escape(row["plan"])}</td><td>{fmt(m, row.get("units"), 0)}</td>'
                   + "".join(_figure(m, _scaled(row, f"{name}_per_week", scale), f"{name}_per_week")
                             for name, _ in names) + "</tr>" for row in summary)
    identity = m("report.counts.identity") if deterrence else ""
    hours = m.num(measured_h, ",.0f")
    title, intro = (("report.counts.title", "report.counts.intro") if scale == 1.0 else
                    ("report.counts.titleRun", "report.counts.introRun"))
    return (f"<h3>{m(title, hours=hours)}</h3>\n<p>{m(intro, identity=identity, hours=hours)}</p>\n"
            f'<div class="table-wrap"><table><thead>{header}</thead><tbody>{body}</tbody></table></div>')


# -- map, figures, provenance, the page ----------------------------------------------------------------


def map_section(data: Mapping[str, Any], m: Messages) -> str:
    if not data.get("map"):
        return f'<p class="unavailable">{escape(data["map_text"])}</p>'
    return (f'<figure><img src="{data["map"]}" alt="{m("report.map.alt", plan=escape(data["map_plan"]))}">'
            f"<figcaption>{escape(data['map_text'])}{m('report.map.caption')}</figcaption></figure>")


def figures_section(data: Mapping[str, Any], m: Messages) -> str:
    if not data["figure_uris"]:
        return f'<p class="unavailable">{m("report.figures.none")}</p>'
    known = [name for name in CAPTIONED_FIGURES if any(n == name for n, _ in data["figure_uris"])]
    order = known + [n for n, _ in data["figure_uris"] if n not in known]
    uris = dict(data["figure_uris"])

    def caption(name: str) -> str:
        return m(f"report.figure.{name.removesuffix('.png')}") if name in CAPTIONED_FIGURES else ""
    return "\n".join(
        f'<figure><img src="{uris[name]}" alt="{escape(name)}"><figcaption>{escape(caption(name))} '
        f"<code>figures/{escape(name)}</code></figcaption></figure>" for name in order)


def _seeds(m: Messages, manifest: Mapping[str, Any]) -> str:
    """How the replications draw their random numbers (the manifest's ``rep_seeds``), in words."""
    reps = num(manifest.get("replications"))
    if reps is None:
        return escape(str(manifest.get("rep_seeds", "")))
    return escape(m("report.made.seeds", last=int(reps) - 1))


def provenance(data: Mapping[str, Any], m: Messages) -> str:
    manifest = data["manifest"]
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
    command = " ".join(str(arg) for arg in manifest.get("command_line") or []) or m("report.made.api")
    facts = [
        ("patrolsim", escape(str(versions.get("patrolsim", "?")))),
        (m("report.made.command"), f"<code>{escape(command)}</code>"),
        (m("report.made.ranOn"), m("report.made.ranOn.text", executor=escape(str(manifest.get("executor", "?"))),
                                   seconds=fmt(m, manifest.get("wall_time_s")))),
        (m("report.made.random"), _seeds(m, manifest)),
        (m("report.made.scenarioHash"), f"<code>{escape(str(manifest.get('scenario_sha256', '')))}</code>"),
        (m("report.made.networkHash"), f"<code>{escape(str(manifest['network'].get('content_hash', '')))}</code>"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return f'<dl class="facts">{rows}</dl><p>{m("report.made.files")}</p>'


def page(data: Mapping[str, Any], m: Messages) -> str:
    """The whole report page, in the language of ``m``."""
    name = str(data["manifest"]["scenario"].get("name", ""))
    events = events_section(data, m)
    return fill("report.html", lang=m.lang, title=page_title(m("report.pageTitle", name=name)),
                style=asset("report.css"), nav=m("report.nav", events=m("report.nav.events") if events else ""),
                hscenario=m("report.h.scenario"), hplans=m("report.h.plans"), hsites=m("report.h.sites"),
                hareas=m("report.h.areas"), hpriorities=m("report.h.priorities"), hmap=m("report.h.map"),
                hfigures=m("report.h.figures"), hmade=m("report.h.made"),
                events=events, headline=headline(data, m), scenario=scenario_section(data, m),
                plans=plans_section(data, m), sites=sites_section(data, m), areas=areas_section(data, m),
                priorities=priorities_section(data, m), map=map_section(data, m),
                figures=figures_section(data, m), provenance=provenance(data, m))
