"""The planning page in a browser (Debian's headless Chromium, driven over WebDriver) against a real
server on loopback: load it, drag a post on the map, and see the headline become the number
``Study`` gives for the plan the page now shows."""
from __future__ import annotations

import copy
import json
import time

import pytest

from sim import Study
from tests.browser import chromium_driver, js_errors
from tests.serving import running_server

SCENARIO = "scenarios/jember_pilkada_2024.yaml"
HOURS = 12
WAIT_S = 120.0


def _wait(driver, script: str, what: str, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    status = driver.execute_script("return document.getElementById('status-text').textContent")
    raise AssertionError(f"timed out waiting for {what}; the page's status line says: {status!r}; "
                         f"JavaScript errors: {js_errors(driver)}")


# An expression: the number of evaluations so far once the page shows the answer for its plan as it is, else 0.
SETTLED_EXPR = ("(() => { const s = window.__patrolsim; return s && s.answer && !s.busy && !s.timer && "
                "s.lastEvaluated && JSON.stringify(s.lastEvaluated) === JSON.stringify(s.current) "
                "? s.evaluations : 0; })()")
SETTLED = f"return {SETTLED_EXPR};"


@pytest.fixture(scope="module")
def page():
    with running_server("--workers", "2") as server, chromium_driver(1400, 900) as driver:
        driver.get(f"{server.url}/?hours={HOURS}")
        _wait(driver, SETTLED, "the first evaluation")
        yield server, driver


def _expected_within(plan: dict, sites: list[dict], reps: int, seed: int) -> float:
    study = Study(SCENARIO)
    data = copy.deepcopy(study.scenario.raw)
    data["sites"] = data["sites"] + sites
    results = Study(data).with_plan(plan).run(plans=[plan["name"]], reps=reps, seed=seed, hours=HOURS)
    return float(results.summary.iloc[0]["within_target_pct"])


def test_drag_a_post_and_the_headline_shows_the_number_of_study(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    server, driver = page
    before = driver.execute_script(SETTLED)
    driver.execute_script("const p = document.getElementById('plan-pick'); p.value = 'fixed-posts';"
                          "p.dispatchEvent(new Event('change'));")
    _wait(driver, f"return {SETTLED_EXPR} > {before} && window.__patrolsim.current.plan.name === 'fixed-posts'",
          "the fixed-posts plan to be evaluated")
    evaluated = driver.execute_script(SETTLED)
    # a post marker nothing else covers (in the city several stand close together at this zoom)
    group = driver.execute_script("""
        for (const el of document.querySelectorAll('.unit-icon.draggable')) {
          const r = el.getBoundingClientRect();
          if (document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el) return +el.dataset.group;
        }
        return -1;""")
    assert group >= 0, "no post marker of the plan can be grabbed on the map"
    old_post = driver.execute_script(f"return window.__patrolsim.current.plan.units[{group}].patrol.at")
    old_units = driver.execute_script("return window.__patrolsim.current.plan.units.length")
    marker = driver.find_element(By.CSS_SELECTOR, f'.unit-icon[data-group="{group}"]')
    actions = ActionChains(driver).click_and_hold(marker)
    for _ in range(12):
        actions.move_by_offset(-15, 12)
    actions.release().perform()
    _wait(driver, f"return {SETTLED_EXPR} > {evaluated}", "the evaluation after the drag")
    state = json.loads(driver.execute_script(
        "const s = window.__patrolsim; return JSON.stringify({plan: s.current.plan, sites: s.current.sites, "
        "reps: s.answer.reps, seed: s.answer.seed});"))
    posts = [unit["patrol"].get("at") for unit in state["plan"]["units"]]
    moved = posts[group] != old_post or len(posts) == old_units + 1   # a group of several is split
    assert moved, f"the drag did not move the post: {posts}"
    assert state["sites"], "the post should stand on a new road node (a new site)"
    shown = driver.find_element(By.CSS_SELECTOR, '[data-metric="within"] .value').text
    want = _expected_within(state["plan"], state["sites"], state["reps"], state["seed"])
    assert shown.startswith(f"{want:.1f}%"), f"the page shows {shown!r}, Study gives {want:.1f}%"
    assert driver.find_elements(By.CSS_SELECTOR, '[data-metric="within"] .diff'), "no paired difference shown"
    assert js_errors(driver) == []


def test_undo_brings_back_the_plan_before(page):
    server, driver = page
    if not driver.execute_script("return window.__patrolsim.history.length"):
        pytest.skip("nothing to undo (the drag test did not run first)")
    previous = driver.execute_script("return JSON.stringify(window.__patrolsim.history.slice(-1)[0])")
    evaluated = driver.execute_script(SETTLED)
    driver.find_element("id", "undo").click()
    _wait(driver, f"return {SETTLED_EXPR} > {evaluated} || window.__patrolsim.answer.id && "
                  f"JSON.stringify(window.__patrolsim.current) === {json.dumps(previous)}", "the undo")
    assert driver.execute_script("return JSON.stringify(window.__patrolsim.current)") == previous
    assert driver.execute_script("return window.__patrolsim.future.length") == 1


def test_every_word_switches_to_bahasa_indonesia(page):
    from selenium.webdriver.common.by import By

    server, driver = page
    driver.find_element(By.CSS_SELECTOR, '#lang button[data-lang="id"]').click()
    _wait(driver, "return document.documentElement.lang === 'id'", "the language switch")
    text = driver.find_element(By.TAG_NAME, "body").text
    for words in ("Unit dalam rencana ini", "Kejadian terjangkau dalam 15 menit", "Lokasi terburuk", "Optimalkan dari sini"):
        assert words in text
    for english in ("Units of this plan", "Worst sites", "Optimise from here", "Mean response"):
        assert english not in text, f"{english!r} is still in English"
    assert "page." not in text, "a message key is shown instead of its words"
    driver.find_element(By.CSS_SELECTOR, '#lang button[data-lang="en"]').click()
    _wait(driver, "return document.documentElement.lang === 'en'", "the switch back")
