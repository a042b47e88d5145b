"""Link cards through the worker: read ahead of the slot into the store, then the slot posts
its card on Bluesky (the real adapter against the fake PDS); a page that cannot be read
gives a plain link and a logged reason, never a failed post."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.accounts import network_factory
from amplifier.check import load
from amplifier.store import Store
from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page
from amplifier.testing.images import png
from amplifier.worker import Worker
from amplifier.worker.cards import STAGE_LEAD, refresh_link_cards, stage_slot_card

CONFIG = """
database_url = "sqlite:///{db}"
[campaigns.c]
language = "en"
[schedules.daily]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "sky"
network = "bluesky"
handle = "amplifier.test"
service = "{service}"
campaigns = ["c"]
schedule = "daily"
[accounts.secrets_from_env]
app_password = "T_SKY_PASSWORD"
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def servers() -> Iterator[tuple[FakeBluesky, FakePages]]:
    with FakeBluesky(handle="amplifier.test", password="pw") as pds, FakePages() as pages:
        yield pds, pages


def _worker(tmp_path: Path, pds: FakeBluesky, link: str, clock: Clock, extra: str = "") -> Worker:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "sign.md").write_text(
        f"---\nid: sign\ncampaign: c\nlanguage: en\nsource: test\nlink: {link}\n{extra}---\n"
        "Sign the petition: {link}\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=tmp_path / "state.db", service=pds.base_url))
    settings, library = load(config, folder)
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    return Worker(settings, library, store, network_factory(settings, store), clock=clock,
                  sleep=lambda seconds: None)  # fmt: skip


def _carded_worker(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> tuple[Worker, str, Clock]:
    """A worker whose one post links to a page with a card and its image; the page's link."""
    pds, pages = servers
    monkeypatch.setenv("T_SKY_PASSWORD", "pw")
    image = pages.image("/card.png", png(60, 30))
    link = pages.page("/sign", og_page("Sign the petition", "Keep families together", image))
    clock = Clock()
    return _worker(tmp_path, pds, link, clock), link, clock


def test_a_card_read_ahead_goes_out_with_the_slot(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the slot the worker reads the page and stores the card; at the slot the post
    embeds it with its thumbnail, and no page is read then."""
    pds, pages = servers
    worker, link, clock = _carded_worker(tmp_path, servers, monkeypatch)
    [outcome] = refresh_link_cards(worker, LOOPBACK)
    assert outcome.card is not None
    assert refresh_link_cards(worker, LOOPBACK) == []  # fresh: not read again
    asked = len(pages.received)
    clock.now = clock.now.replace(hour=9)
    [row] = worker.run_pending()
    assert row.status == "published"
    assert len(pages.received) == asked  # the slot read no page
    [record] = pds.records
    external = record.value["embed"]["external"]
    assert (external["uri"], external["title"]) == (link, "Sign the petition")
    mime, thumb = pds.blobs[external["thumb"]["ref"]["$link"]]
    assert mime == "image/jpeg" and thumb == outcome.card.thumb
    worker.close()


def test_the_thumbnail_goes_up_before_the_slot_and_the_slot_only_posts(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A minute before the slot the worker asks the forecast which post goes, and uploads its
    card's thumbnail; at the slot the post embeds that blob and uploads nothing."""
    pds = servers[0]
    worker, _, clock = _carded_worker(tmp_path, servers, monkeypatch)
    refresh_link_cards(worker, LOOPBACK)
    account = worker.account("sky")
    slot = worker.next_slot(account, clock.now)
    assert slot is not None
    clock.now = slot.due_at - STAGE_LEAD

    def uploads() -> int:
        return sum(1 for r in pds.server.received if r.path.endswith("repo.uploadBlob"))

    assert stage_slot_card(worker, account, slot) is True
    assert (uploads(), pds.records) == (1, [])  # staged, nothing posted yet
    assert stage_slot_card(worker, account, slot) is False  # kept: not uploaded twice
    clock.now = slot.due_at
    [row] = worker.run_pending()
    assert row.status == "published" and uploads() == 1
    [record] = pds.records
    assert record.value["embed"]["external"]["thumb"]["ref"]["$link"] in pds.blobs
    worker.close()


def test_a_page_that_cannot_be_read_gives_a_plain_link(
    tmp_path: Path,
    servers: tuple[FakeBluesky, FakePages],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The default policy refuses the loopback page: the reason is stored and logged, and the
    post still goes out, as a plain link with no embed."""
    pds, pages = servers
    monkeypatch.setenv("T_SKY_PASSWORD", "pw")
    link = pages.page("/sign", og_page("Sign"))
    clock = Clock()
    worker = _worker(tmp_path, pds, link, clock)
    with caplog.at_level(logging.INFO):
        [outcome] = refresh_link_cards(worker)  # the default policy: loopback refused
        assert outcome.card is None and "not a public address" in (outcome.failure or "")
        clock.now = clock.now.replace(hour=9)
        [row] = worker.run_pending()
    assert row.status == "published"
    [record] = pds.records
    assert "embed" not in record.value and link in record.value["text"]
    assert "event=card-failed" in caplog.text and "event=plain-link" in caplog.text
    assert "not a public address" in caplog.text
    worker.close()


def test_cards_are_not_read_for_a_dry_run_or_when_turned_off(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account without credentials (a dry run) reads no page; nor does link_cards = false."""
    pds, pages = servers
    link = pages.page("/sign", og_page("Sign"))
    monkeypatch.delenv("T_SKY_PASSWORD", raising=False)
    worker = _worker(tmp_path, pds, link, Clock())
    assert refresh_link_cards(worker, LOOPBACK) == []
    worker.close()
    monkeypatch.setenv("T_SKY_PASSWORD", "pw")
    monkeypatch.setenv("AMPLIFIER_WORKER__LINK_CARDS", "false")
    (tmp_path / "off").mkdir()
    worker = _worker(tmp_path / "off", pds, link, Clock())
    assert refresh_link_cards(worker, LOOPBACK) == []
    assert pages.received == []
    worker.close()


def test_a_sensitive_post_is_labelled_through_the_worker(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sensitive: true in the file goes through the claimed row to the record's self-label,
    and the card's thumbnail goes with it (blurred by the app under that label)."""
    pds, pages = servers
    monkeypatch.setenv("T_SKY_PASSWORD", "pw")
    image = pages.image("/card.png", png(60, 30))
    link = pages.page("/sign", og_page("Sign", "", image))
    clock = Clock()
    worker = _worker(tmp_path, pds, link, clock, extra="sensitive: true\n")
    refresh_link_cards(worker, LOOPBACK)
    clock.now = clock.now.replace(hour=9)
    [row] = worker.run_pending()
    assert row.status == "published" and row.sensitive is True
    [record] = pds.records
    assert [v["val"] for v in record.value["labels"]["values"]] == ["graphic-media"]
    assert "thumb" in record.value["embed"]["external"]
    worker.close()


def test_the_scheduler_stages_each_live_bluesky_slot_a_minute_ahead(
    tmp_path: Path, servers: tuple[FakeBluesky, FakePages], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Armed with the slot: a job on the cards thread at the slot's time less STAGE_LEAD."""
    from amplifier.worker import build_scheduler

    pds, pages = servers
    monkeypatch.setenv("T_SKY_PASSWORD", "pw")
    worker = _worker(tmp_path, pds, pages.page("/sign", og_page("Sign")), Clock())
    slot = worker.next_slot(worker.account("sky"), worker.clock())
    assert slot is not None
    scheduler = build_scheduler(worker)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(f"stage:slot:sky:{slot.key}")
        assert job is not None, [j.id for j in scheduler.get_jobs()]
        assert job.executor == "cards"
        assert job.trigger.run_date == slot.due_at - STAGE_LEAD
    finally:
        scheduler.shutdown(wait=False)
        worker.close()
