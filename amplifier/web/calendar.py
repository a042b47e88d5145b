"""The calendar (/): the next 14 days, each slot as the worker will handle it.

The list view shows every slot in full (the post as it goes out, its length against the
limit, what it replaced, why a slot is skipped); the week view a week at a glance.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from amplifier.forecast import UNFORESEEABLE
from amplifier.web import params
from amplifier.web.guard import console, reader
from amplifier.web.render import page, when
from amplifier.web.slots import by_day, slot_views


async def calendar_page(request: Request) -> Response:
    who = reader(request)
    current = console(request)
    query = request.query_params
    params.check_names(query, ["account", "campaign", "view", "week"])
    accounts = [a.name for a in current.settings.accounts if a.enabled]
    campaigns = sorted(current.settings.campaigns)
    account = params.choice(query, "account", accounts)
    campaign = params.choice(query, "campaign", campaigns)
    view = params.choice(query, "view", ["list", "week"]) or "list"
    week = int(params.choice(query, "week", ["1", "2"]) or "1")
    found, views = await run_in_threadpool(slot_views, current, account, campaign)
    zone = current.access.timezone
    days = by_day(views, zone, found.now.astimezone(zone).date())
    if view == "week":
        days = days[(week - 1) * 7 : week * 7]
    return page(
        request,
        "calendar.html",
        who,
        title="Calendar",
        days=days,
        view=view,
        week=week,
        account=account,
        campaign=campaign,
        accounts=accounts,
        campaigns=campaigns,
        paused=None if found.pause is None else found.pause.reason(lambda t: when(t, zone)),
        zone=zone,
        now=found.now,
        unforeseeable=UNFORESEEABLE,
        count=len(views),
    )
