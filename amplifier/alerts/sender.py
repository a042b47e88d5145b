"""The sender: drains the outbox on its own thread, so a channel never delays a post.

Each drain claims the due rows for a lease (``Store.claim_alerts``), then, per channel, sends
the rows that channel lacks as ONE message (a storm of fifty failures is one message listing
them), records which channel took which rows, and gives the rest back with a backoff. Quiet
hours hold all but urgent alerts. Two senders (two workers) never claim one row; a sender
killed mid-drain leaves its rows to the next after the lease. Before each channel the claim
is renewed and only rows still held are sent; a channel's acceptance is recorded at once,
even if the claim ran out meanwhile. Never lost, but at least once: a channel that took a
message whose acceptance was never recorded (a kill mid-request or before the record, an
answer lost or later than the read timeout) gets it again; channels take no idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from amplifier.alerts import messages
from amplifier.alerts.channels import Timeouts, fingerprint, label, send, url_secrets
from amplifier.config import AlertSettings
from amplifier.logs import RedactSecrets, log_event, log_exception
from amplifier.store import OutboxRow, Store

LOGGER = logging.getLogger("amplifier.alerts")

Clock = Callable[[], datetime]


def in_quiet_hours(settings: AlertSettings, now: datetime) -> bool:
    """Whether ``now`` falls in the quiet hours (read in the alerts' timezone)."""
    quiet = settings.quiet
    if quiet is None:
        return False
    start, end = quiet
    local = now.astimezone(ZoneInfo(settings.timezone)).time().replace(tzinfo=None)
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # over midnight


def compose(rows: Sequence[OutboxRow]) -> tuple[str, str]:
    """One message for these rows: the alert itself, or a title and every alert listed."""
    if len(rows) == 1:
        return rows[0].subject, rows[0].body
    title = messages.coalesced([row.subject for row in rows])
    body = "\n\n".join(f"{n}. {row.subject}\n{row.body}" for n, row in enumerate(rows, 1))
    return title, body


class AlertSender:
    """Drains the outbox to ``urls``; ``drain`` once, or ``start`` a thread doing it."""

    def __init__(
        self,
        store: Store,
        urls: Sequence[str],
        settings: AlertSettings,
        *,
        sender_id: str,
        secrets: Sequence[str] = (),
        clock: Clock = lambda: datetime.now(UTC),
        timeouts: Timeouts | None = None,
        lease: timedelta = timedelta(minutes=10),
        backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
        stale_after: timedelta | None = None,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.store = store
        self.urls = list(urls)
        self.settings = settings
        self.sender_id = sender_id
        self.clock = clock
        self.timeouts = timeouts or Timeouts()
        self.lease = lease
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.limit = 200  # alerts per claim (per message, at most)
        # A worker's sender (sender_id its worker id): a claim of a worker silent this long is
        # taken over, as its deliveries are, instead of waiting for the lease.
        self.stale_after = stale_after
        self.logger = logger
        self.redactor = RedactSecrets([*secrets, *url_secrets(self.urls)])
        self.channels = [fingerprint(url) for url in self.urls]
        self.thread: threading.Thread | None = None

    def drain(self) -> int:
        """One drain: every due alert to every channel lacking it; returns how many alerts
        were fully sent."""
        if not self.urls:
            return 0
        now = self.clock()
        rows = self.store.claim_alerts(
            self.sender_id,
            lease=self.lease,
            urgent_only=in_quiet_hours(self.settings, now),
            limit=self.limit,
            stale_after=self.stale_after,
        )
        if not rows:
            return 0
        errors: dict[int, str] = {}
        lost: set[int] = set()  # claims no longer ours: another sender has them
        try:
            for index, (url, channel) in enumerate(zip(self.urls, self.channels, strict=True)):
                wanting = [row for row in rows if channel not in row.sent_to]
                # Still ours? (a slow channel before this one may have outlasted the lease)
                held = self.store.renew_alert_claims(
                    self.sender_id, [row.id for row in wanting], lease=self.lease
                )
                lost |= {row.id for row in wanting if row.id not in held}
                wanting = [row for row in wanting if row.id in held]
                if wanting:
                    name = label(url, index + 1)
                    error = self._send(url, name, wanting)
                    if error is None:
                        # At once, in a transaction of its own: a kill after the channel took
                        # the message and before this commit is the window for a repeat.
                        ids = [row.id for row in wanting]
                        self.store.alerts_delivered(self.sender_id, ids, channel, self.channels)
                        log_event(self.logger, "alert-sent", channel=name, alerts=len(ids))
                    else:
                        errors |= {row.id: f"{name}: {error}" for row in wanting}
        finally:
            self._release(rows, errors)
        return len(rows) - len(errors.keys() | lost)

    def _send(self, url: str, name: str, rows: Sequence[OutboxRow]) -> str | None:
        title, body = compose(rows)
        title, body = self.redactor.redact(title), self.redactor.redact(body)
        error = send(url, title, body, timeouts=self.timeouts, redact=self.redactor.redact)
        if error is not None:
            log_event(
                self.logger, "alert-failed", logging.WARNING, channel=name, alerts=len(rows),
                reason=error, then="retried with backoff",
            )  # fmt: skip
        return error

    def _release(self, rows: Sequence[OutboxRow], errors: dict[int, str]) -> None:
        now = self.clock()
        failed = {
            row.id: (now + min(self.max_backoff, self.backoff * 2**row.attempts), errors[row.id])
            for row in rows
            if row.id in errors
        }
        self.store.alerts_release(self.sender_id, [row.id for row in rows], failed)

    def start(self, stop: threading.Event, every: float = 5.0) -> threading.Thread:
        """A daemon thread draining every ``every`` seconds until ``stop`` is set."""

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.drain()
                except Exception:  # the database or a channel's bug: try again next time
                    log_exception(self.logger, "alert-drain-failed")
                stop.wait(every)

        thread = threading.Thread(target=loop, name="amplifier-alerts", daemon=True)
        thread.start()
        self.thread = thread
        return thread
