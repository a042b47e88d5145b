"""Fixtures of the browser tests: one Chromium per session, axe-core's source, fresh pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .support import LAPTOP, PHONE, axe_source, chromium_path, new_page, unavailable


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched once for the session."""
    path = chromium_path()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=path, headless=True)
        except Exception as error:  # Playwright's own error type varies by failure
            unavailable(f"{path} did not start under Playwright: {error}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe() -> str:
    """axe-core's axe.min.js, for support.run_axe."""
    return axe_source()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A laptop-sized page (1280 x 900) in a fresh context."""
    with new_page(browser, LAPTOP) as opened:
        yield opened


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page (390 x 844, touch) in a fresh context."""
    with new_page(browser, PHONE, is_mobile=True, has_touch=True) as opened:
        yield opened
