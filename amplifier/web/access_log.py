"""uvicorn's access lines as the console's events: one logfmt line per request, no secret.

uvicorn logs each request as ``'%s - "%s %s HTTP/%s" %d'`` (client, method, path with its
query, HTTP version, status). ``AccessEvents`` turns such a record into
``event=request method=GET path=/calendar.ics query="token=[redacted]" status=200 client=…``
before the log's formatter sees it. A query parameter that carries a credential (the calendar
feed's ``token``) has its value replaced whatever it is: a wrong or revoked token is someone's
secret too, and the log's own redaction only knows the current values. Cookies and the
session are never in these lines (uvicorn logs no header).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from amplifier.logs import REDACTED, logfmt

ACCESS_LOGGER = "uvicorn.access"
# Query parameters whose value is a credential (the calendar feed's link holds its token).
SECRET_PARAMETERS = frozenset({"token"})
_FIELDS_OF_UVICORN = 5  # client, method, path with query, HTTP version, status


def redacted_query(query: str) -> str:
    """``token=abc&days=14`` -> ``token=[redacted]&days=14``; other parameters kept as sent."""
    parts = []
    for part in query.split("&"):
        name = part.partition("=")[0]
        if unquote(name).strip().lower() in SECRET_PARAMETERS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "&".join(parts)


class AccessEvents(logging.Filter):
    """Makes uvicorn's access records ``event=request`` lines, the query redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != ACCESS_LOGGER:
            return True
        args = record.args
        if not isinstance(args, tuple) or len(args) != _FIELDS_OF_UVICORN:
            # Not the shape we know: never let its text through unredacted.
            record.msg, record.args = logfmt("request", detail="unrecognised access record"), None
            return True
        client, method, target, version, status = args
        path, mark, query = str(target).partition("?")
        record.msg = logfmt(
            "request",
            method=method,
            path=path,
            query=redacted_query(query) if mark else None,
            status=status,
            http=version,
            client=client,
        )
        record.args = None
        return True
