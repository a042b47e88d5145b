"""The fault soak: real workers SIGKILLed at random moments while the fakes misbehave.

Each round starts `amplifier run` (every fifth round, two at once, as when Heroku overlaps the
old and the new dyno) against the fake X, Mastodon and Bluesky, whose publish endpoints answer
late, drop connections before or after storing the post, answer 503, or answer 429 with a
reset 2-20 s away (and 429 again to any request before that reset, which is counted); and
SIGKILLs each worker at a seeded random moment: during start-up, or 0-2.5 s after its first
answered post. A batch is one database and one schedule (40 due
slots per account); when too few of its slots are left unsettled, a last worker settles the
rest on prompt servers, the batch is counted, and the next one starts afresh.

    report = run_soak(SoakSettings(kills=100, workdir=Path("/tmp/soak")))
    print(report.render())   # bench/soak.py does this

What must hold is in ``SoakReport.failures``: no text twice on any server, no due slot lost, no
request before a rate-limit reset the fakes announced, no secret in any log line.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from amplifier.errors import StoreError
from amplifier.testing.databases import DEFAULT_POSTGRES_URL, database
from amplifier.testing.faults import chaos_with_resets
from amplifier.testing.outcome import SETTLED, Outcome
from amplifier.testing.rig import Rig, RigFailure, WorkerProcess
from amplifier.testing.scenario import ACCOUNTS, Schedule, Timing
from amplifier.testing.soak_report import BatchResult, SoakReport

ANSWERED = ("published", "deferred", "failed", "unknown")  # events after a network answered
EARLY_KILLS = 0.2  # share of kills during start-up, migrations or the first claims
START_DEADLINE = 45.0  # seconds a worker may take to log event=started
STOP_DEADLINE = 10.0  # seconds a worker may take to exit after SIGTERM (Heroku allows 30)


@dataclass(frozen=True)
class SoakSettings:
    """What one soak run does; the defaults are the long run's."""

    workdir: Path  # each batch gets a folder here: config, SQLite file, worker logs
    kills: int = 100
    seed: int = 20261123
    database: str = "sqlite"  # or "postgresql"
    postgres_url: str = DEFAULT_POSTGRES_URL
    minutes: float | None = None  # start no round after this long, whatever the kills
    pair_every: int = 5  # every n-th round runs two workers at once
    slots_per_account: int = 40  # due slots per account in each batch (under the 60 min grace)
    min_work: int = 9  # a batch ends when fewer due slots than this are unsettled
    reset_seconds: tuple[float, float] = (2.0, 20.0)  # how far away a 429's reset is
    rate_limited_share: float = 0.10  # of publish requests answered 429
    final_timeout: float = 300.0  # for the last worker of a batch to settle every slot
    progress_every: int = 10  # a progress line per this many kills
    timing: Timing = field(default_factory=Timing)


def _in_flight(rig: Rig, worker: WorkerProcess) -> str:
    """What a just-killed worker was doing, from the rows it still holds."""
    try:
        rows = rig.rows().values()
    except StoreError:  # killed before its migrations created the tables
        return "before-migrations"
    held = [row for row in rows if row.status == "sending" and worker.owns(row)]
    if not held:
        return "between-posts"
    return f"{'mid-send' if held[0].attempts else 'claimed'}:{held[0].network}"


class _Victim:
    """A worker of this round and the moment it is to die."""

    def __init__(self, worker: WorkerProcess, rng: random.Random) -> None:
        self.worker = worker
        self.early = rng.random() < EARLY_KILLS
        # Early: counted from launch. Otherwise from its first answered post, so start-up
        # (imports, logins) does not eat the window on a slow machine; an idle worker is
        # killed all the same, 6 s after it started.
        self.delay = rng.uniform(0.2, 1.5) if self.early else rng.uniform(0.0, 2.5)
        self.moment = worker.started + self.delay if self.early else None
        self.started_at: float | None = None
        self.outcome: str | None = None

    def poll(self, rig: Rig, now: float) -> None:
        worker = self.worker
        if not worker.alive:
            code = worker.popen.poll()
            self.outcome = f"exited by itself ({code}): {worker.tail(5)!r}"
            return
        if self.moment is None:
            if self.started_at is None and worker.events("started"):
                self.started_at = now
            answered = any(worker.events(event) for event in ANSWERED)
            if answered or (self.started_at is not None and now - self.started_at > 6.0):
                self.moment = now + self.delay
            elif now - worker.started > START_DEADLINE:
                self.moment = now  # never started: kill it, and say so
                self.outcome = f"did not start within {START_DEADLINE:.0f} s"
        if self.moment is not None and now >= self.moment:
            worker.kill9()
            if self.outcome is None:
                self.outcome = _in_flight(rig, worker)


def kill_round(rig: Rig, rng: random.Random, workers: int) -> list[str]:
    """Start ``workers`` workers at once and SIGKILL each at its own random moment; says what
    each was doing. Outcomes that are not kills start with "exited" or "did not start"."""
    victims = [_Victim(rig.spawn(), rng) for _ in range(workers)]
    while any(victim.outcome is None for victim in victims):
        now = time.monotonic()
        for victim in victims:
            if victim.outcome is None:
                victim.poll(rig, now)
        time.sleep(0.02)
    return [victim.outcome or "" for victim in victims]


