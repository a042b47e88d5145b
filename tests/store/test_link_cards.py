"""Link cards in the store (0013) on SQLite and PostgreSQL, read ahead and refreshed when due."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from amplifier.cards import REFRESH_AFTER, RETRY_AFTER, card_for, due_links, refresh_cards
from amplifier.networks.base import LinkCard
from amplifier.store import DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, migrate
from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page
from amplifier.testing.images import png

from .conftest import FakeClock, claim_on_old_schema

NAMES = [migration.name for migration in MIGRATIONS]


@pytest.fixture
def pages() -> Iterator[FakePages]:
    with FakePages() as server:
        yield server


def test_a_card_and_a_failure_round_trip(store: Store, clock: FakeClock) -> None:
    """A card keeps its texts and thumbnail bytes; a failure keeps its reason and no card."""
    card = LinkCard("https://a.example/", "Title ñ", "Desc", b"\xff\xd8\x00jpeg", "image/jpeg")
    store.save_link_card(card.url, card, None, clock())
    store.save_link_card("https://b.example/", None, "the server answered 404", clock())
    assert card_for(store, card.url) == (card, None)
    assert card_for(store, "https://b.example/") == (None, "the server answered 404")
    found, reason = card_for(store, "https://never.example/")
    assert found is None and "not been read yet" in (reason or "")
    replaced = LinkCard(card.url, "New", "", b"", "")
    store.save_link_card(card.url, replaced, None, clock())
    assert card_for(store, card.url) == (replaced, None)


def test_refresh_reads_due_links_only(store: Store, clock: FakeClock, pages: FakePages) -> None:
    """New links are read; a card is read again after a week, a failure after six hours."""
    image = pages.image("/card.png", png(40, 20))
    good = pages.page("/good", og_page("Sign the petition", "Families belong together", image))
    bad = f"{pages.base_url}/missing"
    outcomes = refresh_cards(store, [good, bad], clock=clock, policy=LOOPBACK)
    assert [o.card is not None for o in outcomes] == [True, False]
    stored, _ = card_for(store, good)
    assert stored is not None and stored.title == "Sign the petition"
    assert stored.thumb.startswith(b"\xff\xd8") and stored.thumb_mime == "image/jpeg"
    assert "404" in (card_for(store, bad)[1] or "")
    assert refresh_cards(store, [good, bad], clock=clock, policy=LOOPBACK) == []
    clock.advance(RETRY_AFTER)
    assert due_links(store, [good, bad], clock()) == [bad]
    clock.advance(REFRESH_AFTER - RETRY_AFTER - timedelta(seconds=1))
    assert due_links(store, [good], clock()) == []
    clock.advance(timedelta(seconds=1))
    assert due_links(store, [good], clock()) == [good]


def test_a_page_whose_image_fails_still_has_a_card(
    store: Store, clock: FakeClock, pages: FakePages
) -> None:
    """An image that is not one (or not there) leaves the card without a thumbnail."""
    url = pages.page("/p", og_page("Title", "D", f"{pages.base_url}/nothing.png"))
    pages.image("/fake.png", b"<html>no</html>")
    other = pages.page("/q", og_page("Other", "", f"{pages.base_url}/fake.png"))
    refresh_cards(store, [url, other], clock=clock, policy=LOOPBACK)
    for link in (url, other):
        card, _ = card_for(store, link)
        assert card is not None and card.thumb == b"" and card.thumb_mime == ""


def test_0013_upgrade_from_0010_keeps_rows_and_adds_the_cards(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0010 holding a delivery upgrades: the row reads the same, cards store."""
    store = make_store()
    index = NAMES.index("0013_native_posts")
    assert migrate(store.engine, clock, MIGRATIONS[:index]) == NAMES[:index]
    draft = DeliveryDraft("sky", "bluesky", "2025-03-01T09:00", clock(), "p", "c", "t",
                          link="https://a.example/")  # fmt: skip
    row = claim_on_old_schema(store, draft, worker_id="old", now=clock())
    assert row is not None
    assert store.migrate() == NAMES[index:]
    assert store.get_by_id(row.id) == row and row.sensitive is False
    card = LinkCard("https://a.example/", "T", "D", b"\xff\xd8", "image/jpeg")
    store.save_link_card(card.url, card, None, clock())
    assert card_for(store, card.url) == (card, None)


def test_a_sensitive_draft_is_claimed_sensitive(store: Store, clock: FakeClock) -> None:
    """The sensitive mark (0013) is kept from the draft to the claimed row; the default is not."""
    marked = DeliveryDraft("sky", "bluesky", "k1", clock(), "p", "c", "t", sensitive=True)
    plain = DeliveryDraft("sky", "bluesky", "k2", clock(), "p", "c", "t")
    rows = [store.claim_slot(d, worker_id="w") for d in (marked, plain)]
    assert [row.sensitive for row in rows if row is not None] == [True, False]
    assert [store.get_by_id(row.id).sensitive for row in rows if row is not None] == [True, False]
