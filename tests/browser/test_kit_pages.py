"""The share kit's pages in Chromium: axe-core finds no serious or critical violation on any
page, at a laptop's and a phone's width, and nothing is wider than a 390 px phone.
Screenshots of each page at both widths are saved to $KIT_SHOTS (default /tmp/kit-shots)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from .kit_site import PAGES, build_sample, served
from .support import LAPTOP, PHONE, describe, new_page, run_axe

SHOTS = Path(os.environ.get("KIT_SHOTS", "/tmp/kit-shots"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("kit") / "site"
    build_sample(out)
    with served(out) as origin:
        yield origin


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_each_page_passes_axe_and_fits_the_screen(
    browser: Browser, axe: str, kit: str, name: str, size: str
) -> None:
    """No serious or critical axe violation (WCAG 2.1 AA and best practices); no horizontal
    scrolling at 390 px."""
    viewport = PHONE if size == "phone" else LAPTOP
    options = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
    with new_page(browser, viewport, **options) as page:
        # The fullest state: a Mastodon server remembered (its note shown) and, on the
        # chooser, a text to share.
        page.add_init_script(
            "localStorage.setItem('amplifier-kit.mastodon-server', 'social.example')"
        )
        page.goto(f"{kit}/{name}?text=A%20post%20to%20share%0A%0A%23Tag")
        violations = run_axe(page, axe)
        assert violations == [], describe(violations)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{size}-{name.removesuffix('.html')}.png"))
