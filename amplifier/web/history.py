"""History (/history): what went out, with links; what was skipped, deferred, failed or is
unknown, each with its reason. Filters by account, state, campaign, post and dates; pages by
keyset (the 'older' link carries the last row's due time and id), never by offset."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from amplifier.store import DeliveryStatus, HistoryLine, HistoryQuery
from amplifier.web import params
from amplifier.web.console import Console
from amplifier.web.guard import console, reader
from amplifier.web.reads import read
from amplifier.web.render import options, page
from amplifier.web.tables import history_rows

PAGE = 50
STATES = get_args(DeliveryStatus)
FILTERS = ("account", "state", "campaign", "post", "from", "to")


def _start(day: date | None, zone: ZoneInfo, name: str) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime.combine(day, time(), zone)
    except OverflowError:
        raise params.BadParameter(f"{name} is out of range") from None


def _next_day(day: date | None, zone: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime.combine(day + timedelta(days=1), time(), zone)
    except OverflowError:
        return None  # up to the end of time


def _query(request: Request, current: Console) -> HistoryQuery:
    query = request.query_params
    params.check_names(query, [*FILTERS, "before"])
    accounts = {a.name for a in current.settings.accounts}
    account = params.text(query, "account")
    if account is not None and account not in accounts:
        raise params.BadParameter(
            f"no account {account[:40]!r}; accounts: {', '.join(sorted(accounts))}"
        )
    zone = current.access.timezone
    since, until = params.day(query, "from"), params.day(query, "to")
    if since is not None and until is not None and until < since:
        raise params.BadParameter("to is before from")
    return HistoryQuery(
        account=account,
        status=params.choice(query, "state", STATES),
        campaign=params.choice(query, "campaign", current.settings.campaigns),
        post=params.post_id(query, "post"),
        since=_start(since, zone, "from"),
        until=_next_day(until, zone),
        before=params.cursor(query, "before"),
        limit=PAGE + 1,
    )


async def history_page(request: Request) -> Response:
    who = reader(request)
    current = console(request)
    wanted = _query(request, current)
    rows: list[HistoryLine] = await read(
        current.loop_reads, current.store, lambda store: store.history_page(wanted)
    )
    more, rows = len(rows) > PAGE, rows[:PAGE]
    kept = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
    older = None
    if more:
        older = {**kept, "before": params.write_cursor(rows[-1].due_at, rows[-1].id)}
    zones = {
        a.name: ZoneInfo(current.settings.schedules[a.schedule].timezone)
        for a in current.settings.accounts
    }
    return page(
        request,
        "history.html",
        who,
        title="History",
        rows=rows,
        body=history_rows(rows, zones),
        filters=kept,
        shown={name: kept.get(name, "") for name in FILTERS},
        choices={
            "account": options(
                tuple(sorted(a.name for a in current.settings.accounts)), kept.get("account")
            ),
            "state": options(STATES, kept.get("state")),
            "campaign": options(tuple(sorted(current.settings.campaigns)), kept.get("campaign")),
        },
        older=older,
        first_page=wanted.before is None,
    )
