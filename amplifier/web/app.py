"""The console's ASGI app: routes, sessions, security headers, and every error as a page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from amplifier.web import (
    actions,
    calendar,
    feed,
    health,
    history,
    kit,
    posts,
    results,
    review,
    signin,
    status,
)
from amplifier.web.console import Console
from amplifier.web.guard import SignInFirst
from amplifier.web.params import BadParameter
from amplifier.web.render import page
from amplifier.web.security import SecurityHeaders, Throttle, visitor

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 12


def _status_page(request: Request, code: int, message: str) -> Response:
    path = request.url.path
    if path in ("/healthz", "/calendar.ics") or path.startswith(("/static/", "/kit/")):
        return PlainTextResponse(message, status_code=code)
    console: Console = request.app.state.console
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed",
              429: "Too many attempts"}  # fmt: skip
    try:
        who = visitor(request, console.access)
    except AssertionError:  # an error raised before the session middleware ran
        who = None
    return page(
        request, "message.html", who, title=titles.get(code, "Error"), status_code=code,
        message=message, kind="error", back="/" if who else "/signin",
    )  # fmt: skip


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    return _status_page(request, 400, f"Bad request: {exc}")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = _status_page(request, exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInFirst)
    return RedirectResponse(exc.location, status_code=303)


def _lifespan(console: Console) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Starts the console's alert watch (its own thread, never a request's) and stops it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watch = console.watch
        if watch is not None:
            watch.start()
        try:
            yield
        finally:
            if watch is not None:
                await run_in_threadpool(watch.close)

    return lifespan


def create_app(console: Console) -> Starlette:
    """The console over ``console``'s settings, posts and store (tests build it directly)."""
    routes = [
        Route("/", calendar.calendar_page),
        Route("/history", history.history_page),
        Route("/status", status.status_page),
        Route("/review", review.review_page),
        Route("/review/{delivery_id:int}", review.resolve, methods=["POST"]),
        Route("/posts", posts.posts_page),
        Route("/results", results.results_page),
        Route("/results.csv", results.results_csv),
        Route("/pause", actions.pause, methods=["POST"]),
        Route("/resume", actions.resume, methods=["POST"]),
        Route("/post-now", actions.post_now, methods=["POST"]),
        Route("/calendar.ics", feed.calendar_feed),
        Route("/healthz", health.healthz),
        Route("/kit", kit.kit_root),
        Route("/kit/{path:path}", kit.kit_file),
        Route("/signin", signin.signin_page, methods=["GET"]),
        Route("/signin", signin.signin, methods=["POST"]),
        Route("/signout", signin.signout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    access = console.access
    middleware = [
        Middleware(SecurityHeaders, hsts=access.secure_cookies),
        Middleware(
            SessionMiddleware,
            secret_key=access.session_secret,
            session_cookie="amplifier_session",
            max_age=SESSION_HOURS * 3600,
            same_site="lax",
            https_only=access.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            BadParameter: _bad_parameter,
            HTTPException: _http_error,
            SignInFirst: _sign_in_first,
        },
        lifespan=_lifespan(console),
    )
    app.state.console = console
    app.state.throttle = Throttle(console.store, console.clock)
    app.state.kit = kit.KitSite()
    return app
