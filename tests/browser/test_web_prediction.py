"""What the calendar shows in Chromium is what the worker then sends.

A small deployment (an X and a Mastodon account, live: credentials set) whose networks are
the fake X and Mastodon servers of amplifier/testing, reached through the real SDKs. The
console runs on an injected clock; the browser reads the calendar's next slots (account, due
time, post, the text as rendered); then the worker, its own store on the same database like
another process, runs each slot at its due time (the same clock, moved; nothing sleeps).
Reloaded, the history shows each of those slots published with the calendar's post, and the
fake servers hold the calendar's very text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from amplifier.accounts import network_factory
from amplifier.config import web_access
from amplifier.store import Store
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX
from amplifier.web import open_console
from amplifier.worker import Worker

from .support import LAPTOP, new_page
from .web_server import ENVIRONMENT, VIEWER_PASSWORD, serve

START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # a Monday, 08:00 in New York
TOKEN = "prediction-mastodon-token"
SLOTS = 6  # the calendar's first slots, about two days of both accounts

CONFIG = """
database_url = "sqlite:///{db}"
seed = "browser-prediction"
[worker]
grace_minutes = 30
[guards]
daily_cap = 3
[campaigns.c]
language = "en"
[campaigns.c.hashtags]
always = ["FamiliesBelongTogether"]
[schedules.ny]
timezone = "America/New_York"
times = ["09:00", "18:00"]
random_offset_minutes = 10
[schedules.chicago]
timezone = "America/Chicago"
times = ["08:00", "15:30"]
[[accounts]]
name = "x1"
network = "x"
api_base = "{x_url}"
campaigns = ["c"]
schedule = "ny"
[accounts.secrets_from_env]
oauth2_user_token = "PREDICTION_X1_TOKEN"
[[accounts]]
name = "m1"
network = "mastodon"
instance = "{mastodon_url}"
campaigns = ["c"]
schedule = "chicago"
[accounts.secrets_from_env]
access_token = "PREDICTION_M1_TOKEN"
"""
POSTS = {
    "asylum": "Seeking asylum is a legal right under US and international law.",
    "courts": "Families released with a caseworker came to nearly every court date.",
    "cost": "Detaining a family costs far more than supporting it in the community.",
    "call": "Call your member of Congress and ask them to stop funding family detention.",
    "doctors": "Pediatricians warn that detention harms children even after a short stay.",
}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def servers() -> Iterator[tuple[FakeX, FakeMastodon]]:
    fake_x = FakeX().start()
    fake_mastodon = FakeMastodon(FakeMastodonSettings(token=TOKEN)).start()
    try:
        yield fake_x, fake_mastodon
    finally:
        fake_x.stop()
        fake_mastodon.stop()


def _deployment(folder: Path, fake_x: FakeX, fake_mastodon: FakeMastodon) -> Path:
    posts = folder / "posts"
    posts.mkdir()
    for post_id, text in POSTS.items():
        (posts / f"{post_id}.md").write_text(
            f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n---\n{text}\n"
        )
    config = folder / "config.toml"
    config.write_text(
        CONFIG.format(
            db=folder / "state.db", x_url=fake_x.base_url, mastodon_url=fake_mastodon.base_url
        )
    )
    return config


def test_the_calendars_next_slots_are_what_the_worker_sends(
    browser: Browser,
    servers: tuple[FakeX, FakeMastodon],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_x, fake_mastodon = servers
    monkeypatch.setenv("PREDICTION_X1_TOKEN", "prediction-x-token")
    monkeypatch.setenv("PREDICTION_M1_TOKEN", TOKEN)
    config = _deployment(tmp_path, fake_x, fake_mastodon)
    clock = Clock()
    console = open_console(config, tmp_path / "posts", web_access(ENVIRONMENT), clock=clock)
    try:
        with serve(console) as site, new_page(browser, LAPTOP) as page:
            page.goto(f"{site.url}/signin")
            page.get_by_label("Your name").fill("Vera")
            page.get_by_label("Password").fill(VIEWER_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{site.url}/")
            slots: list[dict[str, Any]] = page.eval_on_selector_all(
                "article.slot",
                """nodes => nodes.map(n => ({
                    account: n.dataset.account, due: n.dataset.due, kind: n.dataset.kind,
                    post: n.dataset.post,
                    text: (n.querySelector('blockquote.post') || {}).textContent || null}))""",
            )
            first = slots[:SLOTS]
            assert [s["kind"] for s in first] == ["sends"] * SLOTS, first
            assert {s["account"] for s in first} == {"x1", "m1"}

            settings = console.settings
            store = Store(settings.sqlalchemy_url, clock=clock)  # the worker's own, like a process
            worker = Worker(
                settings, console.library, store, network_factory(settings, store),
                worker_id="browser-worker", clock=clock, sleep=lambda seconds: None,
                rehearsals=console.rehearsals,
            )  # fmt: skip
            for slot in first:
                clock.now = datetime.fromisoformat(slot["due"])
                worker.run_pending()
            store.close()

            sent = {
                "x1": [post.text for post in fake_x.posts],
                "m1": [status.text for status in fake_mastodon.statuses],
            }
            for account in ("x1", "m1"):
                predicted = [s["text"].strip() for s in first if s["account"] == account]
                assert [text.strip() for text in sent[account]] == predicted, account

            page.goto(f"{site.url}/history?state=published")
            rows = page.eval_on_selector_all(
                "tbody tr",
                """rows => rows.map(r => ({
                    account: r.querySelector('[data-label=Account]').textContent.trim(),
                    post: r.querySelector('[data-label=Post]').textContent.trim(),
                    live: !!r.querySelector('a[href]')}))""",
            )
            expected = sorted((s["account"], s["post"]) for s in first)
            assert sorted((r["account"], r["post"]) for r in rows) == expected
            assert all(r["live"] for r in rows)
            expect(page.get_by_role("link", name="Live post").first).to_be_visible()
            page.screenshot(path="/tmp/web-shots/history-after-worker.png", full_page=True)
            # The posts confirmed both accounts' credentials; the status page says so.
            page.goto(f"{site.url}/status")
            expect(page.get_by_text("(a post published)")).to_have_count(2)
            page.screenshot(path="/tmp/web-shots/status-after-worker.png", full_page=True)
    finally:
        console.close()
