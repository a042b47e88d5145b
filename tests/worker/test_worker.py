"""The worker's passes driven by a fake clock: whole days, DST, downtime, two workers, pause."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.delivery.attempt import outgoing_post
from amplifier.errors import AmplifierError, PostRejected, RateLimited, TransientError
from amplifier.logs import REDACTED, LogfmtFormatter, RedactSecrets, logfmt
from amplifier.networks.base import OutgoingPost, RateLimitWindow, Receipt
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.worker import Worker, build_scheduler, run_forever

NY = ZoneInfo("America/New_York")

CONFIG = """
posts_dir = "posts"
seed = "test"

[worker]
grace_minutes = 30
lookback_hours = 24

[worker.retry]
initial_wait = 1
max_wait = 4

[campaigns.fbt]
language = "en"

[campaigns.fbt.hashtags]
pool = ["KeepFamiliesTogether", "EndFamilySeparation", "RefugeesWelcome"]
per_post = 1

[schedules.ny]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:30"]

[schedules.night]
timezone = "America/New_York"
times = ["01:30", "02:30", "09:00"]

[[accounts]]
name = "t-x"
network = "x"
campaigns = ["fbt"]
schedule = "ny"

[[accounts]]
name = "t-masto"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["fbt"]
schedule = "ny"
"""

DST_CONFIG = CONFIG.replace('schedule = "ny"', 'schedule = "night"')


def post_file(number: int) -> str:
    return (
        f"---\nid: post-{number}\ncampaign: fbt\nlanguage: en\nsource: test fixture\n---\n"
        f"Families belong together, reason number {number}.\n"
    )


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def ny(day: str, clock_time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}").replace(tzinfo=NY).astimezone(UTC)


class Harness:
    """One project folder, one state database, one MemoryNetwork per account (the platforms)."""

    def __init__(self, tmp_path: Path, config: str = CONFIG, start: datetime | None = None) -> None:
        (tmp_path / "posts").mkdir()
        for number in range(1, 7):
            (tmp_path / "posts" / f"post-{number}.md").write_text(post_file(number))
        (tmp_path / "config.toml").write_text(config)
        loaded: tuple[Settings, Library] = load(tmp_path / "config.toml", None)
        self.settings, self.library = loaded
        self.url = f"sqlite:///{tmp_path / 'state.db'}"
        self.clock = FakeClock(start or ny("2026-11-23", "00:00"))
        self.store = Store(self.url, clock=self.clock)
        self.store.migrate()
        self.nets = {
            account.name: MemoryNetwork(account.name, account.network)
            for account in self.settings.accounts
        }

    def worker(
        self,
        worker_id: str = "w1",
        *,
        sleep: Callable[[float], object] | None = None,
        stop: threading.Event | None = None,
    ) -> Worker:
        # Each worker opens its own Store, as a separate process would.
        store = Store(self.url, clock=self.clock)
        return Worker(
            self.settings,
            self.library,
            store,
            lambda account: self.nets[account.name],
            worker_id=worker_id,
            clock=self.clock,
            sleep=sleep or self.clock.sleep,
            stop=stop,
        )

    def at(self, worker: Worker, day: str, clock_time: str) -> list[Delivery]:
        """Move the clock to a New York local time and run one pass there."""
        self.clock.now = ny(day, clock_time)
        return worker.run_pending()

    def run_until(self, workers: list[Worker], end: datetime, step: timedelta) -> None:
        turn = 0
        while self.clock.now < end:
            workers[turn % len(workers)].run_pending()
            turn += 1
            self.clock.now += step

    def rows(self, account: str | None = None) -> list[Delivery]:
        return self.store.history(account=account, limit=1000)

    def published(self, account: str) -> list[Delivery]:
        return [row for row in self.rows(account) if row.status == "published"]


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_a_day_goes_out_exactly_once_on_time(harness: Harness) -> None:
    """Passes every 10 minutes through a day: each slot published once, within 10 min of due."""
    worker = harness.worker()
    harness.run_until([worker], ny("2026-11-24", "00:00"), timedelta(minutes=10))
    for name, net in harness.nets.items():
        rows = harness.published(name)
        assert sorted(row.slot_key[-5:] for row in rows) == ["09:00", "13:00", "18:30"]
        assert len(net.sent) == 3
        assert len({row.template_id for row in rows}) == 3  # rotation moved on each time
        for row in rows:
            assert timedelta(0) <= row.updated_at - row.due_at < timedelta(minutes=10)
    # The day before the first pass is before this deployment existed: nothing recorded.
    assert [row for row in harness.rows() if row.slot_key < "2026-11-23"] == []


def test_repeated_passes_publish_once(harness: Harness) -> None:
    """Running the same pass again and again at a due slot sends it once."""
    worker = harness.worker()
    for _ in range(3):
        harness.at(worker, "2026-11-23", "09:01")
    assert len(harness.nets["t-x"].sent) == 1
    assert len(harness.nets["t-masto"].sent) == 1


def test_two_workers_alternating_never_repeat(harness: Harness) -> None:
    """Two workers on one database taking turns through a day: every slot exactly once."""
    workers = [harness.worker("w1"), harness.worker("w2")]
    harness.run_until(workers, ny("2026-11-24", "00:00"), timedelta(minutes=7))
    for name, net in harness.nets.items():
        assert len(net.sent) == 3
        keys = Counter(row.slot_key for row in harness.rows(name))
        assert set(keys.values()) == {1}


def test_two_workers_in_threads_never_repeat(harness: Harness) -> None:
    """Two workers running the same passes at the same moment in threads: once per slot."""
    workers = [harness.worker("w1"), harness.worker("w2")]
    for at in ("09:02", "13:02", "18:32"):
        harness.clock.now = ny("2026-11-23", at)
        start = threading.Barrier(2)

        def run(worker: Worker, start: threading.Barrier = start) -> None:
            start.wait()
            worker.run_pending()

        threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    for net in harness.nets.values():
        assert len(net.sent) == 3
        assert len({post.idempotency_key for post in net.sent}) == 3


def test_downtime_within_grace_sent_older_missed(harness: Harness) -> None:
    """Down through slots: 20 min late is sent once, 5 h late is 'missed'; no flood."""
    worker = harness.worker()
    harness.at(worker, "2026-11-23", "08:55")
    harness.at(worker, "2026-11-23", "09:20")  # back after 20 minutes
    harness.at(worker, "2026-11-23", "18:50")  # down from 09:20 to 18:50
    harness.at(worker, "2026-11-23", "18:55")
    today = [row for row in harness.rows("t-x") if row.slot_key.startswith("2026-11-23")]
    statuses = {row.slot_key[-5:]: row.status for row in today}
    assert statuses == {"09:00": "published", "13:00": "missed", "18:30": "published"}
    assert len(harness.nets["t-x"].sent) == 2
    missed = next(row for row in today if row.status == "missed")
    assert "grace" in (missed.last_error or "")
    assert missed.text  # what would have gone out is kept for the record


def test_first_start_only_sends_within_grace(harness: Harness) -> None:
    """A brand-new deployment sends the slot still within grace and records nothing older."""
    worker = harness.worker()
    done = harness.at(worker, "2026-11-23", "18:45")
    assert Counter(row.status for row in done if row.account == "t-x") == Counter({"published": 1})
    assert [row.slot_key[-5:] for row in harness.rows() if row.account == "t-x"] == ["18:30"]
    assert len(harness.nets["t-x"].sent) == 1


def test_downtime_after_first_start_marks_missed(harness: Harness) -> None:
    """A worker down from 08:00 to 18:45: 09:00 and 13:00 are missed, 18:30 is still sent."""
    worker = harness.worker()
    harness.at(worker, "2026-11-23", "08:00")
    done = harness.at(worker, "2026-11-23", "18:45")
    assert Counter(row.status for row in done if row.account == "t-x") == Counter(
        {"missed": 2, "published": 1}
    )
    assert len(harness.nets["t-x"].sent) == 1


@pytest.mark.parametrize(
    ("first_day", "expected_utc"),
    [
        (  # spring forward: 02:30 does not exist on 03-08 and moves to 03:30 EDT
            "2026-03-07",
            [
                "2026-03-07T06:30", "2026-03-07T07:30", "2026-03-07T14:00",
                "2026-03-08T06:30", "2026-03-08T07:30", "2026-03-08T13:00",
            ],
        ),
        (  # fall back: 01:30 happens twice on 11-01 and is posted once, at the first
            "2026-10-31",
            [
                "2026-10-31T05:30", "2026-10-31T06:30", "2026-10-31T13:00",
                "2026-11-01T05:30", "2026-11-01T07:30", "2026-11-01T14:00",
            ],
        ),
    ],
)  # fmt: skip
def test_dst_days_post_at_the_right_instants(
    tmp_path: Path, first_day: str, expected_utc: list[str]
) -> None:
    """New York DST changes: local times hold, so the UTC instants shift, and none repeats."""
    start = ny(first_day, "00:00")
    harness = Harness(tmp_path, DST_CONFIG, start=start)
    worker = harness.worker()
    harness.run_until([worker], start + timedelta(hours=48), timedelta(minutes=15))
    rows = sorted(harness.published("t-x"), key=lambda row: row.due_at)
    due = [row.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for row in rows]
    assert due == expected_utc
    assert len(harness.nets["t-x"].sent) == 6
    for row in rows:
        assert timedelta(0) <= row.updated_at - row.due_at < timedelta(minutes=15)


def test_pause_skips_and_resume_continues(harness: Harness) -> None:
    """Paused: due slots 'skipped' with who and since when; resumed: posts go on."""
    worker = harness.worker()
    harness.clock.now = ny("2026-11-23", "08:00")
    harness.store.set_paused(True, by="alice")
    harness.at(worker, "2026-11-23", "09:05")
    skipped = harness.store.get("t-x", "2026-11-23T09:00")
    assert skipped is not None and skipped.status == "skipped"
    assert "paused by alice since 2026-11-23 13:00 UTC" in (skipped.last_error or "")
    assert harness.nets["t-x"].sent == []
    harness.store.set_paused(False, by="alice")
    harness.at(worker, "2026-11-23", "09:10")
    assert harness.nets["t-x"].sent == []  # the skipped slot stays skipped
    harness.at(worker, "2026-11-23", "13:05")
    assert len(harness.nets["t-x"].sent) == 1


def test_rate_limited_waits_for_reset(harness: Harness) -> None:
    """429 at 09:00: deferred; not retried before the reset; the next slot waits too."""
    worker = harness.worker()
    reset = ny("2026-11-23", "13:30")
    harness.nets["t-x"].enqueue(RateLimited("429", retry_at=reset, window="24h-user"))
    harness.at(worker, "2026-11-23", "09:01")
    first = harness.store.get("t-x", "2026-11-23T09:00")
    assert first is not None and first.status == "deferred" and first.retry_at == reset
    harness.at(worker, "2026-11-23", "13:01")
    second = harness.store.get("t-x", "2026-11-23T13:00")
    assert second is not None and second.status == "deferred"
    assert second.attempts == 0  # never sent before the reset
    assert "rate limit window 24h-user" in (second.last_error or "")
    harness.at(worker, "2026-11-23", "13:29")
    assert len(harness.nets["t-x"].attempts) == 1
    harness.clock.now = reset
    worker.run_pending()
    assert len(harness.nets["t-x"].sent) == 2
    today = [row for row in harness.rows("t-x") if row.slot_key.startswith("2026-11-23")]
    assert [row.status for row in today] == ["published", "published"]


def test_transient_then_success_and_permanent_failure(harness: Harness) -> None:
    """A 503 is retried and published; a rejected post is 'failed' with the server's reason."""
    worker = harness.worker()
    harness.nets["t-x"].enqueue(TransientError("503 from x"))
    harness.nets["t-masto"].enqueue(PostRejected("422 from mastodon: Validation failed"))
    harness.at(worker, "2026-11-23", "09:01")
    x_row = harness.store.get("t-x", "2026-11-23T09:00")
    masto_row = harness.store.get("t-masto", "2026-11-23T09:00")
    assert x_row is not None and x_row.status == "published" and x_row.attempts == 2
    assert masto_row is not None and masto_row.status == "failed"
    assert "Validation failed" in (masto_row.last_error or "")


