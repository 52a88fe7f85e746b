"""``report.html``: a results folder as one self-contained page a planner can mail.

The page is made from the files of the folder (manifest.json, summary.csv, comparison.csv, and
sites.csv, areas.csv, priorities.csv, events.csv and figures/ where they are there; read by
``SavedResults``, each checked against the manifest's record), plus a coverage map drawn from the
run's world. Everything is inline (CSS, images as data: URIs); the page has no script and fetches
nothing. Text from the files is escaped. What a folder lacks is said on the page ("not available"),
never a failure: only a folder that is not a results folder at all is refused. The page, its map and
its figures speak one language (``lang``: by default the one manifest.json records, else English).
"""
from __future__ import annotations

import base64
import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.errors import InputError
from sim.files import check_output, output_stamp, write_output
from sim.i18n import DEFAULT_LANGUAGE, LANGUAGES, Messages, messages
from sim.study.ranking import best_plan as ranking_best
from sim.study.report_figures import figure_uris
from sim.study.report_html import measure_of, page, reference_of
from sim.study.saved import SavedResults
from sim.study.tables import csv_text

REPORT = "report.html"


def read_folder(folder: Path) -> dict[str, Any]:
    """What a report shows, read from a results folder (each file checked against manifest.json);
    InputError if it is not one."""
    saved = SavedResults.open(folder)
    summary = saved.csv_rows("summary.csv")
    if not summary:
        raise InputError(f"{folder}: not a results folder, summary.csv is missing or empty")
    return {"manifest": saved.manifest, "summary": _with_units(summary, saved.manifest),
            "comparison": saved.csv_rows("comparison.csv") or [],
            "pairs": saved.csv_rows("comparison_pairs.csv") or [], "events": saved.csv_rows("events.csv"),
            "sites": saved.csv_rows("sites.csv"), "priorities": saved.csv_rows("priorities.csv"),
            "areas": saved.csv_rows("areas.csv"), "figures": saved.figures(), "saved": saved}


def report_stamp(manifest: Mapping[str, Any]) -> str:
    """The mark of a run's report.html (sim.files.output_stamp): the report of its scenario."""
    return output_stamp("report", str(manifest["scenario"].get("name", "")))


def best_plan(data: Mapping[str, Any], m: Messages) -> str:
    """The plan the headline names best: by its figure (late incidents a week with deterrence, else the
    share within target) among the plans with as many units as the reference (sim.study.ranking)."""
    return ranking_best(data["summary"], reference_of(data), measure_of(data, m))


