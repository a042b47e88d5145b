"""Threads in the store: each part its own row, the next claimed only after the last landed.

The first part is claimed with the slot like any post (``Store.claim_slot``), carrying the
later parts as decided (``thread_rest``). Part k+1's row is written, 'sending' and claimed,
only once part k is 'published' (``claim_next_part``): unique per (account, slot key) like
every row, so two workers never both claim it, and it records what it replies to (part k's
id and the first part's), so every attempt, before and after a restart, answers the same
posts. While a thread is unfinished its account posts nothing else (``open_thread``): the
worker holds the account's slots, post-now and deferred posts until the last part is settled.

A part whose answer is lost stays 'sending', 'deferred' or 'unknown' like any post: the next
part waits for recovery (or review) to settle it. A part that failed ends the thread: the
parts after it are not sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.exc import IntegrityError

from amplifier.store.reads import DeliveryReads
from amplifier.store.schema import deliveries
from amplifier.store.types import (
    Delivery,
    DeliveryDraft,
    PartDraft,
    idempotency_key,
    part_slot_key,
    rest_json,
    row_to_delivery,
)

UNSETTLED = ("sending", "deferred", "unknown")

NEXT = deliveries.alias("next_part")
# A published part whose next part has no row yet: the thread goes on from it.
_WAITS_FOR_NEXT = (
    (deliveries.c.status == "published")
    & (deliveries.c.thread_part < deliveries.c.thread_size)
    & ~exists().where(
        (NEXT.c.account == deliveries.c.account)
        & (NEXT.c.thread_key == deliveries.c.thread_key)
        & (NEXT.c.thread_part == deliveries.c.thread_part + 1)
    )
)
_OPEN = deliveries.c.thread_key.is_not(None) & (
    deliveries.c.status.in_(UNSETTLED) | _WAITS_FOR_NEXT
)


def thread_values(draft: DeliveryDraft) -> dict[str, object]:
    """The thread columns of a first part's row (none for a post alone)."""
    if not draft.thread:
        return {}
    return {
        "thread_key": draft.slot_key,
        "thread_part": 1,
        "thread_size": 1 + len(draft.thread),
        "thread_rest": rest_json(draft.thread),
    }


def _part_values(first: Mapping[str, Any], part: int, draft: PartDraft) -> dict[str, Any]:
    """A later part's row from its first part's values: the text and link its own, no images."""
    assert first["thread_key"] is not None
    key = part_slot_key(str(first["thread_key"]), part)
    values = {
        **first,
        "slot_key": key,
        "idempotency_key": idempotency_key(str(first["account"]), key),
        "text": draft.text,
        "link": draft.link,
        "media": "[]",
        "sensitive": False,
        "thread_part": part,
        "thread_rest": None,
    }
    values.pop("id", None)
    return values


def rehearsed_parts(
    first: Mapping[str, Any], rest: tuple[PartDraft, ...]
) -> Iterator[dict[str, Any]]:
    """A rehearsed thread's later parts, rehearsed with it (a dry run sends nothing to wait on)."""
    for part, draft in enumerate(rest, 2):
        yield _part_values(first, part, draft)


_INSERT = insert(deliveries).returning(*deliveries.c)


class ThreadParts(DeliveryReads):
    """The rows of a thread's later parts, and which threads are unfinished."""

    def claim_next_part(
        self, previous: Delivery, *, worker_id: str, reason_if_lost: str | None = None
    ) -> Delivery | None:
        """The row of the part after ``previous`` (published), 'sending' and claimed by this
        worker, replying to it; None if that row exists already (another worker has it).

        When ``previous`` has no id of the network's (its publication was confirmed without
        one, or resolved by hand), nothing can reply to it: the part is recorded 'failed' with
        why, which ends the thread, rather than posted out of the chain.
        """
        assert previous.thread_key is not None and previous.thread_part is not None
        first = self.get(previous.account, previous.thread_key)
        if first is None or previous.thread_part - 1 >= len(first.thread_rest):
            return None
        now = self._now()
        with self._guard(f"claiming part {previous.thread_part + 1} of {previous.thread_key}"):
            with self._engine.connect() as conn:
                base = (
                    conn.execute(select(deliveries).where(deliveries.c.id == first.id))
                    .one()
                    ._asdict()
                )
            values = _part_values(
                base, previous.thread_part + 1, first.thread_rest[previous.thread_part - 1]
            )
            values.update(
                status="sending",
                attempts=0,
                remote_id=None,
                url=None,
                last_error=None,
                retry_at=None,
                ambiguous_since=None,
                sent_at=None,
                attempt_at=None,
                claimed_by=worker_id,
                claimed_at=now,
                created_at=now,
                updated_at=now,
                reply_to=previous.remote_id,
                reply_root=first.remote_id,
            )
            if not previous.remote_id or not first.remote_id:
                values.update(
                    status="failed",
                    claimed_by=None,
                    last_error=reason_if_lost
                    or (
                        f"part {previous.thread_part} went out but its id is not known, so "
                        "nothing can reply to it: the rest of the thread was not sent"
                    ),
                )
            try:
                with self._engine.begin() as conn:
                    row = conn.execute(_INSERT, values).one()
            except IntegrityError:
                return None
        return row_to_delivery(row)

    def threads_to_continue(self) -> list[Delivery]:
        """Published parts whose next part has no row yet (a worker stopped in between), oldest
        first: each thread goes on from there."""
        query = (
            select(deliveries)
            .where(deliveries.c.thread_key.is_not(None) & _WAITS_FOR_NEXT)
            .order_by(deliveries.c.due_at, deliveries.c.id)
        )
        with self._read("threads_to_continue") as conn:
            return [row_to_delivery(row) for row in conn.execute(query)]

    def open_thread(self, account: str, *, besides: str | None = None) -> Delivery | None:
        """The part of the account's unfinished thread (other than ``besides``, a thread key)
        that holds it: in flight, waiting for its answer or review, or published with the next
        part not yet claimed. None when the account has none."""
        where = and_(deliveries.c.account == account, _OPEN)
        if besides is not None:
            where &= deliveries.c.thread_key != besides
        query = select(deliveries).where(where).order_by(deliveries.c.id).limit(1)
        with self._read("open_thread") as conn:
            row = conn.execute(query).first()
        return None if row is None else row_to_delivery(row)
