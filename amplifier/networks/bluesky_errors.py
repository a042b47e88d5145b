"""The one place where atproto, httpx and pydantic exceptions become amplifier's errors.

What a call does decides what its failures mean (``Kind``): "write" creates the post, so a lost
or unusable answer to it may hide a stored post (ambiguous); "content" sends what the post is
made of (a 4xx refuses the post); "read" only reads (a 4xx is about the account, never a
refused post); "login" is createSession (a 4xx is about the login).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from atproto_client import exceptions as sdk_errors

from amplifier.errors import (
    AccountUnreadable,
    AuthFailed,
    NetworkError,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.networks.answers import (
    about_credentials,
    is_refusal,
    may_have_landed,
    scrub,
    server_words,
)
from amplifier.networks.base import header
from amplifier.networks.bluesky_xrpc import rate_limit_windows, xrpc_error

Kind = Literal["write", "content", "read", "login"]
DEFAULT_RATE_LIMIT_PAUSE = timedelta(minutes=5)
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})  # a fresh login cures these
_ACCOUNT_ERRORS = frozenset(  # 400s about the account, not the post
    {"AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired", "AuthenticationRequired"}
)
# Failures before a connection existed: nothing can have been sent.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class BlueskyErrors:
    """Translates one account's failures; ``secrets`` says what no message may contain."""

    def __init__(
        self, account: str, clock: Callable[[], datetime], secrets: Callable[[], list[str]]
    ) -> None:
        self._where = {"account": account, "network": "bluesky"}
        self._clock = clock
        self._secrets = secrets

    @contextmanager
    def translated(self, action: str, *, kind: Kind) -> Iterator[None]:
        """Turn atproto, httpx and pydantic exceptions into amplifier's NetworkError tree.

        Only a "write" (the call creating the post) can be ambiguous: a lost or unusable answer
        to it may hide a stored post."""
        where = self._where
        write = kind == "write"
        try:
            yield
        except NetworkError:
            raise
        except sdk_errors.RateLimitExceededError as exc:
            raise self._rate_limited(action, exc) from exc
        except sdk_errors.RequestErrorBase as exc:
            if exc.response is None:  # a transport failure the SDK wrapped; the cause says which
                raise self._transient(action, exc.__cause__ or exc, write=write) from exc
            raise self._from_status(action, kind, exc) from None  # SDK text is unscrubbed
        except httpx.HTTPError as exc:  # transport errors the SDK let through, bad encodings
            raise self._transient(action, exc, write=write) from exc
        except (sdk_errors.AtProtocolError, ValueError) as exc:  # a 2xx body that does not parse
            message = f"bluesky {action}: unexpected answer ({type(exc).__name__})"
            raise TransientError(message, ambiguous=write, **where) from exc

    def _from_status(self, action: str, kind: Kind, exc: Any) -> NetworkError:
        """The error for an answer with an HTTP status (429 is handled before)."""
        status = int(exc.response.status_code)
        error, server_message = xrpc_error(exc)
        words = f"{error}: {server_message}".strip(": ")
        if not words:  # not XRPC JSON: the SDK kept the raw body
            content = exc.response.content
            body = content if isinstance(content, bytes | str) else None
            words = server_words(body, header(exc.response.headers, "content-type"))
        words = self.scrub(words)
        message = f"bluesky {action}: HTTP {status} {words or '(no explanation)'}"
        where = self._where
        if status in (401, 403) or error in TOKEN_ERRORS | _ACCOUNT_ERRORS:
            return AuthFailed(message, **where)
        if not is_refusal(status) or status == 409:
            ambiguous = kind == "write" and (may_have_landed(status) or status == 409)
            return TransientError(message, ambiguous=ambiguous, **where)
        if kind == "login" or (kind == "read" and about_credentials(words)):
            return AuthFailed(message, **where)
        if kind == "read":
            return AccountUnreadable(message, **where)
        return PostRejected(message, reason=words, **where)

    def _transient(self, action: str, cause: BaseException, *, write: bool) -> TransientError:
        message = self.scrub(f"bluesky {action}: {type(cause).__name__}: {cause}")
        ambiguous = write and not isinstance(cause, _NEVER_SENT)
        return TransientError(message, ambiguous=ambiguous, **self._where)

    def _rate_limited(self, action: str, exc: Any) -> RateLimited:
        now = self._clock()
        headers: Mapping[str, str] = exc.response.headers if exc.response is not None else {}
        windows = rate_limit_windows(headers)
        if windows and windows[0].reset_at is not None:
            retry_at = max(windows[0].reset_at, now)
        elif exc.retry_after is not None:
            retry_at = now + timedelta(seconds=float(exc.retry_after))
        else:
            retry_at = now + DEFAULT_RATE_LIMIT_PAUSE
        window = windows[0].window if windows else "unknown"
        message = f"bluesky {action}: rate limited ({window}) until {retry_at.isoformat()}"
        return RateLimited(message, retry_at=retry_at, window=window, **self._where)

    def rejected(self, message: str) -> PostRejected:
        return PostRejected(message, reason=message, **self._where)

    def scrub(self, message: str) -> str:
        """Belt and braces: server text should never echo a secret, but make sure."""
        return scrub(message, self._secrets())
