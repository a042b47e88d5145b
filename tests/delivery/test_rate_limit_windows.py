"""Found by the fault soak (bench/soak.py): requests sent while an account's stored rate-limit
window is still shut. Each test is a deterministic replay of one path the soak caught.

Both failed before the delivery path checked the account's stored window before every attempt
(delivery._GuardedNetwork.publish). See bench/SOAK.md, "Findings".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.delivery import DeliveryContext, DeliveryPolicy
from amplifier.delivery.recovery import RecoveryRules, Settler
from amplifier.delivery.retry import RetryPolicy
from amplifier.errors import TransientError
from amplifier.networks.base import RateLimitWindow
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import DeliveryDraft, Store

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
DEAD = "old-dyno:7:dead00"
ME = "new-dyno:8:live00"
OTHER = "other-dyno:9:live01"
RESET = T0 + timedelta(minutes=5)
SHUT = RateLimitWindow("5m", 300, 0, RESET)  # a 429 said: nothing on this account until RESET
DRAFT = DeliveryDraft("acct", "mastodon", "2026-11-23T09:00", T0, "p", "fbt", "hello")


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    opened.migrate()
    return opened


def context(
    store: Store, clock: FakeClock, sleep: Callable[[float], object] | None = None
) -> DeliveryContext:
    return DeliveryContext(
        store=store,
        worker_id=ME,
        policy=DeliveryPolicy(retry=RetryPolicy(max_attempts=4, initial_wait=1.0, jitter=0)),
        clock=clock,
        sleep=clock.sleep if sleep is None else sleep,
    )


def test_a_dead_workers_row_waits_for_its_accounts_window(store: Store, clock: FakeClock) -> None:
    """A row a killed worker left 'sending' on an account whose window is shut is deferred to
    the reset, not sent: the soak saw such rows sent 1-5 s before the announced reset."""
    # The dead worker had a 429 recorded for the account, then claimed the next slot and was
    # SIGKILLed before deferring it (worker._claim_and_deliver: claim, then blocked_until).
    store.heartbeat(DEAD)
    store.save_rate_limits("acct", [SHUT])
    assert store.claim_slot(DRAFT, worker_id=DEAD) is not None
    clock.now += timedelta(minutes=1)  # the dead worker is stale; the window is still shut
    store.heartbeat(ME)
    net = MemoryNetwork("acct", "mastodon")
    settler = Settler(context(store, clock), lambda account: net, RecoveryRules())

    [row] = settler.settle_orphans(clock.now)

    assert net.attempts == [], f"sent {RESET - clock.now} before the announced reset"
    assert row.status == "deferred"
    assert row.retry_at == RESET


def test_a_retry_run_stops_at_a_window_another_worker_stored(
    store: Store, clock: FakeClock
) -> None:
    """Two workers: while this one waits to retry a 503, the other is answered 429 for the same
    account and stores the window; the retry must wait for the reset, not go out at once."""
    row = store.claim_slot(DRAFT, worker_id=ME)
    assert row is not None
    net = MemoryNetwork("acct", "mastodon")
    net.enqueue(TransientError("503 from mastodon", account="acct", network="mastodon"))

    def other_worker_is_rate_limited_meanwhile(seconds: float) -> None:
        clock.sleep(seconds)
        store.heartbeat(OTHER)
        store.save_rate_limits("acct", [SHUT])

    done = context(store, clock, other_worker_is_rate_limited_meanwhile).deliver(net, row)

    assert len(net.attempts) == 1, f"retried {RESET - clock.now} before the announced reset"
    assert done.status == "deferred"
    assert done.retry_at == RESET


def test_a_second_worker_waits_for_the_answer_to_the_first(store: Store, clock: FakeClock) -> None:
    """Two workers due on one account at one instant: the second sends nothing while the first
    one's attempt is in flight, and once the first stores the 429 it met, the second waits for
    the reset. The soak saw both requests leave 7 ms apart, 6 s before the reset."""
    store.heartbeat(OTHER)
    store.heartbeat(ME)
    other_draft = DeliveryDraft("acct", "mastodon", "2026-11-23T08:00", T0, "q", "fbt", "hi")
    theirs = store.claim_slot(other_draft, worker_id=OTHER)
    assert theirs is not None and store.begin_attempt(theirs.id, worker_id=OTHER) is not None
    mine = store.claim_slot(DRAFT, worker_id=ME)
    assert mine is not None
    net = MemoryNetwork("acct", "mastodon")
    polls: list[float] = []

    def first_worker_is_answered_429_meanwhile(seconds: float) -> None:
        polls.append(seconds)
        clock.sleep(seconds)
        if len(polls) == 3:  # as deliver records a 429: the window, then the row deferred
            store.save_rate_limits("acct", [SHUT])
            assert store.mark_deferred(theirs.id, worker_id=OTHER, retry_at=RESET, reason="429")

    done = context(store, clock, first_worker_is_answered_429_meanwhile).deliver(net, mine)

    assert net.attempts == [], f"sent {RESET - clock.now} before the announced reset"
    assert len(polls) == 3
    assert done.status == "deferred" and done.retry_at == RESET and done.attempts == 0


def test_a_worker_waits_for_a_busy_account_then_hands_the_post_back(
    store: Store, clock: FakeClock
) -> None:
    """Another worker's attempt that never ends (killed mid-request) holds the account: the post
    waits ``busy_wait``, then is deferred, due at once, its attempt not counted; once the dead
    worker is stale the next pass sends it."""
    store.heartbeat(DEAD)
    other_draft = DeliveryDraft("acct", "mastodon", "2026-11-23T08:00", T0, "q", "fbt", "hi")
    theirs = store.claim_slot(other_draft, worker_id=DEAD)
    assert theirs is not None and store.begin_attempt(theirs.id, worker_id=DEAD) is not None
    store.heartbeat(ME)
    mine = store.claim_slot(DRAFT, worker_id=ME)
    assert mine is not None
    net = MemoryNetwork("acct", "mastodon")

    waited = context(store, clock).deliver(net, mine)

    assert net.attempts == [], "sent while another worker's request was in flight"
    assert waited.status == "deferred" and waited.attempts == 0
    assert clock.now - T0 == pytest.approx(DeliveryPolicy().busy_wait, abs=timedelta(seconds=1))
    assert waited.retry_at == clock.now
    assert "another worker is sending for this account" in (waited.last_error or "")

    clock.now = T0 + DeliveryPolicy().stale_after + timedelta(seconds=1)
    store.heartbeat(ME)
    settler = Settler(context(store, clock), lambda account: net, RecoveryRules())
    [sent] = settler.retry_deferred(clock.now)

    assert sent.status == "published" and len(net.attempts) == 1
