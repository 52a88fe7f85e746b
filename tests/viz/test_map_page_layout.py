"""The HTML map's layout in a real browser: on a phone the map takes the width and the legend follows below
it; in a wide window the legend is a column to the map's right. Pointer and fingers still move the map."""
from __future__ import annotations

import time

import pytest

from sim.i18n import messages
from sim.viz.map_html import draw_map_html
from tests.browser import chromium_driver, js_errors

BANDS_MIN = (5.0, 10.0, 15.0, 20.0)
PHONE = (390, 800)
WIDE = (1300, 900)

# Boxes in page coordinates (CSS px from the document's top left), [left, top, right, bottom]; "roads":
# the network's bounding box as drawn.
BOXES_JS = """
var out = {}, sx = window.scrollX, sy = window.scrollY;
["map", "legend", "head", "title", "subtitle", "help", "corner"].forEach(function (id) {
  var b = document.getElementById(id).getBoundingClientRect();
  out[id] = [b.left + sx, b.top + sy, b.right + sx, b.bottom + sy];
});
var size = JSON.parse(document.getElementById("map-data").textContent).size_m, v = window.patrolMap;
var c = document.getElementById("map").getBoundingClientRect(), sw = v.toScreen(0, 0), ne = v.toScreen(size[0], size[1]);
out.roads = [c.left + sx + sw[0], c.top + sy + ne[1], c.left + sx + ne[0], c.top + sy + sw[1]];
out.window = [window.innerWidth, window.innerHeight, document.documentElement.scrollWidth];
out.clipped = ["title", "subtitle", "help", "corner"].filter(function (id) {
  var e = document.getElementById(id); return e.scrollWidth > e.clientWidth + 1;
});
return out;
"""


@pytest.fixture(scope="module", params=["en", "id"])
def page(request, demo_world, tmp_path_factory):
    """A compare map (two plans: the legend holds the plan switch) in English, one plan in Indonesian."""
    scenario, world = demo_world
    plans = ["mixed", "all-at-hq"] if request.param == "en" else ["mixed"]
    out = tmp_path_factory.mktemp(f"layout_{request.param}") / "map.html"
    return draw_map_html(scenario, world, plans, out, BANDS_MIN, m=messages(request.param)).path


def overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(a: list[float], b: list[float], slack_px: float = 1.0) -> bool:
    return a[0] >= b[0] - slack_px and a[1] >= b[1] - slack_px and a[2] <= b[2] + slack_px and a[3] <= b[3] + slack_px


def boxed(x: list[float]) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in x) + "]"


def open_page(driver, path) -> dict:
    driver.get(path.as_uri())
    deadline = time.monotonic() + 5
    while not driver.execute_script("return window.patrolMap && window.patrolMap.draws > 0;") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert js_errors(driver) == []
    return driver.execute_script(BOXES_JS)


@pytest.mark.slow
def test_on_a_phone_the_map_takes_the_width_and_the_legend_follows_below_it(page):
    with chromium_driver(*PHONE) as driver:
        box = open_page(driver, page)
    width, _, page_width = box["window"]
    legend, drawing, roads = box["legend"], box["map"], box["roads"]
    where = f"at {width} px"
    assert not overlaps(legend, drawing), \
        f"{where} the legend covers the map: legend box {boxed(legend)}, map box {boxed(drawing)}"
    assert legend[1] >= drawing[3], f"{where} the legend is not below the map: legend box {boxed(legend)}, map box {boxed(drawing)}"
    assert drawing[2] - drawing[0] >= 0.9 * width, \
        f"{where} the map is {drawing[2] - drawing[0]:.0f} px wide, under 90% of the window"
    assert roads[2] - roads[0] >= 0.9 * width and inside(roads, drawing), \
        f"{where} the roads are drawn in {boxed(roads)}: under 90% of the window's width or outside the map box {boxed(drawing)}"
    assert page_width <= width, f"{where} the page is {page_width} px wide: something is cut off at the right"
    assert box["clipped"] == [], f"{where} these lines are cut off: {box['clipped']}"
    for name in ("title", "subtitle", "help", "corner"):
        assert inside(box[name], [0, 0, width, 1e6]), f"{where} the {name} {boxed(box[name])} leaves the window"
    assert not overlaps(box["head"], drawing) and not overlaps(box["head"], legend), \
        f"{where} the title {boxed(box['head'])} runs into the map {boxed(drawing)} or the legend {boxed(legend)}"
    assert inside(box["corner"], drawing) and not overlaps(box["corner"], roads), \
        f"{where} the synthetic-network badge {boxed(box['corner'])} is not in the map's foot, clear of the roads {boxed(roads)}"
    assert drawing[3] <= box["help"][1] and box["help"][3] <= legend[1], \
        f"{where} the controls' help {boxed(box['help'])} is not between the map {boxed(drawing)} and the legend {boxed(legend)}"


