"""The store contract: every test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from amplifier.errors import StoreError
from amplifier.networks.base import RateLimitWindow
from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.store.migrations import MIGRATIONS, applied_migrations

from .conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def draft(
    slot_key: str = "2025-03-01T09:00",
    *,
    account: str = "x-main",
    network: str = "x",
    text: str = "Families belong together #FamiliesBelongTogether",
    due_at: datetime = T0,
) -> DeliveryDraft:
    return DeliveryDraft(
        account=account,
        network=network,
        slot_key=slot_key,
        due_at=due_at,
        template_id="tpl-1",
        campaign="fbt",
        text=text,
        language="en",
        link="https://example.org/act",
        content_warning=None,
        media=(("posts/img/rally.jpg", "A crowd holding signs"),),
    )


def claimed(store: Store, slot_key: str = "2025-03-01T09:00", worker: str = "w1") -> Delivery:
    delivery = store.claim_slot(draft(slot_key), worker_id=worker)
    assert delivery is not None
    return delivery


# -- migrations ------------------------------------------------------------------------------


def test_migrate_is_idempotent_and_records_names(make_store: Callable[[], Store]) -> None:
    """The first migrate applies every step in order, records them, and a second does nothing."""
    store = make_store()
    names = [migration.name for migration in MIGRATIONS]
    assert store.migrate() == names
    assert store.migrate() == []
    assert applied_migrations(store.engine) == sorted(names)


# -- claims ----------------------------------------------------------------------------------


def test_claim_slot_inserts_a_sending_row(store: Store, clock: FakeClock) -> None:
    """A claim records every draft field, status sending, the worker, and a derived key."""
    delivery = claimed(store)
    expected_key = hashlib.sha256(b"x-main|2025-03-01T09:00").hexdigest()[:32]
    assert delivery.status == "sending"
    assert delivery.attempts == 0
    assert delivery.claimed_by == "w1"
    assert delivery.claimed_at == clock.now
    assert delivery.created_at == delivery.updated_at == clock.now
    assert delivery.idempotency_key == expected_key
    assert delivery.media == (("posts/img/rally.jpg", "A crowd holding signs"),)
    assert (delivery.language, delivery.link) == ("en", "https://example.org/act")
    assert store.get("x-main", "2025-03-01T09:00") == delivery
    assert store.get_by_id(delivery.id) == delivery


def test_second_claim_returns_none_and_keeps_rotation(store: Store) -> None:
    """A second claim of the same slot gets None and its rotation state is not saved."""
    first = store.claim_slot(draft(), worker_id="w1", rotation=("x-main", {"cycle": 1}))
    second = store.claim_slot(draft(), worker_id="w2", rotation=("x-main", {"cycle": 2}))
    assert first is not None
    assert second is None
    assert store.load_rotation("x-main") == {"cycle": 1}
    assert store.get("x-main", "2025-03-01T09:00") == first


def test_claim_and_rotation_commit_together(store: Store) -> None:
    """When the rotation cannot be saved, the claim is rolled back with it."""
    unsaveable = {"bad": object()}  # not JSON: the save fails inside the claim's transaction
    with pytest.raises(TypeError):
        store.claim_slot(draft(), worker_id="w1", rotation=("x-main", unsaveable))
    assert store.get("x-main", "2025-03-01T09:00") is None
    assert store.load_rotation("x-main") is None
    assert store.claim_slot(draft(), worker_id="w1", rotation=("x-main", {"n": 1})) is not None
    assert store.load_rotation("x-main") == {"n": 1}


def test_same_slot_of_another_account_is_a_separate_row(store: Store) -> None:
    """Uniqueness is per (account, slot_key), not per slot_key."""
    assert store.claim_slot(draft(account="a"), worker_id="w1") is not None
    other = store.claim_slot(draft(account="b"), worker_id="w1")
    assert other is not None
    assert other.account == "b"


def test_record_missed_and_skipped_never_overwrite(store: Store) -> None:
    """missed/skipped rows are recorded only for slots without a row, and block later claims."""
    claimed(store, "s1")
    assert store.record_missed(draft("s1"), "no worker") is None
    assert store.record_skipped(draft("s1"), "paused") is None
    kept = store.get("x-main", "s1")
    assert kept is not None and kept.status == "sending"

    missed = store.record_missed(draft("s2"), "slot passed during downtime")
    skipped = store.record_skipped(draft("s3"), "pause switch")
    assert missed is not None and skipped is not None
    assert (missed.status, missed.last_error, missed.claimed_by) == (
        "missed",
        "slot passed during downtime",
        None,
    )
    assert (skipped.status, skipped.last_error) == ("skipped", "pause switch")
    assert store.claim_slot(draft("s2"), worker_id="w1") is None


# -- state moves -----------------------------------------------------------------------------


def test_begin_attempt_counts_and_refuses_non_owner(store: Store) -> None:
    """Only the claiming worker may start attempts; each start adds one."""
    delivery = claimed(store)
    first = store.begin_attempt(delivery.id, worker_id="w1")
    second = store.begin_attempt(delivery.id, worker_id="w1")
    assert first is not None and first.attempts == 1
    assert second is not None and second.attempts == 2
    assert store.begin_attempt(delivery.id, worker_id="w2") is None
    assert store.mark_published(delivery.id, worker_id="w1", remote_id="1", url=None)
    assert store.begin_attempt(delivery.id, worker_id="w1") is None
    final = store.get_by_id(delivery.id)
    assert final is not None and final.attempts == 2


def test_mark_published_records_receipt(store: Store, clock: FakeClock) -> None:
    """Publishing stores remote id, url and note, and releases the claim."""
    delivery = claimed(store)
    clock.advance(timedelta(seconds=3))
    assert store.mark_published(
        delivery.id, worker_id="w1", remote_id="1899", url="https://x.com/i/1899", note="dup"
    )
    row = store.get_by_id(delivery.id)
    assert row is not None
    assert (row.status, row.remote_id, row.url, row.last_error) == (
        "published",
        "1899",
        "https://x.com/i/1899",
        "dup",
    )
    assert row.claimed_by is None
    assert row.updated_at == clock.now


def test_mark_published_saves_the_answers_rate_limits(store: Store, clock: FakeClock) -> None:
    """Windows given with the receipt are saved with it, and kept even when the row is no
    longer ours: they describe the platform, whoever recorded the post."""
    delivery = claimed(store)
    reset = clock.now + timedelta(minutes=5)
    window = RateLimitWindow("5m", 300, 0, reset)
    assert store.mark_published(
        delivery.id, worker_id="w1", remote_id="1", url=None, rate_limits=("acct", [window])
    )
    assert store.rate_limits("acct") == [window]
    assert store.blocked_until("acct", clock.now) == reset
    other = claimed(store, slot_key="2025-03-01T13:00")
    later = RateLimitWindow("5m", 300, 0, reset + timedelta(minutes=5))
    refused = store.mark_published(
        other.id, worker_id="not-the-owner", remote_id="2", url=None, rate_limits=("acct", [later])
    )
    assert refused is False
    assert store.rate_limits("acct") == [later]
    assert store.blocked_until("acct", clock.now) == later.reset_at


MARKS: dict[str, Callable[[Store, int, str], bool]] = {
    "published": lambda s, i, w: s.mark_published(i, worker_id=w, remote_id="r", url=None),
    "deferred": lambda s, i, w: s.mark_deferred(
        i, worker_id=w, retry_at=T0 + timedelta(hours=1), reason="429"
    ),
    "failed": lambda s, i, w: s.mark_failed(i, worker_id=w, reason="rejected"),
    "unknown": lambda s, i, w: s.mark_unknown(i, worker_id=w, reason="read timeout"),
}


@pytest.mark.parametrize("status", sorted(MARKS))
def test_mark_is_compare_and_set(store: Store, status: str) -> None:
    """Each mark_* needs status sending and the owning worker, and happens at most once."""
    mark = MARKS[status]
    delivery = claimed(store)
    assert mark(store, delivery.id, "intruder") is False
    assert mark(store, delivery.id, "w1") is True
    assert mark(store, delivery.id, "w1") is False  # no longer 'sending'
    row = store.get_by_id(delivery.id)
    assert row is not None
    assert (row.status, row.claimed_by) == (status, None)
    for other in MARKS.values():
        assert other(store, delivery.id, "w1") is False


def test_deferred_rows_come_due(store: Store) -> None:
    """due_deferred returns deferred rows whose retry_at is at or before now, oldest first."""
    late, early, other = claimed(store, "s1"), claimed(store, "s2"), claimed(store, "s3")
    assert store.mark_deferred(late.id, worker_id="w1", retry_at=T0 + timedelta(hours=2), reason="")
    assert store.mark_deferred(
        early.id, worker_id="w1", retry_at=T0 + timedelta(hours=1), reason=""
    )
    assert store.mark_failed(other.id, worker_id="w1", reason="rejected")
    assert store.due_deferred(T0) == []
    assert [d.id for d in store.due_deferred(T0 + timedelta(hours=1))] == [early.id]
    due = store.due_deferred(T0 + timedelta(hours=3))
    assert [d.id for d in due] == [early.id, late.id]
    assert due[0].retry_at == T0 + timedelta(hours=1)


def test_take_over_is_compare_and_set(store: Store, clock: FakeClock) -> None:
    """take_over needs the expected status and claimant, then hands the row to the new worker."""
    delivery = claimed(store)
    assert store.mark_deferred(delivery.id, worker_id="w1", retry_at=T0, reason="429")
    assert (
        store.take_over(
            delivery.id, worker_id="w2", expected_status="deferred", expected_claimed_by="w1"
        )
        is None
    )
    assert (
        store.take_over(
            delivery.id, worker_id="w2", expected_status="sending", expected_claimed_by=None
        )
        is None
    )
    clock.advance(timedelta(minutes=5))
    taken = store.take_over(
        delivery.id, worker_id="w2", expected_status="deferred", expected_claimed_by=None
    )
    assert taken is not None
    assert (taken.status, taken.claimed_by, taken.claimed_at) == ("sending", "w2", clock.now)
    assert (
        store.take_over(
            delivery.id, worker_id="w3", expected_status="deferred", expected_claimed_by=None
        )
        is None
    )
    # An orphaned 'sending' row moves from its old claimant to the new one.
    again = store.take_over(
        delivery.id, worker_id="w3", expected_status="sending", expected_claimed_by="w2"
    )
    assert again is not None and again.claimed_by == "w3"
    assert store.begin_attempt(delivery.id, worker_id="w2") is None


def test_resolve_only_from_unknown(store: Store) -> None:
    """resolve settles an unknown row once, keeps why it was unknown, and touches nothing else."""
    sending, unknown = claimed(store, "s1"), claimed(store, "s2")
    assert store.mark_unknown(unknown.id, worker_id="w1", reason="read timeout")
    assert store.resolve(sending.id, status="failed", by="ana", note="checked") is False
    assert store.resolve(unknown.id, status="published", by="ana", note="seen on profile")
    assert store.resolve(unknown.id, status="failed", by="ana", note="again") is False
    row = store.get_by_id(unknown.id)
    assert row is not None and row.status == "published"
    assert row.last_error is not None
    assert "ana" in row.last_error and "seen on profile" in row.last_error
    assert "read timeout" in row.last_error
    with pytest.raises(StoreError):
        store.resolve(sending.id, status="sending", by="ana", note="")  # type: ignore[arg-type]


# -- races -----------------------------------------------------------------------------------

THREADS = 8
ROUNDS = 30


def _race(stores: list[Store], attempt: Callable[[Store, int], object]) -> list[int]:
    """Run ``attempt`` from THREADS threads at once per round; return winners per round."""
    winners: list[int] = []
    barrier = threading.Barrier(THREADS)

    def contender(index: int, round_: int) -> bool:
        barrier.wait()
        return attempt(stores[index % len(stores)], round_) is not None

    with ThreadPoolExecutor(THREADS) as pool:
        for round_ in range(ROUNDS):
            futures = [pool.submit(contender, i, round_) for i in range(THREADS)]
            winners.append(sum(future.result() for future in futures))
    return winners


def test_claim_race_has_one_winner(store: Store, make_store: Callable[[], Store]) -> None:
    """Eight threads on two engines claiming the same slot: exactly one wins, every round."""
    stores = [store, make_store()]
    winners = _race(stores, lambda s, r: s.claim_slot(draft(f"race-{r}"), worker_id="w"))
    assert winners == [1] * ROUNDS
    assert len(store.history(limit=1000)) == ROUNDS


def test_take_over_race_has_one_winner(store: Store, make_store: Callable[[], Store]) -> None:
    """Eight threads on two engines taking over the same deferred row: exactly one wins."""
    for round_ in range(ROUNDS):
        row = claimed(store, f"race-{round_}")
        assert store.mark_deferred(row.id, worker_id="w1", retry_at=T0, reason="429")
    ids = {d.slot_key: d.id for d in store.history(limit=1000)}
    stores = [store, make_store()]
    winners = _race(
        stores,
        lambda s, r: s.take_over(
            ids[f"race-{r}"],
            worker_id=f"t-{threading.get_ident()}",
            expected_status="deferred",
            expected_claimed_by=None,
        ),
    )
    assert winners == [1] * ROUNDS


CLAIMER = """
import json, sys
from datetime import UTC, datetime
from amplifier.store import DeliveryDraft, Store
url, worker = sys.argv[1], sys.argv[2]
store = Store(url)
print("ready", flush=True)
sys.stdin.readline()
store.migrate()  # all at once on an empty database, as workers starting together do
store.first_started()
won = []
for n in range(100):
    d = DeliveryDraft(account="acct", network="x", slot_key=f"slot-{n}",
                      due_at=datetime(2025, 3, 1, tzinfo=UTC), template_id="t",
                      campaign="c", text=f"post {n}")
    if store.claim_slot(d, worker_id=worker, rotation=("acct", {"last": n})) is not None:
        won.append(n)
