"""Snapshots (0012): which published posts are due a reading of their counts, and the readings.

A post is due the snapshot of age A once it is A old and until it reaches the next age (the
last age: until twice that age), unless it has that snapshot or is recorded 'gone'. So a
worker that was down past an age takes the next one instead of a late, mislabelled reading,
and posts from before results were collected are never read in bulk.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select

from amplifier.store.base import StoreBase, aware, dialect_insert
from amplifier.store.schema import deliveries, snapshots

GONE = "gone"
COUNTS = ("likes", "reposts", "replies", "quotes", "bookmarks", "impressions")
# The deliveries' columns a report reads.
REPORTED = (
    "id", "account", "network", "slot_key", "template_id", "campaign", "language", "text",
    "sent_at",
)  # fmt: skip


@dataclass(frozen=True)
class DueRead:
    """One published post due a snapshot at ``age`` (its label) of ``age_seconds``."""

    delivery_id: int
    account: str
    network: str
    remote_id: str
    age: str
    age_seconds: int
    sent_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """One reading: the counts the network gave (None where it gives none), or ``gone``."""

    delivery_id: int
    account: str
    network: str
    age: str  # the target age's label, or GONE
    age_seconds: int
    taken_at: datetime
    counts: dict[str, int | None]
    cost_micros: int = 0

    @property
    def gone(self) -> bool:
        return self.age == GONE


class SnapshotState(StoreBase):
    """The snapshots table: what is due and what was read (their X cost: reads.py)."""

    def snapshots_due(
        self,
        now: datetime,
        ages: Sequence[tuple[str, int]],
        *,
        accounts: Collection[str],
        limit: int,
    ) -> list[DueRead]:
        """Published posts of these accounts due a snapshot at ``now``, oldest sends first.

        ``ages`` is (label, seconds) in ascending order; at most ``limit`` rows.
        """
        if not ages or not accounts or limit <= 0:
            return []
        now = aware("now", now)
        found: list[DueRead] = []
        for index, (label, seconds) in enumerate(ages):
            until = ages[index + 1][1] if index + 1 < len(ages) else 2 * seconds
            taken = exists().where(
                (snapshots.c.delivery_id == deliveries.c.id) & snapshots.c.age.in_([label, GONE])
            )
            query = (
                select(
                    deliveries.c.id,
                    deliveries.c.account,
                    deliveries.c.network,
                    deliveries.c.remote_id,
                    deliveries.c.sent_at,
                )
                .where(
                    (deliveries.c.status == "published")
                    & deliveries.c.account.in_(sorted(accounts))
                    & deliveries.c.remote_id.is_not(None)
                    & (deliveries.c.sent_at <= now - timedelta(seconds=seconds))
                    & (deliveries.c.sent_at > now - timedelta(seconds=until))
                    & ~taken
                )
                .order_by(deliveries.c.sent_at, deliveries.c.id)
                .limit(limit - len(found))
            )
            with self._read("snapshots_due") as conn:
                rows = conn.execute(query).all()
            found += [
                DueRead(
                    int(row.id),
                    row.account,
                    row.network,
                    str(row.remote_id),
                    label,
                    seconds,
                    row.sent_at,
                )
                for row in rows
            ]
            if len(found) >= limit:
                break
        return found

    def record_snapshots(self, taken: Sequence[Snapshot]) -> int:
        """Store these readings in one transaction; a (delivery, age) already stored is kept
        as it was. Returns how many rows were new."""
        if not taken:
            return 0
        with self._write("record_snapshots") as conn:
            statement = (
                dialect_insert(conn.dialect.name)(snapshots)
                .on_conflict_do_nothing(index_elements=["delivery_id", "age"])
                .returning(snapshots.c.id)
            )
            added = 0
            for snap in taken:
                values = {
                    "delivery_id": snap.delivery_id,
                    "account": snap.account,
                    "network": snap.network,
                    "age": snap.age,
                    "age_seconds": snap.age_seconds,
                    "taken_at": aware("taken_at", snap.taken_at),
                    "cost_micros": snap.cost_micros,
                    **{name: snap.counts.get(name) for name in COUNTS},
                }
                added += len(conn.execute(statement, values).all())
            return added

    def snapshots_of(self, delivery_ids: Collection[int]) -> list[Snapshot]:
        """Every snapshot of these deliveries, by delivery then age."""
        if not delivery_ids:
            return []
        query = (
            select(snapshots)
            .where(snapshots.c.delivery_id.in_(sorted(delivery_ids)))
            .order_by(snapshots.c.delivery_id, snapshots.c.age_seconds)
        )
        with self._read("snapshots_of") as conn:
            return [_snapshot(row) for row in conn.execute(query)]

    def gone_deliveries(self) -> set[int]:
        """The deliveries recorded 'gone' (deleted or unreachable on their network)."""
        query = select(snapshots.c.delivery_id).where(snapshots.c.age == GONE)
        with self._read("gone_deliveries") as conn:
            return {int(row[0]) for row in conn.execute(query)}

    def results_totals(
        self,
        by: str,
        *,
        campaign: str | None,
        since: datetime | None,
        age: str | None,
        final_age_seconds: int,
    ) -> list[dict[str, Any]]:
        """The report's figures per value of the deliveries' column ``by`` (template_id,
        language, network, account), summed in SQL over the rows ``results_rows`` reads."""
        key = func.coalesce(deliveries.c[by], "-")
        latest, where = _latest(campaign, since, age)
        gone_q = (
            select(snapshots.c.delivery_id.label("gid")).where(snapshots.c.age == GONE).subquery()
        )
        young = case(
            (
                gone_q.c.gid.is_(None)
                & (snapshots.c.id.is_(None) | (snapshots.c.age_seconds < final_age_seconds)),
                1,
            ),
            else_=0,
        )
        query = (
            select(
                key.label("group"),
                func.count().label("posts"),
                func.count(snapshots.c.id).label("counted"),
                func.sum(young).label("young"),
                func.count(gone_q.c.gid).label("gone"),
                *[func.coalesce(func.sum(snapshots.c[n]), 0).label(n) for n in REPORT_SUMS],
                func.sum(snapshots.c.impressions).label("impressions"),
            )
            .select_from(_joined(latest).outerjoin(gone_q, gone_q.c.gid == deliveries.c.id))
            .where(where)
            .group_by(key)
        )
        with self._read("results_totals") as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def results_rows(
        self, *, campaign: str | None, since: datetime | None, age: str | None
    ) -> list[tuple[dict[str, Any], Snapshot | None]]:
        """Each published post (of ``campaign``, sent since ``since``) with its latest snapshot
        (or the one of age ``age``), None when it has none yet; 'gone' rows are left out of
        the counts but the post is kept, with its last reading before it went."""
        latest, where = _latest(campaign, since, age)
        query = (
            select(*[deliveries.c[name] for name in REPORTED], *snapshots.c)
            .select_from(_joined(latest))
            .where(where)
            .order_by(deliveries.c.sent_at, deliveries.c.id)
        )
        found: list[tuple[dict[str, Any], Snapshot | None]] = []
        split = len(REPORTED)
        with self._read("results_rows") as conn:
            # Plain tuples, not mappings: a report reads every published post.
            for values in conn.execute(query):
                delivery = dict(zip(REPORTED, values[:split], strict=True))
                snap = None
                if values[split] is not None:  # the snapshot's id
                    (_, did, account, network, age, seconds, taken, *counts, cost) = values[split:]
                    snap = Snapshot(
                        did, account, network, age, seconds, taken,
                        dict(zip(COUNTS, counts, strict=True)), cost,
                    )  # fmt: skip
                found.append((delivery, snap))
        return found


REPORT_SUMS = ("likes", "reposts", "replies", "quotes")


def _latest(campaign: str | None, since: datetime | None, age: str | None) -> tuple[Any, Any]:
    """(each delivery's latest counted snapshot age as a subquery, the deliveries' filter)."""
    where = deliveries.c.status == "published"
    if campaign is not None:
        where = where & (deliveries.c.campaign == campaign)
    if since is not None:
        where = where & (deliveries.c.sent_at >= aware("since", since))
    counted = snapshots.c.age != GONE
    if age is not None:
        counted = counted & (snapshots.c.age == age)
    latest = (
        select(
            snapshots.c.delivery_id.label("did"),
            func.max(snapshots.c.age_seconds).label("most"),
        )
        .where(counted)
        .group_by(snapshots.c.delivery_id)
        .subquery()
    )
    return latest, where


def _joined(latest: Any) -> Any:
    """Deliveries with their latest counted snapshot (none: NULL columns)."""
    return deliveries.outerjoin(latest, latest.c.did == deliveries.c.id).outerjoin(
        snapshots,
        and_(
            snapshots.c.delivery_id == deliveries.c.id,
            snapshots.c.age_seconds == latest.c.most,
            snapshots.c.age != GONE,
        ),
    )


def _snapshot(row: object) -> Snapshot:
    return _snapshot_from(dict(row._mapping))  # type: ignore[attr-defined]


def _snapshot_from(values: dict[str, object]) -> Snapshot:
    return Snapshot(
        delivery_id=int(values["delivery_id"]),  # type: ignore[call-overload]
        account=str(values["account"]),
        network=str(values["network"]),
        age=str(values["age"]),
        age_seconds=int(values["age_seconds"]),  # type: ignore[call-overload]
        taken_at=values["taken_at"],  # type: ignore[arg-type]
        counts={name: values[name] for name in COUNTS},  # type: ignore[misc]
        cost_micros=int(values["cost_micros"]),  # type: ignore[call-overload]
    )
