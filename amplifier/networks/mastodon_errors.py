"""The one place where Mastodon.py exceptions become amplifier's errors, and the rate-limit
headers they come with.

Mastodon.py keeps only a JSON body's ``error`` field: a server answering in plain text or HTML
(Takahē answers a bad token with ``400 Invalid Bearer token``) leaves it empty, and a 404 gets
Mastodon.py's own "Endpoint not found.". The raw answer, kept by a ``requests`` response hook,
gives the server's own words back (``answers``).

What a call does decides what its failures mean (``Kind``): "write" posts the status (a lost
or unusable answer may hide a stored status: ambiguous), "content" uploads what the post is
made of (a 4xx refuses the post), "read" only reads (a 4xx is about the account).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import requests
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonIOError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonReadTimeout,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)
from urllib3.exceptions import NewConnectionError

from amplifier.errors import (
    AccountUnreadable,
    AuthFailed,
    NetworkError,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.networks.answers import about_credentials, may_have_landed, scrub, server_words
from amplifier.networks.base import RateLimitWindow, header

Kind = Literal["write", "content", "read"]


def parse_reset(value: str | None) -> datetime | None:
    """x-ratelimit-reset: ISO-8601 on Mastodon, epoch seconds on some other servers."""
    if not value:
        return None
    try:
        if value.strip().isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window_name(reset_at: datetime | None, now: datetime) -> str:
    """Name the counter a set of headers describes, from how far away its reset is.

    Mastodon sends one set of x-ratelimit-* headers: the general API limit (300 per 5 min,
    per account and IP), or on POST /api/v1/statuses the per-account statuses limit
    (300 per 3 h) when that one is tighter, or on media uploads 30 per 30 min. The limits
    look alike, so only the distance to the reset tells them apart.
    """
    if reset_at is None:
        return "5m"
    ahead = reset_at - now
    if ahead <= timedelta(minutes=5, seconds=30):
        return "5m"
    if ahead <= timedelta(minutes=30, seconds=30):
        return "30m"
    return "3h"


def rate_limits_of(
    response: requests.Response | None, now: datetime
) -> tuple[RateLimitWindow, ...]:
    """The x-ratelimit-* window of an answer (none if it carries no remaining count)."""
    if response is None or header(response.headers, "x-ratelimit-remaining") is None:
        return ()
    reset_at = parse_reset(header(response.headers, "x-ratelimit-reset"))
    return (
        RateLimitWindow(
            window=window_name(reset_at, now),
            limit=_int_or_none(header(response.headers, "x-ratelimit-limit")),
            remaining=_int_or_none(header(response.headers, "x-ratelimit-remaining")),
            reset_at=reset_at,
        ),
    )


@dataclass(frozen=True)
class MastodonErrors:
    """Translates one account's failures; ``secrets`` is what no message may contain."""

    account: str
    clock: Callable[[], datetime]
    secrets: Iterable[str]

    def translate(
        self,
        exc: MastodonError,
        action: str,
        kind: Kind,
        response: requests.Response | None,
    ) -> NetworkError:
        where = {"account": self.account, "network": "mastodon"}
        prefix = f"mastodon {self.account}: {action} failed"
        write = kind == "write"
        status = response.status_code if response is not None else None
        if isinstance(exc, MastodonRatelimitError):
            if status is not None and status != 429:
                # Mastodon.py raises this when it cannot read the reset header, even after
                # a 2xx: the request may have been carried out.
                message = f"{prefix}: unreadable rate-limit headers on HTTP {status}"
                return TransientError(message, ambiguous=write, **where)
            return self._rate_limited(prefix, response)
        if isinstance(exc, MastodonNetworkError):
            ambiguous = write and _may_have_landed(exc)
            what = "timed out" if _is_timeout(exc) else "network error"
            cause = type(exc.__context__ or exc).__name__  # requests' class: no URL, no header
            return TransientError(f"{prefix}: {what} ({cause})", ambiguous=ambiguous, **where)
        if isinstance(exc, MastodonIOError | MastodonIllegalArgumentError | MastodonVersionError):
            # The image file itself cannot be read, or the call cannot be made: nothing sent.
            return PostRejected(f"{prefix}: {exc}", reason=str(exc), **where)
        if not isinstance(exc, MastodonAPIError):
            return TransientError(f"{prefix}: {type(exc).__name__}", ambiguous=write, **where)
        code, http_reason, words = _api_error_parts(exc)
        if response is not None and code is not None:
            # The raw answer says more: Mastodon.py keeps only a JSON "error" field, and puts
            # its own "Endpoint not found." on a 404 that said something else.
            words = server_words(response.content, header(response.headers, "content-type")) or (
                words
            )
        words = scrub(words, self.secrets)
        if code is None:
            # A 2xx whose body is not JSON (Mastodon.py's own message repeats the whole body).
            shown = f"HTTP {status}" if status else "an answer"
            detail = f"{shown} that is not JSON: {words or '(empty)'}"
            return TransientError(f"{prefix}: {detail}", ambiguous=write, **where)
        detail = f"HTTP {code} {http_reason}: {words or '(no explanation)'}"
        message = f"{prefix}: {detail}"
        if isinstance(exc, MastodonServerError) or may_have_landed(code):
            # Any 5xx (Cloudflare's 52x too), 408 and 425: not a refusal, so not proof
            # that nothing was stored.
            return TransientError(message, ambiguous=write, **where)
        if isinstance(exc, MastodonUnauthorizedError) or code == 403:
            return AuthFailed(message, **where)
        if kind == "read":
            if about_credentials(words):
                return AuthFailed(message, **where)
            return AccountUnreadable(message, **where)
        if isinstance(exc, MastodonNotFoundError) or 400 <= code < 500:
            return PostRejected(message, reason=words, **where)
        return TransientError(message, ambiguous=write, **where)

    def _rate_limited(self, prefix: str, response: requests.Response | None) -> RateLimited:
        now = self.clock()
        seen = rate_limits_of(response, now)
        retry_at = seen[0].reset_at if seen else None
        if retry_at is None:
            retry_at = now + timedelta(minutes=5)
        window = window_name(retry_at, now)
        return RateLimited(
            f"{prefix}: HTTP 429 rate limited ({window} window) until {retry_at.isoformat()}",
            retry_at=retry_at,
            window=window,
            account=self.account,
            network="mastodon",
        )


def _api_error_parts(exc: MastodonAPIError) -> tuple[int | None, str, str]:
    """Mastodon.py's args: ('Mastodon API returned error', status, reason, server message)."""
    args = exc.args
    if len(args) >= 4 and isinstance(args[1], int):
        return args[1], str(args[2] or ""), server_words(str(args[3] or ""))
    return None, "", ""


def _is_timeout(exc: MastodonNetworkError) -> bool:
    # Mastodon.py wraps every requests exception as MastodonNetworkError("Could not complete
    # request: ...") raised inside the except block, so the original is the __context__.
    return isinstance(exc, MastodonReadTimeout) or isinstance(
        exc.__context__, requests.exceptions.Timeout
    )


def _may_have_landed(exc: MastodonNetworkError) -> bool:
    """False only when the request never reached the server (no connection was made)."""
    cause = exc.__context__
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(cause, requests.exceptions.ConnectionError):
        # requests wraps urllib3's MaxRetryError; its reason says whether a connection was made.
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        return not isinstance(reason, NewConnectionError)
    return True


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