store.close()
print(json.dumps(won), flush=True)
"""


def test_processes_claim_each_slot_exactly_once(
    make_store: Callable[[], Store], database_url: str
) -> None:
    """Three processes on one EMPTY database migrate, record the first start and claim the
    same 100 slots at once: no error, each slot exactly once."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, database_url, f"proc-{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for n in range(3)
    ]
    for process in processes:  # wait until all are connected, then start them together
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    won: list[list[int]] = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        won.append(json.loads(out.strip().splitlines()[-1]))
    everything = sorted(n for wins in won for n in wins)
    assert everything == list(range(100))
    store = make_store()
    rows = store.history(limit=1000)
    assert len(rows) == 100
    owner = {n: f"proc-{i}" for i, wins in enumerate(won) for n in wins}
    assert all(row.claimed_by == owner[int(row.slot_key[5:])] for row in rows)


# -- heartbeats and orphans ------------------------------------------------------------------


def test_orphaned_follows_heartbeats(store: Store, clock: FakeClock) -> None:
    """A 'sending' row is orphaned when its worker's heartbeat is stale or absent."""
    stale_after = timedelta(minutes=2)
    alive_row = claimed(store, "s1", worker="alive")
    silent_row = claimed(store, "s2", worker="silent")
    done = claimed(store, "s3", worker="gone")
    assert store.mark_published(done.id, worker_id="gone", remote_id="1", url=None)
    store.heartbeat("alive")
    assert [d.id for d in store.orphaned(clock.now, stale_after)] == [silent_row.id]

    clock.advance(timedelta(minutes=1))
    store.heartbeat("alive")
    later = clock.now + timedelta(minutes=1, seconds=30)
    assert [d.id for d in store.orphaned(later, stale_after)] == [silent_row.id]
    much_later = clock.now + timedelta(minutes=3)
    assert {d.id for d in store.orphaned(much_later, stale_after)} == {alive_row.id, silent_row.id}

    store.forget_worker("alive")
    assert {d.id for d in store.orphaned(clock.now, stale_after)} == {alive_row.id, silent_row.id}


