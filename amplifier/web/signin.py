"""Signing in and out: a password per role, attempts throttled per client (the failures are
kept in the database, so every web process and every restart counts them together)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from amplifier.web import params
from amplifier.web.guard import console
from amplifier.web.render import page
from amplifier.web.security import Throttle, check_csrf, sign_in, visitor


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def signin_page(request: Request) -> Response:
    params.check_names(request.query_params, ["next"])
    back = params.local_path(params.text(request.query_params, "next"))
    if visitor(request, console(request).access) is not None:
        return RedirectResponse(back, status_code=303)
    return page(request, "signin.html", None, title="Sign in", next=back, name="", error=None)


async def signin(request: Request) -> Response:
    throttle: Throttle = request.app.state.throttle
    client = _client(request)
    wait = await run_in_threadpool(throttle.wait, client)
    if wait is not None:
        raise HTTPException(
            429,
            f"Too many failed sign-ins from here; try again in {wait} seconds.",
            headers={"retry-after": str(wait)},
        )
    form = await request.form(max_files=0, max_fields=10, max_part_size=10_000)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(request, fields.get("csrf"))
    back = params.local_path(fields.get("next"))
    name = "".join(ch for ch in " ".join(fields.get("name", "").split()) if ch.isprintable())
    name = name[:60] or "someone"
    password = fields.get("password", "")[:1000]
    access = console(request).access
    found = await run_in_threadpool(sign_in, request, access, password, name)
    if found is None:
        await run_in_threadpool(throttle.failed, client)
        return page(
            request, "signin.html", None, title="Sign in", next=back, name=name,
            error="That password is not right.", status_code=401,
        )  # fmt: skip
    await run_in_threadpool(throttle.succeeded, client)
    return RedirectResponse(back, status_code=303)


async def signout(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10, max_part_size=10_000)
    check_csrf(request, form.get("csrf"))
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)
