"""The status page's reads in one connection: every account at once, statements built once.

Per account the status page wants its last post, its rate-limit windows, its deferred and
unknown counts and the month's X spend; and the workers' heartbeats, the pause switch and the
credentials checks. Read one account at a time that was a dozen statements, each built and
cache-keyed anew; here it is seven, whatever the number of accounts (six when no X account
is live, so no spend is shown).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, union_all

from amplifier.networks.base import RateLimitWindow
from amplifier.store.base import StoreBase, aware
from amplifier.store.schema import (
    UTCDateTime,
    account_checks,
    deliveries,
    delivery_costs,
    flags,
    rate_limits,
    workers,
)
from amplifier.store.state import PAUSE_FLAG


@dataclass(frozen=True)
class LastPost:
    """An account's most recent published post (by when it went out)."""

    due_at: datetime
    sent_at: datetime | None
    template_id: str
    url: str | None


@dataclass(frozen=True)
class StatusSnapshot:
    """What the status page reads, all of it at one moment."""

    counts: dict[tuple[str, str], int]
    last: dict[str, LastPost]
    windows: dict[str, list[RateLimitWindow]]
    heartbeats: list[tuple[str, datetime]]
    paused: tuple[bool, str | None, datetime | None]
    checks: dict[str, tuple[datetime, str]]
    x_spend: dict[tuple[str, str], int]  # (account, status): this month's X cost

    def blocked_until(self, account: str, now: datetime) -> datetime | None:
        """As ``Store.blocked_until``: the latest reset of an exhausted window still ahead."""
        resets = [
            w.reset_at
            for w in self.windows.get(account, [])
            if w.remaining == 0 and w.reset_at is not None and w.reset_at > now
        ]
        return max(resets, default=None)

    def spent(self, account: str | None, statuses: Collection[str]) -> int:
        """As ``Store.spend_micros`` over this month's X rows, one account's or all."""
        return sum(
            micros
            for (name, status), micros in self.x_spend.items()
            if status in statuses and (account is None or name == account)
        )


_COUNTS = (
    select(deliveries.c.account, deliveries.c.status, func.count())
    .where(deliveries.c.status.in_(["deferred", "unknown"]))
    .group_by(deliveries.c.account, deliveries.c.status)
)
_WINDOWS = select(
    rate_limits.c.account,
    rate_limits.c.window,
    rate_limits.c.limit_,
    rate_limits.c.remaining,
    rate_limits.c.reset_at,
).order_by(rate_limits.c.account, rate_limits.c.window)
_HEARTBEATS = select(workers.c.worker_id, workers.c.seen_at).order_by(workers.c.seen_at.desc())
_PAUSED = select(flags.c.value, flags.c.by, flags.c.updated_at).where(flags.c.name == PAUSE_FLAG)
_CHECKS = select(account_checks.c.account, account_checks.c.verified_at, account_checks.c.how)
_SPEND = (
    select(delivery_costs.c.account, deliveries.c.status, func.sum(delivery_costs.c.cost_micros))
    .select_from(delivery_costs.join(deliveries, deliveries.c.id == delivery_costs.c.delivery_id))
    .where(
        (delivery_costs.c.due_at >= bindparam("start", type_=UTCDateTime))
        & (delivery_costs.c.due_at < bindparam("end", type_=UTCDateTime))
        & (delivery_costs.c.network == "x")
    )
    .group_by(delivery_costs.c.account, deliveries.c.status)
)
_LAST: dict[int, Select[Any]] = {}


def _last_statement(count: int) -> Select[Any]:
    """Each of ``count`` accounts' last published row (one index probe each), in one go."""
    found = _LAST.get(count)
    if found is None:
        c = deliveries.c
        parts = [
            select(c.account, c.due_at, c.sent_at, c.template_id, c.url)
            .where((c.account == bindparam(f"a{n}")) & (c.status == "published"))
            .order_by(c.sent_at.desc(), c.id.desc())
            .limit(1)
            .subquery()
            .select()
            for n in range(count)
        ]
        found = _LAST[count] = parts[0] if count == 1 else union_all(*parts).subquery().select()
    return found


class StatusReads(StoreBase):
    """The status page's reads (the worker never makes them)."""

    def status_snapshot(
        self, accounts: Sequence[str], month: tuple[datetime, datetime] | None
    ) -> StatusSnapshot:
        """Everything the status page shows for these accounts; X spend within ``month``
        (None: no spend is shown, so none is read and ``x_spend`` is empty)."""
        # One transaction: every part read at one moment.
        with self._read("status_snapshot") as conn, conn.begin():
            counts = {(r[0], r[1]): int(r[2]) for r in self._rows(conn, _COUNTS)}
            last: dict[str, LastPost] = {}
            if accounts:
                names = {f"a{n}": name for n, name in enumerate(accounts)}
                for row in self._rows(conn, _last_statement(len(accounts)), names):
                    last[row[0]] = LastPost(row[1], row[2], row[3], row[4])
            windows: dict[str, list[RateLimitWindow]] = {}
            for account, *window in self._rows(conn, _WINDOWS):
                windows.setdefault(account, []).append(RateLimitWindow(*window))
            heartbeats = [(row[0], row[1]) for row in self._rows(conn, _HEARTBEATS)]
            flag = next(iter(self._rows(conn, _PAUSED)), None)
            checks = {row[0]: (row[1], row[2]) for row in self._rows(conn, _CHECKS)}
            spend: dict[tuple[str, str], int] = {}
            if month is not None:
                bounds = {"start": aware("start", month[0]), "end": aware("end", month[1])}
                spend = {(r[0], r[1]): int(r[2] or 0) for r in self._rows(conn, _SPEND, bounds)}
        paused = (False, None, None) if flag is None else (flag[0] == "true", flag[1], flag[2])
        return StatusSnapshot(counts, last, windows, heartbeats, paused, checks, spend)
