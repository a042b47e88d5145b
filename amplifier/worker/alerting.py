"""The worker's side of alerts: the watch on each housekeeping tick, the sender's thread.

``Alerting`` holds a worker's ``AlertWatch`` (silent workers, the digest, whose "tomorrow"
is the forecast's next day here) and its ``AlertSender``; ``start`` runs the sender on a
thread of its own, so a channel that hangs or fails never holds up a pass or a slot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from amplifier.alerts import AlertRules, AlertSender, AlertWatch
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.forecast import predict
from amplifier.logs import log_exception
from amplifier.store import Store


def tomorrow_lines(
    settings: Settings,
    library: Library,
    store: Store,
    rehearsals: Mapping[str, str] | None,
    now: datetime,
) -> list[str]:
    """Each slot of the next 24 hours, as the forecast decides it, one line each."""
    horizon = now + timedelta(days=1)
    forecast = predict(
        settings, library, store, now, rehearsals=dict(rehearsals or {}), count=None, days=1
    )
    lines: list[str] = []
    for account in forecast.accounts:
        for slot in account.slots:
            if slot.decision is None or slot.slot.due_at > horizon:
                continue
            decision = slot.decision
            at = slot.slot.due_at.astimezone(slot.slot.nominal.tzinfo).strftime("%a %H:%M %Z")
            if decision.action == "send" and decision.planned is not None:
                what = f"{decision.planned.template.id}"
            else:
                what = f"{decision.action}: {decision.reason}"
            dry = " (dry run)" if account.rehearsal else ""
            lines.append(f"{account.account.name}{dry} {at}: {what}")
    return lines


class Alerting:
    """A worker's watch and sender (the sender None when no channel is configured)."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        store: Store,
        rules: AlertRules,
        *,
        worker_id: str,
        rehearsals: Mapping[str, str] | None,
        sender: AlertSender | None,
        logger: logging.Logger,
    ) -> None:
        self.rules = rules
        self.sender = sender
        self.logger = logger
        self.watch = AlertWatch(
            store,
            rules,
            worker_id=worker_id,
            tomorrow=lambda now: tomorrow_lines(settings, library, store, rehearsals, now),
        )

    def check(self, now: datetime) -> None:
        """The watch, never failing the pass that calls it."""
        if not self.rules.settings.events:
            return
        try:
            self.watch.check(now)
        except Exception:
            log_exception(self.logger, "alert-watch-failed", logging.WARNING)

    def start(self, stop: threading.Event, every: float = 5.0) -> Sequence[threading.Thread]:
        """The sender's thread, if there is a channel to send to."""
        return [] if self.sender is None else [self.sender.start(stop, every)]

    def join(self, timeout: float) -> None:
        """After ``stop`` is set: wait (bounded) for a drain in flight to record what it sent,
        so a clean stop leaves no claim for the next worker to wait out."""
        thread = None if self.sender is None else self.sender.thread
        if thread is not None:
            thread.join(timeout)
