"""A thread in the console's calendar: the slot that sends it shows every part, each with its
own length, in order, as the worker will send them; the later slots count every part."""

from __future__ import annotations

import os
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from amplifier.config import WebAccess
from amplifier.web import create_app, open_console

from .conftest import MASTODON_TOKEN, VIEWER_PASSWORD, X_TOKEN, Clock, sign_in, write_deployment

PARTS = (
    "Detention or a caseworker? What the record shows, in three posts.",
    "Families released with a caseworker came to nearly every court date.",
    "Ask Congress to fund the caseworkers, not the cells.",
)


@pytest.fixture
def threaded(
    tmp_path: Path, database_url: str, access: WebAccess, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:  # fmt: skip
    for name in list(os.environ):
        if name.startswith(("AMPLIFIER_", "DATABASE_URL", "DYNO")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONSOLE_X1_TOKEN", X_TOKEN)
    monkeypatch.setenv("CONSOLE_M1_TOKEN", MASTODON_TOKEN)
    config, posts = write_deployment(tmp_path, database_url)
    for other in posts.glob("*.md"):
        other.unlink()  # the thread alone, so every slot shows it
    body = "\n+++\n".join(PARTS)
    (posts / "thread.md").write_text(
        f"---\nid: thread\ncampaign: c\nlanguage: en\nsource: test\n---\n{body}\n"
    )
    console = open_console(config, posts, access, clock=clock)
    with TestClient(create_app(console), base_url="http://testserver") as client:
        sign_in(client, VIEWER_PASSWORD, name="Vera")
        yield client
    console.close()


def test_the_calendar_shows_each_part_of_a_thread(threaded: TestClient) -> None:
    html = unescape(threaded.get("/").text)
    assert "A thread of 3 posts, each replying to the one before: part 1" in html
    first, second, third = (html.index(part) for part in PARTS)
    assert first < second < third
    assert "Part 2 of 3, a reply to part 1" in html and "Part 3 of 3, a reply to part 2" in html
    assert "68/280 characters" in html[second - 200 : second]  # part 2's own length, on X
    # The X account's next slot that day: the thread's three posts count against the cap.
    assert "guard daily-cap: 3 posts already on 2026-11-23" in html
