"""Each alert sent once across senders: two drainers at once on SQLite and PostgreSQL, and a
sender that dies holding its claim (its lease runs out, the next sender sends)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta

from amplifier.alerts import AlertSender, Timeouts, fingerprint
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


def test_a_claim_lost_mid_drain_is_not_sent_again_to_the_next_channel(
    database_url: str, clock: FakeClock
) -> None:
    """Sender A's first channel hangs past A's lease; B claims the alert meanwhile and sends
    it to both channels. A, back from its timeout, finds the claim no longer its own and does
    not send to the second channel: the second channel gets it once. (The first got it twice:
    A's request was in flight when B sent; no channel without idempotency keys can tell.)"""
    store = Store(database_url, clock=clock)
    store.migrate()
    store.enqueue_alerts([AlertDraft("needs-review", "k", "alert-k", "b")])
    with WebhookReceiver("hang") as slow, WebhookReceiver() as second:
        urls = [slow.url, second.url]

        def make(name: str, read: float) -> AlertSender:
            return AlertSender(
                Store(database_url, clock=clock), urls, AlertSettings(), sender_id=name,
                clock=clock, timeouts=Timeouts(1, read),
            )  # fmt: skip

        first, other = make("a", 3), make("b", 0.5)
        draining = threading.Thread(target=first.drain)
        draining.start()
        assert slow.arrived.wait(10), "A never reached its first channel"
        clock.advance(timedelta(minutes=10, seconds=1))  # A's lease ran out meanwhile
        other.drain()  # B: the first channel hangs (its timeout), the second takes it
        draining.join(30)
        assert not draining.is_alive()
        assert len(second.messages()) == 1, second.messages()
        assert slow.requests == 2  # the inherent repeat: two requests to the hanging channel
        [row] = store.alerts()
        assert fingerprint(second.url) in row.sent_to


def test_a_channel_that_took_an_alert_is_recorded_after_the_claim_ran_out(
    database_url: str, clock: FakeClock
) -> None:
    """The record of a channel taking an alert is kept even if the sender's claim ran out
    and another took it meanwhile: the other sends it to that channel no more."""
    store = Store(database_url, clock=clock)
    store.migrate()
    store.enqueue_alerts([AlertDraft("needs-review", "k", "alert-k", "b")])
    [row] = store.claim_alerts("a", lease=timedelta(minutes=10))
    clock.advance(timedelta(minutes=11))
    assert [each.id for each in store.claim_alerts("b", lease=timedelta(minutes=10))] == [row.id]
    store.alerts_delivered("a", [row.id], "chan1", ["chan1", "chan2"])
    assert store.renew_alert_claims("a", [row.id], lease=timedelta(minutes=10)) == set()
    assert store.renew_alert_claims("b", [row.id], lease=timedelta(minutes=10)) == {row.id}
    [stored] = store.alerts()
    assert stored.sent_to == frozenset({"chan1"}) and stored.sent_at is None
    store.alerts_delivered("b", [row.id], "chan2", ["chan1", "chan2"])
    [stored] = store.alerts()
    assert stored.sent_to == frozenset({"chan1", "chan2"}) and stored.sent_at is not None
