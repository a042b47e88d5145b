"""Threads through the worker: a post in three parts goes out on X, Mastodon and Bluesky as a
chain of self-replies, each part its own row, through the real SDKs against the fakes; a
worker that stops between parts (or meets a refusal) leaves the next part to the next worker,
never sent twice, never out of order; nothing else goes out on the account in between; a
thread X's budget cannot pay for in full does not start."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.accounts import network_factory
from amplifier.check import load
from amplifier.cli import main
from amplifier.errors import AmplifierError
from amplifier.store import Delivery, Store
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon
from amplifier.testing.fake_x import FakeX
from amplifier.testing.fake_x_timeline import timeline_fault
from amplifier.testing.fakeserver import Fault
from amplifier.worker import Worker

CONFIG = """
database_url = "sqlite:///{db}"
[guards]
daily_cap = 10
[campaigns.c]
language = "en"
[schedules.daily]
timezone = "UTC"
times = ["09:00", "09:30"]
[[accounts]]
name = "bird"
network = "x"
api_base = "{x}"
campaigns = ["c"]
schedule = "daily"
monthly_budget_usd = {budget}
[accounts.secrets_from_env]
consumer_key = "T_X_KEY"
consumer_secret = "T_X_SECRET"
access_token = "T_X_TOKEN"
access_token_secret = "T_X_TOKEN_SECRET"
[[accounts]]
name = "toot"
network = "mastodon"
instance = "{mastodon}"
campaigns = ["c"]
schedule = "daily"
[accounts.secrets_from_env]
access_token = "T_MASTODON_TOKEN"
[[accounts]]
name = "sky"
network = "bluesky"
handle = "amplifier.test"
service = "{bluesky}"
campaigns = ["c"]
schedule = "daily"
[accounts.secrets_from_env]
app_password = "T_SKY_PASSWORD"
"""

THREAD = """---
id: thread
campaign: c
language: en
source: test
link: https://example.org/report
hashtags: [FamiliesBelongTogether]
---
Three things the report found about family detention, in one thread.
+++
First: children were held far longer than the law allows.
+++
Second: families were kept apart for months. Read it all: {link}
"""

SINGLE = """---
id: single
campaign: c
language: en
source: test
---
Call your representative today and ask them to keep families together.
"""

PARTS = [
    "Three things the report found about family detention, in one thread.",
    "First: children were held far longer than the law allows.",
    "Second: families were kept apart for months. Read it all: https://example.org/report",
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Servers:
    x: FakeX
    mastodon: FakeMastodon
    bluesky: FakeBluesky


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    with (
        FakeX() as x,
        FakeMastodon() as mastodon,
        FakeBluesky(handle="amplifier.test", password="pw") as bluesky,
    ):
        for name in ("T_X_KEY", "T_X_SECRET", "T_X_TOKEN", "T_X_TOKEN_SECRET"):
            monkeypatch.setenv(name, "x-secret")
        monkeypatch.setenv("T_MASTODON_TOKEN", mastodon.settings.token)
        monkeypatch.setenv("T_SKY_PASSWORD", "pw")
        yield Servers(x, mastodon, bluesky)


def _worker(
    tmp_path: Path,
    servers: Servers,
    clock: Clock,
    *,
    budget: float = 5.0,
    single: bool = False,
    stop: threading.Event | None = None,
) -> Worker:
    folder = tmp_path / "posts"
    folder.mkdir(exist_ok=True)
    (folder / "thread.md").write_text(THREAD)
    if single:
        (folder / "single.md").write_text(SINGLE)
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(
            db=tmp_path / "state.db",
            x=servers.x.base_url,
            mastodon=servers.mastodon.base_url,
            bluesky=servers.bluesky.base_url,
            budget=budget,
        )
    )
    settings, library = load(config, folder)
    assert library.ok, library.problems
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    return Worker(settings, library, store, network_factory(settings, store), clock=clock,
                  sleep=lambda seconds: None, stop=stop)  # fmt: skip


def _rows(worker: Worker, account: str) -> list[Delivery]:
    rows = worker.store.history(account=account, limit=100)
    return sorted(rows, key=lambda row: row.id)


def _chains(servers: Servers) -> dict[str, list[tuple[str, str | None]]]:
    """Each server's posts as (text, the id or uri of the post it replies to), in order."""
    x = [(post.text, post.in_reply_to) for post in servers.x.posts]
    mastodon = [(status.text, status.in_reply_to_id) for status in servers.mastodon.statuses]
    bluesky = [
        (post.text, (post.value.get("reply") or {}).get("parent", {}).get("uri"))
        for post in servers.bluesky.records
    ]
    return {"x": x, "mastodon": mastodon, "bluesky": bluesky}


