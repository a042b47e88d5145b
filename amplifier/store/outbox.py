"""The alert outbox: alerts enqueued with the change they report, drained by claim-with-lease.

``enqueue_alerts(conn, drafts, now)`` inserts in the caller's transaction, ignoring a draft
whose ``dedup_key`` is stored already, so an event is enqueued once whoever records it and
however often. A sender claims pending rows for a lease (``claim_alerts``): a row claimed by
a live sender is not claimable by another until the lease runs out, so two senders never send
one row at once, and a sender killed mid-send leaves its rows to the next one after the lease.
Each channel that took a row is added to ``sent_to`` (a short fingerprint of the channel,
never its address); the row is done (``sent_at``) once every channel has it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from amplifier.store.base import StoreBase, aware, dialect_insert
from amplifier.store.schema import alert_outbox, workers


@dataclass(frozen=True)
class AlertDraft:
    """One alert to enqueue. ``urgent`` ones are sent during quiet hours too."""

    event: str
    dedup_key: str
    subject: str
    body: str
    account: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class OutboxRow:
    """An alert as stored."""

    id: int
    dedup_key: str
    event: str
    account: str | None
    subject: str
    body: str
    urgent: bool
    created_at: datetime
    attempts: int
    sent_to: frozenset[str]
    sent_at: datetime | None
    last_error: str | None


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=int(row.id),
        dedup_key=row.dedup_key,
        event=row.event,
        account=row.account,
        subject=row.subject,
        body=row.body,
        urgent=bool(row.urgent),
        created_at=row.created_at,
        attempts=int(row.attempts),
        sent_to=frozenset(part for part in row.sent_to.split(",") if part),
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def enqueue_alerts(conn: Connection, drafts: Sequence[AlertDraft], now: datetime) -> None:
    """Insert each draft in the caller's transaction; one whose key is stored is ignored."""
    if not drafts:
        return
    statement = (
        dialect_insert(conn.dialect.name)(alert_outbox)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .values(
            dedup_key=bindparam("dedup_key"),
            event=bindparam("event"),
            account=bindparam("account"),
            subject=bindparam("subject"),
            body=bindparam("body"),
            urgent=bindparam("urgent"),
            created_at=bindparam("now", type_=alert_outbox.c.created_at.type),
            next_try_at=bindparam("now", type_=alert_outbox.c.created_at.type),
            attempts=0,
            sent_to="",
        )
    )
    seen: set[str] = set()
    for draft in drafts:
        if draft.dedup_key in seen:
            continue
        seen.add(draft.dedup_key)
        values = {
            "dedup_key": draft.dedup_key,
            "event": draft.event,
            "account": draft.account,
            "subject": draft.subject,
            "body": draft.body,
            "urgent": 1 if draft.urgent else 0,
            "now": now,
        }
        conn.execute(statement, values)