def thread_dump(worker: WorkerProcess) -> str:
    """SIGABRT a hung worker: faulthandler (PYTHONFAULTHANDLER=1) writes every thread's
    stack to its stderr, which is returned."""
    worker.popen.send_signal(signal.SIGABRT)
    try:
        worker.popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill9()
    text = worker.paths[1].read_text(encoding="utf-8", errors="replace")
    return text[text.rfind("Fatal Python error") :] if "Fatal Python error" in text else text


def unsettled_work(rig: Rig) -> int:
    """Due slots still to be settled: no row yet, or one sending or deferred."""
    try:
        rows = rig.rows()
    except StoreError:  # no worker has migrated the database yet
        return len(ACCOUNTS) * len(rig.schedule.keys)
    due = [(account, key) for account in ACCOUNTS for key in rig.schedule.keys]
    return sum(1 for key in due if key not in rows or rows[key].status not in SETTLED)


class _Soak:
    def __init__(self, settings: SoakSettings, progress: Callable[[str], None]) -> None:
        self.settings = settings
        self.progress = progress
        self.rng = random.Random(settings.seed)
        self.began = time.monotonic()
        self.kills = 0
        self.rounds = 0
        self.batches: list[BatchResult] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def out_of_time(self) -> bool:
        limit = self.settings.minutes
        return limit is not None and self.elapsed() >= limit * 60

    def more_rounds(self) -> bool:
        return self.kills < self.settings.kills and not self.out_of_time()

    def run(self) -> SoakReport:
        while self.more_rounds():
            self.batches.append(self.batch(len(self.batches) + 1))
        stopped = None
        if self.kills < self.settings.kills:
            stopped = f"the {self.settings.minutes} min limit came after {self.kills} kills"
        return SoakReport(
            self.settings.seed, self.settings.database, self.batches, self.elapsed(), stopped
        )

    def batch(self, number: int) -> BatchResult:
        settings = self.settings
        folder = settings.workdir / f"batch-{number:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        schedule = Schedule.minutes_ago(range(1, settings.slots_per_account + 1))
        with (
            database(settings.database, folder, settings.postgres_url) as url,
            Rig(folder, database_url=url, schedule=schedule, timing=settings.timing) as rig,
        ):
            # A request before a reset is refused again, as a real platform would: left to the
            # fake, its success would report a fresh window and reopen the account.
            rig.fakes.witness.enforce = True
            rig.env["PYTHONFAULTHANDLER"] = "1"  # so a hung worker can be made to say where
            faults = chaos_with_resets(*settings.reset_seconds, settings.rate_limited_share)
            feeder = rig.feed_faults(self.rng, faults)
            kills: list[str] = []
            paired = 0
            problems: list[str] = []
            while self.more_rounds() and unsettled_work(rig) >= settings.min_work:
                self.rounds += 1
                count = 2 if self.rounds % settings.pair_every == 0 else 1
                for what in kill_round(rig, self.rng, count):
                    if what.startswith(("exited", "did not start")):
                        problems.append(f"round {self.rounds}: a worker {what}")
                        continue
                    kills.append(what)
                    paired += count > 1
                    self.kills += 1
                    if self.kills % settings.progress_every == 0:
                        self.report_progress(number, rig)
            feeder.stop()
            rig.fakes.clear_faults()
            outcome, final_problems = self.settle(rig)
            witness = rig.fakes.witness
            return BatchResult(
                number=number,
                outcome=outcome,
                kills=kills,
                paired_kills=paired,
                faults=feeder.drawn,
                rate_limit_answers=len(witness.answers),
                early=list(witness.early),
                elsewhere=witness.elsewhere,
                leaks=rig.secret_leaks(),
                log_lines=rig.log_lines(),
                workers=len(rig.workers),
                problems=problems + final_problems,
            )

    def settle(self, rig: Rig) -> tuple[Outcome, list[str]]:
        """A last worker on prompt servers settles what is left; the batch's outcome."""
        final = rig.spawn("final")
        problems = []
        try:
            outcome = rig.wait_settled(timeout=self.settings.final_timeout, watch=final)
        except RigFailure as error:
            problems.append(f"the last worker did not settle every slot: {error}")
            outcome = rig.outcome()
        code, took = final.stop(timeout=STOP_DEADLINE)
        if code is None:
            problems.append(
                f"the last worker did not exit within {STOP_DEADLINE:.0f} s of SIGTERM; "
                f"its threads:\n{thread_dump(final)}"
            )
        elif code != 0:
            problems.append(f"the last worker exited {code} after {took:.1f} s: {final.tail()}")
        return outcome, problems

    def report_progress(self, batch: int, rig: Rig) -> None:
        minutes, seconds = divmod(round(self.elapsed()), 60)
        witness = rig.fakes.witness
        try:
            statuses = rig.outcome().statuses
        except StoreError:
            statuses = Counter()
        self.progress(
            f"[soak] {self.kills}/{self.settings.kills} kills, {minutes}:{seconds:02d} elapsed, "
            f"batch {batch}: rows {dict(sorted(statuses.items()))}, "
            f"429s {len(witness.answers)}, early requests {len(witness.early)}"
        )


def run_soak(settings: SoakSettings, progress: Callable[[str], None] = print) -> SoakReport:
    """Run the soak as ``settings`` say, printing progress through ``progress``."""
    return _Soak(settings, progress).run()