# -- queries ---------------------------------------------------------------------------------


def _published(
    store: Store,
    slot: str,
    *,
    account: str = "x-main",
    due_at: datetime = T0,
    network: str = "x",
    text: str = "t",
) -> Delivery:
    d = store.claim_slot(
        draft(slot, account=account, due_at=due_at, network=network, text=text), worker_id="w"
    )
    assert d is not None
    assert store.mark_published(d.id, worker_id="w", remote_id=slot, url=None)
    return d


def test_history_orders_and_filters(store: Store) -> None:
    """history is newest due_at first, filtered by account and statuses, and limited."""
    a1 = _published(store, "a1", account="a", due_at=T0)
    a2 = store.claim_slot(draft("a2", due_at=T0 - timedelta(hours=1)), worker_id="w")
    assert a2 is not None
    b1 = _published(store, "b1", account="b", due_at=T0 + timedelta(hours=2))
    a3 = store.record_skipped(draft("a3", account="a", due_at=T0 + timedelta(hours=1)), "pause")
    assert a3 is not None
    assert [d.id for d in store.history()] == [b1.id, a3.id, a1.id, a2.id]
    assert [d.id for d in store.history(account="a")] == [a3.id, a1.id]
    assert [d.id for d in store.history(statuses=["published"])] == [b1.id, a1.id]
    assert [d.id for d in store.history(account="a", statuses={"skipped", "sending"})] == [a3.id]
    assert [d.id for d in store.history(limit=2)] == [b1.id, a3.id]
    assert store.history(statuses=[]) == []


