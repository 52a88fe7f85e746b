"""Headless Chromium for tests of the self-contained HTML outputs (maps, animations).

Usage::

    from tests.browser import chromium_driver, js_errors

    with chromium_driver() as driver:
        driver.get(path.as_uri())
        assert js_errors(driver) == []

The browser runs with no network access of its own (background networking, component
updates and sync are off) and a profile in a temporary directory, so a page that works here
works from disk on an offline laptop. One browser serves the session (conftest closes it at
the end): each test borrows it on a blank page with the page's storage cleared.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # selenium is a test extra; import it only where a browser runs
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM_BINARY = Path("/usr/bin/chromium")
CHROMEDRIVER_BINARY = Path("/usr/bin/chromedriver")

# Installed at page start so errors thrown before the test can read the console are
# kept too; selenium's browser log covers console.error and failed resources.
_ERROR_CAPTURE_JS = """
window.__jsErrors = window.__jsErrors || [];
window.addEventListener('error', function (e) {
  window.__jsErrors.push(String(e.message) + ' @ ' + e.filename + ':' + e.lineno);
});
window.addEventListener('unhandledrejection', function (e) {
  window.__jsErrors.push('unhandled rejection: ' + String(e.reason));
});
"""


def _require_browser() -> None:
    """Skip when Chromium is missing on a developer machine; fail loudly in CI."""
    missing = [str(p) for p in (CHROMIUM_BINARY, CHROMEDRIVER_BINARY) if not p.exists()]
    if not missing:
        return
    message = f"headless browser tests need {', '.join(missing)} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _start(width_px: int, height_px: int) -> tuple["WebDriver", str]:
    """A new headless Chromium and its profile folder."""
    # selenium is a test extra: import here so modules importing this helper still collect.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager would otherwise try to reach the internet for statistics/drivers.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile_dir = tempfile.mkdtemp(prefix="patrolsim-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM_BINARY)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width_px},{height_px}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER_BINARY)), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ERROR_CAPTURE_JS})
    except BaseException:
        _stop(driver, profile_dir)
        raise
    return driver, profile_dir


def _stop(driver: "WebDriver", profile_dir: str) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(profile_dir, ignore_errors=True)


class _Shared:
    """The session's one browser (starting Chromium costs seconds): lent to one test at a time."""

    driver: "WebDriver | None" = None
    profile_dir = ""
    lent = False


def _reset(driver: "WebDriver") -> None:
    """Leave the page as a new browser would have it: storage of the page cleared, blank, log drained."""
    driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) { }")
    driver.get("about:blank")
    driver.delete_all_cookies()
    driver.get_log("browser")


def close_shared_browser() -> None:
    """Stop the session's browser (conftest calls this when the session ends)."""
    if _Shared.driver is not None:
        driver, _Shared.driver = _Shared.driver, None
        _stop(driver, _Shared.profile_dir)


@contextmanager
def chromium_driver(width_px: int = 1280, height_px: int = 900) -> Iterator["WebDriver"]:
    """Yield a headless Chromium selenium WebDriver with a window of width_px x height_px.

    The session's browser is lent, on a blank page with its storage cleared; a test that needs a
    second browser while the first is lent gets a new one of its own.
    """
    _require_browser()
    if _Shared.lent:
        driver, profile_dir = _start(width_px, height_px)
        try:
            yield driver
        finally:
            _stop(driver, profile_dir)
        return
    if _Shared.driver is None:
        _Shared.driver, _Shared.profile_dir = _start(width_px, height_px)
    driver = _Shared.driver
    driver.set_window_size(width_px, height_px)
    _Shared.lent = True
    try:
        yield driver
    finally:
        _Shared.lent = False
        try:
            _reset(driver)
        except Exception:  # noqa: BLE001 - a browser left unusable (a dialog, a crash) is replaced
            close_shared_browser()


def js_errors(driver: "WebDriver") -> list[str]:
    """Return the page's JavaScript errors so far: uncaught exceptions and console errors.

    Reading the browser log drains it, so call once per check.
    """
    errors: list[str] = list(driver.execute_script("return window.__jsErrors || [];") or [])
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            errors.append(str(entry.get("message")))
    return errors
