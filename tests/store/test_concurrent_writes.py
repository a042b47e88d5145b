"""Every read-then-write two threads or two workers can interleave, raced on an empty database.

Each test runs on SQLite and on PostgreSQL (conftest.py), many threads at once over several
engines (as separate workers would), starting from nothing: a fresh database is where the
first start raced (``UniqueViolation``, ``pass-failed``, a due slot left for the next run).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from amplifier.errors import StateMoved
from amplifier.networks.base import RateLimitWindow
from amplifier.store import Delivery, DeliveryDraft, RotationWrite, Store

from .conftest import FakeClock

THREADS = 12
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
Result = TypeVar("Result")


def at_once(count: int, action: Callable[[int], Result]) -> list[Result | BaseException]:
    """``action(i)`` from ``count`` threads released together; each result or its exception."""
    barrier = threading.Barrier(count)

    def run(index: int) -> Result | BaseException:
        barrier.wait()
        try:
            return action(index)
        except Exception as error:  # collected, so the test names every failure
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def engines(make_store: Callable[[], Store], count: int = 3) -> list[Store]:
    """Several engines on one database, like several workers (the first one migrated)."""
    stores = [make_store() for _ in range(count)]
    stores[0].migrate()
    return stores


def draft(slot_key: str, account: str = "acct") -> DeliveryDraft:
    return DeliveryDraft(
        account=account,
        network="bluesky",
        slot_key=slot_key,
        due_at=T0,
        template_id="t",
        campaign="c",
        text=f"post {slot_key}",
    )


def errors(results: list[object]) -> list[str]:
    return [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]


def test_first_start_on_an_empty_database_from_many_workers_at_once(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """Many workers migrate and record the first start together: no error, one moment for all."""
    stores = [make_store() for _ in range(4)]

    def first_start(index: int) -> datetime:
        store = stores[index % len(stores)]
        store.migrate()
        return store.first_started()

    results = at_once(THREADS, first_start)
    assert errors(results) == []
    assert set(results) == {clock.now}
    clock.advance(timedelta(hours=1))
    assert stores[0].first_started() == T0.replace(hour=12), "recorded once, kept"


def test_first_starts_per_account_race_to_one_value_each(
    make_store: Callable[[], Store], clock: FakeClock
) -> None:
    """Threads recording the same accounts' first starts, each with its own moment: one wins."""
    stores = engines(make_store)
    accounts = [f"live:acct-{n}" for n in range(5)]

    def record(index: int) -> dict[str, datetime]:
        moment = clock.now + timedelta(seconds=index)
        wanted = {scope: moment for scope in accounts[index % 3 :]}
        return stores[index % len(stores)].record_starts(wanted)

    results = at_once(THREADS, record)
    assert errors(results) == []
    final = stores[0].starts()
    assert set(final) == set(accounts)
    for seen in results:  # every caller was told the values that stand, none its own loser
        assert isinstance(seen, dict)
        assert all(seen[scope] == final[scope] for scope in seen)


def test_rotation_compare_and_set_from_many_claims_has_one_winner(
    make_store: Callable[[], Store],
) -> None:
    """Claims of different slots, each saving the rotation it read: one wins per state read."""
    stores = engines(make_store)
    for round_ in range(10):
        expected = stores[0].load_rotation("acct")

        def claim(index: int, expected: object = expected, round_: int = round_) -> Delivery | None:
            write = RotationWrite("acct", {"round": round_, "by": index}, expected)  # type: ignore[arg-type]
            store = stores[index % len(stores)]
            return store.claim_slot(draft(f"r{round_}-{index}"), worker_id="w", rotation=write)

        results = at_once(THREADS, claim)
        won = [r for r in results if isinstance(r, Delivery)]
        lost = [r for r in results if isinstance(r, StateMoved)]
        assert len(won) == 1 and len(lost) == THREADS - 1, errors(results)
        winner = int(won[0].slot_key.split("-")[1])
        assert stores[0].load_rotation("acct") == {"round": round_, "by": winner}
    assert len(stores[0].history(limit=1000)) == 10, "a losing claim records nothing"


def test_rate_limit_windows_in_any_order_never_deadlock(make_store: Callable[[], Store]) -> None:
    """Workers saving the same windows in opposite orders (alone, and with a published row)."""
    stores = engines(make_store)
    names = [f"w{n}" for n in range(6)]
    rows = [stores[0].claim_slot(draft(f"s{n}"), worker_id=f"w{n}") for n in range(THREADS)]

    def save(index: int) -> bool:
        ordered = names if index % 2 else list(reversed(names))
        windows = [RateLimitWindow(name, 10, index, T0) for name in ordered]
        store = stores[index % len(stores)]
        for _ in range(5):
            store.save_rate_limits("acct", windows)
        row = rows[index]
        assert row is not None
        return store.mark_published(
            row.id, worker_id=f"w{index}", remote_id="r", url=None, rate_limits=("acct", windows)
        )

    results = at_once(THREADS, save)
    assert errors(results) == []
    assert results == [True] * THREADS
    assert sorted(w.window for w in stores[0].rate_limits("acct")) == names


