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
