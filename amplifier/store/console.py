"""The console's reads: history a page at a time, counts by state, heartbeats, a health ping.

Every read here is answered from an index (migration 0010), so a page costs the same with a
million deliveries as with a thousand: history pages by keyset, never OFFSET, and every filter
has an index led by it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, func, not_, select, text, true
from sqlalchemy.sql.elements import ColumnElement

from amplifier.store.base import aware
from amplifier.store.reads import DeliveryReads
from amplifier.store.schema import UTCDateTime, deliveries, delivery_costs, workers


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


class HistoryLine(NamedTuple):
    """One row of a history page: what the page shows of a delivery, and its recorded cost."""

    id: int
    account: str
    status: str
    template_id: str
    due_at: datetime
    url: str | None
    retry_at: datetime | None
    last_error: str | None
    ambiguous_since: datetime | None
    cost_micros: int | None


class ReviewLine(NamedTuple):
    """One delivery awaiting review: what the review page shows of it."""

    id: int
    account: str
    template_id: str
    due_at: datetime
    attempts: int
    ambiguous_since: datetime | None
    last_error: str | None
    language: str | None
    text: str
    url: str | None


_REVIEW = (
    select(*[getattr(deliveries.c, name) for name in ReviewLine._fields])
    .where(deliveries.c.status == "unknown")
    .order_by(deliveries.c.due_at.desc(), deliveries.c.id.desc())
    .limit(bindparam("p_limit"))
)
_PAGES: dict[frozenset[str], Select[Any]] = {}
# Only the columns a page shows (each datetime is parsed on SQLite), the cost joined in: one
# statement per page, no Delivery objects (their JSON and two dozen fields cost more than the SQL).
_LINE_COLUMNS: list[Any] = [getattr(deliveries.c, name) for name in HistoryLine._fields[:-1]]


def _page_statement(given: frozenset[str]) -> Select[Any]:
    """The history page's statement for this set of filters, built once and kept: building
    and cache-keying a statement per request costs more than running it."""
    found = _PAGES.get(given)
    if found is not None:
        return found
    c = deliveries.c
    where: ColumnElement[bool] = true()
    for column, name in (
        (c.account, "p_account"),
        (c.status, "p_status"),
        (c.campaign, "p_campaign"),
        (c.template_id, "p_post"),
    ):
        if name in given:
            where = where & (column == bindparam(name))
    if "p_since" in given:
        where = where & (c.due_at >= bindparam("p_since", type_=UTCDateTime))
    if "p_until" in given:
        where = where & (c.due_at < bindparam("p_until", type_=UTCDateTime))
    if "p_due" in given:
        due = bindparam("p_due", type_=UTCDateTime)
        # A range the index answers, then the few rows of that very moment left out.
        where = where & (c.due_at <= due) & not_(and_(c.due_at == due, c.id >= bindparam("p_id")))
    made: Select[Any] = (
        select(*_LINE_COLUMNS, delivery_costs.c.cost_micros)
        .select_from(deliveries.outerjoin(delivery_costs, delivery_costs.c.delivery_id == c.id))
        .where(where)
        .order_by(c.due_at.desc(), c.id.desc())
        .limit(bindparam("p_limit"))
    )
    _PAGES[given] = made
    return made


class ConsoleReads(DeliveryReads):
    """Reads for the console's pages (the worker never makes them)."""

    def history_page(self, query: HistoryQuery) -> list[HistoryLine]:
        """Rows newest due first (ties: newest id), after ``query.before``, up to ``limit``,
        each with its recorded cost (None: none recorded)."""
        values: dict[str, object] = {
            name: value
            for name, value in (
                ("p_account", query.account),
                ("p_status", query.status),
                ("p_campaign", query.campaign),
                ("p_post", query.post),
                ("p_since", None if query.since is None else aware("since", query.since)),
                ("p_until", None if query.until is None else aware("until", query.until)),
            )
            if value is not None
        }
        if query.before is not None:
            values["p_due"] = aware("before", query.before[0])
            values["p_id"] = query.before[1]
        values["p_limit"] = query.limit
        statement = _page_statement(frozenset(values))
        with self._read("history_page") as conn:
            return [HistoryLine(*row) for row in self._rows(conn, statement, values)]

    def awaiting_review(self, limit: int) -> list[ReviewLine]:
        """The 'unknown' rows, newest due first (ties: newest id), up to ``limit``: one
        statement built once, only the columns the review page shows."""
        with self._read("awaiting_review") as conn:
            return [ReviewLine(*row) for row in self._rows(conn, _REVIEW, {"p_limit": limit})]

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
