"""A collection round: the posts due a snapshot, read in batches, yielding to publishing.

``Collector.run_round(now)`` reads at most ``[results] max_posts_per_round`` posts. Before
each batch it asks ``may_run`` (the worker's answer: is a slot or a deferred post due, is a
pass running) and stops at the first reason not to; an account whose stored rate-limit
window is shut (publishing's own), or whose reads met a 429 (kept here until its reset, so
reads never shut a window publishing needs), or whose last answer left less than a fifth of
a window, waits for a later round. A batch holds one account's posts, as many as its
network takes in one request (``networks.metrics.BATCH``). What a batch found is stored
together; a post the network no longer has is stored 'gone', once, and never asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.errors import NetworkError, RateLimited
from amplifier.logs import log_event
from amplifier.networks.base import RateLimitWindow
from amplifier.networks.metrics import BATCH, MetricsAnswer, MetricsReader
from amplifier.results.ages import collects, configured_ages
from amplifier.results.budget import affordable_reads, read_price_micros
from amplifier.store import GONE, DueRead, Snapshot, Store

LOGGER = logging.getLogger(__name__)

ReaderFor = Callable[[Account], MetricsReader | None]
MayRun = Callable[[datetime], str | None]


@dataclass
class RoundReport:
    """What one round did: requests made, posts read and found gone, why it stopped early."""

    requests: int = 0
    batches: list[int] = field(default_factory=list)  # posts asked per request
    read: int = 0
    gone: int = 0
    cost_micros: int = 0
    yielded: str | None = None
    held: dict[str, str] = field(default_factory=dict)  # account -> why it was not read


def batches(due: Sequence[DueRead]) -> Iterator[list[DueRead]]:
    """Due posts as batches: one account each, in order, each as full as its network takes."""
    by_account: dict[str, list[DueRead]] = {}
    for read in due:
        by_account.setdefault(read.account, []).append(read)
    for reads in by_account.values():
        size = BATCH.get(reads[0].network, 1)  # type: ignore[call-overload]
        for start in range(0, len(reads), size):
            yield reads[start : start + size]


def low(windows: Sequence[RateLimitWindow]) -> bool:
    """Whether an answer's windows have less than a fifth left (kept for publishing)."""
    for window in windows:
        left = window.remaining
        if window.limit and left is not None and left <= max(3, window.limit // 5):
            return True
    return False


class Collector:
    """Reads snapshots for the worker; one per worker, used from one thread at a time."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        store: Store,
        reader_for: ReaderFor,
        *,
        may_run: MayRun,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.settings = settings
        self.library = library
        self.store = store
        self.reader_for = reader_for
        self.may_run = may_run
        self.logger = logger
        self.backoff: dict[str, datetime] = {}  # account -> until when its reads wait (a 429)

    def accounts(self) -> dict[str, Account]:
        found = {}
        for account in self.settings.accounts:
            if account.enabled and collects(account):
                found[account.name] = account
        return found

    def run_round(self, now: datetime, clock: Callable[[], datetime] | None = None) -> RoundReport:
        """One round at ``now``; ``clock`` gives the time before each batch (default: now)."""
        report = RoundReport()
        rules = self.settings.results
        accounts = self.accounts()
        if not rules.enabled or not accounts or self.store.paused()[0]:
            return report
        due = self.store.snapshots_due(
            now, configured_ages(self.settings), accounts=accounts, limit=rules.max_posts_per_round
        )
        for batch in batches(due):
            moment = clock() if clock else now
            reason = self.may_run(moment)
            if reason is not None:
                report.yielded = reason
                log_event(self.logger, "results-yield", reason=reason, left=len(due) - report.read)
                break
            account = accounts[batch[0].account]
            if account.name in report.held:
                continue
            held = self._held(account, moment, len(batch))
            if isinstance(held, str):
                report.held[account.name] = held
                continue
            self._read(account, batch[:held], moment, report)
        return report

    def _held(self, account: Account, now: datetime, wanted: int) -> str | int:
        """Why the account's posts wait (a str), else how many of ``wanted`` may be read."""
        until = self.backoff.get(account.name)
        if until is not None and until > now:
            return f"reads rate limited until {until.isoformat(timespec='seconds')}"
        shut = self.store.blocked_until(account.name, now)
        if shut is not None:
            return f"rate-limit window shut until {shut.isoformat(timespec='seconds')}"
        if account.network != "x":
            return wanted
        room = affordable_reads(self.settings, self.library, self.store, account, now)
        if room is not None and room < wanted:
            if room <= 0:
                return "X budget: the month's remaining posts need what is left"
            return room
        return wanted

    def _read(
        self, account: Account, batch: list[DueRead], now: datetime, report: RoundReport
    ) -> None:
        reader = self.reader_for(account)
        if reader is None:
            report.held[account.name] = "no live network to read from (dry run)"
            return
        try:
            answer = reader.read_metrics([read.remote_id for read in batch])
        except NetworkError as error:
            answer = MetricsAnswer({}, (), 1, (), error)
        report.requests += answer.requests
        report.batches.append(len(batch))
        self._store(account, batch, answer, now, report)
        if answer.error is not None:
            report.held[account.name] = str(answer.error)
            if isinstance(answer.error, RateLimited):
                self.backoff[account.name] = answer.error.retry_at
            log_event(
                self.logger,
                "results-read-failed",
                logging.WARNING,
                account=account.name,
                network=account.network,
                reason=str(answer.error),
            )
        elif low(answer.rate_limits):
            report.held[account.name] = "rate-limit window low: the rest is kept for posts"

    def _store(
        self,
        account: Account,
        batch: list[DueRead],
        answer: MetricsAnswer,
        now: datetime,
        report: RoundReport,
    ) -> None:
        price = read_price_micros(self.settings) if account.network == "x" else 0
        taken: list[Snapshot] = []
        for read in batch:
            counts = answer.counts.get(read.remote_id)
            if counts is not None:
                taken.append(
                    Snapshot(read.delivery_id, read.account, read.network, read.age,
                             read.age_seconds, now, counts.as_dict(), price)
                )  # fmt: skip
            elif read.remote_id in answer.missing:
                taken.append(
                    Snapshot(read.delivery_id, read.account, read.network, GONE, 0, now, {})
                )
        self.store.record_snapshots(taken)
        gone = sum(1 for snap in taken if snap.gone)
        report.read += len(taken) - gone
        report.gone += gone
        report.cost_micros += sum(snap.cost_micros for snap in taken)
        if taken:
            log_event(
                self.logger,
                "results-read",
                account=account.name,
                network=account.network,
                posts=len(taken) - gone,
                gone=gone,
                cost_micros=sum(snap.cost_micros for snap in taken) or None,
            )
