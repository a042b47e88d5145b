"""Reading X's answers: rate-limit header families, the server's words, and whether a failed
request may have reached X at all."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from amplifier.networks.answers import server_words
from amplifier.networks.base import RateLimitWindow, header

FALLBACK_WAIT = timedelta(minutes=15)
_WINDOW_HEADERS = (
    ("15m", "x-rate-limit"),
    ("24h-user", "x-user-limit-24hour"),
    ("24h-app", "x-app-limit-24hour"),
)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = header(headers, name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def rate_limit_windows(headers: Mapping[str, str]) -> tuple[RateLimitWindow, ...]:
    """Every X rate-limit window reported in these response headers (reset in epoch seconds)."""
    windows = []
    for window, prefix in _WINDOW_HEADERS:
        limit = _int_header(headers, f"{prefix}-limit")
        remaining = _int_header(headers, f"{prefix}-remaining")
        reset = _int_header(headers, f"{prefix}-reset")
        if limit is None and remaining is None and reset is None:
            continue
        reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
        windows.append(RateLimitWindow(window, limit, remaining, reset_at))
    return tuple(windows)


def exhausted_window(headers: Mapping[str, str], now: datetime) -> tuple[str, datetime]:
    """Which window a 429 came from and when it reopens.

    A daily window at zero wins over the 15-minute one, because waiting 15 minutes would only
    earn another 429. A missing or already-past reset falls back to now + 15 minutes.
    """
    by_name = {w.window: w for w in rate_limit_windows(headers)}
    chosen = "15m"
    for name in ("24h-user", "24h-app"):
        window = by_name.get(name)
        if window is not None and window.remaining == 0:
            chosen = name
            break
    reset_at = by_name[chosen].reset_at if chosen in by_name else None
    if reset_at is None or reset_at <= now:
        reset_at = now + FALLBACK_WAIT
    return chosen, reset_at


def server_words_of(response: requests.Response) -> tuple[str, str]:
    """(title, reason) from an X error body: v2 problem details or v1.1-style errors; any other
    body (HTML from a proxy, plain text, ``{}``) gives its own words as the reason."""
    title = response.reason or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and any(body.get(k) for k in ("title", "detail", "errors")):
        title = str(body.get("title") or title)
        messages = [
            str(error.get("message") or error.get("detail") or "")
            for error in body.get("errors") or []
            if isinstance(error, dict)
        ]
        reason = str(body.get("detail") or "; ".join(m for m in messages if m) or title)
        return title, reason[:300]
    return title, server_words(response.content, header(response.headers, "content-type"))


def sent_at_all(exc: requests.RequestException) -> bool:
    """False only when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.SSLError):
        # A refused certificate stops the handshake, before any byte of the request; other TLS
        # failures (an EOF in the middle of the answer) can come after it was sent.
        return not _certificate_refused(exc)
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
        # urllib3 wraps connect failures (refused, DNS, connect timeout) in MaxRetryError;
        # a reset or a close after sending surfaces as a bare ProtocolError instead.
        if isinstance(reason, MaxRetryError) and isinstance(reason.reason, ConnectTimeoutError):
            return False
    return True  # read timeouts, resets mid-answer, truncated bodies


def _certificate_refused(exc: BaseException) -> bool:
    """Whether a certificate check failed anywhere in the chain requests and urllib3 built."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]
    return False
