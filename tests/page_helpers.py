"""Helpers of the planning page's browser tests (tests/serve/test_serve_page.py): waiting for the page to
settle, reading its state, choosing from its menus, downloads, and the numbers ``Study`` gives."""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from sim import Study
from tests.browser import js_errors

SCENARIO = "scenarios/jember_pilkada_2024.yaml"
HOURS = 12
WAIT_S = 120.0

# An expression: the number of evaluations so far once the page shows the answer for its plan as it is, else 0.
SETTLED_EXPR = ("(() => { const s = window.__patrolsim; return s && s.answer && !s.busy && !s.timer && "
                "s.lastEvaluated && JSON.stringify(s.lastEvaluated) === JSON.stringify(s.current) "
                "? s.evaluations : 0; })()")
SETTLED = f"return {SETTLED_EXPR};"


def wait_for(driver, script: str, what: str, timeout_s: float = WAIT_S):
    """The first truthy value of ``script``; AssertionError naming ``what`` and the page's status."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    status = driver.execute_script("return document.getElementById('status-text').textContent")
    raise AssertionError(f"timed out waiting for {what}; the page's status line says: {status!r}; "
                         f"JavaScript errors: {js_errors(driver)}")


def settle_after(driver, evaluations: int, what: str) -> int:
    """Wait until an evaluation after the ``evaluations``-th is shown for the plan as it is now."""
    return wait_for(driver, f"return {SETTLED_EXPR} > {evaluations} ? {SETTLED_EXPR} : 0;", what)


def choose(driver, select_id: str, value: str) -> None:
    """Choose ``value`` in the menu ``select_id`` as a user does (a change event follows)."""
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


def pick_plan(driver, name: str) -> int:
    """Show the scenario's plan ``name`` (as picked in the plan menu) and wait for its evaluation."""
    if driver.execute_script("return window.__patrolsim.current.plan.name") == name and \
            not driver.execute_script("return window.__patrolsim.history.length") and driver.execute_script(SETTLED):
        return driver.execute_script(SETTLED)
    before = wait_for(driver, SETTLED, "the page to settle before picking a plan")
    if driver.execute_script("return document.getElementById('plan-pick').value") == name:
        driver.execute_script(f"pickPlan({json.dumps(name)})")   # what the menu does (choosing it again does nothing)
    else:
        choose(driver, "plan-pick", name)
    return wait_for(driver, f"return {SETTLED_EXPR} > {before} && window.__patrolsim.current.plan.name === "
                            f"{json.dumps(name)} ? {SETTLED_EXPR} : 0;", f"the plan {name} to be evaluated")


def page_state(driver) -> dict:
    """The plan on the page, its new sites, and the replications, seed and hours of its answer."""
    return json.loads(driver.execute_script(
        "const s = window.__patrolsim; return JSON.stringify({plan: s.current.plan, sites: s.current.sites, "
        "reps: s.answer.reps, seed: s.answer.seed, hours: s.answer.hours, summary: s.answer.summary[0]});"))


def shown_within(driver, column: int = 0) -> str:
    """The headline's share within the target as the page shows it (``column`` 1: the plan beside)."""
    values = driver.find_elements("css selector", '[data-metric="within"] .value')
    return values[column].text


def study_within(plan: dict | str, sites: list[dict], reps: int, seed: int, hours: float) -> float:
    """``within_target_pct`` of ``Study(...).with_plan(plan).run(...)`` (a plan name: the scenario's own)."""
    study = Study(SCENARIO)
    if isinstance(plan, str):
        results = study.run(plans=[plan], reps=reps, seed=seed, hours=hours)
    else:
        data = copy.deepcopy(study.scenario.raw)
        data["sites"] = data["sites"] + sites
        results = Study(data).with_plan(plan).run(plans=[plan["name"]], reps=reps, seed=seed, hours=hours)
    return float(results.summary.iloc[0]["within_target_pct"])


def allow_downloads(driver, folder: Path) -> None:
    """Downloads of the page go to ``folder`` without asking."""
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def downloaded(folder: Path, pattern: str, what: str, timeout_s: float = WAIT_S) -> Path:
    """The file matching ``pattern`` once Chromium has finished writing it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [path for path in folder.glob(pattern) if not path.name.endswith(".crdownload")]
        if found and not list(folder.glob("*.crdownload")):
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"{what}: no file {pattern} was downloaded (folder holds {sorted(folder.iterdir())})")


def grabbable_post(driver, in_window: bool = False) -> int:
    """The group of a post marker on the map that nothing else covers (in the city several stand close
    together), and with ``in_window`` wholly inside the window; -1 if there is none."""
    return driver.execute_script("""
        for (const el of document.querySelectorAll('.unit-icon.draggable')) {
          const r = el.getBoundingClientRect();
          if (r.width && (!arguments[0] || (r.top >= 0 && r.bottom <= window.innerHeight)) &&
              document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el) return +el.dataset.group;
        }
        return -1;""", in_window)


def drag_post(driver, group: int, steps: int, step_px: tuple[int, int]) -> None:
    """Drag the map's marker of post ``group`` with the mouse, ``steps`` moves of ``step_px`` each."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    marker = driver.find_element(By.CSS_SELECTOR, f'.unit-icon[data-group="{group}"]')
    actions = ActionChains(driver).click_and_hold(marker)
    for _ in range(steps):
        actions.move_by_offset(*step_px)
    actions.release().perform()
