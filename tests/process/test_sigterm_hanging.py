"""SIGTERM while every network's server hangs: exit 0 in seconds, the posts handed back.

A hanging request used to keep the worker for its whole read timeout (20 s measured; Heroku
SIGKILLs at 30 s). Now no new attempt starts, the one in flight gets at most
IN_FLIGHT_GRACE_SECONDS, and its row is then handed back, deferred and marked as may have
landed, so the next worker looks before it sends again: each post exactly once.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from amplifier.testing.fakeserver import Fault
from amplifier.worker.scheduler import IN_FLIGHT_GRACE_SECONDS

from .harness import POST_PATHS, Rig, Schedule, database, wait_for

HANG = 40.0  # seconds every publish request hangs, after the server stored the post
EXIT_WITHIN = 10.0  # Heroku allows 30


def hanging(rng: random.Random, network: str) -> Fault:
    return Fault(path_prefix=POST_PATHS[network], delay=HANG, after_work=True)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sigterm_while_requests_hang_exits_in_seconds_and_hands_back(
    kind: str, tmp_path: Path
) -> None:
    schedule = Schedule.minutes_ago(range(1, 4))
    with database(kind, tmp_path) as url, Rig(tmp_path, database_url=url, schedule=schedule) as rig:
        feeder = rig.feed_faults(random.Random(1), hanging)
        worker = rig.spawn("hung")

        def all_in_flight() -> bool:
            rows = rig.rows().values()
            busy = {r.network for r in rows if worker.owns(r) and r.status == "sending"}
            return busy == set(POST_PATHS) and all(
                r.attempts for r in rows if worker.owns(r) and r.status == "sending"
            )

        wait_for(all_in_flight, timeout=30, what="a hanging request on every network")
        code, took = worker.stop(timeout=EXIT_WITHIN * 3)
        print(f"\nSIGTERM with every server hanging ({kind}): exit {code} in {took:.1f} s")
        assert code == 0, f"exit {code} after {took:.1f} s:\n{worker.tail()}"
        assert took < EXIT_WITHIN, worker.tail()
        assert took < IN_FLIGHT_GRACE_SECONDS + 3, "more than the grace, and then some"
        handed = worker.events("handed-back")
        assert len(handed) == len(POST_PATHS), worker.tail()
        assert all("ambiguous_since=" in line for line in handed)
        rows = rig.rows().values()
        assert not [r for r in rows if worker.owns(r)], "the stopped worker still holds a row"
        deferred = [r for r in rows if r.status == "deferred"]
        assert {r.network for r in deferred} == set(POST_PATHS)
        assert all(r.ambiguous_since is not None for r in deferred), "may have landed"

        # The servers answer again; the next worker looks first and publishes each post once.
        feeder.stop()
        rig.fakes.clear_faults()
        successor = rig.spawn("successor")
        outcome = rig.wait_settled(timeout=60, watch=successor)
        code, _ = successor.stop()
        print(outcome.summary(f"after a hanging SIGTERM ({kind})"))
        assert outcome.problems(all_published=True) == []
        assert code == 0, successor.tail()
        assert rig.secret_leaks() == []


def test_sigterm_stops_run_once_while_requests_hang(tmp_path: Path) -> None:
    """`run --once` (Heroku Scheduler, cron) stops as the worker does: exit 0 within the grace,
    each hanging post handed back as may have landed; then a worker publishes each once."""
    schedule = Schedule.minutes_ago(range(1, 4))
    with (
        database("sqlite", tmp_path) as url,
        Rig(tmp_path, database_url=url, schedule=schedule) as rig,
    ):
        feeder = rig.feed_faults(random.Random(2), hanging)
        once = rig.spawn("once", "--once")

        def one_in_flight() -> bool:
            rows = rig.rows().values()
            return any(once.owns(r) and r.status == "sending" and r.attempts for r in rows)

        wait_for(one_in_flight, timeout=30, what="a hanging request of run --once")
        code, took = once.stop(timeout=EXIT_WITHIN * 3)
        print(f"\nSIGTERM to run --once with servers hanging: exit {code} in {took:.1f} s")
        assert code == 0, f"exit {code} after {took:.1f} s:\n{once.tail()}"
        assert took < IN_FLIGHT_GRACE_SECONDS + 3, once.tail()
        assert once.events("handed-back"), once.tail()
        rows = rig.rows().values()
        assert not [r for r in rows if once.owns(r)], "the stopped run still holds a row"

        feeder.stop()
        rig.fakes.clear_faults()
        successor = rig.spawn("successor")
        outcome = rig.wait_settled(timeout=60, watch=successor)
        code, _ = successor.stop()
        assert outcome.problems(all_published=True) == []
        assert code == 0, successor.tail()
