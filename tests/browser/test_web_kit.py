"""The share kit served by the console at /kit, in Debian's Chromium: public (no sign-in),
its own script running under the console's Content-Security-Policy (the remembered Mastodon
server rewrites the Mastodon buttons), no request leaving the console, and the links tagged
for supporters' shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser

from .support import LAPTOP, describe, new_page, run_axe
from .web_server import Served, served_sample

SERVER_KEY = "amplifier-kit.mastodon-server"


@pytest.fixture(scope="module")
def console_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    repo = Path(__file__).resolve().parent.parent.parent
    with served_sample(tmp_path_factory.mktemp("kit-sample"), repo) as served:
        yield served


def test_kit_at_slash_kit_works_without_sign_in(
    browser: Browser, axe: str, console_site: Served
) -> None:
    site = console_site.url
    with new_page(browser, LAPTOP) as page:
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
                else None)  # fmt: skip
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{site}/kit")
        assert urlsplit(page.url).path == "/kit/"  # not the sign-in page
        page.goto(f"{site}/kit/mastodon.en.html")
        page.evaluate("([k, h]) => localStorage.setItem(k, h)", [SERVER_KEY, "social.example"])
        page.goto(f"{site}/kit/families-belong-together.en.html")
        assert page.locator("article.card").count() == 45
        mastodon = page.locator('a[data-network="mastodon"]').first.get_attribute("href") or ""
        assert mastodon.startswith("https://social.example/share?text="), mastodon
        bluesky = [
            parse_qs(urlsplit(link.get_attribute("href") or "").query)["text"][0]
            for link in page.locator('a[data-network="bluesky"]').all()
        ]
        tagged = [text for text in bluesky if "utm_source=bluesky&utm_medium=share-kit" in text]
        assert tagged, bluesky[:3]
        violations = run_axe(page, axe)
        assert violations == [], describe(violations)
        assert refused == []
        assert all(url.startswith(site + "/kit") for url in requested), requested
