"""Status (/status): per account its mode, last post, next slot, rate-limit window, deferred and
unknown counts, X spend and when its credentials were last confirmed; the workers'
heartbeats; the pause switch (organizers flip it). One snapshot of the store per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from amplifier.config import Account
from amplifier.guards import SENT, budgets, month_bounds, month_projection, month_summary
from amplifier.networks.base import RateLimitWindow
from amplifier.schedule import upcoming_slots
from amplifier.store import LastPost, StatusSnapshot, Store, credentials_confirmed
from amplifier.web import params
from amplifier.web.console import Console
from amplifier.web.guard import console, reader
from amplifier.web.reads import read
from amplifier.web.render import options, page

SPENT = ("published", "unknown")  # billed, or may have been (as amplifier status counts)
PENDING = ("sending", "deferred")


@dataclass(frozen=True)
class AccountStatus:
    account: Account
    zone: ZoneInfo
    mode: str
    last: LastPost | None
    next_slot: datetime | None
    limits: list[RateLimitWindow]  # the windows still open or still shut, by name
    blocked: datetime | None
    deferred: int
    unknown: int
    spend: str | None
    verified: tuple[datetime, str] | None  # when the credentials were last confirmed, how


def _spend(current: Console, account: Account, now: datetime, found: StatusSnapshot) -> str:
    projection = month_projection(
        current.settings, current.library, account, now, found.spent(account.name, SPENT)
    )
    limits = budgets(current.settings, account, lambda name: found.spent(name, SENT))
    return month_summary(projection, found.spent(account.name, PENDING), limits)


def _next_slot(current: Console, account: Account, now: datetime) -> datetime | None:
    """The account's first slot due after ``now``. Worked out once and kept until it comes:
    no other slot can come first meanwhile (it would have come first when worked out)."""
    known = current.next_slots.get(account.name)
    if known is not None and known[0] <= now < known[1].due_at:
        return known[1].due_at
    upcoming = upcoming_slots(current.settings, account, now, count=1, days=None)
    if not upcoming:
        return None
    current.next_slots[account.name] = (now, upcoming[0])
    return upcoming[0].due_at


def _read(current: Console, store: Store) -> dict[str, Any]:
    settings, now = current.settings, current.clock()
    enabled = [a for a in settings.accounts if a.enabled]
    # The month's X spend is read only when a live X account shows it.
    spending = [a for a in enabled if a.network == "x" and a.name not in current.rehearsals]
    month = month_bounds(now) if spending else None
    found = store.status_snapshot([a.name for a in enabled], month)
    accounts = []
    for account in enabled:
        limits = [
            w for w in found.windows.get(account.name, []) if w.reset_at is None or w.reset_at > now
        ]
        rehearsal = current.rehearsals.get(account.name)
        spend = _spend(current, account, now, found) if account in spending else None
        last = found.last.get(account.name)
        accounts.append(
            AccountStatus(
                account=account,
                zone=ZoneInfo(settings.schedules[account.schedule].timezone),
                mode=rehearsal or "live",
                last=last,
                next_slot=_next_slot(current, account, now),
                limits=limits,
                blocked=found.blocked_until(account.name, now),
                deferred=found.counts.get((account.name, "deferred"), 0),
                unknown=found.counts.get((account.name, "unknown"), 0),
                spend=spend,
                verified=credentials_confirmed(
                    found.checks.get(account.name), last.sent_at if last else None
                ),
            )
        )
    stale = settings.worker.stale_worker_seconds
    workers = [
        (worker, seen, round((now - seen).total_seconds()), (now - seen).total_seconds() <= stale)
        for worker, seen in found.heartbeats
    ]
    paused, by, since = found.paused
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
    found = await read(current.loop_reads, current.store, lambda store: _read(current, store))
    return page(
        request, "status.html", who, title="Status", zone=current.access.timezone,
        post_options=options(tuple(sorted(current.library.originals))), **found,
    )  # fmt: skip