def test_published_count_and_last_published(store: Store, clock: FakeClock) -> None:
    """Counts only the account's published rows since the cutoff; last is the newest of them."""
    start = clock.now
    _published(store, "p1")
    clock.advance(timedelta(hours=1))
    second = _published(store, "p2")
    _published(store, "p3", account="other")
    failed = claimed(store, "p4")
    assert store.mark_failed(failed.id, worker_id="w1", reason="no")
    assert store.published_count("x-main", start) == 2
    assert store.published_count("x-main", start + timedelta(minutes=1)) == 1
    assert store.published_count("nobody", start) == 0
    last = store.last_published("x-main")
    assert last is not None and last.id == second.id
    assert store.last_published("nobody") is None


def test_recent_texts(store: Store, clock: FakeClock) -> None:
    """recent_texts lists (account, text) of the network's published or sending rows since then."""
    _published(store, "old", account="x1", text="old text")
    clock.advance(timedelta(days=1))
    since = clock.now
    _published(store, "new", account="x1", text="new text")
    store.claim_slot(draft("now", account="x2", text="going out"), worker_id="w")
    _published(store, "masto", account="m1", network="mastodon", text="toot")
    failed = store.claim_slot(draft("bad", account="x3", text="rejected text"), worker_id="w")
    assert failed is not None and store.mark_failed(failed.id, worker_id="w", reason="no")
    assert sorted(store.recent_texts("x", since)) == [("x1", "new text"), ("x2", "going out")]
    assert store.recent_texts("mastodon", since) == [("m1", "toot")]


