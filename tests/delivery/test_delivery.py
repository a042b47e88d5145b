"""deliver(): publish one claimed row through the retry policy and record exactly what happened."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.delivery.publish import (
    CONFIRMED_BY_DUPLICATE,
    CONFIRMED_BY_LOOKUP,
    DeliveryPolicy,
    deliver,
)
from amplifier.delivery.retry import RetryPolicy
from amplifier.errors import (
    AuthFailed,
    DuplicatePost,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.networks.base import NetworkName, RateLimitWindow, Receipt
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Delivery, DeliveryDraft, Store

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
WORKER = "host:1:aaaaaa"
POLICY = DeliveryPolicy(
    retry=RetryPolicy(max_attempts=3, initial_wait=2, max_wait=10, total_timeout=120, jitter=0),
    max_attempts_total=6,
)


@dataclass
class FakeClock:
    """Wall clock that moves only when slept on."""

    now: datetime = T0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    opened.migrate()
    opened.heartbeat(WORKER)
    return opened


def claim(
    store: Store, network: NetworkName = "mastodon", slot: str = "2026-11-23T09:00"
) -> Delivery:
    draft = DeliveryDraft(
        account="acct",
        network=network,
        slot_key=slot,
        due_at=T0,
        template_id="call-congress",
        campaign="fbt",
        text=f"Call Congress today ({slot}) #FamiliesBelongTogether",
        language="en",
    )
    row = store.claim_slot(draft, worker_id=WORKER)
    assert row is not None
    return row


def run(
    store: Store,
    net: MemoryNetwork,
    row: Delivery,
    clock: FakeClock,
    *,
    earlier_ambiguous: datetime | None = None,
    stop: threading.Event | None = None,
    sleep: object = None,
) -> Delivery:
    return deliver(
        store,
        net,
        row,
        worker_id=WORKER,
        policy=POLICY,
        clock=clock,
        sleep=sleep if callable(sleep) else clock.sleep,
        earlier_ambiguous=earlier_ambiguous,
        stop=stop,
    )


def test_success_records_receipt_and_rate_limits(store: Store, clock: FakeClock) -> None:
    """A receipt becomes 'published' with id and url; its rate-limit windows are saved."""
    net = MemoryNetwork("acct", "mastodon")
    reset = T0 + timedelta(hours=3)
    window = RateLimitWindow("3h", 300, 0, reset)
    net.enqueue(Receipt("109", "https://m.example/@acct/109", rate_limits=(window,)))
    row = claim(store)
    done = run(store, net, row, clock)
    assert done.status == "published"
    assert (done.remote_id, done.url, done.attempts) == ("109", "https://m.example/@acct/109", 1)
    assert done.claimed_by is None
    assert net.attempts[0].idempotency_key == row.idempotency_key
    assert store.blocked_until("acct", T0) == reset


def test_transient_then_success_retries_in_the_same_run(store: Store, clock: FakeClock) -> None:
    """A 503 is retried after the policy's wait (slept on the injected clock) and then published."""
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(TransientError("503 from mastodon"))
    done = run(store, net, claim(store), clock)
    assert done.status == "published"
    assert done.attempts == 2
    assert clock.slept == [2.0]
    assert len(net.sent) == 1


def test_rate_limited_is_deferred_to_reset_and_blocks_account(
    store: Store, clock: FakeClock
) -> None:
    """429: deferred until the platform's reset, never slept on; the window blocks the account."""
    net = MemoryNetwork("acct", "x")
    reset = T0 + timedelta(minutes=15)
    net.enqueue(RateLimited("429", retry_at=reset, window="15m"))
    done = run(store, net, claim(store, "x"), clock)
    assert done.status == "deferred"
    assert done.retry_at == reset
    assert "rate limited (15m)" in (done.last_error or "")
    assert clock.slept == []
    assert store.blocked_until("acct", T0) == reset
    assert done.ambiguous_since is None


