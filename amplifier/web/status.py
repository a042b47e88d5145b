"""Status (/status): per account its mode, last post, next slot, rate-limit window, deferred and
unknown counts and X spend; the workers' heartbeats; the pause switch (organizers flip it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from amplifier.config import Account
from amplifier.guards import SENT, budgets, month_bounds, month_projection, month_summary
from amplifier.schedule import upcoming_slots
from amplifier.store import Delivery, Store
from amplifier.web import params
from amplifier.web.console import Console
from amplifier.web.guard import console, reader
from amplifier.web.render import page

SPENT = ("published", "unknown")  # billed, or may have been (as amplifier status counts)
PENDING = ("sending", "deferred")


@dataclass(frozen=True)
class AccountStatus:
    account: Account
    zone: ZoneInfo
    mode: str
    last: Delivery | None
    next_slot: datetime | None
    limits: list[str]
    blocked: datetime | None
    deferred: int
    unknown: int
    spend: str | None


def _spend(current: Console, account: Account, now: datetime) -> str:
    start, end = month_bounds(now)
    store: Store = current.store

    def read(name: str | None, statuses: tuple[str, ...] | frozenset[str]) -> int:
        return store.spend_micros(start, end, statuses=statuses, account=name, network="x")

    projection = month_projection(
        current.settings, current.library, account, now, read(account.name, SPENT)
    )
    limits = budgets(current.settings, account, lambda name: read(name, tuple(SENT)))
    return month_summary(projection, read(account.name, PENDING), limits)


def _read(current: Console) -> dict[str, Any]:
    store, settings, now = current.store, current.settings, current.clock()
    counts = store.count_by_status(["deferred", "unknown"])
    accounts = []
    for account in (a for a in settings.accounts if a.enabled):
        upcoming = upcoming_slots(settings, account, now, count=1, days=None)
        limits = [
            f"{w.window}: {w.remaining}/{w.limit if w.limit is not None else '?'} left"
            + (f" until {w.reset_at:%H:%M} UTC" if w.reset_at else "")
            for w in store.rate_limits(account.name)
            if w.reset_at is None or w.reset_at > now
        ]
        rehearsal = current.rehearsals.get(account.name)
        spend = None
        if account.network == "x" and not rehearsal:
            spend = _spend(current, account, now)
        accounts.append(
            AccountStatus(
                account=account,
                zone=ZoneInfo(settings.schedules[account.schedule].timezone),
                mode=rehearsal or "live",
                last=store.last_published(account.name),
                next_slot=upcoming[0].due_at if upcoming else None,
                limits=limits,
                blocked=store.blocked_until(account.name, now),
                deferred=counts.get((account.name, "deferred"), 0),
                unknown=counts.get((account.name, "unknown"), 0),
                spend=spend,
            )
        )
    stale = settings.worker.stale_worker_seconds
    workers = [
        (worker, seen, round((now - seen).total_seconds()), (now - seen).total_seconds() <= stale)
        for worker, seen in store.heartbeats()
    ]
    paused, by, since = store.paused()
    return {
        "accounts": accounts,
        "workers": workers,
        "stale": stale,
        "paused": paused,
        "paused_by": by,
        "paused_since": since,
        "now": now,
    }


async def status_page(request: Request) -> Response:
    who = reader(request)
    params.check_names(request.query_params, [])
    current = console(request)
    found = await run_in_threadpool(_read, current)
    posts = sorted(current.library.originals)
    return page(
        request, "status.html", who, title="Status", zone=current.access.timezone,
        posts=posts, **found,
    )  # fmt: skip
