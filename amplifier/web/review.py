"""Review (/review): deliveries whose outcome is unknown after a crash; organizers settle each
as published or not published, the store operation ``amplifier review ID`` makes."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from amplifier.config import Account
from amplifier.networks.post_links import not_a_post_link, remote_id_of
from amplifier.web import params
from amplifier.web.guard import console, organizer, reader
from amplifier.web.reads import read
from amplifier.web.render import page

LIMIT = 200
NOTE_LENGTH = 200
URL_LENGTH = 300


def profile(account: Account | None) -> str | None:
    """Where to look for the post: the account's own page, when the config says enough."""
    if account is None or account.handle is None:
        return None
    if account.network == "bluesky":
        return f"https://bsky.app/profile/{account.handle}"
    if account.network == "mastodon" and account.instance:
        return f"{account.instance.rstrip('/')}/@{account.handle.lstrip('@').split('@')[0]}"
    if account.network == "x":
        return f"https://x.com/{account.handle.lstrip('@')}"
    return None


async def review_page(request: Request) -> Response:
    who = reader(request)
    params.check_names(request.query_params, [])
    current = console(request)
    rows = await read(current.loop_reads, current.store, lambda store: store.awaiting_review(LIMIT))
    by_name = {a.name: a for a in current.settings.accounts}
    zones = {
        a.name: ZoneInfo(current.settings.schedules[a.schedule].timezone) for a in by_name.values()
    }
    return page(
        request, "review.html", who, title="Review", rows=rows, zones=zones,
        profiles={name: profile(a) for name, a in by_name.items()},
    )  # fmt: skip


async def resolve(request: Request) -> Response:
    who, fields = await organizer(request)
    delivery_id = int(request.path_params["delivery_id"])
    if delivery_id >= 2**63:
        raise params.BadParameter("no delivery has so large a number")
    outcome = fields.get("outcome")
    if outcome not in ("published", "not-published"):
        raise params.BadParameter("outcome must be published or not-published")
    note = params.form_text(fields, "note", NOTE_LENGTH)
    status: Literal["published", "failed"] = "published" if outcome == "published" else "failed"
    note = note or ("found on the account" if status == "published" else "not on the account")
    store = console(request).store
    link = params.form_text(fields, "url", URL_LENGTH)
    remote_id = None
    if link:
        if status != "published":
            raise params.BadParameter("a post's link goes with 'It is published' only")
        row = await run_in_threadpool(store.get_by_id, delivery_id)
        remote_id = remote_id_of(row.network, link) if row is not None else None
        if row is not None and remote_id is None:
            raise params.BadParameter(not_a_post_link(row.network, link))
    done = await run_in_threadpool(
        store.resolve, delivery_id, status=status, by=f"{who.name} (console)", note=note,
        remote_id=remote_id, url=link if remote_id else None,
    )  # fmt: skip
    if not done:
        return page(
            request, "message.html", who, title="Not changed", status_code=409,
            message=f"Delivery #{delivery_id} is not awaiting review (someone may have "
            "settled it already).", kind="error", back="/review",
        )  # fmt: skip
    return RedirectResponse("/review", status_code=303)
