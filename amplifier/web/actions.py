"""The organizers' changes: pause and resume (the CLI's switch), post now (the CLI's path)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from amplifier.errors import AmplifierError
from amplifier.web.guard import console, organizer
from amplifier.web.params import POST_ID, BadParameter, form_text
from amplifier.web.posting import publish_now
from amplifier.web.render import page

REASON_LENGTH = 200


def _reason(fields: dict[str, str]) -> str:
    return form_text(fields, "reason", REASON_LENGTH)


async def pause(request: Request) -> Response:
    who, fields = await organizer(request)
    reason = _reason(fields)
    # As 'amplifier pause --reason' records it: who, then the reason in brackets.
    by = f"{who.name} (console)" + (f" ({reason})" if reason else "")
    await run_in_threadpool(console(request).store.set_paused, True, by=by)
    return RedirectResponse("/status", status_code=303)


async def resume(request: Request) -> Response:
    who, _ = await organizer(request)
    await run_in_threadpool(console(request).store.set_paused, False, by=f"{who.name} (console)")
    return RedirectResponse("/status", status_code=303)


async def post_now(request: Request) -> Response:
    who, fields = await organizer(request)
    current = console(request)
    account = fields.get("account", "")
    enabled = {a.name for a in current.settings.accounts if a.enabled}
    if account not in enabled:
        raise BadParameter(f"account must be one of: {', '.join(sorted(enabled))}")
    post = fields.get("post") or None
    if post is not None and not POST_ID.match(post):
        raise BadParameter("post must be a post id (lowercase letters, digits and -)")
    try:
        row = await run_in_threadpool(publish_now, current, account, post)
    except AmplifierError as error:
        return page(
            request, "message.html", who, title="Not posted", status_code=409,
            message=f"Not posted: {error}", kind="error", back="/status",
        )  # fmt: skip
    done = row.url or f"recorded as delivery #{row.id} ({row.status})"
    return page(
        request, "message.html", who, title="Posted", message=f"{row.account}: {row.template_id}"
        f" {row.status}; {done}", back="/history",
    )  # fmt: skip
