"""Crash recovery: rows a dead worker left 'sending', and due deferred rows, settled once."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.delivery.attempt import outgoing_post
from amplifier.delivery.publish import (
    CONFIRMED_BY_DUPLICATE,
    CONFIRMED_BY_LOOKUP,
    DeliveryContext,
    DeliveryPolicy,
)
from amplifier.delivery.recovery import RecoveryRules, Settler
from amplifier.delivery.retry import RetryPolicy
from amplifier.errors import TransientError
from amplifier.networks.base import Network, NetworkName, Receipt
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Delivery, DeliveryDraft, Store

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
DEAD = "old-dyno:7:dead00"
ME = "new-dyno:8:live00"
RULES = RecoveryRules(
    stale_after=timedelta(seconds=45),
    mastodon_window=timedelta(minutes=55),
    lookback=timedelta(hours=24),
)


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FindingNetwork(MemoryNetwork):
    """A Bluesky-like fake edge that can look its own posts up by text."""

    def __init__(self, account: str) -> None:
        super().__init__(account, "bluesky")

    def find_existing(self, text: str, since: datetime) -> Receipt | None:
        for post in self.sent:
            if post.text == text:
                return Receipt("at://did:plc:x/app.bsky.feed.post/3k", "https://bsky.app/p/3k")
        return None


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    opened.migrate()
    return opened


def settler(store: Store, clock: FakeClock, networks: dict[str, Network]) -> Settler:
    context = DeliveryContext(
        store=store,
        worker_id=ME,
        policy=DeliveryPolicy(retry=RetryPolicy(jitter=0)),
        clock=clock,
        sleep=clock.sleep,
    )
    return Settler(context, lambda account: networks[account], RULES)


def crashed_mid_send(
    store: Store, clock: FakeClock, network: NetworkName, net: Network | None, *, landed: bool
) -> Delivery:
    """A dead worker claimed a slot, counted an attempt, maybe sent it, and died unrecorded."""
    store.heartbeat(DEAD)
    draft = DeliveryDraft(
        account="acct",
        network=network,
        slot_key="2026-11-23T09:00",
        due_at=T0,
        template_id="call-congress",
        campaign="fbt",
        text="Call Congress today #FamiliesBelongTogether",
    )
    row = store.claim_slot(draft, worker_id=DEAD)
    assert row is not None
    started = store.begin_attempt(row.id, worker_id=DEAD)
    assert started is not None
    if landed and net is not None:
        net.publish(outgoing_post(started))
    return started


def test_orphan_without_attempt_is_simply_sent(store: Store, clock: FakeClock) -> None:
    """Claimed but never attempted (attempts == 0): nothing went out, so deliver normally."""
    net = MemoryNetwork("acct", "mastodon")
    store.heartbeat(DEAD)
    draft = DeliveryDraft("acct", "mastodon", "2026-11-23T09:00", T0, "p", "fbt", "hello")
    assert store.claim_slot(draft, worker_id=DEAD) is not None
    clock.now += timedelta(minutes=1)
    store.heartbeat(ME)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert len(net.sent) == 1


def test_live_workers_rows_are_left_alone(store: Store, clock: FakeClock) -> None:
    """A 'sending' row whose worker still checks in is not an orphan."""
    net = MemoryNetwork("acct", "mastodon")
    crashed_mid_send(store, clock, "mastodon", net, landed=False)
    clock.now += timedelta(seconds=30)
    store.heartbeat(DEAD)  # still alive after all
    assert settler(store, clock, {"acct": net}).settle_orphans(clock.now) == []
    assert net.attempts == []


def test_x_orphan_that_landed_is_published_once(store: Store, clock: FakeClock) -> None:
    """X: the resend is answered "duplicate content", which proves the first landed."""
    net = MemoryNetwork("acct", "x")
    crashed_mid_send(store, clock, "x", net, landed=True)
    clock.now += timedelta(minutes=2)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert done.last_error == CONFIRMED_BY_DUPLICATE
    assert len(net.sent) == 1
    assert done.attempts == 2


def test_x_orphan_that_never_landed_is_sent(store: Store, clock: FakeClock) -> None:
    """X: if the first attempt never arrived, the resend simply publishes it."""
    net = MemoryNetwork("acct", "x")
    crashed_mid_send(store, clock, "x", net, landed=False)
    clock.now += timedelta(minutes=2)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert done.url is not None
    assert len(net.sent) == 1


def test_mastodon_orphan_within_window_resent_with_same_key(store: Store, clock: FakeClock) -> None:
    """Mastodon within the key's hour: resent with the same Idempotency-Key."""
    net = MemoryNetwork("acct", "mastodon")
    row = crashed_mid_send(store, clock, "mastodon", net, landed=True)
    clock.now += timedelta(minutes=20)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert [p.idempotency_key for p in net.attempts] == [row.idempotency_key] * 2


def test_mastodon_orphan_past_window_needs_review(store: Store, clock: FakeClock) -> None:
    """Mastodon after the key expired: not resent, marked 'unknown' for review."""
    net = MemoryNetwork("acct", "mastodon")
    crashed_mid_send(store, clock, "mastodon", net, landed=True)
    clock.now += timedelta(minutes=56)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "unknown"
    assert "amplifier review" in (done.last_error or "")
    assert len(net.attempts) == 1  # only the dead worker's


