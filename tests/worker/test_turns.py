"""Turns: a slow or hanging server holds up its own group of accounts, and nothing else.

Before, one lock covered every pass: while one account's request hung, a slot job of another
account found the pass busy and returned, and that account's slot waited for the hanging pass
(up to the read timeout) and then for the next tick.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from amplifier.networks.base import OutgoingPost, Receipt

from .test_worker import CONFIG, Harness, ny

# t-masto's slot comes five minutes after t-x's, while t-x's request still hangs.
LATER = CONFIG.replace(
    '[[accounts]]\nname = "t-masto"',
    '[schedules.later]\ntimezone = "America/New_York"\ntimes = ["09:05"]\n\n'
    '[[accounts]]\nname = "t-masto"',
).replace(
    'instance = "https://mastodon.example"\ncampaigns = ["fbt"]\nschedule = "ny"',
    'instance = "https://mastodon.example"\ncampaigns = ["fbt"]\nschedule = "later"',
)
SECOND_X = '\n[[accounts]]\nname = "t-x2"\nnetwork = "x"\ncampaigns = ["fbt"]\nschedule = "ny"\n'


class Hang:
    """A scripted publish that blocks until released, as a server that does not answer."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, post: OutgoingPost) -> Receipt:
        self.entered.set()
        self.release.wait(20)
        return Receipt(remote_id="late", url=None)


def test_a_hanging_server_does_not_make_another_accounts_slot_late(tmp_path: Path) -> None:
    """X hangs from 09:00; t-masto's 09:05 slot job runs a pass that sends it at once."""
    harness = Harness(tmp_path, LATER)
    worker = harness.worker()
    hang = Hang()
    harness.nets["t-x"].enqueue(hang)
    harness.clock.now = ny("2026-11-23", "09:00")
    first = threading.Thread(target=worker.run_pending_if_idle)
    first.start()
    try:
        assert hang.entered.wait(10), "X's request never started"
        harness.clock.now = ny("2026-11-23", "09:05")  # t-masto's slot job fires
        started = time.monotonic()
        done = worker.run_pending_if_idle()
        took = time.monotonic() - started
        assert [(row.account, row.status) for row in done] == [("t-masto", "published")]
        assert took < 3, f"t-masto's slot waited {took:.1f} s for X's hanging server"
        assert first.is_alive(), "X's request still hangs"
    finally:
        hang.release.set()
        first.join(10)
    x_row = harness.published("t-x")
    assert len(x_row) == 1 and x_row[0].remote_id == "late"


def test_two_passes_never_act_for_one_group_at_once(tmp_path: Path) -> None:
    """Two X accounts share a group (their guards read each other's posts): while a pass
    holds it, hung on t-x, another pass acts for neither of them, and no slot twice."""
    harness = Harness(tmp_path, CONFIG + SECOND_X)
    worker = harness.worker()
    hang = Hang()
    harness.nets["t-x"].enqueue(hang)
    harness.clock.now = ny("2026-11-23", "09:00")
    first_done: list[object] = []
    first = threading.Thread(target=lambda: first_done.extend(worker.run_pending_if_idle()))
    first.start()
    try:
        assert hang.entered.wait(10)
        second = worker.run_pending_if_idle()
        assert {row.account for row in second} <= {"t-masto"}, "acted inside a busy group"
        assert harness.nets["t-x2"].attempts == [], "t-x2 went before t-x was answered"
        assert len(harness.nets["t-x"].attempts) == 1
    finally:
        hang.release.set()
        first.join(10)
    rows = harness.rows()
    assert sorted((row.account, row.slot_key) for row in rows) == sorted(
        {(row.account, row.slot_key) for row in rows}
    )
    assert {row.account for row in rows if row.status in ("published", "skipped")} == {
        "t-x",
        "t-x2",
        "t-masto",
    }
    assert len(harness.nets["t-x"].attempts) == 1
