"""Who may see a page or make a change: every route but /healthz, the feed and the share kit
(/kit, public) needs a session."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request

from amplifier.web.console import Console
from amplifier.web.security import Visitor, check_csrf, visitor


class SignInFirst(Exception):
    """A page asked for without a session: the answer is the sign-in page, then back."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back

    @property
    def location(self) -> str:
        return "/signin?" + urlencode({"next": self.back}) if self.back != "/" else "/signin"


def console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def reader(request: Request) -> Visitor:
    """The signed-in visitor (any role), or off to the sign-in page."""
    found = visitor(request, console(request).access)
    if found is None:
        raise SignInFirst(request.url.path)
    return found


async def organizer(request: Request) -> tuple[Visitor, dict[str, str]]:
    """For a change: a signed-in organizer and a form with this session's CSRF token.

    No session: 403 (a form is never replayed after signing in); a viewer: 403.
    """
    found = visitor(request, console(request).access)
    if found is None:
        raise HTTPException(403, "sign in first")
    form = await request.form(max_files=0, max_fields=20, max_part_size=10_000)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    check_csrf(request, fields.get("csrf"))
    if not found.organizer:
        raise HTTPException(403, "only organizers can do this; you are signed in as a viewer")
    return found, fields
