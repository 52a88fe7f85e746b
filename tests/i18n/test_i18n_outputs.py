"""Pages, maps, figures and animations in Bahasa Indonesia: their writers hold no English words of their
own (every string literal of theirs is scanned), outputs written with ``--lang id`` say no English word
of the catalogue, the CSV files are the same in every language, ``report`` speaks the run's language
unless told another, and a language that is not known is refused.

"An English word" is a word of four letters or more that the English catalogue uses and the Indonesian
one never does; a failure names the output (or the module and line) and the words found there.
"""
from __future__ import annotations

import ast
import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.cli import main
from sim.i18n import catalogue, messages
from tests.browser import chromium_driver, js_errors

ROOT = Path(__file__).resolve().parents[2]
#: the modules that write pages, maps, figures and animations (their error messages, for the terminal, excepted)
WRITERS = sorted(
    [*ROOT.glob("sim/study/report*.py"), *ROOT.glob("sim/viz/map_*.py"), *ROOT.glob("sim/viz/animate_*.py")]
    + [ROOT / "sim" / name for name in ("viz/plots.py", "viz/phase_plots.py", "viz/coverage.py", "viz/palette.py",
                                        "viz/words.py", "viz/web.py", "optimize/curve.py", "serve/report.py")])
WEB = sorted((ROOT / "sim" / "viz" / "web").glob("*.js")) + sorted((ROOT / "sim" / "viz" / "web").glob("*.html"))
#: words Bahasa Indonesia writes as English does
SHARED_WORDS = {"unit", "target", "kecamatan", "model", "seed"}


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", " ", text))}


def _english_only() -> set[str]:
    english, indonesian = catalogue("en"), catalogue("id")
    return set().union(*map(_words, english.values())) - set().union(*map(_words, indonesian.values())) - SHARED_WORDS


ENGLISH = _english_only()


def english_in(text: str) -> list[str]:
    """The English words of ``text`` (see the module's docstring), in order; file names, dotted scenario
    paths (as typed after --param) and numbered ids (joint-1, tps-0184) are not words."""
    text = re.sub(r"[\w/.-]+\.(png|csv|json|html|gif|yaml)\b|\b\w+(\.\w+)+\b|\b\w+-\d+\b", " ", text)
    return [word for word in re.findall(r"[A-Za-z]{4,}", text) if word.lower() in ENGLISH]


def _problems(where: str, texts) -> list[str]:
    found = []
    for text in texts:
        words = english_in(str(text))
        if words:
            found.append(f"{where}: {', '.join(dict.fromkeys(words))} in {str(text)[:160]!r}")
    return found


# -- the writers' own strings ------------------------------------------------------------------------


#: values of the result files (which stay English) that a writer matches to find their words
FILE_VALUES = {"(no phase)", "no clear difference", "not enough replications", "no counted incidents",
               "1 replication: no interval"}
#: matplotlib's own words: where a legend goes, what an offset is counted in
MATPLOTLIB = re.compile(r"(upper|lower|center) (left|right|center)|offset (points|pixels)")


def _visible(text: str) -> str:
    """A literal without what is not words a user reads: tags, placeholders, catalogue keys, file names,
    CSS, matplotlib's words, the values of the result files."""
    if text in FILE_VALUES or MATPLOTLIB.fullmatch(text):
        return ""
    text = re.sub(r"/\*.*?\*/|--[\w{}-]+|var\([^)]*\)|\.[\w{}-]+ \{", " ", text)   # CSS
    text = re.sub(r"<[^>]*>?", " ", text)
    text = re.sub(r"\{[^}]*\}|__[A-Z]+__", " ", text)
    text = re.sub(r"\b[a-z]+(\.[A-Za-z0-9_{}]+)+\b", " ", text)      # report.h.plans, sim.viz.x, map.png
    return text


#: calls whose strings go to the terminal or an error, not to a page or figure
TERMINAL_CALLS = {"InputError", "ValueError", "KeyError", "TypeError", "RuntimeError", "print", "warn", "say"}


