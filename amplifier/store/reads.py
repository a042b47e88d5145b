"""Reads of the deliveries table and of what the deliveries cost.

One row, due deferred rows, orphans, history, the guards' window, and the month's X spend.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from amplifier.store.base import StoreBase, aware, dialect_insert
from amplifier.store.schema import deliveries, delivery_costs, snapshots, workers
from amplifier.store.types import Delivery, row_to_delivery

_BY_ID = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
_BY_SLOT = select(deliveries).where(
    (deliveries.c.account == bindparam("by_account"))
    & (deliveries.c.slot_key == bindparam("by_slot"))
)


class DeliveryReads(StoreBase):
    """Every read of the deliveries (and their costs) the worker, the guards and the CLI make."""

    # -- queries ---------------------------------------------------------------------------------

    def _select(
        self, action: str, where: ColumnElement[bool], *order: Any, limit: int | None = None
    ) -> list[Delivery]:
        query = select(deliveries).where(where).order_by(*order).limit(limit)
        with self._read(action) as conn:
            return [row_to_delivery(row) for row in conn.execute(query)]

    def get(self, account: str, slot_key: str) -> Delivery | None:
        """The row for one account and slot, if any."""
        with self._read("get") as conn:
            row = conn.execute(_BY_SLOT, {"by_account": account, "by_slot": slot_key}).first()
        return None if row is None else row_to_delivery(row)

    def get_by_id(self, delivery_id: int) -> Delivery | None:
        """The row with this id, if any."""
        with self._read("get_by_id") as conn:
            row = conn.execute(_BY_ID, {"delivery_id": delivery_id}).first()
        return None if row is None else row_to_delivery(row)

    def due_deferred(self, now: datetime) -> list[Delivery]:
        """Deferred rows whose retry_at has come, oldest retry first."""
        where = (deliveries.c.status == "deferred") & (deliveries.c.retry_at <= aware("now", now))
        return self._select("due_deferred", where, deliveries.c.retry_at, deliveries.c.id)

    def orphaned(self, now: datetime, stale_after: timedelta) -> list[Delivery]:
        """'sending' rows whose worker has sent no heartbeat since now - stale_after."""
        cutoff = aware("now", now) - stale_after
        alive = exists().where(
            (workers.c.worker_id == deliveries.c.claimed_by) & (workers.c.seen_at > cutoff)
        )
        where = (deliveries.c.status == "sending") & ~alive
        return self._select("orphaned", where, deliveries.c.claimed_at, deliveries.c.id)

    def history(
        self,
        *,
        account: str | None = None,
        limit: int = 50,
        statuses: Collection[str] | None = None,
    ) -> list[Delivery]:
        """The latest rows, newest due_at first, optionally for one account or some statuses."""
        where: ColumnElement[bool] = true()
        if account is not None:
            where = where & (deliveries.c.account == account)
        if statuses is not None:
            where = where & deliveries.c.status.in_(list(statuses))
        order = (deliveries.c.due_at.desc(), deliveries.c.id.desc())
        return self._select("history", where, *order, limit=limit)

    def last_published(self, account: str) -> Delivery | None:
        """The account's most recently published row (by when it went out)."""
        where = (deliveries.c.account == account) & (deliveries.c.status == "published")
        order = (deliveries.c.sent_at.desc(), deliveries.c.id.desc())
        return next(iter(self._select("last_published", where, *order, limit=1)), None)

    def published_count(self, account: str, since: datetime) -> int:
        """How many of the account's rows went out (were published) at or after ``since``."""
        query = select(func.count()).where(
            (deliveries.c.account == account)
            & (deliveries.c.status == "published")
            & (deliveries.c.sent_at >= aware("since", since))
        )
        with self._read("published_count") as conn:
            return int(conn.execute(query).scalar_one())

    def recent_texts(self, network: str, since: datetime) -> list[tuple[str, str]]:
        """(account, text) of the network's published or sending rows touched since ``since``."""
        query = (
            select(deliveries.c.account, deliveries.c.text)
            .where(
                (deliveries.c.network == network)
                & deliveries.c.status.in_(["published", "sending"])
                & (deliveries.c.updated_at >= aware("since", since))
            )
            .order_by(deliveries.c.updated_at.desc(), deliveries.c.id.desc())
        )
        with self._read("recent_texts") as conn:
            return [(row.account, row.text) for row in conn.execute(query)]

    def deliveries_since(
        self,
        since: datetime,
        *,
        account: str | None = None,
        network: str | None = None,
        statuses: Collection[str] | None = None,
    ) -> list[Delivery]:
        """Rows due at or after ``since``, oldest first, optionally narrowed (for the guards)."""
        where: ColumnElement[bool] = deliveries.c.due_at >= aware("since", since)
        if account is not None:
            where = where & (deliveries.c.account == account)
        if network is not None:
            where = where & (deliveries.c.network == network)
        if statuses is not None:
            where = where & deliveries.c.status.in_(list(statuses))
        return self._select("deliveries_since", where, deliveries.c.due_at, deliveries.c.id)

    def counted_since(
        self,
        since: datetime,
        *,
        statuses: Collection[str],
        account: str | None = None,
        network: str | None = None,
    ) -> list[Delivery]:
        """The rows the guards count from ``since`` on, by when each went out, not its due time.

        Of the rows in ``statuses``: those sent at or after ``since`` (``sent_at``: published,
        rehearsed); 'unknown' ones marked so since then (their last attempt was before it);
        and every 'sending' or 'deferred' one whatever its age, since it has not gone out yet
        and may at any moment. Oldest due first.
        """
        start = aware("since", since)
        scope: ColumnElement[bool] = true()
        if account is not None:
            scope = scope & (deliveries.c.account == account)
        if network is not None:
            scope = scope & (deliveries.c.network == network)
        wanted = set(statuses)
        rows: list[Delivery] = []
        went_out = sorted(wanted & {"published", "rehearsed"})
        if went_out:
            where = scope & deliveries.c.status.in_(went_out) & (deliveries.c.sent_at >= start)
            rows += self._select("counted_since", where)
        if "unknown" in wanted:
            where = scope & (deliveries.c.status == "unknown") & (deliveries.c.updated_at >= start)
            rows += self._select("counted_since", where)
        pending = sorted(wanted & {"sending", "deferred"})
        if pending:
            rows += self._select("counted_since", scope & deliveries.c.status.in_(pending))
        return sorted(rows, key=lambda row: (row.due_at, row.id))

    # -- costs ---------------------------------------------------------------------------------

    def spend_micros(
        self,
        start: datetime,
        end: datetime,
        *,
        statuses: Collection[str],
        account: str | None = None,
        network: str | None = None,
    ) -> int:
        """Total cost of the rows due in [start, end) whose status is one of ``statuses``;
        with 'published' among them, plus X's post reads taken in [start, end) (results)."""
        where = (
            (delivery_costs.c.due_at >= aware("start", start))
            & (delivery_costs.c.due_at < aware("end", end))
            & deliveries.c.status.in_(list(statuses))
        )
        if account is not None:
            where = where & (delivery_costs.c.account == account)
        if network is not None:
            where = where & (delivery_costs.c.network == network)
        query = (
            select(func.coalesce(func.sum(delivery_costs.c.cost_micros), 0))
            .select_from(
                delivery_costs.join(deliveries, deliveries.c.id == delivery_costs.c.delivery_id)
            )
            .where(where)
        )
        with self._read("spend_micros") as conn:
            total = int(conn.execute(query).scalar_one())
        if "published" in statuses and network in (None, "x"):
            total += self.read_spend_micros(start, end, account)
        return total

    def read_spend_micros(self, start: datetime, end: datetime, account: str | None = None) -> int:
        """What X post reads (snapshots, 0012) taken in [start, end) cost, of one account or all."""
        where = (
            (snapshots.c.network == "x")
            & (snapshots.c.taken_at >= aware("start", start))
            & (snapshots.c.taken_at < aware("end", end))
        )
        if account is not None:
            where = where & (snapshots.c.account == account)
        query = select(func.coalesce(func.sum(snapshots.c.cost_micros), 0)).where(where)
        with self._read("reads_cost") as conn:
            return int(conn.execute(query).scalar_one())

    def add_read_cost(self, delivery: Delivery, micros: int) -> None:
        """Add what a read made to publish ``delivery`` cost (X's timeline lookup after an
        ambiguous attempt) to the delivery's cost, so the month's spend counts it."""
        if micros <= 0:
            return
        values = {
            "delivery_id": delivery.id,
            "account": delivery.account,
            "network": delivery.network,
            "due_at": aware("due_at", delivery.due_at),
            "cost_micros": micros,
            "created_at": self._now(),
        }
        with self._write("add_read_cost") as conn:
            insert = dialect_insert(conn.dialect.name)(delivery_costs).values(values)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[delivery_costs.c.delivery_id],
                    set_={"cost_micros": delivery_costs.c.cost_micros + micros},
                )
            )

    def delivery_costs(self, delivery_ids: Collection[int]) -> dict[int, int]:
        """Recorded cost of each of these deliveries that has one, by delivery id."""
        if not delivery_ids:
            return {}
        query = select(delivery_costs.c.delivery_id, delivery_costs.c.cost_micros).where(
            delivery_costs.c.delivery_id.in_(list(delivery_ids))
        )
        with self._read("delivery_costs") as conn:
            return {int(row.delivery_id): int(row.cost_micros) for row in conn.execute(query)}