def _assert_thread(servers: Servers) -> None:
    chains = _chains(servers)
    ids = {
        "x": [post.id for post in servers.x.posts],
        "mastodon": [status.id for status in servers.mastodon.statuses],
        "bluesky": [post.uri for post in servers.bluesky.records],
    }
    for network, chain in chains.items():
        texts = [text.split("\n\n#")[0] for text, _ in chain]
        assert texts == PARTS, network
        assert [target for _, target in chain] == [None, ids[network][0], ids[network][1]]
    # Bluesky: every reply names the first post as its root, with the CIDs of both.
    records = servers.bluesky.records
    for record in records[1:]:
        reply = record.value["reply"]
        assert (reply["root"]["uri"], reply["root"]["cid"]) == (records[0].uri, records[0].cid)
    assert records[2].value["reply"]["parent"]["cid"] == records[1].cid


def test_a_thread_goes_out_in_order_as_self_replies_on_every_network(
    tmp_path: Path, servers: Servers
) -> None:
    """One slot, three parts on each network: each replies to the one before it; the first
    carries the hashtag, the last the link; each part is a published row of its own."""
    clock = Clock()
    worker = _worker(tmp_path, servers, clock)
    worker.run_pending()
    _assert_thread(servers)
    assert servers.x.posts[0].text.endswith("#FamiliesBelongTogether")
    for account in ("bird", "toot", "sky"):
        rows = _rows(worker, account)
        assert [(r.thread_part, r.thread_size, r.status) for r in rows] == [
            (1, 3, "published"),
            (2, 3, "published"),
            (3, 3, "published"),
        ]
        assert rows[1].reply_to == rows[0].remote_id and rows[2].reply_to == rows[1].remote_id
        assert {r.reply_root for r in rows[1:]} == {rows[0].remote_id}
    worker.run_pending()  # nothing more: no part twice
    assert [len(chain) for chain in _chains(servers).values()] == [3, 3, 3]
    worker.close()


def test_a_worker_stopped_between_parts_leaves_the_rest_to_the_next(
    tmp_path: Path, servers: Servers
) -> None:
    """The first worker stops right after the first parts land (its stop event set by the
    answer): the parts after them are neither claimed nor sent. A new worker goes on from
    the last part published, each part once, replying to the right post."""
    clock = Clock()
    store = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)

    class StopOnceAPartLanded(threading.Event):
        """The worker's stop event, set the moment any part is recorded published."""

        def is_set(self) -> bool:
            return bool(store.history(statuses=["published"], limit=1)) or super().is_set()

    first = _worker(tmp_path, servers, clock, stop=StopOnceAPartLanded())
    first.run_pending()
    landed = first.store.history(statuses=["published"], limit=100)
    assert landed and all(row.thread_part == 1 for row in landed)
    assert all(row.thread_part == 1 for row in first.store.history(limit=100))  # no part 2
    assert sum(len(chain) for chain in _chains(servers).values()) == len(landed)
    first.close()
    second = _worker(tmp_path, servers, clock)
    second.run_pending()
    second.run_pending()
    _assert_thread(servers)
    second.close()


