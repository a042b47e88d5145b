"""A thread's parts in the store, on SQLite and PostgreSQL: the first claimed with its slot and
the later parts as decided; each later part claimed once, only after the one before it is
published, replying to it; which threads wait for a next part; which hold their account."""

from __future__ import annotations

from datetime import UTC, datetime

from amplifier.store import DeliveryDraft, PartDraft, Store

DUE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _draft(account: str = "acct", slot: str = "2025-03-01T12:00") -> DeliveryDraft:
    return DeliveryDraft(
        account=account, network="bluesky", slot_key=slot, due_at=DUE, template_id="t",
        campaign="c", text="one", language="en", replies="following",
        thread=(PartDraft("two"), PartDraft("three https://example.org", "https://example.org")),
    )  # fmt: skip


def test_parts_are_claimed_one_after_another_replying_to_the_one_before(store: Store) -> None:
    first = store.claim_slot(_draft(), worker_id="w1")
    assert first is not None
    assert (first.thread_part, first.thread_size, first.thread_key) == (1, 3, first.slot_key)
    assert [p.text for p in first.thread_rest] == ["two", "three https://example.org"]
    assert store.open_thread("acct") is not None  # in flight: the account is held
    assert store.threads_to_continue() == []  # nothing to go on with before it lands
    assert store.mark_published(first.id, worker_id="w1", remote_id="at://a/1", url=None)
    published = store.get_by_id(first.id)
    assert published is not None
    assert [row.id for row in store.threads_to_continue()] == [first.id]
    second = store.claim_next_part(published, worker_id="w1")
    assert second is not None and second.status == "sending" and second.claimed_by == "w1"
    assert (second.thread_part, second.text, second.reply_to, second.reply_root) == (
        2, "two", "at://a/1", "at://a/1",
    )  # fmt: skip
    assert second.replies == "following" and second.slot_key == f"{first.slot_key}#part2"
    assert second.idempotency_key != first.idempotency_key
    assert store.claim_next_part(published, worker_id="w2") is None  # once only
    assert store.threads_to_continue() == []
    assert store.mark_published(second.id, worker_id="w1", remote_id="at://a/2", url=None)
    third = store.claim_next_part(store.get_by_id(second.id) or second, worker_id="w1")
    assert third is not None
    assert (third.text, third.link, third.reply_to, third.reply_root) == (
        "three https://example.org", "https://example.org", "at://a/2", "at://a/1",
    )  # fmt: skip
    assert store.open_thread("acct") is not None
    assert store.mark_published(third.id, worker_id="w1", remote_id="at://a/3", url=None)
    assert store.open_thread("acct") is None  # the last part is out: the account is free
    assert store.threads_to_continue() == []


def test_a_part_with_no_id_to_reply_to_ends_the_thread(store: Store) -> None:
    """Published without the network's id (confirmed by a duplicate answer): nothing can
    reply to it, so the next part is recorded failed, and the account is free again."""
    first = store.claim_slot(_draft(), worker_id="w1")
    assert first is not None
    assert store.mark_published(first.id, worker_id="w1", remote_id=None, url=None)
    second = store.claim_next_part(store.get_by_id(first.id) or first, worker_id="w1")
    assert second is not None and second.status == "failed"
    assert "its id is not known" in (second.last_error or "")
    assert store.open_thread("acct") is None and store.threads_to_continue() == []


def test_an_unsettled_part_holds_its_account_only(store: Store) -> None:
    first = store.claim_slot(_draft(), worker_id="w1")
    assert first is not None
    store.mark_unknown(first.id, worker_id="w1", reason="lost answer", ambiguous_since=DUE)
    held = store.open_thread("acct")
    assert held is not None and held.id == first.id
    assert store.open_thread("acct", besides=first.thread_key) is None
    assert store.open_thread("other") is None
    single = store.claim_slot(
        DeliveryDraft(account="acct", network="bluesky", slot_key="s2", due_at=DUE,
                      template_id="p", campaign="c", text="alone"),
        worker_id="w1",
    )  # fmt: skip
    assert single is not None and single.thread_key is None
    assert store.open_thread("acct", besides=None) is not None


def test_a_rehearsed_thread_records_every_part(store: Store) -> None:
    row = store.record_rehearsed(_draft(slot="rehearsal:2025-03-01T12:00"), "dry run")
    assert row is not None
    parts = [store.get("acct", f"{row.slot_key}#part{n}") for n in (2, 3)]
    assert [(p.status, p.thread_part, p.text) for p in parts if p] == [
        ("rehearsed", 2, "two"), ("rehearsed", 3, "three https://example.org"),
    ]  # fmt: skip
    assert store.open_thread("acct") is None


def test_a_part_settled_by_hand_with_its_link_lets_the_thread_go_on(store: Store) -> None:
    """A part left 'unknown', then found by the organizer and recorded with its id (review
    --url): the next part replies to it. Without the id, the thread ends as above."""
    first = store.claim_slot(_draft(), worker_id="w1")
    assert first is not None
    assert store.mark_unknown(first.id, worker_id="w1", reason="no answer")
    assert store.resolve(first.id, status="published", by="ana", note="seen",
                         remote_id="at://acct.test/app.bsky.feed.post/3kabc",
                         url="https://bsky.app/profile/acct.test/post/3kabc")  # fmt: skip
    settled = store.get_by_id(first.id)
    assert settled is not None and settled.url == "https://bsky.app/profile/acct.test/post/3kabc"
    assert [row.id for row in store.threads_to_continue()] == [first.id]
    second = store.claim_next_part(settled, worker_id="w1")
    assert second is not None and second.status == "sending"
    assert second.reply_to == second.reply_root == "at://acct.test/app.bsky.feed.post/3kabc"
    other = store.claim_slot(_draft(slot="2025-03-02T12:00"), worker_id="w1")
    assert other is not None and store.mark_unknown(other.id, worker_id="w1", reason="x")
    assert store.resolve(other.id, status="failed", by="ana", note="not there",
                         remote_id="ignored", url="ignored")  # fmt: skip
    failed = store.get_by_id(other.id)
    assert failed is not None and failed.remote_id is None and failed.url is None
