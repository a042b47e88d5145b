"""Settle rows that are not new slots: what a crash left 'sending', and deferred posts now due.

A 'sending' row whose worker stopped checking in (``store.orphaned``), or one this worker left
behind after an error, is taken over with a compare-and-set, so exactly one live worker
settles it. Then:

    attempts == 0 (and no earlier       nothing went out: deliver normally
      ambiguity recorded)
    otherwise the last attempt may have landed; since = when it (or an earlier ambiguous one)
    began, the earliest of the two:
      mastodon, within the key's life  deliver again with the same Idempotency-Key: the server
                                         answers with the original status instead of a copy
      mastodon, later                  'unknown': may have been published, needs review
      x                                deliver again, but ``find_existing`` reads the
                                         account's timeline first and records the post, with
                                         its id, if found; failing that, X's "duplicate
                                         content" 403 means it went out (published, no id)
      bluesky                          deliver again, but ``find_existing`` looks for the
                                         record first and records it if found
      dry-run, memory                  deliver again

Rows of an account that only rehearses now (a dry run: ``waits``) are left as they are, since
its dry-run network would "publish" them without sending: they wait for the account to be
live again, and are given up past the lookback as usual then.

A due deferred row goes through the same rules (its ambiguity, if any, in ``ambiguous_since``),
waits for an account's rate-limit window, and is given up once its slot is older than the
lookback window: a post held back a whole day is no longer "on time", and a backlog released
at once would be a flood.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from amplifier.config import WorkerSettings
from amplifier.delivery.publish import DeliveryContext
from amplifier.logs import log_event
from amplifier.networks.base import Network
from amplifier.store import Delivery, Store

LOGGER = logging.getLogger(__name__)

NetworkFor = Callable[[str], Network]  # account name -> its network; KeyError if unknown
REVIEW_HINT = "may have been published: check the account and run amplifier review"


@dataclass(frozen=True)
class RecoveryRules:
    stale_after: timedelta = timedelta(seconds=45)
    mastodon_window: timedelta = timedelta(minutes=55)
    lookback: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, worker: WorkerSettings) -> RecoveryRules:
        return cls(
            stale_after=timedelta(seconds=worker.stale_worker_seconds),
            mastodon_window=timedelta(minutes=worker.mastodon_idempotency_minutes),
            lookback=timedelta(hours=worker.lookback_hours),
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Settler:
    """Takes over orphaned and due deferred rows and settles each exactly once."""

    def __init__(
        self,
        context: DeliveryContext,
        networks: NetworkFor,
        rules: RecoveryRules,
        *,
        stop: threading.Event | None = None,
        waits: Callable[[str], bool] = lambda account: False,
    ) -> None:
        self.context = context
        self.waits = waits  # account -> its rows wait (it only rehearses now)
        self.store: Store = context.store
        self.networks = networks
        self.rules = rules
        self.stop = stop
        self.logger = context.logger

    @property
    def worker_id(self) -> str:
        return self.context.worker_id

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def orphans(self, now: datetime) -> list[Delivery]:
        """'sending' rows whose worker is gone, and this worker's own left 'sending'."""
        stuck = self.store.orphaned(now, self.rules.stale_after)
        return stuck + [
            row
            for row in self.store.history(statuses=["sending"], limit=1000)
            if row.claimed_by == self.worker_id
        ]

    def settle_orphans(self, now: datetime, found: list[Delivery] | None = None) -> list[Delivery]:
        """Settle every 'sending' row whose worker is gone (``found``: those of ``orphans``
        to settle, by default all of them); returns the rows as settled.

        Rows still claimed by this worker count too (an error left them 'sending'), so call it
        only while this worker has no delivery in flight for their accounts (the worker holds
        their turn).
        """
        stuck = self.orphans(now) if found is None else found
        settled: list[Delivery] = []
        for orphan in stuck:
            if self._stopping():
                break
            if self.waits(orphan.account):
                continue
            row = self.store.take_over(
                orphan.id,
                worker_id=self.worker_id,
                expected_status="sending",
                expected_claimed_by=orphan.claimed_by,
            )
            if row is None:
                continue  # another worker settled it first
            since = orphan.ambiguous_since
            if orphan.attempts > 0 and orphan.claimed_at is not None:
                # An attempt was counted but its outcome never recorded: it began after the
                # claim, and may have landed.
                since = min(since, orphan.claimed_at) if since else orphan.claimed_at
            log_event(
                self.logger,
                "orphan",
                logging.WARNING,
                account=row.account,
                slot=row.slot_key,
                id=row.id,
                dead_worker=orphan.claimed_by,
                attempts=orphan.attempts,
                ambiguous_since=_iso(since) if since else None,
            )
            settled.append(self._resume(row, since, now))
        return settled

    def retry_deferred(self, now: datetime, found: list[Delivery] | None = None) -> list[Delivery]:
        """Take over each deferred row whose retry time has come (``found``: those of
        ``store.due_deferred`` to settle, by default all of them), and settle it."""
        settled: list[Delivery] = []
        for waiting in self.store.due_deferred(now) if found is None else found:
            if self._stopping():
                break
            if self.waits(waiting.account) or self._held(waiting):
                continue
            row = self.store.take_over(
                waiting.id,
                worker_id=self.worker_id,
                expected_status="deferred",
                expected_claimed_by=None,
                due_by=now,
            )
            if row is None:
                continue
            since = row.ambiguous_since
            if row.due_at < now - self.rules.lookback:
                hours = int(self.rules.lookback.total_seconds() // 3600)
                settled.append(self._give_up(row, since, f"not sent within {hours} h of its slot"))
                continue
            blocked = self.store.blocked_until(row.account, now)
            if blocked is not None:
                self.store.mark_deferred(
                    row.id,
                    worker_id=self.worker_id,
                    retry_at=blocked,
                    reason=f"rate limit window until {_iso(blocked)}",
                    ambiguous_since=since,
                )
                settled.append(self.store.get_by_id(row.id) or row)
                continue
            settled.append(self._resume(row, since, now))
        return settled

    def _held(self, row: Delivery) -> bool:
        """Whether another thread of the row's account is unfinished: nothing else goes out
        on the account between two parts of a thread."""
        return self.store.open_thread(row.account, besides=row.thread_key) is not None

    def continue_threads(self, found: list[Delivery] | None = None) -> list[Delivery]:
        """Go on with each thread whose last part published has no next part yet (its worker
        stopped in between; ``found``: those of ``store.threads_to_continue``)."""
        done: list[Delivery] = []
        for last in self.store.threads_to_continue() if found is None else found:
            if self._stopping():
                break
            if self.waits(last.account):
                continue
            try:
                network = self.networks(last.account)
            except KeyError:
                continue  # its account is gone: the thread ends where it stands
            log_event(self.logger, "settle", account=last.account, slot=last.slot_key,
                      id=last.id, decision="next-part")  # fmt: skip
            done += self.context.continue_thread(network, last)
        return done

    def _resume(self, row: Delivery, since: datetime | None, now: datetime) -> Delivery:
        """Deliver a row this worker has just taken over, or settle it without sending."""
        try:
            network = self.networks(row.account)
        except KeyError:
            return self._give_up(row, since, "its account is no longer configured or enabled")
        decision = "send"
        if since is not None:
            decision = "send-again"
            if row.network == "mastodon":
                if now - since > self.rules.mastodon_window:
                    minutes = int(self.rules.mastodon_window.total_seconds() // 60)
                    reason = (
                        f"interrupted mid-send more than {minutes} min ago, past Mastodon's "
                        f"idempotency window; {REVIEW_HINT}"
                    )
                    return self._unknown(row, since, reason)
                decision = "send-again-same-idempotency-key"
            elif row.network in ("x", "bluesky"):
                decision = "look-up-then-send"
        log_event(
            self.logger,
            "settle",
            account=row.account,
            slot=row.slot_key,
            id=row.id,
            decision=decision,
        )
        return self.context.deliver(network, row, earlier_ambiguous=since)

    def _give_up(self, row: Delivery, since: datetime | None, reason: str) -> Delivery:
        if since is not None:
            return self._unknown(row, since, f"{reason}; {REVIEW_HINT}")
        alerts = self.context.alerts.failed(row, reason)
        self.store.mark_failed(row.id, worker_id=self.worker_id, reason=reason, alerts=alerts)
        log_event(
            self.logger,
            "failed",
            logging.ERROR,
            account=row.account,
            slot=row.slot_key,
            id=row.id,
            reason=reason,
        )
        return self.store.get_by_id(row.id) or row

    def _unknown(self, row: Delivery, since: datetime, reason: str) -> Delivery:
        self.store.mark_unknown(
            row.id,
            worker_id=self.worker_id,
            reason=reason,
            ambiguous_since=since,
            alerts=self.context.alerts.unknown(row, reason),
        )
        log_event(
            self.logger,
            "unknown",
            logging.ERROR,
            account=row.account,
            slot=row.slot_key,
            id=row.id,
            reason=reason,
            ambiguous_since=_iso(since),
        )
        return self.store.get_by_id(row.id) or row
