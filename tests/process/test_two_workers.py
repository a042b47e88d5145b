"""Two workers on one database, as when Heroku starts the new dyno before the old one stops.

The claim is made in the database, so however the two interleave no slot may be published
twice; and when one of them is killed mid-publish, the survivor settles its half-sent posts
once the dead one has been silent for ``stale_worker_seconds``, without sending them again.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.store import Delivery
from amplifier.testing.fakeserver import Fault

from .harness import (
    ACCOUNTS,
    POST_PATHS,
    Rig,
    Schedule,
    Timing,
    database,
    late_answers,
    postgres_database,
    wait_for,
)

SLOTS_PER_ACCOUNT = 8


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_two_workers_together_publish_each_slot_once(kind: str, tmp_path: Path) -> None:
    """Two workers started at once on one EMPTY database (each migrates it and records the
    first start, racing): every slot published, none twice, and no pass failed."""
    schedule = Schedule.minutes_ago(range(1, SLOTS_PER_ACCOUNT + 1))
    with database(kind, tmp_path) as url, Rig(tmp_path, database_url=url, schedule=schedule) as rig:
        # Slow answers keep both workers busy at once, so they contend for the same slots.
        rig.feed_faults(random.Random(7), late_answers(0.1, 0.4))
        first, second = rig.spawn("first"), rig.spawn("second")
        outcome = rig.wait_settled(timeout=60)
        exits = [worker.stop() for worker in (first, second)]

        claims = {w.name: len(w.events("claimed")) for w in (first, second)}
        lost_races = {w.name: len(w.events("claimed-elsewhere")) for w in (first, second)}
        print(f"\n{outcome.summary(f'two workers, {kind}')} claims={claims} races={lost_races}")
        assert outcome.problems(all_published=True) == []
        assert [code for code, _ in exits] == [0, 0], f"{first.tail()}\n{second.tail()}"
        assert all(claims.values()), "one worker claimed nothing: they never overlapped"
        failed = [line for w in (first, second) for line in w.events("pass-failed")]
        assert failed == [], "a pass failed (the first start's race?)"
        assert rig.secret_leaks() == []


@pytest.mark.slow
def test_survivor_settles_a_killed_workers_post_once(tmp_path: Path) -> None:
    """kill -9 one of two PostgreSQL workers mid-send: the other settles its row, no duplicate."""
    schedule = Schedule.minutes_ago(range(1, SLOTS_PER_ACCOUNT + 1))
    timing = Timing()
    with postgres_database() as url, Rig(tmp_path, database_url=url, schedule=schedule) as rig:
        # Every post is stored at once but answered late: a kill leaves it landed yet 'sending'.
        rig.feed_faults(random.Random(11), late_answers(0.5, 1.0))
        victim, survivor = rig.spawn("victim"), rig.spawn("survivor")

        def victim_mid_send() -> int | None:
            rows = rig.rows().values()
            sending = [
                r.id for r in rows if victim.owns(r) and r.status == "sending" and r.attempts
            ]
            return sending[0] if sending else None

        orphan_id = wait_for(victim_mid_send, timeout=30, what="the victim to be mid-send")
        victim.kill9()
        killed_at = datetime.now(UTC)
        orphan = rig.store.get_by_id(orphan_id)
        assert orphan is not None and orphan.status == "sending", "killed mid-send"

        outcome = rig.wait_settled(timeout=60, watch=survivor)
        code, took = survivor.stop()
        print(f"\n{outcome.summary('survivor after kill -9')} settled row id={orphan_id}")

        assert outcome.problems(all_published=True) == []
        settled = rig.store.get_by_id(orphan_id)
        assert settled is not None and settled.status == "published"
        taken = [line for line in survivor.events("orphan") if f" id={orphan_id} " in line]
        assert taken and f"dead_worker={orphan.claimed_by}" in taken[0], survivor.tail(30)
        # Not before the victim had been silent long enough: a live worker's row is never taken.
        earliest = killed_at + timedelta(seconds=timing.stale_worker_seconds * 2 / 3 - 1)
        assert settled.updated_at >= earliest, (settled.updated_at, killed_at)
        assert code == 0, f"survivor exited {code} after {took:.1f} s:\n{survivor.tail()}"
        assert rig.secret_leaks() == []


@pytest.mark.slow
def test_a_long_publish_does_not_make_a_live_worker_look_dead(tmp_path: Path) -> None:
    """Slot jobs firing during a 30 s pass must not silence the heartbeat: the other worker
    may not take a live worker's row over mid-send, or Bluesky gets the post twice."""
    now = datetime.now(UTC)
    schedule = Schedule.minutes_ago([4, 3], now, ahead=[1, 2], offset_minutes=1)
    # Every account's next slot fires 12-20 s from now: after the slow worker has armed its
    # jobs, while its first pass is held. Three slot jobs then wait for the pass lock.
    window = (now + timedelta(seconds=12), now + timedelta(seconds=20))
    schedule = schedule.firing_within(*window, now)
    with postgres_database() as url, Rig(tmp_path, database_url=url, schedule=schedule) as rig:
        # Bluesky comes first in a pass: its first two posts are each held 15 s before they are
        # stored (under the 20 s read timeout), so the pass takes 30 s.
        for _ in range(2):
            rig.fakes.add_fault("bluesky", Fault(path_prefix=POST_PATHS["bluesky"], delay=15.0))
        slow = rig.spawn("slow")

        held_ids: list[int] = []

        def second_held_post() -> Delivery | None:
            # The second Bluesky post the slow worker holds mid-send: the second slot's post,
            # or, when the rotation gave the first slot the sample's thread, its second part.
            rows = [r for r in rig.rows().values() if r.account == "pt-bluesky" and r.attempts]
            sending = [r for r in rows if r.status == "sending" and slow.owns(r)]
            held_ids.extend(r.id for r in sending if r.id not in held_ids)
            later = [r for r in sending if r.id != held_ids[0]]
            return later[0] if later else None

        contested = wait_for(second_held_post, timeout=40, what="the second held post")
        other = rig.spawn("other")  # a new dyno starting while the old one is busy

        def slow_worker_done() -> bool:
            # Its own answer for the held post: published, or claim-lost if it was taken over.
            outcomes = ("published", "claim-lost", "deferred", "failed", "unknown")
            lines = [line for event in outcomes for line in slow.events(event)]
            # The slot key alone would match X's and Mastodon's posts of that slot, which a
            # pass publishes beside Bluesky's.
            wanted = {f"slot={contested.slot_key}", "account=pt-bluesky"}
            return any(wanted <= set(line.split()) for line in lines)

        wait_for(slow_worker_done, timeout=40, what="the slow worker's held post to be answered")
        for worker in (slow, other):
            worker.stop()
        copies = rig.fakes.texts()["bluesky"][contested.text]
        takeovers = [line for line in other.events("orphan") if f" id={contested.id} " in line]
        # The first arming, at start: one next slot per account.
        armed = [line.split("due=")[-1] for line in slow.events("next-slot")][: len(ACCOUNTS)]
        print(f"\nheld row {contested.slot_key}: {copies} copies; take-overs={takeovers}")
        expected = sorted(schedule.next_due(a, now).isoformat(timespec="seconds") for a in ACCOUNTS)
        assert sorted(armed) == expected, "set-up: the worker started after its slots were due"
        assert copies == 1, (
            f"Bluesky holds the post {copies} times. The slow worker was alive and mid-send, "
            "but while its pass held the lock, its three due slot jobs blocked on that lock and "
            "filled APScheduler's 4-thread pool, so its heartbeat job could not run; after "
            "stale_worker_seconds the other worker took the row over and sent it again: "
            f"{takeovers}"
        )
        assert takeovers == [], "a live worker's row was taken over"