def test_a_part_refused_for_a_while_holds_the_thread_and_the_account(
    tmp_path: Path, servers: Servers
) -> None:
    """Mastodon answers 429 to the second part: it is deferred to the window's reset and the
    third waits; the account's next slot (another post) waits for the thread too. The retry
    goes on with the thread, in order, and only then the other post goes out."""
    clock = Clock()
    worker = _worker(tmp_path, servers, clock)
    # the first part lands; the second meets a 429 whose window resets at 09:45
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-23T09:45:00.000Z"}
    servers.mastodon.server.add_fault(Fault("POST", "/api/v1/statuses", after_work=True))
    servers.mastodon.server.add_fault(
        Fault("POST", "/api/v1/statuses", status=429, headers=limited, body={"error": "slow"})
    )
    worker.run_pending()
    worker.close()
    assert len(servers.mastodon.statuses) == 1
    assert [r.status for r in _rows(worker, "toot")] == ["published", "deferred"]
    # Restarted with one more post; at the 09:30 slot the thread is unfinished: the slot waits
    # (no row), and goes once the thread is done, within its grace window.
    clock.now = clock.now.replace(minute=30)
    worker = _worker(tmp_path, servers, clock, single=True)
    worker.run_pending()
    assert worker.store.get("toot", "2026-11-23T09:30") is None
    assert len(servers.mastodon.statuses) == 1
    clock.now = clock.now.replace(minute=46)
    worker.run_pending()
    texts = [status.text for status in servers.mastodon.statuses]
    assert [text.split("\n\n#")[0] for text in texts[:3]] == PARTS
    assert len(texts) == 4 and texts[3].startswith("Call your representative")
    chain = [status.in_reply_to_id for status in servers.mastodon.statuses]
    ids = [status.id for status in servers.mastodon.statuses]
    assert chain == [None, ids[0], ids[1], None]
    worker.close()


def test_a_thread_the_x_budget_cannot_pay_in_full_does_not_start(
    tmp_path: Path, servers: Servers
) -> None:
    """$0.22 a month: the thread's first part ($0.015) and its last (a link: $0.200) would
    fit, the whole thread ($0.230) does not: nothing is sent on X, and the skip says the
    budget and the thread's full cost."""
    clock = Clock()
    worker = _worker(tmp_path, servers, clock, budget=0.22)
    worker.run_pending()
    assert servers.x.posts == []
    [row] = _rows(worker, "bird")
    assert row.status == "skipped"
    assert "x-budget" in (row.last_error or "") and "thread of 3 posts" in (row.last_error or "")
    assert len(servers.mastodon.statuses) == 3  # the other networks are not held up
    worker.close()


def test_post_now_sends_a_thread_and_waits_for_an_unfinished_one(
    tmp_path: Path, servers: Servers
) -> None:
    """post-now publishes all three parts as replies; while a thread of the account is
    unfinished (a part deferred), post-now refuses and says why, sending nothing."""
    clock = Clock()
    clock.now = clock.now.replace(hour=7)  # no slot due: only what post-now sends
    worker = _worker(tmp_path, servers, clock)
    row = worker.post_now("sky", "thread")
    assert row.status == "published" and row.thread_size == 3
    records = servers.bluesky.records
    assert [r.text.split("\n\n#")[0] for r in records] == PARTS
    assert records[2].value["reply"]["parent"]["uri"] == records[1].uri
    # Mastodon: the second part meets a 429 whose window resets at 08:00
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-23T08:00:00.000Z"}
    servers.mastodon.server.add_fault(Fault("POST", "/api/v1/statuses", after_work=True))
    servers.mastodon.server.add_fault(
        Fault("POST", "/api/v1/statuses", status=429, headers=limited, body={"error": "slow"})
    )
    worker.post_now("toot", "thread")
    with pytest.raises(AmplifierError, match=r"thread 'thread' is unfinished \(part 2 of 3"):
        worker.post_now("toot", "thread")
    assert len(servers.mastodon.statuses) == 1
    worker.close()


