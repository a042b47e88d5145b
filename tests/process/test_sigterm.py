"""SIGTERM (Heroku's stop signal) mid-publish, and a restart after downtime.

Heroku sends SIGTERM and SIGKILLs 30 s later. The worker must stop taking slots, finish or hand
back the post in flight, and exit 0 in seconds; the next worker must finish the job without a
duplicate. After downtime, slots past the grace window are recorded 'missed' and never sent, so
a restart never floods an account with backlog.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.store import Store

from .harness import (
    Rig,
    Schedule,
    Timing,
    chaos_fault,
    late_answers,
    poll_until,
    sqlite_database,
    wait_for,
)

SLOW_ANSWER = 2.5  # seconds every publish request takes to answer (the post lands at once)
EXIT_WITHIN = 10.0  # Heroku allows 30


def test_sigterm_mid_publish_exits_zero_and_loses_nothing(tmp_path: Path) -> None:
    """SIGTERM during a 2.5 s publish: exit 0 within 10 s, the post recorded, no duplicate."""
    schedule = Schedule.minutes_ago(range(1, 4))
    with Rig(tmp_path, database_url=sqlite_database(tmp_path), schedule=schedule) as rig:
        feeder = rig.feed_faults(random.Random(3), late_answers(SLOW_ANSWER, SLOW_ANSWER))
        worker = rig.spawn("stopped")

        def in_flight() -> int | None:
            rows = rig.rows().values()
            busy = [r.id for r in rows if worker.owns(r) and r.status == "sending" and r.attempts]
            return busy[0] if busy else None

        row_id = wait_for(in_flight, timeout=30, what="a publish in flight")
        code, took = worker.stop(timeout=EXIT_WITHIN)
        assert code == 0, f"exit {code} after {took:.1f} s:\n{worker.tail()}"
        assert took < EXIT_WITHIN
        row = rig.store.get_by_id(row_id)
        assert row is not None
        assert row.status in ("published", "deferred"), (row.status, row.last_error)
        assert not worker.owns(row), "the stopped worker still holds the row"
        assert worker.events("stopped"), "a clean exit says goodbye (forget_worker)"
        print(f"\nSIGTERM: exit {code} in {took:.1f} s; in-flight row ended {row.status}")

        # The next worker, on prompt servers, finishes the rest without repeating anything.
        feeder.stop()
        rig.fakes.clear_faults()
        successor = rig.spawn("successor")
        outcome = rig.wait_settled(timeout=40, watch=successor)
        code, took = successor.stop()
        print(outcome.summary("after SIGTERM and restart"))
        assert outcome.problems(all_published=True) == []
        assert code == 0, successor.tail()
        assert rig.secret_leaks() == []


def test_restart_after_downtime_sends_only_within_grace(tmp_path: Path) -> None:
    """Slots 2 h old with grace 60 min are recorded 'missed' and never sent; recent ones once."""
    old = [150, 140, 130, 120]  # minutes ago: past the grace window
    recent = [30, 20, 10]
    schedule = Schedule.minutes_ago(old + recent)
    timing = Timing(grace_minutes=60, lookback_hours=3)
    with Rig(
        tmp_path, database_url=sqlite_database(tmp_path), schedule=schedule, timing=timing
    ) as rig:
        # The deployment's first worker ran 3 h ago and none since (a worker looks back no
        # further than the first start, so a new deployment records no "missed" history).
        history = Store(rig.database_url, clock=lambda: datetime.now(UTC) - timedelta(hours=3))
        history.migrate()
        history.first_started()
        history.close()
        worker = rig.spawn("after-downtime")
        outcome = rig.wait_settled(timeout=40, watch=worker)
        code, _ = worker.stop()
        print(f"\n{outcome.summary('restart after downtime')}")

        assert outcome.problems() == []
        cutoff = schedule.keys[len(old) - 1]
        for (account, key), row in outcome.rows.items():
            expected = "missed" if key <= cutoff else "published"
            assert row.status == expected, (account, key, row.status, row.last_error)
            if expected == "missed":
                assert "grace" in (row.last_error or ""), row.last_error
        # No flood: the servers saw exactly the recent slots, one publish request each.
        assert {net: sum(texts.values()) for net, texts in outcome.server_texts.items()} == {
            net: len(recent) for net in outcome.server_texts
        }
        assert outcome.post_requests == {net: len(recent) for net in outcome.post_requests}
        assert code == 0, worker.tail()
        assert rig.secret_leaks() == []


@pytest.mark.slow
def test_sigterm_at_random_moments_exits_cleanly_every_time(tmp_path: Path) -> None:
    """Five SIGTERMs at random moments under faults: each exit 0 in seconds, nothing left
    'sending' by the stopped worker, and the next worker finishes without a duplicate."""
    rng = random.Random(5)
    schedule = Schedule.minutes_ago(range(1, 9))
    with Rig(tmp_path, database_url=sqlite_database(tmp_path), schedule=schedule) as rig:
        feeder = rig.feed_faults(rng, chaos_fault)
        exits, left_sending = [], []
        for _ in range(5):
            worker = rig.spawn()
            rig.wait_started(worker)
            # Once posts are flowing, a random moment: mid-request, mid-retry-wait, idle...
            answered = ("published", "deferred")
            poll_until(lambda: any(worker.events(event) for event in answered), 6)  # noqa: B023
            moment = time.monotonic() + rng.uniform(0.0, 2.5)
            poll_until(lambda: time.monotonic() >= moment, 5, interval=0.01)  # noqa: B023
            code, took = worker.stop(timeout=EXIT_WITHIN)
            exits.append((worker.name, code, round(took, 1)))
            held = [r for r in rig.rows().values() if r.status == "sending" and worker.owns(r)]
            left_sending += [f"{worker.name}: {r.slot_key} attempts={r.attempts}" for r in held]
        feeder.stop()
        rig.fakes.clear_faults()
        final = rig.spawn("final")
        outcome = rig.wait_settled(timeout=40, watch=final)
        code, _ = final.stop()
        print(f"\nSIGTERM exits (worker, code, seconds): {exits}")
        print(outcome.summary("SIGTERM at random moments"))

        assert [code for _, code, _ in exits] == [0] * 5, [w.tail() for w in rig.workers]
        assert max(took for _, _, took in exits) < EXIT_WITHIN
        assert left_sending == [], "a cleanly stopped worker left its post 'sending'"
        assert outcome.problems() == []
        assert code == 0, final.tail()
        assert rig.secret_leaks() == []