@pytest.mark.parametrize(
    "error",
    [
        PostRejected("422 from mastodon", reason="Text character limit of 500 exceeded"),
        AuthFailed("401 from mastodon: token revoked"),
    ],
)
def test_permanent_errors_fail_with_reason(
    store: Store, clock: FakeClock, error: Exception
) -> None:
    """Rejected content or refused credentials: 'failed' at once, the reason kept, no retry."""
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(error)
    done = run(store, net, claim(store), clock)
    assert done.status == "failed"
    assert type(error).__name__ in (done.last_error or "")
    assert str(error) in (done.last_error or "")
    assert len(net.attempts) == 1


def test_transient_run_exhausted_is_deferred_then_fails_after_total(
    store: Store, clock: FakeClock
) -> None:
    """Clean (non-ambiguous) 503s: deferred with backoff; past max_attempts_total, 'failed'."""
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(*[TransientError("503 from mastodon") for _ in range(6)])
    first = run(store, net, claim(store), clock)
    assert first.status == "deferred"
    assert first.attempts == 3
    assert first.retry_at is not None and first.retry_at > clock.now
    clock.now = first.retry_at
    again = store.take_over(
        first.id, worker_id=WORKER, expected_status="deferred", expected_claimed_by=None
    )
    assert again is not None
    final = run(store, net, again, clock)
    assert final.status == "failed"
    assert final.attempts == 6
    assert "gave up after 6 attempts" in (final.last_error or "")


def test_ambiguous_failures_that_run_out_need_review(store: Store, clock: FakeClock) -> None:
    """If any attempt may have landed and all attempts are spent, the row is 'unknown'."""
    policy_total = POLICY.retry.max_attempts
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(*[TransientError("read timeout", ambiguous=True) for _ in range(policy_total)])
    row = claim(store)
    first = run(store, net, row, clock)
    assert first.status == "deferred"
    assert first.ambiguous_since == T0  # when the first ambiguous attempt began
    clock.now = first.retry_at or clock.now
    again = store.take_over(
        first.id, worker_id=WORKER, expected_status="deferred", expected_claimed_by=None
    )
    assert again is not None
    net.enqueue(*[TransientError("read timeout", ambiguous=True) for _ in range(policy_total)])
    final = run(store, net, again, clock, earlier_ambiguous=first.ambiguous_since)
    assert final.status == "unknown"
    assert "amplifier review" in (final.last_error or "")
    assert final.ambiguous_since == T0


def test_ambiguous_then_rate_limited_remembers_ambiguity(store: Store, clock: FakeClock) -> None:
    """Timeout then 429 (the retry helper's warning): the deferral carries the ambiguity, and
    X's later duplicate answer is recorded as published, not as a failure."""
    net = MemoryNetwork("acct", "x")
    reset = T0 + timedelta(minutes=15)
    net.enqueue(
        TransientError("read timeout", ambiguous=True),
        RateLimited("429", retry_at=reset, window="15m"),
    )
    row = claim(store, "x")
    deferred = run(store, net, row, clock)
    assert deferred.status == "deferred"
    assert deferred.ambiguous_since == T0
    clock.now = reset
    again = store.take_over(
        row.id, worker_id=WORKER, expected_status="deferred", expected_claimed_by=None
    )
    assert again is not None
    done = run(store, net, again, clock, earlier_ambiguous=deferred.ambiguous_since)
    assert done.status == "published"
    assert done.last_error == CONFIRMED_BY_DUPLICATE
    assert len(net.sent) == 1  # the timed-out attempt landed; nothing went out twice


def test_duplicate_after_timeout_in_one_run_is_published(store: Store, clock: FakeClock) -> None:
    """X: a timeout whose post landed, then the retry's duplicate 403: published, sent once."""
    net = MemoryNetwork("acct", "x")
    net.enqueue(TransientError("read timeout", ambiguous=True))
    done = run(store, net, claim(store, "x"), clock)
    assert done.status == "published"
    assert done.remote_id is None
    assert done.last_error == CONFIRMED_BY_DUPLICATE
    assert len(net.sent) == 1