# -- documents and small tables --------------------------------------------------------------


def test_rotation_round_trip(store: Store) -> None:
    """Rotation state comes back as saved (nested JSON), and a save replaces it."""
    assert store.load_rotation("x-main") is None
    state: dict[str, object] = {"cycle": 3, "used": {"tpl-1": 2}, "order": ["a", "b"], "x": None}
    store.save_rotation("x-main", state)
    assert store.load_rotation("x-main") == state
    store.save_rotation("x-main", {"cycle": 4})
    assert store.load_rotation("x-main") == {"cycle": 4}
    assert store.load_rotation("other") is None


def test_rate_limits_upsert_and_block(store: Store, clock: FakeClock) -> None:
    """Windows upsert by name; blocked_until is the latest future reset of exhausted windows."""
    now = clock.now
    store.save_rate_limits(
        "x-main",
        [
            RateLimitWindow("24h-user", 17, 0, now + timedelta(hours=5)),
            RateLimitWindow("15m", 100, 99, now + timedelta(minutes=15)),
            RateLimitWindow("unknown", None, None, None),
        ],
    )
    assert store.blocked_until("x-main", now) == now + timedelta(hours=5)
    store.save_rate_limits("x-main", [RateLimitWindow("15m", 100, 0, now + timedelta(hours=6))])
    assert store.rate_limits("x-main") == [
        RateLimitWindow("15m", 100, 0, now + timedelta(hours=6)),
        RateLimitWindow("24h-user", 17, 0, now + timedelta(hours=5)),
        RateLimitWindow("unknown", None, None, None),
    ]
    assert store.blocked_until("x-main", now) == now + timedelta(hours=6)
    assert store.blocked_until("x-main", now + timedelta(hours=7)) is None
    assert store.blocked_until("other", now) is None
    # A late answer (to a request sent before the 429) saying 15m is open leaves it shut ...
    store.save_rate_limits("x-main", [RateLimitWindow("15m", 100, 50, now + timedelta(hours=6))])
    assert store.blocked_until("x-main", now) == now + timedelta(hours=6)
    # ... and an earlier reset does not shorten it; once its reset has passed, answers count.
    store.save_rate_limits("x-main", [RateLimitWindow("15m", 100, 0, now + timedelta(hours=1))])
    assert store.blocked_until("x-main", now) == now + timedelta(hours=6)
    clock.advance(timedelta(hours=6, seconds=1))
    store.save_rate_limits("x-main", [RateLimitWindow("15m", 100, 50, now + timedelta(hours=7))])
    assert store.rate_limits("x-main")[0] == RateLimitWindow(
        "15m", 100, 50, now + timedelta(hours=7)
    )
    assert store.blocked_until("x-main", clock.now) is None


