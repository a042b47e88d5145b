"""Query and form parameters, checked: anything unexpected is a 400 with a message, never a 500.

Each page names the parameters it takes; an unknown one, a repeated one, or a value outside
what is allowed is refused, so a filter never reaches the database unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta

from starlette.datastructures import ImmutableMultiDict, QueryParams

POST_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_LENGTH = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadParameter(Exception):
    """A parameter the page cannot use; the message says which and what is allowed."""


def check_names(
    params: QueryParams | ImmutableMultiDict[str, object], allowed: Iterable[str]
) -> None:
    known = set(allowed)
    for name in params:
        if name not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise BadParameter(f"unknown parameter {name[:40]!r}; this page takes: {shown}")
        if len(params.getlist(name)) > 1:
            raise BadParameter(f"parameter {name!r} is given more than once")


def text(params: QueryParams, name: str) -> str | None:
    """The value, or None when absent or empty."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_LENGTH or any(ord(ch) < 32 for ch in value):
        raise BadParameter(f"{name} is too long or holds control characters")
    return value


def choice(params: QueryParams, name: str, allowed: Collection[str]) -> str | None:
    value = text(params, name)
    if value is not None and value not in allowed:
        shown = ", ".join(sorted(allowed)) or "none"
        raise BadParameter(f"{name} {value[:40]!r} is not one of: {shown}")
    return value


def post_id(params: QueryParams, name: str) -> str | None:
    value = text(params, name)
    if value is not None and not POST_ID.match(value):
        raise BadParameter(f"{name} must be a post id (lowercase letters, digits and -)")
    return value


def day(params: QueryParams, name: str) -> date | None:
    value = text(params, name)
    if value is None:
        return None
    try:
        found = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        found = None
    if found is None:
        raise BadParameter(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}")
    return found


def cursor(params: QueryParams, name: str) -> tuple[datetime, int] | None:
    """'<microseconds since 1970>.<id>', as the previous page's 'older' link wrote it."""
    value = text(params, name)
    if value is None:
        return None
    match = re.fullmatch(r"(-?\d{1,17})\.(\d{1,18})", value)
    if match is None:
        raise BadParameter(f"{name} is not a page marker this site wrote")
    micros, row_id = int(match[1]), int(match[2])
    try:
        return EPOCH + timedelta(microseconds=micros), row_id
    except OverflowError:
        raise BadParameter(f"{name} is not a page marker this site wrote") from None


def write_cursor(moment: datetime, row_id: int) -> str:
    return f"{(moment - EPOCH) // timedelta(microseconds=1)}.{row_id}"


def local_path(value: str | None) -> str:
    """Where to go after signing in: a path of this site only."""
    if value is None or value == "":
        return "/"
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 300:
        raise BadParameter("next must be a path of this site")
    if any(ord(ch) < 33 for ch in value):
        raise BadParameter("next must be a path of this site")
    return value


def form_text(fields: dict[str, str], name: str, longest: int) -> str:
    """A form's free text (a reason, a note), spaces tidied; refused when too long or
    holding control characters (a database refuses some, and no person types them)."""
    value = " ".join(fields.get(name, "").split())
    if len(value) > longest:
        raise BadParameter(f"the {name} is longer than {longest} characters")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise BadParameter(f"the {name} holds control characters")
    return value