def test_duplicate_without_ambiguity_fails(store: Store, clock: FakeClock) -> None:
    """A duplicate answer with no earlier ambiguous attempt is a real duplicate: 'failed'."""
    net = MemoryNetwork("acct", "x")
    net.enqueue(DuplicatePost("x refused duplicate content (403)"))
    done = run(store, net, claim(store, "x"), clock)
    assert done.status == "failed"
    assert "already holds this text" in (done.last_error or "")


def test_lost_claim_sends_nothing(store: Store, clock: FakeClock) -> None:
    """If another worker took the row over, deliver stops before the network call."""
    net = MemoryNetwork("acct", "mastodon")
    row = claim(store)
    other = store.take_over(
        row.id, worker_id="other:2:bbbbbb", expected_status="sending", expected_claimed_by=WORKER
    )
    assert other is not None
    done = run(store, net, row, clock)
    assert net.attempts == []
    assert done.status == "sending"
    assert done.claimed_by == "other:2:bbbbbb"


def test_stop_during_retry_wait_defers_now(store: Store, clock: FakeClock) -> None:
    """Shutdown during a retry wait: no further attempt, the row is deferred to now."""
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(TransientError("503 from mastodon"))
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        stop.set()  # SIGTERM arrives while waiting; Event.wait would return at once

    done = run(store, net, claim(store), clock, stop=stop, sleep=sleep)
    assert done.status == "deferred"
    assert done.retry_at == clock.now
    assert "worker stopped" in (done.last_error or "")
    assert len(net.attempts) == 1


class FindingNetwork(MemoryNetwork):
    """A Bluesky-like fake edge that can look up its own posts by text."""

    def find_existing(self, text: str, since: datetime) -> Receipt | None:
        self.lookups.append(since)
        for index, post in enumerate(self.sent):
            if post.text == text:
                return Receipt(f"at://did:plc:x/app.bsky.feed.post/{index}", f"https://b/{index}")
        return None

    def __init__(self, account: str) -> None:
        super().__init__(account, "bluesky")
        self.lookups: list[datetime] = []


def test_lookup_before_resend_after_ambiguity(store: Store, clock: FakeClock) -> None:
    """Bluesky: after a timeout the record is looked up, found, and recorded; nothing resent."""
    net = FindingNetwork("acct")
    net.enqueue(TransientError("read timeout", ambiguous=True))
    done = run(store, net, claim(store, "bluesky"), clock)
    assert done.status == "published"
    assert done.last_error == CONFIRMED_BY_LOOKUP
    assert done.url == "https://b/0"
    assert len(net.attempts) == 1
    assert net.lookups and net.lookups[0] < T0  # searched from before the attempt began


def test_ambiguity_time_round_trips_in_its_column(store: Store) -> None:
    """The ambiguity time given with a deferral reads back as the same instant from its own
    column, last_error stays the message alone, and a later move without one keeps it."""
    since = datetime(2026, 3, 8, 7, 30, 5, 123456, tzinfo=UTC)
    row = claim(store)
    assert store.mark_deferred(
        row.id, worker_id=WORKER, retry_at=T0, reason="network error", ambiguous_since=since
    )
    deferred = store.get_by_id(row.id)
    assert deferred is not None
    assert deferred.ambiguous_since == since
    assert deferred.last_error == "network error"
    assert store.take_over(row.id, worker_id=WORKER, expected_status="deferred",
                           expected_claimed_by=None) is not None  # fmt: skip
    assert store.mark_unknown(row.id, worker_id=WORKER, reason="gave up")
    unknown = store.get_by_id(row.id)
    assert unknown is not None and unknown.ambiguous_since == since

    plain = claim(store, slot="2026-11-23T10:00")
    assert store.mark_deferred(plain.id, worker_id=WORKER, retry_at=T0, reason="rate limited")
    stored = store.get_by_id(plain.id)
    assert stored is not None and stored.ambiguous_since is None
