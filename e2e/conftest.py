"""Browser tests drive real Chromium (Debian's `chromium`) through Playwright for Python.

Without Chromium the tests skip on a laptop but FAIL under CI=true: a green CI must mean they ran.
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# (fixtures, assertions) are ordinary synchronous code, so tell Django that this is intended.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is missing: CI must run the browser tests (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page (390×844, touch), Chinese locale."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def shot():
    """shot(page, name) saves a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def clock(monkeypatch):
    """clock.set(moment): from now on `timezone.now()` (the live server's thread included) runs on from `moment`;
    clock.set(moment, frozen=True): it stays at `moment` (to check a time stamped "now" to the second)."""
    real_now = timezone.now

    class Clock:
        offset = timedelta(0)
        frozen: datetime | None = None

        def set(self, moment: datetime, *, frozen: bool = False) -> None:
            self.offset = moment - real_now()
            self.frozen = moment if frozen else None

        def now(self) -> datetime:
            return self.frozen or real_now() + self.offset

    c = Clock()
    monkeypatch.setattr(timezone, "now", c.now)
    return c
