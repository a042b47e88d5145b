"""The share kit at /kit, public and under the console's own security headers; and the
calendar's tagged links, as the worker will send them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from amplifier.config import WebAccess
from amplifier.networks.links import shown_link
from amplifier.web import Console, create_app, open_console
from amplifier.web.security import CSP

from .conftest import VIEWER_PASSWORD, Clock, sign_in, write_deployment


def test_kit_is_public_and_holds_the_posts(client: TestClient) -> None:
    """No session needed; every page of the kit's index answers, with the console's CSP,
    which the kit's own stylesheet and script satisfy (no inline code, same origin)."""
    moved = client.get("/kit", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, "/kit/")
    index = client.get("/kit/")
    assert index.status_code == 200, index.text
    assert index.headers["content-security-policy"] == CSP
    assert "/signin" not in str(index.url)
    pages = re.findall(r'href="([a-z0-9.-]+\.html)"', index.text)
    assert pages, index.text
    seen = ""
    for name in dict.fromkeys(pages):
        answer = client.get(f"/kit/{name}")
        assert answer.status_code == 200, name
        seen += unescape(answer.text)
        assert "<script>" not in answer.text and " style=" not in answer.text
    assert "Seeking asylum is a legal right" in seen
    assert "Pedir asilo es un derecho" in seen  # the Spanish page
    for asset in ("kit.css", "kit.js"):
        assert client.get(f"/kit/{asset}").status_code == 200


@pytest.mark.parametrize("path", ["/kit/../config.toml", "/kit/%2e%2e/config.toml",
                                  "/kit/.amplifier-kit", "/kit/nothing.html"])  # fmt: skip
def test_nothing_outside_the_kit_is_served(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "[campaigns" not in answer.text


BLUESKY = """
[[accounts]]
name = "b1"
network = "bluesky"
handle = "b1.example"
campaigns = ["c"]
schedule = "two"
"""


@pytest.fixture
def linked(
    tmp_path: Path, access: WebAccess, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Console]:
    """The deployment with a Bluesky account, every post linking, links tagged."""
    for name in list(os.environ):
        if name.startswith(("AMPLIFIER_", "DATABASE_URL", "DYNO")):
            monkeypatch.delenv(name)
    config, posts = write_deployment(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    text = config.read_text().replace("[campaigns.c]\n", '[campaigns.c]\nattribution = "utm"\n')
    config.write_text(text + BLUESKY)
    for post in posts.glob("*.md"):
        if ".es." not in post.name:
            body = post.read_text().replace("---\n", "link: https://example.org/act\n---\n", 2)
            post.write_text(body.replace("link: https://example.org/act\n---\n", "---\n", 1))
    opened = open_console(config, posts, access, clock=clock)
    yield opened
    opened.close()


def test_calendar_shows_each_networks_tagged_link(linked: Console) -> None:
    with TestClient(create_app(linked), base_url="http://testserver") as client:
        sign_in(client, VIEWER_PASSWORD)
        html = unescape(client.get("/").text)
    articles = re.findall(r'<article class="slot[^"]*" data-account="(\w+)".*?</article>', html,
                          re.S)  # fmt: skip
    assert set(articles) >= {"x1", "b1"}, html
    blocks: dict[str, str] = {}
    for account, block in re.findall(r'data-account="(\w+)"(.*?)</article>', html, re.S):
        blocks[account] = blocks.get(account, "") + block
    x_link = "https://example.org/act?utm_source=x&utm_medium=social&utm_campaign=c&utm_content="
    assert x_link in blocks["x1"]
    bluesky = "https://example.org/act?utm_source=bluesky&utm_medium=social&utm_campaign=c"
    assert f'The link goes to <code class="link">{bluesky}' in blocks["b1"], blocks["b1"]
    assert shown_link(bluesky + "&utm_content=x") in blocks["b1"]


def test_posts_page_shows_the_links_as_the_accounts_post_them(linked: Console) -> None:
    with TestClient(create_app(linked), base_url="http://testserver") as client:
        sign_in(client, VIEWER_PASSWORD)
        html = unescape(client.get("/posts").text)
    for network in ("x", "mastodon"):
        assert f"https://example.org/act?utm_source={network}&utm_medium=social" in html
    assert "example.org/act?utm_sour..." in html  # Bluesky's short form
