"""The calendar feed (/calendar.ics?token=…): the calendar's next 14 days as iCalendar, for
Google Calendar or Outlook. The token is AMPLIFIER_WEB_CALENDAR_TOKEN, compared in constant
time; changing it revokes every subscription. No token set: no feed."""

from __future__ import annotations

import hmac
from datetime import timedelta

from icalendar import Calendar, Event
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from amplifier.web import params
from amplifier.web.console import Console
from amplifier.web.guard import console
from amplifier.web.slots import slot_views


def ics(current: Console) -> bytes:
    found, views = slot_views(current)
    calendar = Calendar()
    calendar.add("prodid", "-//amplifier//organizers' console//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "amplifier: the campaign's posts")
    for view in views:
        event = Event()
        event.add("uid", f"{view.account.name}-{view.due_at:%Y%m%dT%H%M%SZ}@amplifier")
        event.add("dtstamp", found.now)
        event.add("dtstart", view.due_at)
        event.add("dtend", view.due_at + timedelta(minutes=5))
        event.add("summary", f"{view.account.name}: {view.heading}")
        lines = [
            f"{view.account.name} ({view.account.network}) at "
            f"{view.due_at.astimezone(view.zone):%H:%M %Z}",
            *([f"Why: {view.reason}"] if view.reason else []),
            *([view.text] if view.text else []),
        ]
        event.add("description", "\n".join(lines))
        calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body


async def calendar_feed(request: Request) -> Response:
    current = console(request)
    params.check_names(request.query_params, ["token"])
    expected = current.access.calendar_token
    if expected is None:
        raise HTTPException(404, "no calendar feed: AMPLIFIER_WEB_CALENDAR_TOKEN is not set")
    given = params.text(request.query_params, "token") or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "wrong or missing token")
    body = await run_in_threadpool(ics, current)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"cache-control": "no-store"})  # fmt: skip
