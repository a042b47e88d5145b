"""The deliveries: one row per (account, slot), claimed before anything is sent.

The database is the single source of truth for "did this slot go out": a delivery row is
written, unique per (account, slot_key), before anything goes over the network, and every later
state move is a compare-and-set UPDATE, so two workers can never both own a row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, insert, update
from sqlalchemy.exc import IntegrityError

from amplifier.errors import StoreError
from amplifier.networks.base import RateLimitWindow
from amplifier.store.base import aware
from amplifier.store.one_sender import ACCOUNT_FREE, ACCOUNT_LOCK, STALE_AFTER
from amplifier.store.outbox import AlertDraft, enqueue_alerts
from amplifier.store.reads import DeliveryReads
from amplifier.store.schema import deliveries, delivery_costs
from amplifier.store.state import save_rotation_checked, save_rotation_row, save_windows
from amplifier.store.threads import rehearsed_parts, thread_values
from amplifier.store.types import (
    Delivery,
    DeliveryDraft,
    DeliveryStatus,
    RotationWrite,
    idempotency_key,
    row_to_delivery,
)

# The statements every delivery runs, built once with their values bound at execute time:
# SQLAlchemy then neither rebuilds nor re-keys them per call (an insert measured ~2.0 ms
# built per call against ~0.7 ms prebuilt, bench/bench_delivery.py's store table).
_OWNED = (
    (deliveries.c.id == bindparam("owned_id"))
    & (deliveries.c.status == "sending")
    & (deliveries.c.claimed_by == bindparam("owned_by"))
)
_INSERT_DELIVERY = insert(deliveries).returning(*deliveries.c)
_INSERT_COST = insert(delivery_costs)
_BEGIN_ATTEMPT = (
    update(deliveries)
    .where(_OWNED & ACCOUNT_FREE)
    .values(
        attempts=deliveries.c.attempts + 1,
        updated_at=bindparam("now", type_=deliveries.c.updated_at.type),
        attempt_at=bindparam("now", type_=deliveries.c.updated_at.type),
    )
    .returning(*deliveries.c)
)
_FINISH = update(deliveries).where(_OWNED)  # SET from the names of the values given


class Deliveries(DeliveryReads):
    """Claims and compare-and-set state moves of the deliveries table (reads in reads.py)."""

    # -- claims and state moves ----------------------------------------------------------------

    def _draft_values(self, draft: DeliveryDraft, now: datetime) -> dict[str, object]:
        return {
            "account": draft.account,
            "network": draft.network,
            "slot_key": draft.slot_key,
            "due_at": aware("due_at", draft.due_at),
            "template_id": draft.template_id,
            "campaign": draft.campaign,
            "text": draft.text,
            "language": draft.language,
            "link": draft.link,
            "content_warning": draft.content_warning,
            "sensitive": draft.sensitive,
            "replies": draft.replies,
            "quotes": draft.quotes,
            "media": json.dumps([[path, alt] for path, alt in draft.media]),
            "idempotency_key": idempotency_key(draft.account, draft.slot_key),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            **thread_values(draft),
        }

    def _insert_delivery(
        self,
        draft: DeliveryDraft,
        values: Mapping[str, object],
        now: datetime,
        rotation: tuple[str, Mapping[str, object]] | RotationWrite | None = None,
        cost_micros: int | None = None,
        alerts: Sequence[AlertDraft] = (),
    ) -> Delivery | None:
        row_values = {**self._draft_values(draft, now), **values}
        with self._guard(f"recording {values['status']} {draft.account} {draft.slot_key}"):
            try:
                with self._engine.begin() as conn:
                    row = conn.execute(_INSERT_DELIVERY, row_values).one()
                    if row_values["status"] == "rehearsed":  # a dry run shows every part at once
                        for values in rehearsed_parts(row_values, draft.thread):
                            conn.execute(_INSERT_DELIVERY, values)
                    # Same transaction: a claim that loses the race leaves rotation as it was.
                    if isinstance(rotation, RotationWrite):
                        save_rotation_checked(
                            conn, rotation.key, rotation.state, rotation.expected, now
                        )
                    elif rotation is not None:
                        save_rotation_row(conn, rotation[0], rotation[1], now)
                    if cost_micros is not None:
                        cost = {
                            "delivery_id": row.id,
                            "account": draft.account,
                            "network": draft.network,
                            "due_at": row_values["due_at"],
                            "cost_micros": cost_micros,
                            "created_at": now,
                        }
                        conn.execute(_INSERT_COST, cost)
                    enqueue_alerts(conn, alerts, now)
                return row_to_delivery(row)
            except IntegrityError:
                pass  # settled below, outside the failed transaction
        if self.get(draft.account, draft.slot_key) is None:
            raise StoreError(f"delivery {draft.account} {draft.slot_key} violates a constraint")
        return None

    def claim_slot(
        self,
        draft: DeliveryDraft,
        *,
        worker_id: str,
        rotation: tuple[str, Mapping[str, object]] | RotationWrite | None = None,
        cost_micros: int | None = None,
        alerts: Sequence[AlertDraft] = (),
    ) -> Delivery | None:
        """Record the slot as 'sending' by this worker; None if the slot already has a row.

        ``rotation`` is saved in the same transaction, so only the winner of a race advances
        the rotation: ``(key, state)`` as it is, a ``RotationWrite`` only if the stored state
        is still the one the decision read (else ``StateMoved``, and nothing is recorded). So
        is ``cost_micros``, what the post costs (X), and are ``alerts`` (the budget's).
        """
        now = self._now()
        values = {"status": "sending", "claimed_by": worker_id, "claimed_at": now}
        return self._insert_delivery(draft, values, now, rotation, cost_micros, alerts)

    def record_missed(self, draft: DeliveryDraft, reason: str) -> Delivery | None:
        """Record a slot that passed while no worker ran; None if the slot already has a row."""
        return self._insert_delivery(draft, {"status": "missed", "last_error": reason}, self._now())

    def record_skipped(
        self, draft: DeliveryDraft, reason: str, alerts: Sequence[AlertDraft] = ()
    ) -> Delivery | None:
        """Record a slot a guard held back (with its ``alerts``); None if it has a row."""
        values = {"status": "skipped", "last_error": reason}
        return self._insert_delivery(draft, values, self._now(), alerts=alerts)

    def record_rehearsed(
        self,
        draft: DeliveryDraft,
        note: str,
        *,
        rotation: tuple[str, Mapping[str, object]] | RotationWrite | None = None,
        cost_micros: int | None = None,
    ) -> Delivery | None:
        """Record a dry run's post, logged and never sent; None if the slot has a row.

        'rehearsed' counts for nothing live (guards, spend, last post); its slot key should
        carry ``REHEARSAL_PREFIX`` so it never takes a live slot. ``rotation`` and
        ``cost_micros`` as for ``claim_slot`` (the rehearsal's own rotation, what it would cost).
        """
        now = self._now()
        values = {"status": "rehearsed", "last_error": note, "sent_at": now}
        return self._insert_delivery(draft, values, now, rotation, cost_micros)

    def begin_attempt(
        self, delivery_id: int, *, worker_id: str, stale_after: timedelta = STALE_AFTER
    ) -> Delivery | None:
        """Count one more publish attempt and mark it in flight, if this worker still owns the
        row, no other live worker (one heard from within ``stale_after``) has an attempt in
        flight for its account and no window of the account is shut; None otherwise
        (``get_by_id`` and ``blocked_until`` tell which).

        On PostgreSQL the account's advisory lock makes two workers' begins take turns, so
        each sees the other's committed attempt; SQLite's write transactions already do.
        """
        now = self._now()
        owner = {
            "owned_id": delivery_id,
            "owned_by": worker_id,
            "now": now,
            "alive_after": now - stale_after,
        }
        with self._write("begin_attempt") as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(ACCOUNT_LOCK, {"owned_id": delivery_id})
            row = conn.execute(_BEGIN_ATTEMPT, owner).one_or_none()
        return None if row is None else row_to_delivery(row)

    def _finish(
        self,
        delivery_id: int,
        worker_id: str,
        ambiguous_since: datetime | None = None,
        rate_limits: tuple[str, Sequence[RateLimitWindow]] | None = None,
        alerts: Sequence[AlertDraft] = (),
        **values: object,
    ) -> bool:
        now = self._now()
        if ambiguous_since is not None:
            values["ambiguous_since"] = aware("ambiguous_since", ambiguous_since)
        with self._write(f"marking delivery {delivery_id} {values['status']}") as conn:
            changes = {"claimed_by": None, "updated_at": now, "attempt_at": None, **values}
            result = conn.execute(
                _FINISH, {"owned_id": delivery_id, "owned_by": worker_id, **changes}
            )
            if rate_limits is not None:  # what the platform said holds whoever owns the row
                save_windows(conn, rate_limits[0], rate_limits[1], now)
            if result.rowcount == 1:  # only the owner's move reports
                enqueue_alerts(conn, alerts, now)
        return result.rowcount == 1

    def mark_published(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        remote_id: str | None,
        url: str | None,
        note: str | None = None,
        rate_limits: tuple[str, Sequence[RateLimitWindow]] | None = None,
    ) -> bool:
        """sending -> published, with the platform's id and URL; False if not owned.

        ``rate_limits=(account, windows)`` from the same answer are saved in the same
        transaction (one commit fewer per post), whether or not the row is still ours.
        """
        return self._finish(
            delivery_id,
            worker_id,
            rate_limits=rate_limits,
            status="published",
            remote_id=remote_id,
            url=url,
            last_error=note,
            retry_at=None,
            sent_at=self._now(),
        )

    def mark_deferred(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        retry_at: datetime,
        reason: str,
        ambiguous_since: datetime | None = None,
    ) -> bool:
        """sending -> deferred until retry_at; False if not owned.

        ``ambiguous_since``: when the earliest attempt that may have landed began, if one may
        have; recorded in its column and never cleared (None leaves the column as it is).
        """
        when = aware("retry_at", retry_at)
        return self._finish(
            delivery_id,
            worker_id,
            ambiguous_since,
            status="deferred",
            retry_at=when,
            last_error=reason,
        )

    def mark_failed(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        reason: str,
        alerts: Sequence[AlertDraft] = (),
    ) -> bool:
        """sending -> failed for good, ``alerts`` enqueued with it; False if not owned."""
        return self._finish(
            delivery_id, worker_id, alerts=alerts, status="failed", retry_at=None,
            last_error=reason,
        )  # fmt: skip

    def mark_unknown(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        reason: str,
        ambiguous_since: datetime | None = None,
        alerts: Sequence[AlertDraft] = (),
    ) -> bool:
        """sending -> unknown (needs an operator's review); False if not owned.

        ``ambiguous_since`` as for ``mark_deferred``; ``alerts`` enqueued with the move.
        """
        return self._finish(
            delivery_id,
            worker_id,
            ambiguous_since,
            alerts=alerts,
            status="unknown",
            retry_at=None,
            last_error=reason,
        )

    def take_over(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        expected_status: DeliveryStatus,
        expected_claimed_by: str | None,
        due_by: datetime | None = None,
    ) -> Delivery | None:
        """Claim a due deferred or an orphaned row; exactly one of racing workers gets it.

        ``due_by``: only if its retry time has come by then. A row read as due may have been
        taken and deferred again meanwhile (a shut rate-limit window, a network error): its new
        retry time is in the future, and it is no longer due.
        """
        now = self._now()
        where = (
            (deliveries.c.id == delivery_id)
            & (deliveries.c.status == expected_status)
            & deliveries.c.claimed_by.is_not_distinct_from(expected_claimed_by)
        )
        if due_by is not None:
            where &= deliveries.c.retry_at <= aware("due_by", due_by)
        with self._write("take_over") as conn:
            row = conn.execute(
                update(deliveries)
                .where(where)
                .values(
                    status="sending",
                    claimed_by=worker_id,
                    claimed_at=now,
                    updated_at=now,
                    attempt_at=None,
                )
                .returning(*deliveries.c)
            ).one_or_none()
        return None if row is None else row_to_delivery(row)

    def hand_back(self, worker_id: str, reason: str) -> list[Delivery]:
        """Every row this worker still holds 'sending' -> deferred, due now, for the next worker.

        For a worker that stops while a request hangs: a row with an attempt counted may have
        landed, so its ``ambiguous_since`` becomes the claim's time (or stays the earlier one)
        and whoever takes it looks first. A compare-and-set like every move: an answer recorded
        first keeps its row, and an answer that comes after finds the row no longer owned.
        """
        now = self._now()
        attempted = deliveries.c.attempts > 0
        since = func.coalesce(deliveries.c.ambiguous_since, deliveries.c.claimed_at)
        with self._write("hand_back") as conn:
            rows = conn.execute(
                update(deliveries)
                .where((deliveries.c.status == "sending") & (deliveries.c.claimed_by == worker_id))
                .values(
                    status="deferred",
                    claimed_by=None,
                    retry_at=now,
                    last_error=reason,
                    ambiguous_since=case((attempted, since), else_=deliveries.c.ambiguous_since),
                    updated_at=now,
                    attempt_at=None,
                )
                .returning(*deliveries.c)
            ).all()
        return [row_to_delivery(row) for row in rows]