def test_a_dry_run_shows_every_part_and_sends_nothing(tmp_path: Path, servers: Servers) -> None:
    """A rehearsing account records each part 'rehearsed' and prints each, in order."""
    clock = Clock()
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "thread.md").write_text(THREAD)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=tmp_path / "state.db", x=servers.x.base_url,
                                    mastodon=servers.mastodon.base_url,
                                    bluesky=servers.bluesky.base_url, budget=5))  # fmt: skip
    settings, library = load(config, folder)
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    printed: list[str] = []
    factory = network_factory(settings, store, dry_run=True, write=printed.append)
    worker = Worker(settings, library, store, factory, clock=clock, sleep=lambda s: None)
    worker.run_pending()
    rows = _rows(worker, "toot")
    assert [(r.status, r.thread_part) for r in rows] == [("rehearsed", n) for n in (1, 2, 3)]
    shown = [line for line in printed if "toot" in line]
    assert len(shown) == 3 and "Three things" in shown[0] and "Second:" in shown[2]
    assert servers.mastodon.statuses == [] and servers.x.posts == []
    worker.close()


def test_preview_shows_every_part_with_its_length(
    tmp_path: Path, servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`amplifier preview`: the slot that sends the thread says so, and prints each later part
    under the first with its own length against the limit."""
    worker = _worker(tmp_path, servers, Clock())
    worker.close()
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert main(["preview", "--account", "toot", "-n", "1"], out=out, clock=lambda: now) == 0
    text = out.getvalue()
    assert "sends thread (en)" in text and "a thread of 3 posts" in text, text
    assert "-- part 2/3, a reply: 57/500" in text and "-- part 3/3, a reply: " in text, text
    assert PARTS[1] in text and PARTS[2] in text


def test_an_x_part_whose_answer_was_lost_is_found_and_the_thread_goes_on(
    tmp_path: Path, servers: Servers
) -> None:
    """X stores the second part but its answer is lost; the retry finds it on the account's
    timeline with its id (no second copy), and the third part replies to it."""
    clock = Clock()
    worker = _worker(tmp_path, servers, clock)
    servers.x.server.add_fault(Fault("POST", "/2/tweets", after_work=True))
    servers.x.server.add_fault(Fault("POST", "/2/tweets", after_work=True, drop=True))
    worker.run_pending()
    posts = servers.x.posts
    assert [post.text.split("\n\n#")[0] for post in posts] == PARTS
    assert [post.in_reply_to for post in posts] == [None, posts[0].id, posts[1].id]
    rows = _rows(worker, "bird")
    assert [(r.thread_part, r.status, r.remote_id) for r in rows] == [
        (1, "published", posts[0].id), (2, "published", posts[1].id),
        (3, "published", posts[2].id),
    ]  # fmt: skip
    assert "confirmed by finding the post" in (rows[1].last_error or "")
    worker.close()


def test_an_x_part_confirmed_only_by_a_duplicate_answer_ends_the_thread(
    tmp_path: Path, servers: Servers
) -> None:
    """As above, but the timeline cannot be read (500): the retry meets X's duplicate
    refusal, which proves the part landed but gives no id: the third part, with nothing to
    reply to, is recorded failed with why, never sent, and the account is free again."""
    clock = Clock()
    worker = _worker(tmp_path, servers, clock)
    servers.x.server.add_fault(Fault("POST", "/2/tweets", after_work=True))
    servers.x.server.add_fault(Fault("POST", "/2/tweets", after_work=True, drop=True))
    servers.x.server.add_fault(timeline_fault(500))
    worker.run_pending()
    assert [post.text.split("\n\n#")[0] for post in servers.x.posts] == PARTS[:2]
    rows = _rows(worker, "bird")
    assert [(r.thread_part, r.status) for r in rows] == [
        (1, "published"), (2, "published"), (3, "failed"),
    ]  # fmt: skip
    assert rows[1].remote_id is None and "duplicate" in (rows[1].last_error or "")
    assert "its id is not known" in (rows[2].last_error or "")
    assert worker.store.open_thread("bird") is None
    worker.close()
