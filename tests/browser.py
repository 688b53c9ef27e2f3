"""A real browser for tests: Debian's headless Chromium driven by Selenium.

The `browser` fixture (registered in conftest.py) gives one Chromium for the
test session, with a fresh profile and a download directory; tests that use it
are skipped, with the reason, only where Chromium cannot be installed. Nothing
is downloaded by Selenium: the driver is /usr/bin/chromedriver, installed with
the browser from the system packages (`chromium`, `chromium-driver`) when
missing and we are root."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # gitignored: screenshots
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


def ensure_chromium() -> str | None:
    """None when Chromium and its driver are there (installing them from the
    system packages if we may), else why not."""
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        return None
    if shutil.which("apt-get") is None:
        return "Chromium is not installed and there is no apt-get to install it"
    if os.geteuid() != 0:
        return "Chromium is not installed and installing it needs root (apt-get install chromium chromium-driver)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium",
                                        "chromium-driver"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"installing Chromium failed: {' '.join(cmd)}: {done.stderr.strip()[-500:]}"
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        return "apt-get installed chromium but /usr/bin/chromium or /usr/bin/chromedriver is missing"
    return None


class Browser:
    """A Selenium Chrome driver and the helpers the console tests share."""

    def __init__(self, driver: Any, downloads: Path) -> None:
        self.driver = driver
        self.downloads = downloads

    def open(self, url: str) -> None:
        """Goes to `url`; reloads when already there (a same-URL get may not)."""
        if self.driver.current_url == url:
            self.driver.refresh()
        else:
            self.driver.get(url)

    def wait(self, predicate: Callable[[Any], Any], timeout: float = 30.0, what: str = "") -> Any:
        """Polls `predicate(driver)` until it is truthy (Selenium's WebDriverWait);
        an element redrawn while we looked at it counts as not yet."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(predicate, what)

    def find(self, css: str, timeout: float = 30.0) -> Any:
        """The first element matching `css`, once it is displayed."""
        from selenium.webdriver.common.by import By
        return self.wait(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None),
                         timeout, f"no visible {css}")

    def text_of(self, css: str, contains: str, timeout: float = 30.0) -> Any:
        """Waits until an element matching `css` holds `contains`; returns that element."""
        from selenium.webdriver.common.by import By

        def found(d: Any) -> Any:
            return next((e for e in d.find_elements(By.CSS_SELECTOR, css) if contains in e.text), None)
        return self.wait(found, timeout, f"no {css} containing {contains!r}")

    def click_text(self, css: str, text: str) -> None:
        self.text_of(css, text).click()

    def accept_confirm(self) -> str:
        """Accepts the page's confirm() dialog; returns its message."""
        alert = self.wait(lambda d: _alert(d), 10.0, "no confirm dialog")
        message = alert.text
        alert.accept()
        return message

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def downloaded(self, name: str, size: int, timeout: float = 60.0) -> Path:
        """The downloaded file `name` once it is complete (`size` bytes, no partial file left)."""
        path = self.downloads / name
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            partial = list(self.downloads.glob("*.crdownload"))
            if path.exists() and path.stat().st_size == size and not partial:
                return path
            time.sleep(0.1)
        raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in self.downloads.iterdir())}")

    def console_errors(self) -> list[str]:
        """Severe messages in the browser's console (script errors, failed loads)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]


def _alert(driver: Any) -> Any:
    from selenium.common.exceptions import NoAlertPresentException
    try:
        return driver.switch_to.alert
    except NoAlertPresentException:
        return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium for the session (skipped, with why, if it cannot be had)."""
    reason = ensure_chromium()
    if reason:
        pytest.skip(reason)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield Browser(driver, downloads)
    finally:
        driver.quit()
