"""Who is signed in, CSRF tokens, sign-in throttling and the security headers.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure on Heroku); it holds
the role, the name given at sign-in, the CSRF token, and a fingerprint of the role's password,
so changing a password ends every session signed in with the old one.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amplifier.config import Credential, WebAccess

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass(frozen=True)
class Visitor:
    """A signed-in person: their role and the name they gave (for the records they make)."""

    role: str
    name: str

    @property
    def organizer(self) -> bool:
        return self.role == "organizer"


def _credential(access: WebAccess, role: str) -> Credential | None:
    return next((c for c in access.credentials if c.role == role), None)


def visitor(request: Request, access: WebAccess) -> Visitor | None:
    """The signed-in visitor, or None (no session, or one from before a password change)."""
    session = request.session
    role, name, mark = session.get("role"), session.get("name"), session.get("mark")
    if not isinstance(role, str) or not isinstance(name, str) or not isinstance(mark, str):
        return None
    credential = _credential(access, role)
    if credential is None:
        return None
    expected = credential.fingerprint(access.session_secret.encode())
    if not hmac.compare_digest(mark, expected):
        return None
    return Visitor(role, name)


def sign_in(request: Request, access: WebAccess, password: str, name: str) -> Visitor | None:
    """Start a session for the role whose password this is; None when none matches."""
    found = [c for c in access.credentials if c.matches(password)]  # every role tried
    if not found:
        return None
    credential = found[0]
    request.session.clear()  # a fresh session (and CSRF token) after signing in
    request.session.update(
        role=credential.role,
        name=name,
        mark=credential.fingerprint(access.session_secret.encode()),
        csrf=secrets.token_urlsafe(32),
    )
    return Visitor(credential.role, name)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use, so the sign-in form has one too)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: object) -> None:
    """403 unless the form's token is this session's."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not isinstance(sent, str):
        raise HTTPException(403, "the form's security token is missing; reload the page")
    if not hmac.compare_digest(token.encode(), sent.encode()):
        raise HTTPException(403, "the form's security token does not match; reload the page")


class FailureLog(Protocol):
    """Where failed sign-ins are kept: the store, shared by every web process."""

    def sign_in_failures(self, client: str, since: datetime) -> list[datetime]: ...

    def record_sign_in_failure(
        self, client: str, at: datetime, forget_before: datetime
    ) -> None: ...

    def clear_sign_in_failures(self, client: str) -> None: ...


class Throttle:
    """At most ``limit`` failed sign-ins per client within ``window``; then wait.

    The failures are kept in the database, so two web processes (two dynos) count them
    together and a restart forgets none. Blocking calls: run them off the event loop."""

    def __init__(
        self,
        failures: FailureLog,
        clock: Callable[[], datetime],
        limit: int = 5,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self.failures, self.clock, self.limit, self.window = failures, clock, limit, window

    def wait(self, client: str) -> int | None:
        """Seconds this client must wait before trying again, or None."""
        now = self.clock()
        seen = self.failures.sign_in_failures(client, now - self.window)
        if len(seen) < self.limit:
            return None
        # The oldest failure that keeps the count at the limit leaves the window first.
        oldest = seen[len(seen) - self.limit]
        return max(1, int((oldest + self.window - now).total_seconds()) + 1)

    def failed(self, client: str) -> None:
        now = self.clock()
        self.failures.record_sign_in_failure(client, now, forget_before=now - self.window)

    def succeeded(self, client: str) -> None:
        self.failures.clear_sign_in_failures(client)


class SecurityHeaders:
    """Adds the security headers to every response (HSTS too when cookies are Secure)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: the page's own time, for bench_web and a browser's devtools.
                spent = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.headers, (b"server-timing", spent)]
            await send(message)

        await self.app(scope, receive, with_headers)
