"""Each alert sent once across senders: two drainers at once on SQLite and PostgreSQL, and a
sender that dies holding its claim (its lease runs out, the next sender sends)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta

from amplifier.alerts import AlertSender, Timeouts
from amplifier.config import AlertSettings
from amplifier.store import AlertDraft, Store
from amplifier.testing.receivers import WebhookReceiver

from .conftest import FakeClock

COUNT = 120


def sender(store: Store, url: str, name: str, clock: FakeClock) -> AlertSender:
    return AlertSender(
        store, [url], AlertSettings(), sender_id=name, clock=clock, timeouts=Timeouts(2, 5)
    )


def test_two_drainers_at_once_send_each_alert_once(
    database_url: str, clock: FakeClock, hook: WebhookReceiver
) -> None:
    """Alerts enqueued while two senders (separate engines, like two workers) drain side by
    side in small claims: every alert reaches the channel exactly once."""
    stores = [Store(database_url, clock=clock) for _ in range(3)]
    stores[0].migrate()
    senders = [sender(store, hook.url, f"s{n}", clock) for n, store in enumerate(stores[1:])]
    for each in senders:
        each.limit = 7  # small claims: many rounds of the race
    done = threading.Event()

    def enqueue() -> None:
        for n in range(COUNT):
            stores[0].enqueue_alerts([AlertDraft("delivery-failed", f"k{n}", f"alert-{n}", "b")])
        done.set()

    def drain(each: AlertSender) -> None:
        while not done.is_set() or each.store.pending_alert_count():
            each.drain()

    threads = [threading.Thread(target=enqueue)]
    threads += [threading.Thread(target=drain, args=(each,)) for each in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    names = Counter(
        found.group(1)
        for message in hook.messages()
        for line in message.splitlines()
        if (found := re.fullmatch(r"(?:\d+\. )?(alert-\d+)", line))
    )
    assert sorted(names) == sorted(f"alert-{n}" for n in range(COUNT))
    assert set(names.values()) == {1}
    assert all(row.sent_at is not None for row in stores[0].alerts())
    for store in stores:
        store.close()


def test_a_dead_senders_claim_is_sent_after_its_lease(
    database_url: str, clock: FakeClock, hook: WebhookReceiver
) -> None:
    """A sender claims and dies before sending (kill -9): no one sends it during the lease,
    the next sender does after it, once."""
    store = Store(database_url, clock=clock)
    store.migrate()
    store.enqueue_alerts([AlertDraft("needs-review", "k", "alert-k", "b")])
    assert len(store.claim_alerts("dead", lease=timedelta(minutes=10))) == 1
    other = sender(Store(database_url, clock=clock), hook.url, "next", clock)
    assert other.drain() == 0
    clock.advance(timedelta(minutes=10, seconds=1))
    assert other.drain() == 1
    assert other.drain() == 0
    assert len(hook.messages()) == 1
    store.close()