def _terminal_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    return (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")) in TERMINAL_CALLS


def python_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of ``path`` but docstrings and error or terminal messages;
    an f-string as its literal parts with ``{}`` between them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))
        if isinstance(node, ast.Raise) or _terminal_call(node):
            skip |= {id(inner) for inner in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip |= {id(value) for value in node.values}
            out.append((node.lineno, "{}".join(v.value for v in node.values if isinstance(v, ast.Constant))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def web_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the string literals of a script, or of the text between the tags of a page."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S)
        return [(k + 1, line) for k, line in enumerate(text.splitlines())]
    found = []
    for k, line in enumerate(text.splitlines()):
        code = re.sub(r"^\s*(//|/?\*).*", "", line)   # comments are not shown
        found += [(k + 1, match[1]) for match in re.findall(r"""(["'`])((?:\\.|(?!\1).)*)\1""", code)]
    return found


def test_the_writers_of_pages_maps_and_figures_hold_no_english_words_of_their_own():
    found = []
    for path in WRITERS + WEB:
        literals = web_literals(path) if path.suffix in (".js", ".html") else python_literals(path)
        for line, text in literals:
            shown = _visible(text)
            # A lone lower-case word is a key (a column, a style, a state), not words a user reads.
            if not (" " in shown.strip() or shown.strip()[:1].isupper()):
                continue
            words = english_in(shown)
            if words:
                found.append(f"{path.relative_to(ROOT)}:{line}: {', '.join(words)} in {text[:100]!r}")
    assert found == [], "English words left in a writer (give them a key in sim/i18n/*.json):\n" + "\n".join(found)


# -- outputs in Bahasa Indonesia ------------------------------------------------------------------------

SITES = [
    {"id": "polres", "name": "Polres Jember", "kind": "police_hq", "lat": -8.1712, "lon": 113.7005,
     "approximate": True, "note": "placeholder: titik belum diperiksa"},
    {"id": "kpu", "name": "KPU Jember", "kind": "election_office", "lat": -8.1679, "lon": 113.7052},
    {"id": "alun", "name": "Alun-alun Jember", "kind": "crowd_point", "lat": -8.1697, "lon": 113.7016,
     "approximate": True, "note": "dua sumber"},
    {"id": "tanggul", "name": "Kota Tanggul", "kind": "crowd_point", "lat": -8.0961, "lon": 113.4984},
    {"id": "ambulu", "name": "Kota Ambulu", "kind": "crowd_point", "lat": -8.3813, "lon": 113.6069},
]


def scenario(many: bool = False) -> dict:
    """A small scenario whose own words (names, notes, types) are not English, with detection,
    deterrence, an escalation, a joint patrol, a circuit and a calendar event; ``many``: 400 polling
    stations more (a map of many sites, by kecamatan)."""
    data = {
        "name": "uji-bahasa", "network": {"source": "demo"},
        "clock": {"start": "2024-11-27T06:00", "duration_hours": 10, "warmup_hours": 1},
        "replications": 2, "seed": 11, "target_response_min": 15, "sites": SITES,
        "disturbances": [
            {"type": "keributan", "rate_per_hour": 2.0, "sites": {"kpu": 2, "alun": 2, "tanggul": 1, "ambulu": 1},
             "priority": 2, "on_scene_min": {"dist": "fixed", "value": 20},
             "escalation": {"after_min": 20, "to": "bentrok"}},
            {"type": "bentrok", "rate_per_hour": 0.3, "sites": {"kpu": 1, "alun": 1}, "priority": 1,
             "units_required": 2, "on_scene_min": {"dist": "fixed", "value": 40}},
        ],
        "events": [{"id": "unjuk_rasa", "name": "Unjuk rasa di KPU", "start": "2024-11-27T09:00", "hours": 2,
                    "sites": {"kpu": 1}, "rate_per_hour": {"keributan": 2.0}}],
        "detection": {"report_delay_min": {"dist": "fixed", "value": 5}, "patrol_sight_m": 150},
        "deterrence": {"radius_m": 200, "presence_multiplier": 0.5},
        "unit_types": {"mobil": {"agency": "Polri"}, "mobil_tni": {"agency": "TNI"}},
        "plans": [
            {"name": "di-markas", "units": [{"type": "mobil", "count": 4, "base": "polres", "patrol": {"mode": "base"}}]},
            {"name": "tersebar", "units": [
                {"type": "mobil", "count": 1, "base": "polres", "patrol": {"mode": "post", "at": "kpu"}},
                {"joint": ["mobil", "mobil_tni"], "count": 1, "base": "polres", "on_dispatch": "together",
                 "patrol": {"mode": "circuit", "route": ["kpu", "alun"], "dwell_min": 10}},
                {"type": "mobil", "count": 1, "base": "tanggul", "patrol": {"mode": "base"}}]},
        ],
    }
    if many:
        data["name"] = "uji-bahasa-kabupaten"
        data["site_sets"] = [{"kind": "polling_station", "id_prefix": "tps", "count": 400, "generate": "by_population",
                              "seed": 1}]
        data["disturbances"][0]["sites"] = {"kind": "polling_station"}
    return data


class _PageText(HTMLParser):
    """The words of an HTML page a reader sees: its text (not style, script or code: a command, a file),
    alt and title attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("style", "script", "code")
        self.texts += [value for name, value in attrs if name in ("alt", "title") and value]

    def handle_endtag(self, tag):
        self._hidden -= tag in ("style", "script", "code")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def page_texts(html: str) -> list[str]:
    parser = _PageText()
    parser.feed(html)
    return parser.texts


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cache):
    """The scenario run twice from the command line, in English and in Bahasa Indonesia."""
    folder = tmp_path_factory.mktemp("i18n")
    path = folder / "uji.yaml"
    path.write_text(json.dumps(scenario()), encoding="utf-8")   # YAML reads JSON
    out = {}
    for lang in ("en", "id"):
        out[lang] = folder / f"hasil-{lang}"
        assert main(["run", str(path), "--lang", lang, "--out", str(out[lang]), "--workers", "1"]) == 0
    return out


def test_run_lang_id_writes_the_report_in_indonesian_and_records_the_language(runs):
    folder = runs["id"]
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["lang"] == "id"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="id">' in html
    id_ = messages("id")
    for key in ("report.h.scenario", "report.h.plans", "report.h.areas", "report.events.title"):
        assert id_(key) in html, f"report.html lacks the Indonesian {key}"
    # A 10-hour clock with a 1-hour warm-up: the counts of the 9 hours measured, not a week's.
    assert id_("report.counts.titleRun", hours="9") in html, "report.html lacks the Indonesian counts' title"
    problems = _problems("report.html", page_texts(html))
    assert problems == [], "English words in the Indonesian report:\n" + "\n".join(problems)


def test_the_csv_files_are_the_same_in_every_language_and_the_figures_are_not(runs):
    english, indonesian = runs["en"], runs["id"]
    for path in sorted(english.glob("*.csv")):
        assert (indonesian / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs with --lang id"
    figures = sorted(p.name for p in (english / "figures").glob("*.png"))
    assert figures == sorted(p.name for p in (indonesian / "figures").glob("*.png"))
    assert "response_by_hour_and_phase.png" in figures
    for name in figures:
        assert (english / "figures" / name).read_bytes() != (indonesian / "figures" / name).read_bytes(), \
            f"figures/{name} is the same in both languages"


def test_report_writes_the_page_again_in_the_language_asked_and_else_in_the_runs(runs, tmp_path):
    import shutil

    folder = tmp_path / "hasil"
    shutil.copytree(runs["id"], folder)
    figures = {p.name: p.read_bytes() for p in (folder / "figures").glob("*.png")}
    assert main(["report", str(folder), "--lang", "en"]) == 0
    english = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and messages("en")("report.h.plans") in english
    assert messages("id")("report.h.plans") not in english
    # Its figures drawn again in English (the folder's are Indonesian), figures/ left as it was.
    assert {p.name: p.read_bytes() for p in (folder / "figures").glob("*.png")} == figures
    shown = dict((name, uri) for uri, name in re.findall(r'src="data:image/png;base64,([^"]+)" alt="(\w+\.png)"', english))
    assert sorted(shown) == sorted(figures)
    for name, uri in shown.items():
        assert base64.b64decode(uri) != figures[name], f"{name}: the Indonesian figure in the English page"
    assert main(["report", str(folder)]) == 0   # no --lang: the run's
    assert '<html lang="id">' in (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["run", "report", "map", "animate", "sweep", "optimize"])
def test_a_language_that_is_not_known_is_refused_in_one_line(command, runs, capsys):
    args = {"run": ["run", "x.yaml"], "report": ["report", str(runs["id"])],
            "map": ["map", "x.yaml", "--plan", "p", "--out", "m.png"],
            "animate": ["animate", "x.yaml", "--plan", "p", "--hours", "1", "--out", "a.gif"],
            "sweep": ["sweep", "x.yaml", "--param", "seed", "--values", "1"], "optimize": ["optimize", "x.yaml"]}
    assert main([*args[command], "--lang", "fr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lang" in err[0] and "'fr'" in err[0], err


@pytest.fixture(scope="module")
def study_results(cache):
    from sim import Study

    return {many: Study(scenario(many)).run(reps=2) for many in (False, True)}


def _figure_texts(fig) -> list[str]:
    from matplotlib.text import Text

    fig.canvas.draw()
    return [text.get_text() for text in fig.findobj(Text) if text.get_text()]


def _cut_off(where: str, fig) -> list[str]:
    """The drawn texts that reach past the picture's edge (a longer word cut off), after drawing."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    undrawn = set()   # tick labels of ticks outside an axis's view: matplotlib keeps but never draws them
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not low - 1e-9 * (1 + abs(low)) <= loc <= high + 1e-9 * (1 + abs(high)):
                    undrawn.update((id(tick.label1), id(tick.label2)))
    out = []
    for text in fig.findobj(Text):
        if not text.get_text().strip() or not text.get_visible() or id(text) in undrawn:
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            out.append(f"{where}: {text.get_text()!r} cut off at {box.x0:.0f}..{box.x1:.0f} x "
                       f"{box.y0:.0f}..{box.y1:.0f} of {width:.0f} x {height:.0f} px")
    return out


@pytest.mark.slow
def test_figures_and_png_maps_in_indonesian_say_no_english_word_and_cut_none_off(study_results):
    import numpy as np

    from sim import Study
    from sim.optimize.curve import curve_figure
    from sim.viz import plots
    from sim.viz.map_png import map_figure
    from sim.viz.maps import target_bands
    from sim.viz.map_areas import area_results
    from sim.viz.map_results import site_results
    from sim.viz.phase_plots import OUTSIDE_PHASES, season_figure
    from sim.study.shares import wilson_pct

    m = messages("id")
    problems, cut = [], []
    for many, results in study_results.items():
        scenario_, plans = results.scenario, list(results.plans)
        target, name = scenario_.target_response_min, scenario_.name
        summary, comparison, sites, areas = (results.summary_rows, results.comparison_rows, results.site_rows,
                                             results.area_rows)
        figures = {
            "response_ecdf": plots.ecdf_figure(name, True, target, plans, results.incident_rows, m),
            "within_target": plots.within_target_figure(name, True, target, summary, comparison, m),
            "site_response": plots.site_response_figure(name, True, target, plans, sites, m=m),
            "site_response (kecamatan)": plots.site_response_figure(name, True, target, plans, areas, group="area", m=m),
            "site_response (response)": plots.site_response_figure(name, True, target, plans, sites, metric="response",
                                                                   m=m),
        }
        study = Study(scenario(many))
        site_map = {plan: site_results(sites, plan) for plan in plans}
        area_map = {plan: area_results(areas, plan) for plan in plans}
        rows = {row["plan"]: row for row in summary}
        for shown in ([plans[1]], plans):
            figures[f"map {' vs '.join(shown)}"] = map_figure(study.scenario, study.world(), shown, target_bands(target),
                                                              results=site_map, areas=area_map, summary=rows, m=m)
        for what, fig in figures.items():
            problems += _problems(f"{name}: {what}", _figure_texts(fig))
            cut += _cut_off(f"{name}: {what}", fig)
    sweep = [{"value": value, "plan": plan, "response_mean_min": 5.0 + value, "response_mean_ci95": 1.0,
              "within_target_pct": 80.0 - value, "within_target_ci95": 3.0} for value in (0.1, 0.5) for plan in "AB"]
    curve = [{"units": n, "covered_share": 0.5 + 0.1 * n, "within_target_pct": 60.0 + 5 * n, "within_target_ci95": 2.0}
             for n in (2, 3, 4)]
    rng = np.random.default_rng(1)
    by_hour = {plan: [list(rng.uniform(1, 30, 5)) + [None] for _ in range(24)] for plan in "AB"}
    by_phase = {plan: {"kampanye": list(rng.uniform(1, 30, 20)), OUTSIDE_PHASES: list(rng.uniform(1, 30, 5))}
                for plan in "AB"}
    more = {
        "sweep": plots.sweep_figure("uji", True, "disturbances.keributan.rate_per_hour", sweep, m),
        "fleet curve": curve_figure("uji", True, 15.0, "mclp", curve, [{"plan": "A", "units": 3, "within_target_pct": 70.0,
                                                                        "within_target_ci95": 4.0}],
                                    goal_pct=80.0, subject=None, answer=4, m=m),
        "season": season_figure("uji", True, 15.0, ["A", "B"], by_hour, by_phase, ["kampanye", OUTSIDE_PHASES],
                                wilson_pct, m),
    }
    for what, fig in more.items():
        problems += _problems(what, _figure_texts(fig))
        cut += _cut_off(what, fig)
    assert problems == [], "English words in Indonesian figures and maps:\n" + "\n".join(problems)
    assert cut == [], "Text cut off at the edge of Indonesian figures and maps:\n" + "\n".join(cut)


def _browser_text(path: Path) -> str:
    with chromium_driver() as driver:
        driver.get(path.as_uri())
        assert js_errors(driver) == [], f"{path.name}: script errors"
        return driver.execute_script("return document.body.innerText")


@pytest.mark.slow
def test_html_maps_and_animations_and_the_gif_in_indonesian_say_no_english_word(study_results, tmp_path):
    from sim import Study
    from sim.viz.animate import write_animation
    from sim.viz.animate_gif import figures_text, gif_picture
    from sim.viz.map_areas import area_results
    from sim.viz.map_results import site_results
    from sim.viz.maps import target_bands, write_map

    problems = []
    for many, results in study_results.items():
        study, plans = Study(scenario(many)), list(results.plans)
        sites = {plan: site_results(results.site_rows, plan) for plan in plans}
        areas = {plan: area_results(results.area_rows, plan) for plan in plans}
        rows = {row["plan"]: row for row in results.summary_rows}
        out = tmp_path / f"peta-{many}.html"
        write_map(study.scenario, study.world(), plans, out, target_bands(15.0), sites, areas, rows, lang="id")
        text = _browser_text(out)
        assert messages("id")("map.page.help") in text
        problems += _problems(out.name, text.splitlines())
    study = Study(scenario())
    for suffix in ("gif", "html"):
        out = tmp_path / f"animasi.{suffix}"
        frames = write_animation(study.scenario, study.world(), "tersebar", out, hours=3, from_hours=2,
                                 frames_per_min=0.5, lang="id")
        assert frames.incidents_shown > 0, "the window shows no incident: pick another"
        if suffix == "gif":
            picture = gif_picture(frames, (800, 600), 20.0)
            texts = picture.texts + frames.clock_labels[:1] + [figures_text(frames, k) for k in (0, frames.n_frames - 1)]
            assert frames.clock_labels[0].startswith("Rab 27 Nov 2024"), frames.clock_labels[0]
            problems += _problems(out.name, texts)
        else:
            problems += _problems(out.name, _browser_text(out).splitlines())
    assert problems == [], "English words in Indonesian maps and animations:\n" + "\n".join(problems)