def test_stop_during_retry_hands_the_post_back(tmp_path: Path) -> None:
    """SIGTERM while a retry waits: recorded deferred at once, no later slot is taken; the
    next worker sends both once. (One account at a time, so "later" is well defined.)"""
    harness = Harness(tmp_path, CONFIG.replace("[worker]\n", "[worker]\nparallel_accounts = 1\n"))
    stop = threading.Event()
    stopping = harness.worker("old", sleep=lambda seconds: stop.set(), stop=stop)
    harness.nets["t-x"].enqueue(TransientError("503 from x"))
    harness.at(stopping, "2026-11-23", "09:01")
    row = harness.store.get("t-x", "2026-11-23T09:00")
    assert row is not None and row.status == "deferred"
    assert row.retry_at == ny("2026-11-23", "09:01")
    assert harness.store.get("t-masto", "2026-11-23T09:00") is None  # no new slot taken
    stopping.close()
    harness.at(harness.worker("new"), "2026-11-23", "09:02")
    assert len(harness.nets["t-x"].sent) == 1
    assert len(harness.nets["t-masto"].sent) == 1


def test_crashed_worker_row_settled_by_next_worker(harness: Harness) -> None:
    """kill -9 after an X post landed but before it was recorded: the next worker confirms it."""
    dead = harness.worker("dead")
    harness.clock.now = ny("2026-11-23", "09:00")
    dead.heartbeat()

    def die(post: OutgoingPost) -> Receipt:
        raise KeyboardInterrupt  # stands in for SIGKILL: nothing after this line runs

    harness.nets["t-x"].enqueue(die)
    with pytest.raises(KeyboardInterrupt):  # the process dies inside publish
        dead.run_pending(harness.clock.now)
    harness.nets["t-x"].sent.append(harness.nets["t-x"].attempts[0])  # ...after it landed
    harness.run_until([harness.worker("next")], ny("2026-11-23", "09:10"), timedelta(minutes=1))
    row = harness.store.get("t-x", "2026-11-23T09:00")
    assert row is not None and row.status == "published"
    assert len(harness.nets["t-x"].sent) == 1