def _with_units(summary: list[dict[str, str]], manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    """summary.csv's rows with each plan's units (from the scenario when the file predates the column)."""
    if not summary or "units" in summary[0]:
        return summary
    plans = {p.get("name"): p for p in manifest["scenario"].get("plans") or [] if isinstance(p, dict)}

    def count(plan: Mapping[str, Any]) -> str:
        return str(sum(int(g.get("count") or 0) for g in plan.get("units") or [] if isinstance(g, dict)) or "")
    return [row | {"units": count(plans.get(row["plan"], {}))} for row in summary]


def _study_of(manifest: Mapping[str, Any], network: str | None):
    """A Study of the run's scenario on its road network (InputError/OSError if it cannot be had)."""
    from sim.study.api import Study

    path = manifest.get("scenario_path")
    folder = Path(path).parent if isinstance(path, str) else None
    if network is None and manifest["network"].get("source") == "demo":
        network = "demo"
    return Study(manifest["scenario"], network=network, folder=folder)


def _site_results(rows: Sequence[Mapping[str, str]] | None, plan: str, read=None) -> dict | None:
    """The map's per-site results of ``plan`` from sites.csv rows (None without them); ``read``:
    another reader of rows, e.g. areas.csv's (sim.viz.map_areas.area_results)."""
    from sim.viz.map_results import site_results

    if not rows:
        return None
    try:
        return {plan: (read or site_results)(rows, plan)}
    except (ValueError, KeyError):  # a file edited by hand: the map without the simulated shares
        return None


def map_image(manifest: Mapping[str, Any], plan: str, study=None, network: str | None = None,
              sites: Sequence[Mapping[str, str]] | None = None,
              areas: Sequence[Mapping[str, str]] | None = None,
              summary: Sequence[Mapping[str, str]] | None = None,
              m: Messages | None = None) -> tuple[str, str]:
    """(PNG as a data: URI or "", what it shows or why it is not available); ``sites``: the rows
    of sites.csv, to colour each site by its simulated share within target; ``areas``: those of
    areas.csv, for the kecamatan layer; ``m``: the language of the map and the words (English)."""
    from sim.viz.map_areas import area_results
    from sim.viz.maps import target_bands, write_map
    from sim.viz.words import network_words

    m = m or messages()
    label = network_words(m, manifest["network"]["source_label"], manifest["network"].get("source") == "demo")
    try:
        study = study if study is not None else _study_of(manifest, network)
        world = study.world()
        if world.network.content_hash() != manifest["network"].get("content_hash"):
            return "", m("report.map.noNetwork", network=label)
        scenario = study.scenario
        with tempfile.TemporaryDirectory(prefix="patrolsim-report-") as tmp:
            path = Path(tmp) / "map.png"
            result = write_map(scenario, world, [plan], path, target_bands(scenario.target_response_min),
                               results=_site_results(sites, plan),
                               areas=_site_results(areas, plan, area_results),
                               summary={row["plan"]: row for row in summary or [] if row.get("plan") == plan},
                               lang=m.lang)
            data = base64.b64encode(path.read_bytes()).decode("ascii")
    except (InputError, OSError) as error:
        problem = error.problems[0] if isinstance(error, InputError) else str(error)
        return "", m("report.map.cannotDraw", problem=problem[:200], network=label)
    return f"data:image/png;base64,{data}", "; ".join(line.strip() for line in result.caption[1:])


def results_map(results, study, lang: str = DEFAULT_LANGUAGE) -> tuple[str, str, str]:
    """(plan, map as a data: URI or "", what it shows) of the map ``write_report`` draws for the
    Results ``results``, drawn before their files are written: from the text their CSV files will
    hold, so it is the map the files give (write_report's ``drawn_map``)."""
    m = messages(lang)
    tables = results.tables()
    rows = {name: list(csv.DictReader(io.StringIO(csv_text(*tables[name]), newline="")))
            for name in ("summary.csv", "comparison.csv", "sites.csv", "areas.csv")}
    manifest = json.loads(json.dumps(results.manifest(lang=lang), default=str))  # as manifest.json will read
    data = {"manifest": manifest, "summary": _with_units(rows["summary.csv"], manifest),
            "comparison": rows["comparison.csv"]}
    plan = best_plan(data, m)
    return (plan, *map_image(manifest, plan, study, None, rows["sites.csv"], rows["areas.csv"], data["summary"], m))


def report_language(manifest: Mapping[str, Any], lang: str | None = None) -> str:
    """The report's language: ``lang`` if given, else the one manifest.json records, else English."""
    if lang is not None:
        return lang
    recorded = manifest.get("lang")
    return recorded if recorded in LANGUAGES else DEFAULT_LANGUAGE


def write_report(folder: str | Path, study=None, network: str | None = None, replace: bool = False,
                 replace_name: str = "replace=True", lang: str | None = None,
                 drawn_map: tuple[str, str, str] | None = None) -> Path:
    """Write ``folder/report.html`` from the result files in ``folder``; return its path.

    ``study`` (a sim.study.api.Study of the run) gives the map's world; without it the scenario
    of manifest.json is loaded on ``network`` (a network as Study takes it; by default the run's own).
    ``lang`` ("en", "id"): the page's language, of its map and figures too; by default the one
    manifest.json records. InputError if ``folder`` is not a results folder, for an unknown language,
    or if its report.html is a file patrolsim did not write as this run's report (unless ``replace``;
    ``replace_name`` names it in the message). ``drawn_map``: the map ``results_map`` drew for the
    run, used if it is of the plan the page shows.
    """
    folder = Path(folder)
    data = read_folder(folder)
    m = messages(report_language(data["manifest"], lang))
    stamp = report_stamp(data["manifest"])
    check_output(folder / REPORT, stamp, replace, None, replace_name)
    plan = best_plan(data, m)
    data["map_plan"] = plan
    if drawn_map is not None and drawn_map[0] == plan:
        data["map"], data["map_text"] = drawn_map[1:]
    else:
        data["map"], data["map_text"] = map_image(data["manifest"], plan, study, network, data["sites"],
                                                  data["areas"], data["summary"], m)
    data["figure_uris"] = figure_uris(data, m)
    text = page(data, m)
    return write_output(folder / REPORT, stamp, lambda tmp: tmp.write_text(text, encoding="utf-8"))
