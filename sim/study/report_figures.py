"""report.html's figures in the page's language: the PNG files of figures/ when the run wrote them in
that language (manifest.json's ``lang``), else the same figures drawn again from the result files
(incidents.csv, summary.csv, comparison.csv, sites.csv or areas.csv, summary_by_phase.csv; read
through ``SavedResults``, each checked against the manifest) into a temporary folder. figures/ itself
is never rewritten: it stays as the run wrote it.
"""
from __future__ import annotations

import base64
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from sim.i18n import DEFAULT_LANGUAGE, Messages
from sim.study.phases import SUMMARY_BY_PHASE, season_responses
from sim.study.report_places import lists_areas
from sim.study.shares import wilson_pct

Row = Mapping[str, str]
#: columns the figures read as text (every other one as a number)
_TEXT_COLUMNS = ("plan", "reference", "site", "site_name", "area", "kind", "phase")


def figures_language(manifest: Mapping[str, Any]) -> str:
    """The language figures/ was written in (a folder from before the language was recorded: English)."""
    return str(manifest.get("lang") or DEFAULT_LANGUAGE)


def _value(text: Any) -> Any:
    """A CSV cell as the figures take it: a number where it reads as one, None where empty, else the text."""
    if text is None or text == "":
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _numbers(rows: Sequence[Row] | None) -> list[dict]:
    return [{key: text if key in _TEXT_COLUMNS else _value(text) for key, text in row.items()} for row in rows or []]


def _incidents(saved) -> list[dict]:
    """incidents.csv's rows with what the figures read: plan, counted, response (None: never reached),
    creation time and phase."""
    return [{"plan": row["plan"], "counted": row["counted"] in ("1", "True", "true"), "phase": row.get("phase", ""),
             "t_created_min": _value(row["t_created_min"]), "response_min": _value(row["response_min"])}
            for row in saved.csv_rows("incidents.csv") or []]


def _draw(data: Mapping[str, Any], m: Messages, out: Path) -> None:
    """The run's figures drawn again into ``out`` (as Results.to_dir draws them) in the language of ``m``."""
    from sim.viz.phase_plots import write_season_figure
    from sim.viz.plots import write_figures

    saved, manifest = data["saved"], data["manifest"]
    raw = manifest["scenario"]
    name, synthetic = str(raw.get("name", "")), bool(manifest["network"].get("synthetic"))
    target = float(raw.get("target_response_min") or 0.0)
    summary = _numbers(data["summary"])
    plans = [row["plan"] for row in summary]
    incidents = _incidents(saved)
    areas = _numbers(data["areas"]) if lists_areas(data) else None
    write_figures(out, name, synthetic, target, incidents, summary, _numbers(data["comparison"]),
                  _numbers(data["sites"]), areas, m)
    phases = saved.csv_rows(SUMMARY_BY_PHASE)
    if phases:
        names = list(dict.fromkeys(row["phase"] for row in phases))   # the calendar's order, then (no phase)
        start = datetime.fromisoformat(str((raw.get("clock") or {}).get("start")))
        by_hour, by_phase = season_responses(incidents, plans, names, start)
        write_season_figure(out / "figures", name, synthetic, target, plans, by_hour, by_phase, names, wilson_pct, m)


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_uris(data: Mapping[str, Any], m: Messages) -> list[tuple[str, str]]:
    """(file name, PNG data: URI) of each figure of the run, in the language of ``m``: figures/'s own
    when they are in it (or when they cannot be drawn again: a folder without incidents.csv)."""
    figures: list[tuple[str, bytes]] = data["figures"]
    if not figures or figures_language(data["manifest"]) == m.lang or not data["saved"].recorded("incidents.csv"):
        return [(name, _uri(png)) for name, png in figures]
    with tempfile.TemporaryDirectory(prefix="patrolsim-report-figures-") as tmp:
        _draw(data, m, Path(tmp))
        drawn = {path.name: path.read_bytes() for path in (Path(tmp) / "figures").glob("*.png")}
    # The run's figures, each in the page's language where it was drawn again.
    return [(name, _uri(drawn.get(name, png))) for name, png in figures]