def test_post_now_claims_a_manual_slot(harness: Harness) -> None:
    """post-now publishes the chosen post at once under a manual-<time>-<random> slot key."""
    harness.clock.now = datetime(2026, 11, 23, 15, 4, 5, tzinfo=UTC)
    row = harness.worker().post_now("t-masto", "post-3")
    assert row.status == "published"
    assert re.fullmatch(r"manual-20261123T150405\.000000Z-[0-9a-f]{6}", row.slot_key)
    assert row.template_id == "post-3"
    assert "reason number 3" in harness.nets["t-masto"].sent[0].text
    with pytest.raises(AmplifierError, match="no post has the id 'no-such-post'"):
        harness.worker().post_now("t-masto", "no-such-post")


def test_scheduler_policy_is_explicit(harness: Harness) -> None:
    """APScheduler jobs carry the grace window, coalesce and one instance (not the 1 s default)."""
    harness.clock.now = ny("2026-11-23", "08:00")
    scheduler = build_scheduler(harness.worker())
    scheduler.start(paused=True)  # defaults are applied when jobs reach the job store
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert {"heartbeat", "housekeeping", "slot:t-x:2026-11-23T09:00"} <= set(jobs)
    for job in jobs.values():
        assert job.misfire_grace_time == 30 * 60
        assert job.coalesce is True
        assert job.max_instances == 1


