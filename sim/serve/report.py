"""``GET /api/report``: the one-page report.html of the plan as it is on the page.

The plan's run (the evaluation's replications, seed and hours) is written to a temporary results
folder as ``run`` writes it, and the report is made from that folder as ``report`` makes it; the
page downloads the HTML and the folder is removed.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from sim.study.report import write_report


def report_html(engine, payload) -> str:
    """report.html of the evaluation's plan. ``payload`` is (evaluation, language): the page, its map
    and its figures are in the page's language."""
    evaluation, lang = payload
    study = engine.run_study(evaluation)
    results = study.run(plans=[evaluation.variant.name])
    with tempfile.TemporaryDirectory(prefix="patrolsim-report-") as folder:
        out = Path(folder) / "results"
        results.to_dir(out, lang=lang)
        return write_report(out, study=study, lang=lang).read_text(encoding="utf-8")
