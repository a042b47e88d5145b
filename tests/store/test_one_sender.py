"""One sender per account: while a live worker's attempt is in flight for an account, no other
worker begins one (0009, ``Store.begin_attempt``), so the answer of one, a 429 above all, is
stored before the next request for the account leaves. Both backends, races included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from amplifier.networks.base import RateLimitWindow
from amplifier.store import STALE_AFTER, Store
from amplifier.store.deliveries import _BEGIN_ATTEMPT
from amplifier.store.migrations import MIGRATIONS, migrate

from .conftest import FakeClock, claim_on_old_schema
from .test_concurrent_writes import THREADS, at_once, draft, engines


def test_a_live_workers_attempt_holds_its_account(store: Store) -> None:
    """w2 cannot begin on the account while w1's attempt is in flight; it can on another
    account, and on this one once w1 has recorded its answer."""
    store.heartbeat("w1")
    store.heartbeat("w2")
    first = store.claim_slot(draft("a"), worker_id="w1")
    second = store.claim_slot(draft("b"), worker_id="w2")
    elsewhere = store.claim_slot(draft("c", account="other"), worker_id="w2")
    assert first is not None and second is not None and elsewhere is not None
    begun = store.begin_attempt(first.id, worker_id="w1")
    assert begun is not None and begun.attempt_at is not None

    assert store.begin_attempt(second.id, worker_id="w2") is None
    refused = store.get_by_id(second.id)
    assert refused is not None and (refused.status, refused.claimed_by) == ("sending", "w2")
    assert refused.attempts == 0 and refused.attempt_at is None
    assert store.begin_attempt(elsewhere.id, worker_id="w2") is not None

    assert store.mark_published(first.id, worker_id="w1", remote_id="1", url=None)
    done = store.get_by_id(first.id)
    assert done is not None and done.attempt_at is None
    assert store.begin_attempt(second.id, worker_id="w2") is not None


def test_a_claim_not_yet_begun_holds_nothing(store: Store) -> None:
    """Only an attempt in flight holds the account, not a claim waiting its turn (or the
    worker's own earlier row): no two workers wait on each other's claims."""
    store.heartbeat("w1")
    store.heartbeat("w2")
    claimed = store.claim_slot(draft("a"), worker_id="w1")
    mine = store.claim_slot(draft("b"), worker_id="w2")
    again = store.claim_slot(draft("c"), worker_id="w2")
    assert claimed is not None and mine is not None and again is not None
    assert store.begin_attempt(mine.id, worker_id="w2") is not None
    assert store.begin_attempt(again.id, worker_id="w2") is not None  # its own: the turn's job
    assert store.begin_attempt(claimed.id, worker_id="w1") is None  # w2's are in flight


def test_a_dead_workers_attempt_stops_holding_once_stale(store: Store, clock: FakeClock) -> None:
    """A worker killed mid-request holds its account for ``stale_after``; then another begins,
    and taking over the dead row clears its attempt."""
    store.heartbeat("dead")
    stuck = store.claim_slot(draft("a"), worker_id="dead")
    assert stuck is not None and store.begin_attempt(stuck.id, worker_id="dead") is not None
    store.heartbeat("live")
    mine = store.claim_slot(draft("b"), worker_id="live")
    assert mine is not None
    assert store.begin_attempt(mine.id, worker_id="live", stale_after=STALE_AFTER) is None

    clock.advance(STALE_AFTER + timedelta(seconds=1))
    store.heartbeat("live")
    assert store.begin_attempt(mine.id, worker_id="live", stale_after=STALE_AFTER) is not None
    taken = store.take_over(
        stuck.id, worker_id="live", expected_status="sending", expected_claimed_by="dead"
    )
    assert taken is not None and taken.attempt_at is None and taken.attempts == 1


def test_begins_at_once_one_wins(make_store: Callable[[], Store]) -> None:
    """Twelve workers, each with a claimed row of one account, begin in the same instant over
    three engines: exactly one attempt is in flight (PostgreSQL's advisory lock, SQLite's
    write lock)."""
    stores = engines(make_store)
    rows = []
    for index in range(THREADS):
        stores[0].heartbeat(f"w{index}")
        row = stores[0].claim_slot(draft(f"slot-{index}"), worker_id=f"w{index}")
        assert row is not None
        rows.append(row)

    def begin(index: int) -> bool:
        store = stores[index % len(stores)]
        return store.begin_attempt(rows[index].id, worker_id=f"w{index}") is not None

    results = at_once(THREADS, begin)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count(True) == 1, results


def test_0009_upgrade_keeps_rows_with_no_attempt_in_flight(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """A database at 0008 upgrades: its rows read as before, none of them in flight."""
    store = make_store()
    assert migrate(store.engine, clock, MIGRATIONS[:8]) == [m.name for m in MIGRATIONS[:8]]
    row = claim_on_old_schema(store, draft("a"), worker_id="old", now=clock.now, attempts=1)
    assert store.migrate()[0] == "0009_attempt_at"  # then any later step
    assert store.get_by_id(row.id) == row and row.attempt_at is None


def test_no_attempt_begins_while_a_window_is_shut(store: Store, clock: FakeClock) -> None:
    """The begin itself reads the account's windows: a 429 stored by the attempt that just
    ended stops the next one, even when the worker's own check ran before it was stored (the
    soak saw a request leave 0.16 s after a 429, between such a check and the begin)."""
    store.heartbeat("w1")
    row = store.claim_slot(draft("a"), worker_id="w1")
    elsewhere = store.claim_slot(draft("b", account="other"), worker_id="w1")
    assert row is not None and elsewhere is not None
    reset = clock.now + timedelta(seconds=5)
    store.save_rate_limits("acct", [RateLimitWindow("5m", 300, 0, reset)])

    assert store.begin_attempt(row.id, worker_id="w1") is None
    assert store.blocked_until("acct", clock.now) == reset
    assert store.begin_attempt(elsewhere.id, worker_id="w1") is not None
    clock.advance(timedelta(seconds=5))
    assert store.begin_attempt(row.id, worker_id="w1") is not None


def test_the_begin_finds_an_accounts_sending_rows_by_index(tmp_path: Path) -> None:
    """The begin's look at the account's other rows uses (account, status), not an index led
    by the account alone, which walks the account's whole history on every attempt."""
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    store.migrate()
    statement = str(_BEGIN_ATTEMPT.compile(dialect=store.engine.dialect))
    with store.engine.connect() as conn:
        nulls = (None,) * statement.count("?")
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", nulls)]
    others = [step for step in plan if step.startswith("SEARCH other")]
    # 0009's (account, status), or 0010's (account, status, due_at, id) which it prefixes.
    assert len(others) == 1 and others[0].endswith("(account=? AND status=?)"), plan