def test_bluesky_orphan_found_is_recorded(store: Store, clock: FakeClock) -> None:
    """Bluesky: the record is found on the account and recorded, not posted again."""
    net = FindingNetwork("acct")
    crashed_mid_send(store, clock, "bluesky", net, landed=True)
    clock.now += timedelta(hours=3)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert done.last_error == CONFIRMED_BY_LOOKUP
    assert done.remote_id == "at://did:plc:x/app.bsky.feed.post/3k"
    assert len(net.attempts) == 1


def test_bluesky_orphan_not_found_is_sent(store: Store, clock: FakeClock) -> None:
    """Bluesky: not found on the account, so it never landed: sent now."""
    net = FindingNetwork("acct")
    crashed_mid_send(store, clock, "bluesky", net, landed=False)
    clock.now += timedelta(minutes=5)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "published"
    assert done.last_error is None
    assert len(net.sent) == 1


def test_two_settlers_one_winner(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Two live workers settle the same orphan at once; the compare-and-set lets one win."""
    net = MemoryNetwork("acct", "mastodon")
    crashed_mid_send(store, clock, "mastodon", None, landed=False)
    clock.now += timedelta(minutes=1)
    settlers = [settler(store, clock, {"acct": net})]
    other_store = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    other = DeliveryContext(other_store, "third:9:cccccc", DeliveryPolicy(), clock, clock.sleep)
    settlers.append(Settler(other, lambda account: net, RULES))
    start = threading.Barrier(2)
    settled: list[Delivery] = []

    def run(one: Settler) -> None:
        start.wait()
        settled.extend(one.settle_orphans(clock.now))

    threads = [threading.Thread(target=run, args=(one,)) for one in settlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [row.status for row in settled] == ["published"]
    assert len(net.sent) == 1


def _deferred(
    store: Store,
    clock: FakeClock,
    network: NetworkName,
    reason: str,
    ambiguous_since: datetime | None = None,
) -> Delivery:
    store.heartbeat(ME)
    draft = DeliveryDraft("acct", network, "2026-11-23T09:00", T0, "p", "fbt", "hello again")
    row = store.claim_slot(draft, worker_id=ME)
    assert row is not None
    assert store.begin_attempt(row.id, worker_id=ME) is not None
    assert store.mark_deferred(
        row.id,
        worker_id=ME,
        retry_at=T0 + timedelta(minutes=10),
        reason=reason,
        ambiguous_since=ambiguous_since,
    )
    return row


def test_ambiguous_deferred_mastodon_past_window_needs_review(
    store: Store, clock: FakeClock
) -> None:
    """A deferred Mastodon post that may have landed over an hour ago is not resent."""
    net = MemoryNetwork("acct", "mastodon")
    _deferred(store, clock, "mastodon", "rate limited", ambiguous_since=T0)
    clock.now = T0 + timedelta(minutes=70)
    [done] = settler(store, clock, {"acct": net}).retry_deferred(clock.now)
    assert done.status == "unknown"
    assert net.attempts == []


def test_deferred_waits_for_rate_limit_window(store: Store, clock: FakeClock) -> None:
    """A due deferred row of a blocked account is pushed to the reset, without a network call."""
    net = MemoryNetwork("acct", "x")
    _deferred(store, clock, "x", "network error")
    from amplifier.networks.base import RateLimitWindow

    reset = T0 + timedelta(hours=2)
    store.save_rate_limits("acct", [RateLimitWindow("24h-user", 17, 0, reset)])
    clock.now = T0 + timedelta(minutes=10)
    [done] = settler(store, clock, {"acct": net}).retry_deferred(clock.now)
    assert done.status == "deferred"
    assert done.retry_at == reset
    assert net.attempts == []
    clock.now = reset
    [later] = settler(store, clock, {"acct": net}).retry_deferred(clock.now)
    assert later.status == "published"


def test_deferred_too_old_is_given_up(store: Store, clock: FakeClock) -> None:
    """A deferred post whose slot is older than the lookback window is failed, not flooded out."""
    net = MemoryNetwork("acct", "mastodon")
    _deferred(store, clock, "mastodon", "network error")
    clock.now = T0 + timedelta(hours=25)
    [done] = settler(store, clock, {"acct": net}).retry_deferred(clock.now)
    assert done.status == "failed"
    assert "not sent within 24 h" in (done.last_error or "")
    assert net.attempts == []


def test_orphan_of_removed_account(store: Store, clock: FakeClock) -> None:
    """An orphan whose account left the config cannot be settled by sending: needs review."""
    crashed_mid_send(store, clock, "mastodon", None, landed=False)
    clock.now += timedelta(minutes=2)
    [done] = settler(store, clock, {}).settle_orphans(clock.now)
    assert done.status == "unknown"
    assert "no longer configured" in (done.last_error or "")


def test_transient_on_resend_keeps_ambiguity(store: Store, clock: FakeClock) -> None:
    """A resend that fails again is deferred still marked ambiguous since the first attempt."""
    net = MemoryNetwork("acct", "mastodon")
    row = crashed_mid_send(store, clock, "mastodon", net, landed=False)
    net.enqueue(*[TransientError("503 from mastodon") for _ in range(4)])
    clock.now += timedelta(minutes=1)
    [done] = settler(store, clock, {"acct": net}).settle_orphans(clock.now)
    assert done.status == "deferred"
    assert row.claimed_at is not None
    assert done.ambiguous_since == row.claimed_at