class AlertOutbox(StoreBase):
    """Enqueue, claim (with a lease) and settle the outbox's alerts."""

    def enqueue_alerts(self, drafts: Sequence[AlertDraft]) -> None:
        """Enqueue alerts not tied to another change (a check at start, a silent worker)."""
        if drafts:
            with self._write("enqueue_alerts") as conn:
                enqueue_alerts(conn, drafts, self._now())

    def claim_alerts(
        self,
        sender: str,
        *,
        lease: timedelta,
        urgent_only: bool = False,
        limit: int = 200,
        stale_after: timedelta | None = None,
    ) -> list[OutboxRow]:
        """Pending rows due now and unclaimed, claimed by ``sender`` until now + ``lease``;
        oldest first. A claim is free again once its lease ran out or, with ``stale_after``,
        once its sender is a worker whose heartbeat is older than that (killed mid-send).
        ``urgent_only``: quiet hours hold the others."""
        now = self._now()
        c = alert_outbox.c
        free_claim = c.lease_until.is_(None) | (c.lease_until < now)
        if stale_after is not None:
            silent = select(workers.c.worker_id).where(workers.c.seen_at < now - stale_after)
            free_claim |= c.claimed_by.in_(silent.scalar_subquery())
        due = c.sent_at.is_(None) & (c.next_try_at <= now) & free_claim
        if urgent_only:
            due &= c.urgent == 1
        # SKIP LOCKED: two PostgreSQL senders never wait on (nor both take) one row; SQLite's
        # writers queue up anyway (BEGIN IMMEDIATE), and it ignores FOR UPDATE.
        free = select(c.id).where(due).order_by(c.id).limit(limit).with_for_update(skip_locked=True)
        with self._write("claim_alerts") as conn:
            rows = conn.execute(
                update(alert_outbox)
                .where(c.id.in_(free.scalar_subquery()) & due)
                .values(claimed_by=sender, lease_until=now + lease)
                .returning(*alert_outbox.c)
            ).all()
        return sorted((_row(row) for row in rows), key=lambda row: row.id)

    def renew_alert_claims(
        self, sender: str, ids: Collection[int], *, lease: timedelta
    ) -> set[int]:
        """The rows of ``ids`` still claimed by ``sender`` and unsent, their lease renewed to
        now + ``lease``: the sender sends only these, so a claim that ran out or was taken
        over while it sent to another channel is never sent again by it."""
        if not ids:
            return set()
        c = alert_outbox.c
        with self._write("renew_alert_claims") as conn:
            held = conn.execute(
                update(alert_outbox)
                .where(c.id.in_(list(ids)) & (c.claimed_by == sender) & c.sent_at.is_(None))
                .values(lease_until=self._now() + lease)
                .returning(c.id)
            ).scalars()
            return {int(row_id) for row_id in held}

    def alerts_delivered(
        self, sender: str, ids: Collection[int], channel: str, channels: Collection[str]
    ) -> None:
        """``channel`` took these rows; a row every one of ``channels`` has is sent.

        Recorded whoever holds the claim now: that the channel has them stays true even if
        the claim ran out meanwhile, and a later claim must not send them to it again."""
        if not ids:
            return
        now = self._now()
        c = alert_outbox.c
        with self._write("alerts_delivered") as conn:
            # FOR UPDATE: a second sender recording the same row waits (PostgreSQL), so
            # neither's channel is lost from sent_to; SQLite's writers queue up anyway.
            held = conn.execute(
                select(c.id, c.sent_to).where(c.id.in_(list(ids))).with_for_update()
            ).all()
            for row_id, sent_to in held:
                taken = {part for part in sent_to.split(",") if part} | {channel}
                done = set(channels) <= taken
                conn.execute(
                    update(alert_outbox)
                    .where(c.id == row_id)
                    .values(
                        sent_to=",".join(sorted(taken)),
                        sent_at=func.coalesce(c.sent_at, now) if done else c.sent_at,
                    )
                )

    def alerts_release(
        self,
        sender: str,
        ids: Collection[int],
        failed: Mapping[int, tuple[datetime, str]] | None = None,
    ) -> None:
        """Give the rows back in one transaction: those in ``failed`` (id -> (retry time,
        what failed)) wait until then with one attempt more; the others as they are (sent
        ones keep ``sent_at``)."""
        failed = dict(failed or {})
        plain = [row_id for row_id in ids if row_id not in failed]
        if not plain and not failed:
            return
        c = alert_outbox.c
        mine = c.claimed_by == sender
        free = {"claimed_by": None, "lease_until": None}
        groups: dict[tuple[datetime, str], list[int]] = {}
        for row_id, (retry_at, error) in failed.items():
            groups.setdefault((aware("retry_at", retry_at), error), []).append(row_id)
        with self._write("alerts_release") as conn:
            if plain:
                conn.execute(update(alert_outbox).where(c.id.in_(plain) & mine).values(**free))
            for (retry_at, error), group in groups.items():
                conn.execute(
                    update(alert_outbox)
                    .where(c.id.in_(group) & mine)
                    .values(
                        **free,
                        attempts=c.attempts + 1,
                        last_error=error,
                        next_try_at=retry_at,
                    )
                )

    def alerts(self, *, pending: bool | None = None) -> list[OutboxRow]:
        """Every alert (``pending``: only unsent ones; False: only sent ones), oldest first."""
        query = select(alert_outbox).order_by(alert_outbox.c.id)
        if pending is True:
            query = query.where(alert_outbox.c.sent_at.is_(None))
        elif pending is False:
            query = query.where(alert_outbox.c.sent_at.is_not(None))
        with self._read("alerts") as conn:
            return [_row(row) for row in conn.execute(query)]

    def alert_keys(self, prefix: str) -> set[str]:
        """The dedup keys stored that start with ``prefix``."""
        query = select(alert_outbox.c.dedup_key).where(alert_outbox.c.dedup_key.startswith(prefix))
        with self._read("alert_keys") as conn:
            return set(conn.execute(query).scalars())

    def pending_alert_count(self) -> int:
        query = select(func.count()).where(alert_outbox.c.sent_at.is_(None))
        with self._read("pending_alert_count") as conn:
            return int(conn.execute(query).scalar_one())

    def workers_seen(self) -> dict[str, datetime]:
        """Every worker's last heartbeat, by worker id."""
        with self._read("workers_seen") as conn:
            return {row.worker_id: row.seen_at for row in conn.execute(select(workers))}