@pytest.mark.slow
def test_in_a_wide_window_the_legend_is_a_column_right_of_the_map(page):
    with chromium_driver(*WIDE) as driver:
        box = open_page(driver, page)
    width, height, _ = box["window"]
    legend, roads = box["legend"], box["roads"]
    assert legend[0] >= roads[2] and legend[1] < roads[3] and roads[1] < legend[3], \
        f"at {width} px the legend {boxed(legend)} is not beside the roads {boxed(roads)}, to their right"
    assert legend[3] <= height and box["map"] == [0, 0, width, height], \
        f"at {width} px the map {boxed(box['map'])} no longer fills the window with the legend {boxed(legend)} over its right side"
    assert not overlaps(box["head"], roads), f"at {width} px the title {boxed(box['head'])} runs into the roads {boxed(roads)}"


@pytest.mark.slow
def test_on_a_phone_hover_stays_in_the_window_and_wheel_and_two_fingers_zoom(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    with chromium_driver(*PHONE) as driver:
        open_page(driver, page)
        canvas = driver.find_element("id", "map")
        # The page scrolled a little, as a user reading down does; the rightmost site's tooltip.
        driver.execute_script("window.scrollTo(0, 60);")
        sites = driver.execute_script(
            "var d = JSON.parse(document.getElementById('map-data').textContent);"
            "return d.sites.map(function (s) { return [s.name, window.patrolMap.siteScreen(s.id)]; });")
        name, (x, y) = max(sites, key=lambda site: site[1][0])
        width, height = canvas.size["width"], canvas.size["height"]
        ActionChains(driver).move_to_element_with_offset(canvas, round(x - width / 2), round(y - height / 2)).perform()
        tip = driver.execute_script(
            "var t = document.getElementById('tooltip'), b = t.getBoundingClientRect();"
            "return [t.textContent, [b.left, b.top, b.right, b.bottom], [innerWidth, innerHeight]];")
        text, tip_box, (win_w, win_h) = tip
        assert name in text, f"hovering {name!r} on the scrolled phone page shows {text!r}"
        assert inside(tip_box, [0, 0, win_w, win_h]), \
            f"the tooltip {boxed(tip_box)} leaves the {win_w} x {win_h} px window"

        scale = driver.execute_script("return window.patrolMap.scale;")
        ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(canvas, 0, 0), 0, -600).perform()
        deadline = time.monotonic() + 5
        while driver.execute_script("return window.patrolMap.scale;") == scale and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.execute_script("return window.patrolMap.scale;") > scale, "the wheel no longer zooms the narrow map"

        # Two fingers spread apart from 40 px to 120 px: the map zooms 3x about the point between them.
        view = driver.execute_script(
            "var b = document.getElementById('map').getBoundingClientRect(), v = window.patrolMap;"
            "var mid = [b.left + b.width / 2, b.top + b.height / 2];"
            "return [mid, v.toData(mid[0] - b.left, mid[1] - b.top), v.scale];")
        (mx, my), middle_m, scale = view

        def touch(kind: str, apart_px: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": mx - apart_px / 2, "y": my}, {"x": mx + apart_px / 2, "y": my}]
            driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 40)
        touch("touchMove", 80)
        touch("touchMove", 120)
        touch("touchEnd", 0)
        after = driver.execute_script(
            "var b = document.getElementById('map').getBoundingClientRect(), v = window.patrolMap;"
            "return [v.scale, v.toData(arguments[0] - b.left, arguments[1] - b.top), window.visualViewport.scale];", mx, my)
        assert after[0] == pytest.approx(3 * scale), f"two fingers spread 3x zoom the map {after[0] / scale:.2f}x"
        assert after[1] == pytest.approx(middle_m, abs=1), \
            f"the point between the fingers moved from {middle_m} m to {after[1]} m"
        assert after[2] == 1, f"two fingers zoomed the page ({after[2]}x), not the map"
        assert js_errors(driver) == []


# The boxes of each name's characters where it stands in the page's text (a word joiner may follow a hyphen);
# a name whose boxes stand at more than one height is broken across lines.
BROKEN_NAMES_JS = """
var names = arguments[0], broken = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  var node = walker.currentNode;
  if (!node.parentElement || !node.parentElement.offsetParent) continue;   // not shown
  names.forEach(function (name) {
    var pattern = new RegExp(name.replace(/[.*+?^${}()|[\\]\\\\]/g, "\\\\$&").replace(/-/g, "-\\u2060?"), "g"), m;
    while ((m = pattern.exec(node.data))) {
      var range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      var tops = {};
      Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width) tops[Math.round(r.top)] = 1; });
      if (Object.keys(tops).length > 1) broken.push(name + " in #" + (node.parentElement.id || node.parentElement.tagName));
    }
  });
}
return broken;
"""


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "id"])
def test_hyphenated_names_are_never_broken_across_lines_at_any_width(demo_world, tmp_path, lang):
    scenario, world = demo_world
    plans = ["mixed-plus-one", "joint-circuit"]
    path = draw_map_html(scenario, world, plans, tmp_path / "map.html", BANDS_MIN, m=messages(lang)).path
    names = [*plans, scenario.name]
    found = {}
    with chromium_driver(*PHONE) as driver:
        open_page(driver, path)
        for width in range(320, 1001, 8):
            driver.set_window_size(width, 800)
            broken = driver.execute_script(BROKEN_NAMES_JS, names)
            if broken:
                found[width] = broken
        assert js_errors(driver) == []
    assert found == {}, f"{lang}: names broken at a hyphen, by window width: {dict(list(found.items())[:4])}"
