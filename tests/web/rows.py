"""Rows written through the store's own operations, for the pages to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from amplifier.store import Delivery, DeliveryDraft, Store


def draft(
    account: str, due: datetime, post: str = "asylum", key: str | None = None
) -> DeliveryDraft:
    network = "x" if account == "x1" else "mastodon"
    return DeliveryDraft(
        account, network, f"{due:%Y-%m-%dT%H:%M}", due, post, "c",
        f"Text of {post} at {due:%H:%M}", language="en",
    )  # fmt: skip


def skipped(store: Store, account: str, due: datetime, reason: str = "guard daily-cap") -> Delivery:
    row = store.record_skipped(draft(account, due), reason)
    assert row is not None
    return row


def published(
    store: Store, account: str, due: datetime, post: str = "asylum", cost: int | None = None
) -> Delivery:
    row = store.claim_slot(draft(account, due, post), worker_id="w", cost_micros=cost)
    assert row is not None
    assert store.mark_published(
        row.id, worker_id="w", remote_id=f"r{row.id}", url=f"https://example.org/p/{row.id}"
    )
    found = store.get_by_id(row.id)
    assert found is not None
    return found


def unknown(store: Store, account: str, due: datetime) -> Delivery:
    row = store.claim_slot(draft(account, due, "courts"), worker_id="w")
    assert row is not None
    assert store.begin_attempt(row.id, worker_id="w") is not None
    assert store.mark_unknown(row.id, worker_id="w", reason="the server did not answer")
    found = store.get_by_id(row.id)
    assert found is not None and found.status == "unknown"
    return found


def many_skipped(store: Store, account: str, start: datetime, count: int) -> list[Delivery]:
    return [skipped(store, account, start - timedelta(hours=n)) for n in range(count)]