def test_sessions_saved_at_once_keep_one_whole_value(make_store: Callable[[], Store]) -> None:
    """Many logins saving their sessions together: one of them stands, whole."""
    stores = engines(make_store)
    values = [f"session-{n}-" + "x" * 2000 for n in range(THREADS)]

    def save(index: int) -> None:
        stores[index % len(stores)].save_session("acct", values[index])

    assert errors(at_once(THREADS, save)) == []
    assert stores[1].load_session("acct") in values


def test_heartbeats_and_claims_interleave_without_errors(make_store: Callable[[], Store]) -> None:
    """Heartbeat jobs, claims, attempts and records from many threads at once: no lock errors,
    and the account's attempts take turns (a begin refused while another is in flight)."""
    stores = engines(make_store)

    def work(index: int) -> int:
        store = stores[index % len(stores)]
        published = 0
        for n in range(10):
            store.heartbeat(f"w{index % 2}")
            row = store.claim_slot(draft(f"slot-{n}"), worker_id=f"w{index}")
            if row is None:
                continue
            deadline = time.monotonic() + 30
            while not store.begin_attempt(row.id, worker_id=f"w{index}"):
                assert time.monotonic() < deadline, "the account's attempt never came free"
            published += store.mark_published(
                row.id, worker_id=f"w{index}", remote_id=str(n), url=None
            )
        return published

    results = at_once(THREADS, work)
    assert errors(results) == []
    assert sum(r for r in results if isinstance(r, int)) == 10
    assert {r.status for r in stores[0].history(limit=100)} == {"published"}


def test_a_deferred_row_deferred_again_is_no_longer_due(store: Store, clock: FakeClock) -> None:
    """A worker that read a row as due must not take it once another re-deferred it."""
    row = store.claim_slot(draft("s"), worker_id="w1")
    assert row is not None
    assert store.mark_deferred(row.id, worker_id="w1", retry_at=clock.now, reason="503")
    seen = store.due_deferred(clock.now)  # worker A reads it as due ...
    assert [r.id for r in seen] == [row.id]
    # ... worker B takes it first and finds the rate-limit window shut: deferred again.
    taken = store.take_over(
        row.id,
        worker_id="B",
        expected_status="deferred",
        expected_claimed_by=None,
        due_by=clock.now,
    )
    assert taken is not None
    later = clock.now + timedelta(minutes=15)
    assert store.mark_deferred(row.id, worker_id="B", retry_at=later, reason="window shut")
    again = store.take_over(
        row.id,
        worker_id="A",
        expected_status="deferred",
        expected_claimed_by=None,
        due_by=clock.now,
    )
    assert again is None, "taken before its new retry time"
    current = store.get_by_id(row.id)
    assert current is not None and current.status == "deferred" and current.retry_at == later
    assert store.take_over(
        row.id, worker_id="A", expected_status="deferred", expected_claimed_by=None, due_by=later
    )


def test_hand_back_marks_what_may_have_landed(store: Store, clock: FakeClock) -> None:
    """A stopping worker hands back its rows: attempted ones ambiguous, untried ones not."""
    tried = store.claim_slot(draft("tried"), worker_id="w")
    untried = store.claim_slot(draft("untried"), worker_id="w")
    other = store.claim_slot(draft("other"), worker_id="someone-else")
    assert tried is not None and untried is not None and other is not None
    clock.advance(timedelta(seconds=2))
    assert store.begin_attempt(tried.id, worker_id="w")
    clock.advance(timedelta(seconds=3))
    handed = {row.slot_key: row for row in store.hand_back("w", "stopped mid-request")}
    assert set(handed) == {"tried", "untried"}
    for row in handed.values():
        assert row.status == "deferred" and row.claimed_by is None
        assert row.retry_at == clock.now and row.last_error == "stopped mid-request"
    assert handed["tried"].ambiguous_since == tried.claimed_at
    assert handed["untried"].ambiguous_since is None
    assert [r.id for r in store.due_deferred(clock.now)] == [tried.id, untried.id]
    kept = store.get_by_id(other.id)
    assert kept is not None and kept.status == "sending", "another worker's row is not ours"
    assert store.hand_back("w", "again") == []


def test_hand_back_racing_the_answer_records_one_of_them(
    store: Store, make_store: Callable[[], Store]
) -> None:
    """The answer and the hand-back at the same instant: exactly one is recorded, whole."""
    other = make_store()
    outcomes = []
    for n in range(20):
        row = store.claim_slot(draft(f"race-{n}"), worker_id="w")
        assert row is not None and store.begin_attempt(row.id, worker_id="w")

        def act(index: int, row_id: int = row.id) -> object:
            if index == 0:
                return store.mark_published(row_id, worker_id="w", remote_id="r", url=None)
            return other.hand_back("w", "stopped mid-request")

        published, handed = at_once(2, act)
        assert not isinstance(published, BaseException), published
        assert not isinstance(handed, BaseException), handed
        final = store.get_by_id(row.id)
        assert final is not None
        assert published is (final.status == "published")
        assert bool(handed) is (final.status == "deferred")
        if final.status == "deferred":
            assert final.ambiguous_since is not None, "an attempt was under way"
        outcomes.append(final.status)
    assert set(outcomes) <= {"published", "deferred"}
