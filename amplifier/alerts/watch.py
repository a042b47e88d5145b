"""What any live process notices: a worker gone silent, and the digest's time come.

``AlertWatch.check(now)`` enqueues one ``heartbeat-silent`` alert per silence (keyed by the
silent worker's last heartbeat, so a worker that comes back and goes silent again gives a new
one), one ``worker-stopped`` alert when no worker has run for longer than the same threshold
since the last one stopped cleanly while the campaign is not paused (keyed by that stop), and
the day's digest once its local time has come (keyed by the local date, so two workers
enqueue it once). A worker runs it on every housekeeping tick, ``amplifier status --alert``
once; the console runs ``workers`` (the two about workers) on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from amplifier.alerts.digest import digest_text
from amplifier.alerts.events import AlertRules
from amplifier.store import AlertDraft, Store

# How long after its time a digest is still sent (a worker started later sends none that day).
DIGEST_WINDOW = timedelta(hours=6)

Tomorrow = Callable[[datetime], Sequence[str]]


class AlertWatch:
    """Silent workers and the digest, for the process ``worker_id`` (None: not a worker)."""

    def __init__(
        self,
        store: Store,
        rules: AlertRules,
        *,
        worker_id: str | None = None,
        tomorrow: Tomorrow | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.worker_id = worker_id
        self.tomorrow = tomorrow

    def silent(self, now: datetime) -> list[AlertDraft]:
        """An alert for each other worker unheard of for longer than the threshold."""
        limit = timedelta(minutes=self.rules.settings.heartbeat_silent_longer_than_minutes)
        drafts: list[AlertDraft] = []
        for worker, seen_at in sorted(self.store.workers_seen().items()):
            if worker != self.worker_id and now - seen_at > limit:
                drafts += self.rules.silent(worker, seen_at, now)
        return drafts

    def stopped(self, now: datetime) -> list[AlertDraft]:
        """An alert when no worker has run for longer than the threshold since the last one
        stopped cleanly (counted from a resume, if later), unless the campaign is paused.

        A worker that started after that stop is live, or went silent (its own alert): none.
        """
        if not self.rules.wants("worker-stopped"):
            return []
        stop = self.store.last_worker_stop()
        if stop is None or any(seen >= stop.at for seen in self.store.workers_seen().values()):
            return []
        paused, _, flipped = self.store.paused()
        if paused:
            return []
        since = stop.at if flipped is None else max(stop.at, flipped)
        limit = timedelta(minutes=self.rules.settings.heartbeat_silent_longer_than_minutes)
        if now - since <= limit:
            return []
        return self.rules.stopped(stop, since, now)

    def workers(self, now: datetime) -> list[AlertDraft]:
        """Both alerts about workers: each silent one, and none running at all."""
        return [*self.silent(now), *self.stopped(now)]

    def digest(self, now: datetime) -> list[AlertDraft]:
        """The day's digest, if its time has come and it is not enqueued yet."""
        at = self.rules.settings.digest_time
        if at is None or not self.rules.wants("digest"):
            return []
        zone = ZoneInfo(self.rules.settings.timezone)
        local = now.astimezone(zone)
        due = datetime.combine(local.date(), at, tzinfo=zone)
        if not due <= local < due + DIGEST_WINDOW:
            return []
        day = local.date().isoformat()
        if self.store.alert_keys(f"digest:{day}"):
            return []  # enqueued already: spare the reads
        coming = self.tomorrow(now) if self.tomorrow is not None else []
        subject, body = digest_text(self.store, now, day, coming)
        return self.rules.digest(day, subject, body)

    def check(self, now: datetime) -> list[AlertDraft]:
        """Enqueue what is due now; returns the drafts offered (the store keeps each once)."""
        drafts = [*self.workers(now), *self.digest(now)]
        self.store.enqueue_alerts(drafts)
        return drafts
