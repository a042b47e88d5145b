"""The console's reads: history a page at a time, counts by state, heartbeats, a health ping.

Every read here is answered from an index (migration 0009), so a page costs the same with a
million deliveries as with a thousand: history pages by keyset, never OFFSET, and every filter
has an index led by it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, not_, select, text, true
from sqlalchemy.sql.elements import ColumnElement

from amplifier.store.base import aware
from amplifier.store.reads import DeliveryReads
from amplifier.store.schema import deliveries, workers
from amplifier.store.types import Delivery


@dataclass(frozen=True)
class HistoryQuery:
    """Which rows a history page shows; ``before`` is the last row of the page before it."""

    account: str | None = None
    status: str | None = None
    campaign: str | None = None
    post: str | None = None
    since: datetime | None = None  # due at or after
    until: datetime | None = None  # due before
    before: tuple[datetime, int] | None = None  # (due_at, id) of the previous page's last row
    limit: int = 50


class ConsoleReads(DeliveryReads):
    """Reads for the console's pages (the worker never makes them)."""

    def history_page(self, query: HistoryQuery) -> list[Delivery]:
        """Rows newest due first (ties: newest id), after ``query.before``, up to ``limit``."""
        c = deliveries.c
        where: ColumnElement[bool] = true()
        for column, value in (
            (c.account, query.account),
            (c.status, query.status),
            (c.campaign, query.campaign),
            (c.template_id, query.post),
        ):
            if value is not None:
                where = where & (column == value)
        if query.since is not None:
            where = where & (c.due_at >= aware("since", query.since))
        if query.until is not None:
            where = where & (c.due_at < aware("until", query.until))
        if query.before is not None:
            due, row_id = aware("before", query.before[0]), query.before[1]
            # A range the index answers, then the few rows of that very moment left out.
            where = where & (c.due_at <= due) & not_(and_(c.due_at == due, c.id >= row_id))
        return self._select("history_page", where, c.due_at.desc(), c.id.desc(), limit=query.limit)

    def count_by_status(self, statuses: Collection[str]) -> dict[tuple[str, str], int]:
        """{(account, status): rows} for these statuses (few rows: deferred, unknown...)."""
        query = (
            select(deliveries.c.account, deliveries.c.status, func.count())
            .where(deliveries.c.status.in_(sorted(statuses)))
            .group_by(deliveries.c.account, deliveries.c.status)
        )
        with self._read("count_by_status") as conn:
            return {(row[0], row[1]): int(row[2]) for row in conn.execute(query)}

    def heartbeats(self) -> list[tuple[str, datetime]]:
        """(worker id, last seen) of every worker that has not said goodbye, newest first."""
        query = select(workers.c.worker_id, workers.c.seen_at).order_by(workers.c.seen_at.desc())
        with self._read("heartbeats") as conn:
            return [(row.worker_id, row.seen_at) for row in conn.execute(query)]

    def ping(self) -> None:
        """A round trip to the database; StoreError when it cannot be reached."""
        with self._read("ping") as conn:
            conn.execute(text("SELECT 1"))
