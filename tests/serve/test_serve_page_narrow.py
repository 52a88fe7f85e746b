"""The planning page in a phone-sized window (390 x 800, headless Chromium against a real server on
loopback): one column that scrolls down, never sideways; the map at the full width and usable; the
top bar's menus and the language buttons within reach; no text cut off. And back in a wide window the
three columns stand side by side again."""
from __future__ import annotations

import json

import pytest

from tests.browser import chromium_driver, js_errors
from tests.page_helpers import (HOURS, SETTLED, drag_post, grabbable_post, page_state, pick_plan, settle_after,
                                wait_for)
from tests.serving import running_server

pytestmark = pytest.mark.slow  # a real server process and a browser

PHONE = (390, 800)
WIDE = (1300, 900)

# Boxes of the page's parts, in the window's pixels (the page scrolled to its top).
BOXES_JS = """
window.scrollTo(0, 0);
const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
  bottom: r.bottom, width: r.width, height: r.height}; };
const out = {window: {width: window.innerWidth, height: window.innerHeight,
                      scrollWidth: document.documentElement.scrollWidth,
                      scrollHeight: document.documentElement.scrollHeight}};
for (const id of ['left', 'map-wrap', 'right', 'map', 'headline', 'distribution', 'synthetic', 'plan-pick',
                  'compare-pick', 'undo', 'redo', 'lang']) out[id] = box(document.getElementById(id));
out.langButtons = [...document.querySelectorAll('#lang button')].map(box);
return out;"""

# Texts that are cut off: an element whose text is wider than its box (shown with an ellipsis or clipped).
CUT_TEXT_JS = """
const cut = [];
for (const el of document.querySelectorAll('#status-text, #status-note, #headline .value, #headline .name, '
                                           + 'header .brand, table.worst th, #synthetic')) {
  if (el.offsetParent !== null && el.scrollWidth > el.clientWidth) cut.push(el.textContent.trim());
}
return cut;"""


@pytest.fixture(scope="module")
def phone_page():
    with running_server("--workers", "2") as server, chromium_driver(*PHONE) as driver:
        driver.get(f"{server.url}/?hours={HOURS}")
        wait_for(driver, SETTLED, "the first evaluation")
        yield server, driver
        driver.set_window_size(*WIDE)


def _inside(box: dict, width: float) -> bool:
    return box["width"] > 0 and box["left"] >= 0 and box["right"] <= width


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_phone_shows_one_column_with_the_map_at_full_width_and_nothing_sideways(phone_page, lang):
    server, driver = phone_page
    driver.execute_script(f"setLanguage('{lang}')")   # what its button does (the buttons' place is checked below)
    wait_for(driver, f"return document.documentElement.lang === '{lang}'", f"the switch to {lang}")
    boxes = driver.execute_script(BOXES_JS)
    window = boxes["window"]
    width = window["width"]
    assert window["scrollWidth"] <= width, \
        f"{lang}: the page scrolls sideways at {width} px: it is {window['scrollWidth']} px wide"
    for what in ("plan-pick", "compare-pick", "undo", "redo", "lang"):
        assert _inside(boxes[what], width), f"{lang}: #{what} is outside the {width} px window: {boxes[what]}"
    assert len(boxes["langButtons"]) == 2 and all(_inside(b, width) for b in boxes["langButtons"]), \
        f"{lang}: the language buttons are outside the {width} px window: {boxes['langButtons']}"
    assert all(boxes[what]["top"] < window["height"] for what in ("plan-pick", "lang")), \
        f"{lang}: the plan menu or the language buttons are not in the first screen: {boxes}"
    map_box = boxes["map"]
    assert map_box["width"] >= 0.9 * width, f"{lang}: the map is {map_box['width']:.0f} px wide in a {width} px window"
    assert map_box["height"] >= 250, f"{lang}: the map is only {map_box['height']:.0f} px tall"
    badge = boxes["synthetic"]
    assert badge["width"] >= 150 and _inside(badge, width), \
        f"{lang}: the synthetic-network badge is squeezed or outside the window: {badge}"
    # one column: the headline, the map, the other results, then the units, each below the one before
    order = ["headline", "map", "distribution", "left"]
    for upper, lower in zip(order, order[1:]):
        assert boxes[upper]["bottom"] <= boxes[lower]["top"] + 1, \
            f"{lang}: #{lower} is not below #{upper}: {boxes[upper]} / {boxes[lower]}"
    assert window["scrollHeight"] > window["height"], f"{lang}: a one-column page this long should scroll down"
    cut = driver.execute_script(CUT_TEXT_JS)
    assert cut == [], f"{lang}: these texts are cut off at {width} px: {cut}"
    # the map's middle is the map's own: nothing lies over it
    covered = driver.execute_script("""
        const map = document.getElementById('map');
        map.scrollIntoView({block: 'center', behavior: 'instant'});
        const r = map.getBoundingClientRect(), el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return map.contains(el) ? '' : (el ? el.tagName + '#' + el.id + '.' + el.className : 'nothing');""")
    assert covered == "", f"{lang}: the middle of the map is covered by {covered}"
    assert js_errors(driver) == []


