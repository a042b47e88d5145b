"""kill -9 a real worker at random moments while it publishes, over and over, then count.

Each round starts `amplifier run` against the fake X, Mastodon and Bluesky servers (every
publish request slowed, some answered late or never after the post was stored, some refused
with 503 or 429) and SIGKILLs it at a seeded random moment. A final worker then runs on prompt
servers until every due slot is settled. The servers are the witnesses: whatever the rows say,
no server may hold a text twice, and every slot must have a row that matches what they hold.

For soak runs, AMPLIFIER_PROCESS_SEED and AMPLIFIER_PROCESS_KILLS change the seed and the number
of kills, and AMPLIFIER_PROCESS_DB=postgresql runs it on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from amplifier.errors import StoreError

from .harness import (
    Rig,
    Schedule,
    WorkerProcess,
    chaos_fault,
    database,
    poll_until,
)

SEED = int(os.environ.get("AMPLIFIER_PROCESS_SEED", "20261123"))
KILLS = int(os.environ.get("AMPLIFIER_PROCESS_KILLS", "12"))
DATABASE = os.environ.get("AMPLIFIER_PROCESS_DB", "sqlite")
SLOTS_PER_ACCOUNT = 12
ANSWERED = ("published", "deferred", "failed", "unknown")  # events after a network answered


def kill_at_random(rig: Rig, worker: WorkerProcess, rng: random.Random) -> str:
    """SIGKILL ``worker`` at a random moment; says what it was doing when it died."""
    if rng.random() < 0.2:
        # Early: during start-up, migrations or the first claims.
        moment = worker.started + rng.uniform(0.2, 1.5)
    else:
        # While publishing: count from its first answered post, so start-up (imports, logins)
        # does not eat the window on a slow machine. An idle worker is killed all the same.
        rig.wait_started(worker)
        poll_until(lambda: any(worker.events(event) for event in ANSWERED), 6.0)
        moment = time.monotonic() + rng.uniform(0.0, 2.5)
    poll_until(lambda: time.monotonic() >= moment or not worker.alive, 30.0, interval=0.01)
    worker.kill9()
    try:
        rows = rig.rows().values()
    except StoreError:  # killed before its migrations created the tables
        return "before-migrations"
    in_flight = [row for row in rows if row.status == "sending" and worker.owns(row)]
    if not in_flight:
        return "between-posts"
    return f"{'mid-send' if in_flight[0].attempts else 'claimed'}:{in_flight[0].network}"


@pytest.mark.slow
def test_repeated_kill9_publishes_every_slot_once(tmp_path: Path) -> None:
    """Twelve SIGKILLs mid-publish: no text twice on any server, every due slot settled."""
    rng = random.Random(SEED)
    schedule = Schedule.minutes_ago(range(1, SLOTS_PER_ACCOUNT + 1))
    began = time.monotonic()
    with (
        database(DATABASE, tmp_path) as url,
        Rig(tmp_path, database_url=url, schedule=schedule) as rig,
    ):
        feeder = rig.feed_faults(rng, chaos_fault)
        moments = [kill_at_random(rig, rig.spawn(), rng) for _ in range(KILLS)]
        feeder.stop()
        rig.fakes.clear_faults()
        before_final = rig.outcome()

        final = rig.spawn("final")
        outcome = rig.wait_settled(timeout=90, watch=final)
        code, took = final.stop()

        kinds = ", ".join(f"{m}={moments.count(m)}" for m in sorted(set(moments)))
        print(f"\n{DATABASE} seed={SEED} kills={KILLS} ({kinds}) faults={dict(feeder.drawn)}")
        print(before_final.summary("before the final worker"))
        print(outcome.summary("kill -9") + f" run time={time.monotonic() - began:.1f} s")
        assert outcome.problems() == []
        failed = [f"{r.slot_key}: {r.last_error}" for r in outcome.rows.values()
                  if r.status == "failed"]  # fmt: skip
        assert failed == [], "only transient faults were injected: nothing may fail for good"
        assert len(outcome.published_once) + len(outcome.explained) == len(outcome.due)
        assert code == 0, f"the final worker exited {code} after {took:.1f} s:\n{final.tail()}"
        assert any(m.startswith("mid-send") for m in moments), "no kill landed mid-send"
        assert rig.secret_leaks() == []
