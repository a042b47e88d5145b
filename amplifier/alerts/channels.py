"""The channels: Apprise URLs, sent to one at a time with bounded timeouts, never shown whole.

Apprise is imported when a message is sent, not before: a worker with alerts off, or with
nothing to say, never loads it. A channel is known in the outbox by a short fingerprint of
its URL (a truncated SHA-256, which cannot give the URL back) and in messages by its label:
its place in the list and its kind (``2. json://127.0.0.1:8080``; the host only for kinds whose
host is an address, never a Slack or Discord token).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Kinds whose host part is a server's address, not a token: their label may show it.
_ADDRESS_HOSTS = frozenset(
    {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "ntfy", "ntfys"}
)


# Query parameters that say where or how to send, never a secret (Apprise's own names).
_PLAIN_PARAMETERS = frozenset(
    {"from", "to", "cc", "bcc", "smtp", "mode", "name", "format", "overflow", "cto", "rto"}
)


def url_secrets(urls: Iterable[str]) -> list[str]:
    """Each URL whole and the parts of it that may be secret: its password, its host when the
    host is a token (a Slack URL's), each path segment and query value of eight characters
    or more (tokens, keys), but not an address's host or a recipient."""
    found: list[str] = []
    for url in urls:
        found.append(url)
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            password = parts.password or ""
        except ValueError:
            continue
        scheme = parts.scheme.lower()
        candidates = [password, *parts.path.split("/")]
        if scheme not in _ADDRESS_HOSTS:
            candidates += [host, parts.username or ""]
        for item in parts.query.split("&"):
            key, _, value = item.partition("=")
            if key.lower().lstrip("+-:") not in _PLAIN_PARAMETERS:
                candidates.append(value)
        found += [part for part in candidates if len(part) >= 8]
    return found


def fingerprint(url: str) -> str:
    """The channel's name in the outbox: 12 hex digits of the URL's SHA-256."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def label(url: str, index: int) -> str:
    """'1. json://127.0.0.1:8080', '2. slack://…': what messages and logs call the channel."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    host = ""
    if scheme in _ADDRESS_HOSTS:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
        except ValueError:
            host = ""
    return f"{index}. {scheme}://{host or '…'}"


def with_timeouts(url: str, connect: float, read: float) -> str:
    """The URL with Apprise's connect (cto) and read (rto) timeouts, unless it sets them."""
    query = urlsplit(url).query if "://" in url else ""
    keys = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
    extra = [f"{key}={value:g}" for key, value in (("cto", connect), ("rto", read))]
    extra = [item for item in extra if item.split("=")[0] not in keys]
    if not extra:
        return url
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(extra)


@dataclass(frozen=True)
class Timeouts:
    """Seconds Apprise may wait to connect, and for an answer, per channel."""

    connect: float = 5.0
    read: float = 10.0


def send(
    url: str,
    title: str,
    body: str,
    *,
    timeouts: Timeouts,
    redact: Callable[[str], str],
) -> str | None:
    """Send one message to one channel; None when it took it, else what went wrong (scrubbed
    by ``redact``, which must know the URL's secret parts)."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(with_timeouts(url, timeouts.connect, timeouts.read)):
        return (
            "Apprise does not understand this URL (see https://github.com/caronc/apprise/wiki "
            "for each service's form)"
        )
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        try:
            done = notifier.notify(title=title, body=body)
        except Exception as error:  # a plugin's bug must not end the sender
            return redact(f"{type(error).__name__}: {error}")
        logged = captured.getvalue()
    if done:
        return None
    lines = [line.split(" - ", 2)[-1].strip() for line in logged.splitlines() if line.strip()]
    return redact("; ".join(lines[-2:]) or "the channel refused the message")
