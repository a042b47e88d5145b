"""The browser test kit itself: Chromium starts, axe-core runs under a strict CSP and finds
what it must, so a page passing run_axe elsewhere means something."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .support import describe, run_axe

GOOD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Good</title></head>
<body><main><h1>Families belong together</h1><p>Text.</p>
<img src="pixel.gif" alt="A family at a march"></main></body></html>"""
BAD = """<!doctype html><html><head><meta charset="utf-8"><title>Bad</title></head>
<body><main><h1>Bad</h1><img src="pixel.gif"></main></body></html>"""
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


class _StrictHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder with the CSP the app's pages send: only the page's own origin."""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", "default-src 'self'")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "good.html").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.html").write_text(BAD, encoding="utf-8")
    (tmp_path / "pixel.gif").write_bytes(PIXEL)
    handler = partial(_StrictHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_axe_passes_a_good_page_under_a_strict_csp(page: Page, axe: str, site: str) -> None:
    page.goto(f"{site}/good.html")
    assert page.title() == "Good"
    violations = run_axe(page, axe)
    assert violations == [], describe(violations)


def test_axe_finds_a_missing_alt_and_language(phone_page: Page, axe: str, site: str) -> None:
    phone_page.goto(f"{site}/bad.html")
    found = {violation["id"] for violation in run_axe(phone_page, axe)}
    assert {"image-alt", "html-has-lang"} <= found, found
    assert phone_page.viewport_size == {"width": 390, "height": 844}
