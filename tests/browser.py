"""Headless Chromium for tests of the self-contained HTML outputs (maps, animations).

Usage::

    from tests.browser import chromium_driver, js_errors

    with chromium_driver() as driver:
        driver.get(path.as_uri())
        assert js_errors(driver) == []

The browser runs with no network access of its own (background networking, component
updates and sync are off) and a fresh profile in a temporary directory, so a page that
works here works from disk on an offline laptop.
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


@contextmanager
def chromium_driver(width_px: int = 1280, height_px: int = 900) -> Iterator["WebDriver"]:
    """Yield a headless Chromium selenium WebDriver with a window of width_px x height_px."""
    _require_browser()
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
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def js_errors(driver: "WebDriver") -> list[str]:
    """Return the page's JavaScript errors so far: uncaught exceptions and console errors.

    Reading the browser log drains it, so call once per check.
    """
    errors: list[str] = list(driver.execute_script("return window.__jsErrors || [];") or [])
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            errors.append(str(entry.get("message")))
    return errors
