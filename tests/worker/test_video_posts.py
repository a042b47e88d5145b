"""A video post through the worker: built by the real network factory, published through
tweepy and Mastodon.py against the fake X and Mastodon, each once, and a shutdown during X's
processing handing the post back without waiting out the processing bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.accounts import network_factory
from amplifier.check import load
from amplifier.store import Store
from amplifier.testing import images
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fake_x_media import ProcessingScript
from amplifier.testing.fakeserver import Fault
from amplifier.worker import Worker

TOKEN = "video-worker-mastodon-token"
CONFIG = """
database_url = "sqlite:///{db}"
[campaigns.c]
language = "en"
[schedules.daily]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "bird"
network = "x"
campaigns = ["c"]
schedule = "daily"
api_base = "{x}"
[accounts.secrets_from_env]
consumer_key = "T_X_CK"
consumer_secret = "T_X_CS"
access_token = "T_X_AT"
access_token_secret = "T_X_ATS"
[[accounts]]
name = "toot"
network = "mastodon"
instance = "{mastodon}"
campaigns = ["c"]
schedule = "daily"
[accounts.secrets_from_env]
access_token = "T_MASTODON_TOKEN"
"""
POST = """---
id: march
campaign: c
language: en
source: the campaign's toolkit
networks: [x, mastodon]
media:
  - file: march.mp4
    alt: Marchers crossing the bridge at dawn
---
Walk with us on Saturday.
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeX, FakeMastodon]]:
    for name in ("T_X_CK", "T_X_CS", "T_X_AT", "T_X_ATS"):
        monkeypatch.setenv(name, f"{name.lower()}-value")
    monkeypatch.setenv("T_MASTODON_TOKEN", TOKEN)
    settings = FakeMastodonSettings(token=TOKEN, media_ready_after_polls=1)
    with make_fake_x() as x, FakeMastodon(settings) as mastodon:
        yield x, mastodon


def worker(tmp_path: Path, x: FakeX, mastodon: FakeMastodon, clock: Clock) -> Worker:
    folder = tmp_path / "posts"
    images.write(folder / "march.mp4", images.mp4(8))
    (folder / "march.md").write_text(POST)
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(db=tmp_path / "state.db", x=x.base_url, mastodon=mastodon.base_url)
    )
    settings, library = load(config, folder)
    assert library.problems == ()
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    stop = threading.Event()  # as `amplifier run` wires it: the worker's and the adapters'
    factory = network_factory(settings, store, stop=stop)
    return Worker(settings, library, store, factory, clock=clock, stop=stop,
                  sleep=lambda seconds: None)  # fmt: skip


def test_a_video_post_is_published_once_on_each_network(
    tmp_path: Path, servers: tuple[FakeX, FakeMastodon]
) -> None:
    """X: a 503 fails the first upload, the retry uploads afresh, is processed and the
    post is created once. Mastodon: processed, then one status. A later pass sends nothing."""
    x, mastodon = servers
    x.chunked.script = ProcessingScript(polls=1, check_after_secs=1)
    x.add_fault(Fault(path_prefix="/2/media/upload/", status=503))
    clock = Clock()
    running = worker(tmp_path, x, mastodon, clock)
    clock.now = clock.now.replace(hour=9)
    rows = running.run_pending()
    assert sorted((row.account, row.status) for row in rows) == [
        ("bird", "published"), ("toot", "published"),
    ]  # fmt: skip
    (tweet,) = x.posts
    assert tweet.alt_texts == ["Marchers crossing the bridge at dawn"]
    assert not x.server.faults  # the 503 was answered: the first attempt failed there
    (upload,) = x.chunked.uploads.values()  # the retry's upload, finalized once
    assert (upload.finalized, tweet.media_ids) == (1, [upload.media.id])
    (status,) = mastodon.statuses
    assert status.media_descriptions == ["Marchers crossing the bridge at dawn"]
    assert [m.kind for m in mastodon.media.values()] == ["video"]
    clock.now = clock.now.replace(hour=10)
    running.run_pending()
    assert (len(x.posts), len(mastodon.statuses)) == (1, 1)
    running.close()


def test_a_shutdown_during_processing_hands_the_post_back_at_once(
    tmp_path: Path, servers: tuple[FakeX, FakeMastodon]
) -> None:
    """X never finishes and asks for 30 s: stopping the worker 0.3 s in ends the wait; the X
    post is handed back (deferred), not sent, long before the processing bound."""
    x, mastodon = servers
    x.chunked.script = ProcessingScript(never=True, check_after_secs=30)
    mastodon.reset(media_ready_after_polls=0)  # Mastodon ready at once: the wait is X's
    clock = Clock()
    running = worker(tmp_path, x, mastodon, clock)
    clock.now = clock.now.replace(hour=9)
    timer = threading.Timer(0.3, running.stop.set)
    started = time.monotonic()
    timer.start()
    try:
        rows = running.run_pending()
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    bird = [row for row in rows if row.account == "bird"]
    assert [row.status for row in bird] in ([], ["deferred"])
    stored = running.store.get_by_id(bird[0].id) if bird else None
    assert stored is None or stored.status == "deferred"
    (upload,) = x.chunked.uploads.values()
    assert (upload.finalized, upload.polls) == (1, 0)  # in the wait when the stop came
    assert x.posts == []