def test_on_a_phone_a_post_is_dragged_on_the_map_with_a_mouse(phone_page):
    server, driver = phone_page
    evaluated = pick_plan(driver, "fixed-posts")   # a plan of posts (a unit at its base has none to drag)
    before = page_state(driver)["plan"]
    driver.execute_script("document.getElementById('map').scrollIntoView({block: 'center', behavior: 'instant'})")
    group = grabbable_post(driver, in_window=True)
    assert group >= 0, "on a phone no post marker of the plan can be grabbed on the map (covered or off the screen)"
    drag_post(driver, group, 8, (-10, 8))
    settle_after(driver, evaluated, "the evaluation after the drag on a phone")
    after = page_state(driver)
    assert after["plan"] != before, f"the drag on a phone did not change the plan: {json.dumps(after['plan'])}"
    assert after["sites"], "the dragged post should stand on a new road node (a new site)"
    assert js_errors(driver) == []


def test_on_a_phone_the_optimisers_proposal_stands_below_the_map_and_leaves_its_badge_in_sight(phone_page):
    server, driver = phone_page
    evaluated = driver.execute_script(SETTLED)
    driver.execute_script("document.getElementById('optimise').click()")
    wait_for(driver, "return window.__patrolsim.proposal && !document.getElementById('proposal').hidden",
             "the optimiser's proposal", timeout_s=300)
    driver.execute_script("document.getElementById('map-box').scrollIntoView({block: 'start', behavior: 'instant'})")
    boxes = driver.execute_script("""
        const box = id => { const r = document.getElementById(id).getBoundingClientRect();
          return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
        const badge = box('synthetic'), x = (badge.left + badge.right) / 2, y = (badge.top + badge.bottom) / 2;
        return {map: box('map-box'), proposal: box('proposal'), badge: badge, width: window.innerWidth,
                atBadge: document.getElementById('synthetic').contains(document.elementFromPoint(x, y))};""")
    assert boxes["atBadge"], f"on a phone the proposal covers the synthetic-network note: {boxes}"
    assert boxes["proposal"]["top"] >= boxes["map"]["bottom"] - 1, \
        f"on a phone the proposal lies over the map: proposal {boxes['proposal']}, map {boxes['map']}"
    assert boxes["proposal"]["left"] >= 0 and boxes["proposal"]["right"] <= boxes["width"], \
        f"on a phone the proposal is outside the {boxes['width']} px window: {boxes['proposal']}"
    driver.execute_script("document.getElementById('discard').click()")
    assert driver.execute_script("return document.getElementById('proposal').hidden"), "discard left the proposal box"
    assert driver.execute_script(SETTLED) == evaluated, "discarding the proposal started an evaluation"
    assert js_errors(driver) == []


def test_back_in_a_wide_window_the_three_columns_stand_side_by_side(phone_page):
    server, driver = phone_page
    driver.set_window_size(*WIDE)
    try:
        wait_for(driver, f"return window.innerWidth >= {WIDE[0] - 20}", "the window to widen")
        wait_for(driver, """const s = MapView.map.getSize(), r = document.getElementById('map').getBoundingClientRect();
                            return Math.abs(s.x - r.width) < 1 && Math.abs(s.y - r.height) < 1;""",
                 "the map to take its new size")
        boxes = driver.execute_script(BOXES_JS)
        left, middle, right = boxes["left"], boxes["map-wrap"], boxes["right"]
        assert left["right"] <= middle["left"] + 1 and middle["right"] <= right["left"] + 1, \
            f"the units, the map and the results are not side by side: {left} / {middle} / {right}"
        assert abs(left["top"] - middle["top"]) < 1 and abs(middle["top"] - right["top"]) < 1, \
            f"the three columns do not start at the same height: {left['top']}, {middle['top']}, {right['top']}"
        assert middle["width"] >= 400, f"the map column is only {middle['width']:.0f} px wide in a wide window"
        window = boxes["window"]
        assert window["scrollWidth"] <= window["width"] and window["scrollHeight"] <= window["height"], \
            f"the wide page should fit the window without scrolling: {window}"
    finally:
        driver.set_window_size(*PHONE)
