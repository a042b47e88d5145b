"""The events: which state change makes which alert, with the key that makes it happen once.

``AlertRules`` turns a change into ``AlertDraft``s, which the store enqueues in the change's
own transaction. An event the settings leave out gives none. Every subject and body is
scrubbed of the deployment's secret values (credentials, the database password, the alert
URLs and their parts) before it is stored, and again before it is sent.

Keys, so each event is enqueued once whoever records it, and again for a new occurrence:

    delivery-failed       failed:<delivery id>
    needs-review          unknown:<delivery id>
    credentials-refused   credentials:<delivery id>
    rate-limited          rate-limited:<account>:<window>:<reset time>
    x-spend               x-spend:<scope>:<UTC month>:<80|100>
    check-failed          check-failed:<digest of the problems>
    heartbeat-silent      silent:<worker>:<its last heartbeat>
    worker-stopped        stopped:<worker>:<when it stopped>
    digest                digest:<local date>
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from amplifier.alerts import messages
from amplifier.alerts.channels import url_secrets
from amplifier.config import AlertEvent, AlertSettings, Settings
from amplifier.guards import usd
from amplifier.logs import RedactSecrets
from amplifier.store import AlertDraft, Delivery, WorkerStop

# Not held by quiet hours: each needs someone soon, or was asked for at its time.
URGENT: frozenset[str] = frozenset(
    {"credentials-refused", "heartbeat-silent", "worker-stopped", "digest"}
)
THRESHOLDS = (80, 100)


class AlertRules:
    """Builds the drafts of the events ``settings`` chooses; ``secrets`` never appear in one."""

    def __init__(self, settings: AlertSettings, secrets: Iterable[str] = ()) -> None:
        self.settings = settings
        self.redactor = RedactSecrets(secrets)

    @classmethod
    def off(cls) -> AlertRules:
        """Rules that enqueue nothing (no channel configured)."""
        return cls(AlertSettings(events=()))

    def wants(self, event: AlertEvent) -> bool:
        return event in self.settings.events

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def _draft(
        self, event: AlertEvent, key: str, words: tuple[str, str], account: str | None = None
    ) -> list[AlertDraft]:
        if not self.wants(event):
            return []
        subject, body = (self.redact(part) for part in words)
        urgent = event in URGENT
        return [AlertDraft(event, key, subject, body, account=account, urgent=urgent)]

    # -- deliveries ----------------------------------------------------------------------------

    def failed(self, row: Delivery, reason: str, *, auth: bool = False) -> list[AlertDraft]:
        """A delivery failed for good; ``auth``: because the credentials were refused."""
        if auth:
            words = messages.credentials_refused(row, reason)
            return self._draft("credentials-refused", f"credentials:{row.id}", words, row.account)
        return self._draft(
            "delivery-failed", f"failed:{row.id}", messages.failed(row, reason), row.account
        )

    def unknown(self, row: Delivery, reason: str, *, auth: bool = False) -> list[AlertDraft]:
        """A delivery's outcome is unknown: it needs an operator's review."""
        words = messages.needs_review(row, reason, self.settings.console_url)
        drafts = self._draft("needs-review", f"unknown:{row.id}", words, row.account)
        return drafts + (self.failed(row, reason, auth=True) if auth else [])

    def rate_limited(
        self, account: str, window: str, until: datetime, now: datetime
    ) -> list[AlertDraft]:
        """A rate limit longer than the threshold; none for a shorter one."""
        threshold = timedelta(minutes=self.settings.rate_limited_longer_than_minutes)
        if until - now <= threshold:
            return []
        key = f"rate-limited:{account}:{window}:{until.isoformat()}"
        words = messages.rate_limited(account, window, until, now)
        return self._draft("rate-limited", key, words, account)

    def spend(
        self, scope: str, month: str, spent_before: int, spent_after: int, limit: int
    ) -> list[AlertDraft]:
        """The thresholds (80 %, 100 %) of a monthly budget that this spend crosses."""
        drafts: list[AlertDraft] = []
        for percent in THRESHOLDS:
            line = limit * percent // 100
            if limit > 0 and spent_before < line <= spent_after:
                drafts += self._spend(scope, month, percent, spent_after, limit)
        return drafts

    def budget_refused(self, scope: str, month: str, spent: int, limit: int) -> list[AlertDraft]:
        """A post refused for the budget: the 100 % alert (once a month, whichever comes)."""
        return self._spend(scope, month, 100, spent, limit)

    def _spend(
        self, scope: str, month: str, percent: int, spent: int, limit: int
    ) -> list[AlertDraft]:
        words = messages.x_spend(scope, percent, usd(spent), usd(limit), month)
        return self._draft("x-spend", f"x-spend:{scope}:{month}:{percent}", words)

    # -- the deployment ------------------------------------------------------------------------

    def check_failed(self, invalid: int, problems: Sequence[str]) -> list[AlertDraft]:
        if not invalid:
            return []
        digest = hashlib.sha256("\n".join(sorted(problems)).encode()).hexdigest()[:16]
        words = messages.check_failed(invalid, problems)
        return self._draft("check-failed", f"check-failed:{digest}", words)

    def silent(self, worker: str, seen_at: datetime, now: datetime) -> list[AlertDraft]:
        key = f"silent:{worker}:{seen_at.isoformat()}"
        return self._draft("heartbeat-silent", key, messages.heartbeat_silent(worker, seen_at, now))

    def stopped(self, stop: WorkerStop, since: datetime, now: datetime) -> list[AlertDraft]:
        """No worker since ``since`` (the last one's clean stop, or the resume after it)."""
        key = f"stopped:{stop.worker_id}:{stop.at.isoformat()}"
        return self._draft("worker-stopped", key, messages.worker_stopped(stop, since, now))

    def digest(self, day: str, subject: str, body: str) -> list[AlertDraft]:
        return self._draft("digest", f"digest:{day}", (subject, body))


def rules_for(settings: Settings, urls: Sequence[str], secrets: Iterable[str]) -> AlertRules:
    """The rules of a deployment: off without a channel; else its events, scrubbed of
    ``secrets`` and of the channels' URLs."""
    if not urls:
        return AlertRules.off()
    return AlertRules(settings.alerts, [*secrets, *url_secrets(urls)])