def test_run_forever_stops_cleanly_on_sigterm(harness: Harness) -> None:
    """`amplifier run`: the first pass publishes what is due; SIGTERM ends it, handlers restored."""
    harness.clock.now = ny("2026-11-23", "09:01")
    published = threading.Event()

    def land(post: OutgoingPost) -> Receipt:
        published.set()
        return Receipt("1", "https://x.invalid/1")

    harness.nets["t-x"].enqueue(land)

    def terminate() -> None:
        if published.wait(10):
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    killer = threading.Thread(target=terminate)
    killer.start()
    run_forever(harness.worker())
    killer.join(5)
    assert published.is_set()
    assert signal.getsignal(signal.SIGTERM) is before
    assert len(harness.nets["t-x"].sent) == 1
    assert harness.store.orphaned(harness.clock.now, timedelta(seconds=0)) == []


def test_redaction_filter_removes_secrets_everywhere() -> None:
    """A record holding a secret in its message, its arguments or its error shows [redacted]."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redactor = RedactSecrets(["s3cr3t-token-value", "pw"])
    handler.addFilter(redactor)
    handler.setFormatter(LogfmtFormatter(redactor))
    logger = logging.getLogger("amplifier.test-redaction")
    logger.addHandler(handler)
    try:
        logger.warning("token=s3cr3t-token-value user=%s", "s3cr3t-token-value")
        try:
            raise ValueError("bad header Bearer s3cr3t-token-value\nsecond line")
        except ValueError:
            logger.exception("%s", logfmt("failed", account="acct"))
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "s3cr3t-token-value" not in output
    assert output.count(REDACTED) == 3
    lines = output.splitlines()
    assert len(lines) == 2  # one line per event, traceback folded in
    assert " level=error event=failed account=acct exc=" in lines[1]
    assert "pw" not in RedactSecrets(["pw"]).secrets  # too short to be a real secret


def test_logfmt_quotes_values_with_spaces() -> None:
    """Values with spaces or quotes are quoted; None values are left out."""
    line = logfmt("failed", account="fbt-x", reason='said "no" twice', url=None)
    assert line == 'event=failed account=fbt-x reason="said \\"no\\" twice"'


def test_blocked_window_from_receipt(harness: Harness) -> None:
    """A receipt that spends the last post of a window blocks the next slot until the reset."""
    worker = harness.worker()
    reset = ny("2026-11-23", "14:00")
    window = RateLimitWindow("24h-user", 17, 0, reset)
    harness.nets["t-x"].enqueue(Receipt("9", "https://x.invalid/9", rate_limits=(window,)))
    harness.at(worker, "2026-11-23", "09:01")
    harness.at(worker, "2026-11-23", "13:01")
    assert len(harness.nets["t-x"].attempts) == 1
    harness.at(worker, "2026-11-23", "14:00")
    assert len(harness.nets["t-x"].sent) == 2


def test_own_row_left_sending_by_an_error_is_settled(harness: Harness) -> None:
    """A row this live worker left 'sending' (an error after the attempt) is settled next pass."""
    worker = harness.worker("w1")
    harness.clock.now = ny("2026-11-23", "09:01")
    worker.heartbeat()
    draft = DeliveryDraft(
        "t-x",
        "x",
        "2026-11-23T09:00",
        ny("2026-11-23", "09:00"),
        "post-1",
        "fbt",
        "Families belong together, reason number 1.",
    )
    row = harness.store.claim_slot(draft, worker_id="w1")
    assert row is not None
    started = harness.store.begin_attempt(row.id, worker_id="w1")
    assert started is not None
    harness.nets["t-x"].publish(outgoing_post(started))  # it went out; recording it failed
    worker.run_pending()
    settled = harness.store.get("t-x", "2026-11-23T09:00")
    assert settled is not None and settled.status == "published"
    assert len(harness.nets["t-x"].sent) == 1


def test_timeout_then_429_then_duplicate_is_published_once(harness: Harness) -> None:
    """X: a timed-out post that landed, then 429: deferred; at the reset the duplicate answer
    proves it went out, so it is recorded published and never sent twice."""
    worker = harness.worker()
    reset = ny("2026-11-23", "09:20")
    harness.nets["t-x"].enqueue(
        TransientError("read timeout", ambiguous=True),
        RateLimited("429", retry_at=reset, window="15m"),
    )
    harness.at(worker, "2026-11-23", "09:01")
    row = harness.store.get("t-x", "2026-11-23T09:00")
    assert row is not None and row.status == "deferred"
    assert row.ambiguous_since is not None
    harness.at(worker, "2026-11-23", "09:20")
    row = harness.store.get("t-x", "2026-11-23T09:00")
    assert row is not None and row.status == "published"
    assert "duplicate" in (row.last_error or "")
    assert len(harness.nets["t-x"].sent) == 1


def test_a_slow_account_does_not_hold_up_the_others(harness: Harness) -> None:
    """Accounts are published side by side: X's post waits until Mastodon's has gone out,
    which a strictly serial pass could never do; both are recorded once."""
    mastodon_sent = threading.Event()
    harness.nets["t-masto"].enqueue(
        lambda post: (mastodon_sent.set(), Receipt("m1", "https://masto.invalid/m1"))[1]
    )

    def slow_x(post: OutgoingPost) -> Receipt:
        if not mastodon_sent.wait(timeout=10):
            raise AssertionError("Mastodon waited for X: the pass was serial")
        return Receipt("x1", "https://x.invalid/x1")

    harness.nets["t-x"].enqueue(slow_x)
    done = harness.at(harness.worker(), "2026-11-23", "09:00")
    assert sorted((row.account, row.status) for row in done) == [
        ("t-masto", "published"),
        ("t-x", "published"),
    ]
    assert len(harness.nets["t-x"].sent) == len(harness.nets["t-masto"].sent) == 1


def test_accounts_whose_guards_read_each_other_take_turns(tmp_path: Path) -> None:
    """X accounts (distinct text, shared budget) run in one group, in config order; a
    Mastodon account runs beside them; an in-memory database keeps the pass in one thread."""
    second_x = (
        '\n[[accounts]]\nname = "t-x2"\nnetwork = "x"\ncampaigns = ["fbt"]\nschedule = "ny"\n'
    )
    harness = Harness(tmp_path, CONFIG + second_x)
    worker = harness.worker()
    assert [[a.name for a in turn.accounts] for turn in worker.turns()] == [
        ["t-x", "t-x2"],
        ["t-masto"],
    ]
    done = {row.account: row for row in harness.at(worker, "2026-11-23", "09:00")}
    assert done["t-x"].status == done["t-masto"].status == "published"
    # The test posts differ by a number only: t-x2, coming second, saw t-x's post and refused
    # them all as too similar. Side by side, neither would have seen the other's.
    assert done["t-x2"].status == "skipped"
    assert "distinct-text" in (done["t-x2"].last_error or "")
    assert "t-x's" in (done["t-x2"].last_error or "")
    assert harness.nets["t-x2"].attempts == []
    assert Store("sqlite://").threads_share_it is False
    assert harness.store.threads_share_it is True
