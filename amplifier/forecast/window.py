"""The stored state a prediction reads, read once for all its slots.

A prediction decides slot after slot (``predict``), each over the same stored state with the
earlier predictions laid over it; read per slot, the guards' window alone was one read of
``counted_since`` for each slot's own account and one for its network (the calendar's two
weeks: ~126 reads of overlapping windows). ``PredictionWindow`` reads each account's and each
network's rows once, from the earliest moment any slot looks back to, for both kinds of run,
and ``WindowedView`` answers each slot's question from them in memory with
``counted_since``'s own rules; the month's spend and the rate-limit windows are read once per
question asked. The stored state is the same for every slot of one prediction (nothing is
written meanwhile), so the answers are the ones a ``StoreView`` would read, one per slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amplifier.content import Library
from amplifier.forecast.view import StoreView, Wait, wait_for
from amplifier.guards import REHEARSAL_SENT, Sent, sent_rows
from amplifier.networks.base import RateLimitWindow
from amplifier.store import Delivery, Store

_WENT_OUT = ("published", "rehearsed")  # counted by when they were sent
_PENDING = ("sending", "deferred")  # counted whatever their age: not out yet


@dataclass(frozen=True)
class _Counted:
    row: Delivery
    sent: Sent


class PredictionWindow:
    """The guards' rows from ``floor`` on (``counted_since`` over every status either kind of
    run counts), read once per scope a slot asks about: its account's own rows, its network's
    (each answered by the (account, sent_at) or (network, sent_at) index, never by walking
    the whole history). A scope is read at its first question and again only if a later one
    looks further back; each row's ``Sent`` is as of ``now``."""

    def __init__(
        self, store: Store, library: Library, now: datetime, floor: datetime | None
    ) -> None:
        self.store, self.library, self.now, self.floor = store, library, now, floor
        self._read: dict[tuple[str | None, str | None], tuple[datetime, list[_Counted]]] = {}
        self._spend: dict[tuple[datetime, datetime, str | None, tuple[str, ...]], int] = {}
        self._windows: dict[str, list[RateLimitWindow]] = {}
        self.reads = 0  # how many times a guards' window was read

    def counted(self, since: datetime, account: str | None, network: str | None) -> list[_Counted]:
        """The rows of ``account`` and ``network`` (None: any) that may count from ``since``
        (a superset: ``counted_since``'s rules still apply), oldest due first."""
        scope = (account, network)
        known = self._read.get(scope)
        if known is None or since < known[0]:
            start = since if self.floor is None else min(since, self.floor)
            rows = self.store.counted_since(
                start, statuses=REHEARSAL_SENT, account=account, network=network
            )
            sent = sent_rows(rows, self.library, self.now)
            known = (start, [_Counted(row, item) for row, item in zip(rows, sent, strict=True)])
            self._read[scope] = known
            self.reads += 1
        return known[1]

    def spent(
        self, start: datetime, end: datetime, account: str | None, statuses: tuple[str, ...]
    ) -> int:
        key = (start, end, account, statuses)
        if key not in self._spend:
            self._spend[key] = self.store.spend_micros(
                start, end, statuses=statuses, account=account, network="x"
            )
        return self._spend[key]

    def rate_limits(self, account: str) -> list[RateLimitWindow]:
        if account not in self._windows:
            self._windows[account] = self.store.rate_limits(account)
        return self._windows[account]


def _counts(row: Delivery, since: datetime, statuses: tuple[str, ...]) -> bool:
    """``Store.counted_since``'s rule for one row, in memory."""
    if row.status not in statuses:
        return False
    if row.status in _WENT_OUT:
        return row.sent_at is not None and row.sent_at >= since
    if row.status == "unknown":
        return row.updated_at is not None and row.updated_at >= since
    return row.status in _PENDING


class WindowedView(StoreView):
    """A ``StoreView`` whose reads come from a ``PredictionWindow`` shared by the prediction's
    slots; the rotation and a server's limits are read as ``StoreView`` reads them."""

    def __init__(
        self,
        window: PredictionWindow,
        library: Library,
        *,
        rehearsal: bool,
        now: datetime,
    ) -> None:
        super().__init__(window.store, library, rehearsal=rehearsal, now=now)
        self.window = window

    def counted(
        self, since: datetime, *, account: str | None = None, network: str | None = None
    ) -> list[Sent]:
        statuses = self.statuses
        return [
            item.sent
            for item in self.window.counted(since, account, network)
            if _counts(item.row, since, statuses)
        ]

    def spent(self, start: datetime, end: datetime, account: str | None) -> int:
        return self.window.spent(start, end, account, self.statuses)

    def blocked(self, account: str, moment: datetime) -> Wait | None:
        if self._rehearsal:  # a rehearsal never meets a platform
            return None
        shut = [
            w
            for w in self.window.rate_limits(account)
            if w.remaining == 0 and w.reset_at is not None and w.reset_at > moment
        ]
        if not shut:
            return None
        until = max(w.reset_at for w in shut if w.reset_at is not None)
        return wait_for(until, [w for w in shut if w.reset_at == until])
