"""The planning page in a browser (Debian's headless Chromium, driven over WebDriver) against a real
server on loopback: what a planner or trainer does on it, and what they rely on seeing. One server
and one browser serve the whole module; each test picks the plan it needs."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest

from sim.i18n import catalogue
from tests.browser import chromium_driver, js_errors
from tests.page_helpers import (HOURS, SETTLED, SETTLED_EXPR, allow_downloads, choose, downloaded,
                                drag_post, grabbable_post, page_state, pick_plan, settle_after, shown_within,
                                study_within, wait_for)
from tests.serving import ROOT, running_server

pytestmark = pytest.mark.slow  # a real server process and a browser


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    with running_server("--workers", "2") as server, chromium_driver(1400, 900) as driver:
        allow_downloads(driver, downloads)
        driver.get(f"{server.url}/?hours={HOURS}")
        wait_for(driver, SETTLED, "the first evaluation")
        yield server, driver, downloads


def test_drag_a_post_and_the_headline_shows_the_number_of_study(page):
    from selenium.webdriver.common.by import By

    server, driver, _ = page
    evaluated = pick_plan(driver, "fixed-posts")
    group = grabbable_post(driver)
    assert group >= 0, "no post marker of the plan can be grabbed on the map"
    old_post = driver.execute_script(f"return window.__patrolsim.current.plan.units[{group}].patrol.at")
    old_units = driver.execute_script("return window.__patrolsim.current.plan.units.length")
    drag_post(driver, group, 12, (-15, 12))
    settle_after(driver, evaluated, "the evaluation after the drag")
    state = page_state(driver)
    posts = [unit["patrol"].get("at") for unit in state["plan"]["units"]]
    moved = posts[group] != old_post or len(posts) == old_units + 1   # a group of several is split
    assert moved, f"the drag did not move the post: {posts}"
    assert state["sites"], "the post should stand on a new road node (a new site)"
    shown = shown_within(driver)
    want = study_within(state["plan"], state["sites"], state["reps"], state["seed"], HOURS)
    assert shown.startswith(f"{want:.1f}%"), f"the page shows {shown!r}, Study gives {want:.1f}%"
    assert driver.find_elements(By.CSS_SELECTOR, '[data-metric="within"] .diff'), "no paired difference shown"
    assert js_errors(driver) == []


def test_a_clock_shorter_than_a_week_shows_late_incidents_as_counted_in_its_hours(page):
    """The page runs a 12-hour clock (2 h warm-up): late incidents are shown in the 10 hours measured,
    as the report and the terminal show them, not scaled up to a week (the API's figure a week)."""
    _, driver, _ = page
    pick_plan(driver, "all-at-hq")
    state = page_state(driver)
    measured_h = HOURS - 2
    name = driver.find_element("css selector", '[data-metric="late"] .name').text
    assert name == f"Late incidents in the {measured_h} h measured", name
    shown = driver.find_element("css selector", '[data-metric="late"] .value').text
    want = state["summary"]["late_per_week"] * measured_h / 168
    assert shown.startswith(f"{want:.1f}"), f"the page shows {shown!r}; late in {measured_h} h is {want:.1f}"
    assert "week" not in driver.find_element("css selector", '[data-metric="late"]').text


def _move_first_post(driver, node: int) -> None:
    """Move the first group's post to road node ``node``, as a drop there does."""
    driver.execute_script(f"dropPost(0, MapView.nodes.x[{node}], MapView.nodes.y[{node}]);")


def test_undo_and_redo_by_button_and_keyboard(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    server, driver, _ = page
    evaluated = pick_plan(driver, "fixed-posts")
    before = driver.execute_script("return JSON.stringify(window.__patrolsim.current)")
    _move_first_post(driver, 1234)
    evaluated = settle_after(driver, evaluated, "the evaluation after moving a post")
    after = driver.execute_script("return JSON.stringify(window.__patrolsim.current)")
    assert after != before, "moving a post did not change the plan"
    steps = [(lambda: driver.find_element("id", "undo").click(), before, "the Undo button"),
             (lambda: driver.find_element("id", "redo").click(), after, "the Redo button"),
             (lambda: ActionChains(driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform(),
              before, "Ctrl+Z"),
             (lambda: ActionChains(driver).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform(),
              after, "Ctrl+Y")]
    driver.find_element("tag name", "body").click()   # keys go to the page, not a menu
    for act, want, what in steps:
        act()
        evaluated = settle_after(driver, evaluated, f"the evaluation after {what}")
        assert driver.execute_script("return JSON.stringify(window.__patrolsim.current)") == want, \
            f"{what} did not bring back the plan it should"
        state = page_state(driver)
        assert state["summary"]["within_target_pct"] == pytest.approx(
            study_within(state["plan"], state["sites"], state["reps"], state["seed"], HOURS), abs=1e-9), \
            f"after {what} the headline is not the number of the plan shown"


def test_play_runs_the_replication_on_the_map(page):
    server, driver, _ = page
    pick_plan(driver, "fixed-posts")
    choose(driver, "play-hours", "24")   # from 10:00 to 10:00: units drive to incidents (few do before 16:00)
    choose(driver, "play-speed", "120")
    driver.find_element("id", "play").click()
    wait_for(driver, "return Play.running && !document.getElementById('play-box').hidden", "the animation to start")
    # what the map shows, sampled while it plays, against the replication's frames
    samples = []
    while driver.execute_script("return Play.running && Play.frame < Play.data.frames - 1") and len(samples) < 80:
        samples.append(driver.execute_script("""
            const d = Play.data, f = Play.shown;
            return {frame: f, clock: document.getElementById('play-clock').firstElementChild.textContent,
                    minute: d.minutes[f],
                    units: Play.units.map(m => [m.getLatLng().lng, m.getLatLng().lat]),
                    want: d.units.map((_, u) => [d.unit_x[f][u], d.unit_y[f][u]]),
                    first: d.units.map((_, u) => [d.unit_x[0][u], d.unit_y[0][u]]),
                    lines: Play.lines.map(l => l.getLatLngs().length), targets: d.unit_target[f]};"""))
        time.sleep(0.25)
    assert len(samples) >= 4, f"the animation ended or stopped after {len(samples)} looks"
    minutes = [s["minute"] for s in samples]
    assert minutes == sorted(minutes) and minutes[-1] > minutes[0], f"the clock did not advance: {minutes}"
    assert len({s["clock"] for s in samples}) >= 3, "the clock on the map did not change as it played"
    for s in samples:
        assert s["units"] == s["want"], f"at frame {s['frame']} the units are not where the replication has them"
        assert [n == 2 for n in s["lines"]] == [t >= 0 for t in s["targets"]], \
            f"at frame {s['frame']} a dispatch line is missing or left over"
    assert any(s["units"] != s["first"] for s in samples), "no unit moved on the map while it played"
    driver.find_element("id", "play-stop").click()
    wait_for(driver, "return !Play.running && document.getElementById('play-box').hidden && "
                     "document.querySelectorAll('.unit-icon.plan').length > 0", "the plan's units back after Stop")
    assert js_errors(driver) == []


def test_optimise_from_here_draws_a_proposal_to_accept_or_discard(page):
    server, driver, _ = page
    evaluated = pick_plan(driver, "fixed-posts")
    before = driver.execute_script("return JSON.stringify(window.__patrolsim.current)")

    def propose() -> dict:
        driver.find_element("id", "optimise").click()
        wait_for(driver, "return window.__patrolsim.proposal && !document.getElementById('proposal').hidden",
                 "the optimiser's proposal", timeout_s=300)
        proposal = json.loads(driver.execute_script("return JSON.stringify(window.__patrolsim.proposal)"))
        ghosts = driver.execute_script("return document.querySelectorAll('.unit-dot.ghost').length")
        assert ghosts == len(proposal["plan"]["units"]) > 0, \
            f"the proposal's {len(proposal['plan']['units'])} groups should be drawn as ghosts; {ghosts} are"
        return proposal

    propose()
    driver.find_element("id", "discard").click()
    time.sleep(0.5)
    assert driver.execute_script("return document.getElementById('proposal').hidden"), "discard left the proposal box"
    assert driver.execute_script("return document.querySelectorAll('.unit-dot.ghost').length") == 0, \
        "discard left the ghost layer on the map"
    assert driver.execute_script("return JSON.stringify(window.__patrolsim.current)") == before, \
        "discarding the proposal changed the plan"
    assert driver.execute_script(SETTLED) == evaluated, "discarding the proposal started an evaluation"

    proposal = propose()
    driver.find_element("id", "accept").click()
    settle_after(driver, evaluated, "the evaluation of the accepted proposal")
    state = page_state(driver)
    assert state["plan"]["units"] == proposal["plan"]["units"], "accept did not make the proposal the plan"
    assert state["plan"]["name"] == "fixed-posts", "accept should keep the plan's name"
    assert driver.execute_script("return document.querySelectorAll('.unit-dot.ghost').length") == 0
    want = study_within(state["plan"], state["sites"], state["reps"], state["seed"], HOURS)
    assert shown_within(driver).startswith(f"{want:.1f}%"), \
        f"after accept the page shows {shown_within(driver)!r}, Study gives {want:.1f}% for the accepted plan"
    assert js_errors(driver) == []


def test_two_plans_side_by_side(page):
    server, driver, _ = page
    pick_plan(driver, "fixed-posts")
    choose(driver, "compare-pick", "all-at-hq")
    wait_for(driver, f"return {SETTLED_EXPR} && window.__patrolsim.compare && window.__patrolsim.compare.answer && "
                     "document.querySelectorAll('[data-metric=\"within\"] .value').length === 2", "the plan beside")
    titles = [el.text for el in driver.find_elements("css selector", '[data-metric="within"] .col-title')]
    assert titles == ["fixed-posts", "all-at-hq"], f"the headline's columns are {titles}"
    state = page_state(driver)
    want = study_within("all-at-hq", [], state["reps"], state["seed"], HOURS)
    assert shown_within(driver, 1).startswith(f"{want:.1f}%"), \
        f"the plan beside shows {shown_within(driver, 1)!r}, Study gives {want:.1f}%"
    vs = catalogue("en")["page.vs.beside"]
    assert any(vs in el.text for el in driver.find_elements("css selector", '[data-metric="within"] .diff')), \
        "no paired difference against the plan beside"
    groups = len(json.loads(driver.execute_script("return JSON.stringify(window.__patrolsim.compare.state.plan.units)")))
    assert driver.execute_script("return document.querySelectorAll('.unit-dot.other').length") == groups, \
        "the plan beside is not drawn on the map"
    choose(driver, "compare-pick", "")
    wait_for(driver, "return document.querySelectorAll('[data-metric=\"within\"] .value').length === 1 && "
                     "document.querySelectorAll('.unit-dot.other').length === 0", "one plan again")


def test_saved_yaml_runs_unchanged_with_run(page, tmp_path):
    server, driver, downloads = page
    evaluated = pick_plan(driver, "fixed-posts")
    _move_first_post(driver, 2345)   # a post on a new road node: the YAML carries its new site
    settle_after(driver, evaluated, "the evaluation after moving a post")
    state = page_state(driver)
    assert state["sites"], "the moved post should be a new site"
    driver.find_element("id", "save-yaml").click()
    saved = downloaded(downloads, "*fixed-posts.yaml", "Save as YAML")
    out = tmp_path / "results"
    run = subprocess.run([sys.executable, "run_sim.py", "run", str(saved), "--plan", "fixed-posts", "--reps",
                          str(state["reps"]), "--seed", str(state["seed"]), "--hours", str(state["hours"]),
                          "--out", str(out), "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"run refused the saved YAML:\n{run.stdout}\n{run.stderr}"
    with open(out / "summary.csv", newline="") as file:
        row = next(r for r in csv.DictReader(file) if r["plan"] == "fixed-posts")
    assert float(row["within_target_pct"]) == pytest.approx(state["summary"]["within_target_pct"], abs=5e-5), \
        "run of the saved YAML does not give the page's number for the plan (summary.csv has 4 decimals)"
    assert driver.execute_script("return JSON.stringify(window.__patrolsim.saved)") == \
        driver.execute_script("return JSON.stringify(window.__patrolsim.current)"), "the saved plan is not the one saved"


class _Rows(HTMLParser):
    """The text of each table row of an HTML page."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_downloaded_report_is_the_report_of_the_plan_shown(page):
    server, driver, downloads = page
    evaluated = pick_plan(driver, "fixed-posts")
    _move_first_post(driver, 3456)
    settle_after(driver, evaluated, "the evaluation after moving a post")
    state = page_state(driver)
    for old in downloads.glob("report*.html"):
        old.unlink()
    driver.find_element("id", "report").click()
    report = downloaded(downloads, "report*.html", "Download report.html", timeout_s=300)
    parser = _Rows()
    parser.feed(report.read_text(encoding="utf-8"))
    rows = [row for row in parser.rows if row and row[0].startswith("fixed-posts")]
    assert rows, "the report has no row for the plan on the page"
    share = f"{state['summary']['within_target_pct']:,.1f}"
    assert any(cell.startswith(share) for cell in rows[0]), \
        f"the report's row for the plan does not show the page's share within target {share}%: {rows[0]}"


def test_a_slow_evaluation_shows_progress_and_the_next_change_supersedes_it(page):
    server, driver, _ = page
    evaluated = pick_plan(driver, "fixed-posts")
    reps = driver.execute_script("return document.getElementById('reps').value")
    # about 57,000 incidents: many seconds on the workers
    driver.execute_script("window.__patrolsim.hours = 2000; const r = document.getElementById('reps');"
                          "r.value = 100; r.dispatchEvent(new Event('change'));")
    progress = wait_for(driver, "const p = document.getElementById('progress'); const m = !p.hidden && "
                                "p.textContent.match(/(\\d+) of 100/); return m && +m[1] > 0 ? p.textContent : '';",
                        "the progress of the slow evaluation")
    assert "replications" in progress
    driver.execute_script(f"window.__patrolsim.hours = {HOURS}; const r = document.getElementById('reps');"
                          f"r.value = {reps}; r.dispatchEvent(new Event('change'));")
    settle_after(driver, evaluated, "the evaluation that supersedes the slow one")
    state = page_state(driver)
    assert (state["reps"], state["hours"]) == (int(reps), HOURS), "the page shows the slow evaluation's answer"
    assert driver.execute_script(SETTLED) == evaluated + 1, "the superseded evaluation was shown too"
    assert driver.execute_script("return document.getElementById('progress').hidden"), "the progress bar stayed"
    assert driver.find_element("id", "warnings").text == "", "superseding an evaluation showed an error"


def test_labels_stand_beside_their_units(page):
    server, driver, _ = page
    pick_plan(driver, "fixed-posts")
    for view, fit in (("regency", "MapView.map.fitBounds(MapView.bounds, {animate: false})"),
                      ("city", "const s = S.scenario.sites[0]; MapView.map.setView([s.y, s.x], -2, {animate: false})")):
        driver.execute_script(fit)
        time.sleep(0.5)
        labels = driver.execute_script("""
            const origin = document.getElementById('map').getBoundingClientRect(), found = [];
            for (const el of document.querySelectorAll('.unit-marker')) {
              const dot = el.querySelector('.unit-dot').getBoundingClientRect();
              const label = el.querySelector('.unit-icon');
              const r = label.getBoundingClientRect();
              found.push({shown: label.style.display !== 'none', x: dot.x + dot.width / 2 - origin.x,
                          y: dot.y + dot.height / 2 - origin.y, x0: r.left - origin.x, x1: r.right - origin.x,
                          y0: r.top - origin.y, y1: r.bottom - origin.y, text: label.textContent});
            }
            return found;""")
        size = driver.execute_script("const s = MapView.map.getSize(); return [s.x, s.y];")
        shown = [label for label in labels if label["shown"]]
        on_screen = [label for label in labels if 0 <= label["x"] <= size[0] and 0 <= label["y"] <= size[1]]
        for label in shown:
            gap = ((max(label["x0"] - label["x"], 0, label["x"] - label["x1"]) ** 2 +
                    max(label["y0"] - label["y"], 0, label["y"] - label["y1"]) ** 2) ** 0.5)
            assert gap <= 60, f"{view}: the label {label['text']!r} stands {gap:.0f} px from its unit"
            for other in labels:
                assert not (other["x0"] < label["x1"] and label["x0"] < other["x1"] and other["y0"] < label["y1"] and
                            label["y0"] < other["y1"]) or other is label or not other["shown"], \
                    f"{view}: the labels {label['text']!r} and {other['text']!r} cover each other"
                inside = label["x0"] < other["x"] < label["x1"] and label["y0"] < other["y"] < label["y1"]
                assert not inside, f"{view}: the label {label['text']!r} covers the unit of {other['text']!r}"
        hidden = len(on_screen) - len([label for label in shown if label in on_screen])
        note = driver.execute_script("const n = document.getElementById('labels-hidden'); return n.hidden ? '' : n.textContent")
        assert (str(hidden) in note) if hidden else note == "", f"{view}: {hidden} labels left out, the map says {note!r}"
        assert len(shown) >= len(on_screen) / 2, f"{view}: most labels are left out ({len(shown)} of {len(on_screen)})"
    assert hidden == 0, "at city zoom every unit of the plan should have its label"


def test_crowded_sites_are_drawn_as_one_circle_with_their_count(page):
    server, driver, _ = page
    driver.execute_script("MapView.map.fitBounds(MapView.bounds, {animate: false})")
    time.sleep(0.5)
    drawn = driver.execute_script("""
        const shown = new Set(), bounds = MapView.map.getBounds();
        let inView = 0, missing = 0;
        for (const m of MapView.siteMarkers.values()) {
          if (!bounds.contains(m.getLatLng())) continue;
          inView += 1;
          const p = MapView.siteShownAs(m);
          if (p) shown.add(p); else missing += 1;
        }
        const clusters = [...shown].filter(p => p.getChildCount);
        return {inView, missing, drawn: shown.size,
                labels: clusters.map(c => [c.getChildCount(), c.getElement().textContent.trim()])};""")
    assert drawn["missing"] == 0, f"{drawn['missing']} sites in view are neither drawn nor counted in a circle"
    assert drawn["drawn"] < drawn["inView"], "at regency zoom the city's crowded sites should be drawn together"
    for count, text in drawn["labels"]:
        assert text == str(count), f"a circle of {count} sites says {text!r}"
    driver.execute_script("const s = S.scenario.sites[0]; MapView.map.setView([s.y, s.x], 1, {animate: false})")
    time.sleep(0.5)
    singles = driver.execute_script("""
        let singles = 0, clusters = 0;
        const b = MapView.map.getBounds();
        for (const m of MapView.siteMarkers.values()) {
          if (!b.contains(m.getLatLng())) continue;
          const p = MapView.siteShownAs(m);
          if (p === m) singles += 1; else if (p) clusters += 1;
        }
        return [singles, clusters];""")
    assert singles[0] > 0 and singles[1] == 0, f"zoomed in, sites should stand alone: {singles}"


def test_every_word_switches_to_bahasa_indonesia(page):
    from selenium.webdriver.common.by import By

    server, driver, _ = page
    pick_plan(driver, "fixed-posts")
    english, indonesian = catalogue("en", "page."), catalogue("id", "page.")

    def words_on_page() -> str:
        return driver.execute_script("""
            const titles = [...document.querySelectorAll('[title]')].map(el => el.title);
            return document.body.innerText + '\\n' + titles.join('\\n');""")

    def fixed(messages: dict, other: dict) -> list[str]:   # whole messages of words, said otherwise in the other
        return [text for key, text in messages.items() if "{" not in text and " " in text and text != other[key]]

    driver.find_element(By.CSS_SELECTOR, '#lang button[data-lang="id"]').click()
    wait_for(driver, "return document.documentElement.lang === 'id'", "the language switch")
    text = words_on_page()
    for words in ("Unit dalam rencana ini", "Kejadian terjangkau dalam 15 menit", "Lokasi terburuk", "Optimalkan dari sini",
                  indonesian["page.map.zoomIn"]):
        assert words in text, f"{words!r} is missing in Bahasa Indonesia"
    left = [words for words in fixed(english, indonesian) if words in text]
    assert left == [], f"still in English after the switch: {left}"
    assert "page." not in text, "a message key is shown instead of its words"
    status = driver.find_element("id", "status-text").text
    assert status and status not in english.values() and "replikasi" in status, \
        f"the status line stayed in English: {status!r}"
    driver.find_element(By.CSS_SELECTOR, '#lang button[data-lang="en"]').click()
    wait_for(driver, "return document.documentElement.lang === 'en'", "the switch back")
    text = words_on_page()
    left = [words for words in fixed(indonesian, english) if words in text]
    assert left == [], f"still in Bahasa Indonesia after the switch back: {left}"
