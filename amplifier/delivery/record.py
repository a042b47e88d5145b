"""The record step: one compare-and-set per outcome, one log line each.

Ambiguity survives restarts: a deferred or unknown row keeps in its ``ambiguous_since``
column the start of the earliest attempt that may have landed, and whoever retries it passes
that time back as ``earlier_ambiguous``. ``last_error`` is only ever a message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from amplifier.alerts import AlertRules
from amplifier.delivery.attempt import GuardedNetwork
from amplifier.logs import log_event
from amplifier.networks.base import Receipt
from amplifier.store import Delivery, Store


def iso(moment: datetime | None) -> str | None:
    """A moment as logs show it: UTC, to the second, with a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def where(delivery: Delivery) -> dict[str, object]:
    return {"account": delivery.account, "slot": delivery.slot_key, "post": delivery.template_id}


class Recorder:
    """The record step: one compare-and-set per outcome, one log line each."""

    def __init__(
        self,
        store: Store,
        guarded: GuardedNetwork,
        worker_id: str,
        logger: logging.Logger,
        alerts: AlertRules | None = None,
    ) -> None:
        self.alerts = alerts or AlertRules.off()
        self.store = store
        self.guarded = guarded
        self.worker_id = worker_id
        self.logger = logger

    @property
    def row(self) -> Delivery:
        return self.guarded.row

    def _result(self, done: bool) -> Delivery:
        if not done:
            log_event(self.logger, "claim-lost", logging.WARNING, **where(self.row))
        current = self.store.get_by_id(self.row.id)
        return current if current is not None else self.row

    def published(self, receipt: Receipt | None, note: str | None) -> Delivery:
        remote_id = receipt.remote_id if receipt else None
        url = receipt.url if receipt else None
        windows = receipt.rate_limits if receipt else ()
        done = self.store.mark_published(
            self.row.id,
            worker_id=self.worker_id,
            remote_id=remote_id,
            url=url,
            note=note,
            rate_limits=(self.row.account, windows) if windows else None,
        )
        if done:
            log_event(
                self.logger,
                "published",
                **where(self.row),
                url=url,
                id=remote_id,
                attempts=self.row.attempts,
                note=note,
            )
        return self._result(done)

    def defer(self, retry_at: datetime, reason: str) -> Delivery:
        since = self.guarded.ambiguous_since
        done = self.store.mark_deferred(
            self.row.id,
            worker_id=self.worker_id,
            retry_at=retry_at,
            reason=reason,
            ambiguous_since=since,
        )
        if done:
            at = retry_at.astimezone(UTC).isoformat(timespec="seconds")
            log_event(
                self.logger,
                "deferred",
                logging.WARNING,
                **where(self.row),
                retry_at=at,
                reason=reason,
                ambiguous_since=iso(since),
            )
        return self._result(done)

    def give_up(self, reason: str, *, auth: bool = False) -> Delivery:
        """Failed (or unknown, if an attempt may have landed), its alert enqueued with it;
        ``auth``: because the network refused the account's credentials."""
        since = self.guarded.ambiguous_since
        if since is None:
            done = self.store.mark_failed(
                self.row.id,
                worker_id=self.worker_id,
                reason=reason,
                alerts=self.alerts.failed(self.row, reason, auth=auth),
            )
            event = "failed"
        else:
            reason = (
                f"{reason}; it may have been published: check the account, then run "
                "amplifier review"
            )
            done = self.store.mark_unknown(
                self.row.id,
                worker_id=self.worker_id,
                reason=reason,
                ambiguous_since=since,
                alerts=self.alerts.unknown(self.row, reason, auth=auth),
            )
            event = "unknown"
        if done:
            log_event(
                self.logger,
                event,
                logging.ERROR,
                **where(self.row),
                reason=reason,
                ambiguous_since=iso(since),
            )
        return self._result(done)