def test_pause_switch(store: Store, clock: FakeClock) -> None:
    """The pause switch says whether, who and since when; off until someone sets it."""
    assert store.paused() == (False, None, None)
    store.set_paused(True, by="ana")
    assert store.paused() == (True, "ana", clock.now)
    clock.advance(timedelta(hours=1))
    store.set_paused(False, by="ben")
    assert store.paused() == (False, "ben", clock.now)


def test_first_started_is_recorded_once(store: Store, clock: FakeClock) -> None:
    """The first call records when this database first saw a worker; later calls keep it."""
    first = store.first_started()
    assert first == clock.now
    clock.advance(timedelta(days=2))
    assert store.first_started() == first
    assert store.paused() == (False, None, None)  # a different flag than the pause switch


def test_sessions_round_trip(store: Store) -> None:
    """A session value is stored per account and replaced by a later save."""
    assert store.load_session("bsky") is None
    store.save_session("bsky", "sealed-1")
    store.save_session("bsky", "sealed-2")
    store.save_session("other", "sealed-3")
    assert store.load_session("bsky") == "sealed-2"
    assert store.load_session("other") == "sealed-3"


# -- datetimes and errors --------------------------------------------------------------------


def test_datetimes_come_back_aware_utc(store: Store, clock: FakeClock) -> None:
    """Any aware datetime goes in; the same instant comes out with tzinfo UTC."""
    clock.now = datetime(2025, 3, 30, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    madrid_due = datetime(2025, 3, 30, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    delivery = store.claim_slot(draft(due_at=madrid_due), worker_id="w1")
    assert delivery is not None
    assert store.mark_deferred(
        delivery.id, worker_id="w1", retry_at=madrid_due + timedelta(hours=1), reason="429"
    )
    row = store.get_by_id(delivery.id)
    assert row is not None
    for value in (row.due_at, row.retry_at, row.claimed_at, row.created_at, row.updated_at):
        assert value is not None and value.tzinfo == UTC
    assert row.due_at == madrid_due and row.due_at.hour == 8
    assert row.created_at == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert [d.id for d in store.due_deferred(datetime(2025, 3, 30, 9, 0, tzinfo=UTC))] == [
        delivery.id
    ]
    assert store.due_deferred(datetime(2025, 3, 30, 8, 59, tzinfo=UTC)) == []


def test_naive_datetimes_are_refused(store: Store, clock: FakeClock) -> None:
    """A naive datetime from the caller or the clock raises StoreError and stores nothing."""
    with pytest.raises(StoreError, match="due_at"):
        store.claim_slot(draft(due_at=datetime(2025, 3, 1, 9)), worker_id="w1")
    with pytest.raises(StoreError):
        store.due_deferred(datetime(2025, 3, 1, 9))
    clock.now = datetime(2025, 3, 1, 9)
    with pytest.raises(StoreError, match="clock"):
        store.heartbeat("w1")
    assert store.history() == []


def test_error_messages_hide_the_password() -> None:
    """A database failure is a StoreError naming the URL without its password."""
    store = Store("postgresql+psycopg://amp:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2")
    try:
        with pytest.raises(StoreError) as raised:
            store.migrate()
    finally:
        store.close()
    message = str(raised.value)
    assert "s3cr3t-pw" not in message
    assert "127.0.0.1:1/nowhere" in message
    assert "s3cr3t-pw" not in repr(store)


def test_unusable_urls_are_refused_without_echoing_them() -> None:
    """Unparseable or unsupported URLs raise StoreError that does not repeat a password."""
    with pytest.raises(StoreError) as unparseable:
        Store("not a url with hunter2")
    assert "hunter2" not in str(unparseable.value)
    with pytest.raises(StoreError) as unsupported:
        Store("mysql://amp:hunter2@db/amp")
    assert "hunter2" not in str(unsupported.value) and "mysql" in str(unsupported.value)
