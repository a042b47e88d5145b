"""The sample campaign's share kit, built and served over HTTP for the browser tests, and a
recorder that stops every request leaving the kit's origin and keeps it for the test."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, Route

from amplifier.check import load
from amplifier.kit import build_kit

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "index.html",
    "families-belong-together.en.html",
    "families-belong-together.es.html",
    "mastodon.en.html",
    "mastodon.es.html",
)


def build_sample(out: Path) -> None:
    settings, library = load(ROOT / "config.example.toml", ROOT / "posts")
    build_kit(
        settings,
        library,
        out,
        campaigns=sorted(settings.campaigns),
        seed="2026",
        today=date(2026, 12, 5),
        base_url="https://kit.example.org/",
        posts=ROOT / "posts",
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder over HTTP on 127.0.0.1 (a thread), as a static host serves it."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Outside:
    """Every request for another origin: stopped (answered 204, so a navigation stays on the
    kit's page) and kept."""

    origin: str
    urls: list[str] = field(default_factory=list)
    inside: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Outside:
        page.route("**/*", self._handle)
        return self

    def _handle(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/"):
            self.inside.append(url)
            route.continue_()
        else:
            self.urls.append(url)
            route.fulfill(status=204, body="")


def shared_text(url: str) -> str:
    """The ``text`` a composer link carries, decoded."""
    [text] = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)["text"]
    return text


def target(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path
