"""Mastodon adapter: one status per post, through Mastodon.py 2.3.3.

Choices forced by the library (see /work/shared/PLATFORMS.md):

* ``ratelimit_method="throw"``: the default "wait" sleeps in-process for up to hours.
* ``mastodon_version`` is given together with ``version_check_mode="created"``. With mode
  "none" Mastodon.py 2.3.3 ignores the given version, keeps 1.0.0 and sends media to the
  old ``/api/v1/media``; with a version and "created" it never probes the server.
* Media processing is awaited by our own bounded polling; ``synchronous=True`` never gives up.
* Rate-limit headers are read from the raw response through a ``requests`` response hook,
  because Mastodon.py re-bases ``ratelimit_reset`` on the real wall clock and drops it when
  it looks past, which an injected clock cannot follow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
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

from amplifier.errors import AuthFailed, NetworkError, PostRejected, RateLimited, TransientError
from amplifier.networks.answers import may_have_landed
from amplifier.networks.base import (
    AccountInfo,
    HttpSettings,
    MediaItem,
    NetworkName,
    OutgoingPost,
    RateLimitWindow,
    Receipt,
    header,
)

log = logging.getLogger(__name__)

VISIBILITIES = ("public", "unlisted", "private", "direct")
DEFAULT_LIMITS = (500, 23)  # Mastodon's stock max_characters and characters_reserved_per_url
BOT_NOTE = (
    "This Mastodon account is not marked as a bot: tick 'This is an automated account' in "
    "Preferences > Profile so people know it posts automatically."
)
# Polling intervals while an upload is processed; the last one repeats until the bound.
MEDIA_POLL_INTERVALS = (0.5, 1.0, 2.0, 4.0, 5.0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


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


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


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


class MastodonNetwork:
    """Publishes to one Mastodon account. One instance per account; not for concurrent use."""

    network: NetworkName = "mastodon"

    def __init__(
        self,
        account: str,
        *,
        instance_url: str,
        access_token: str,
        visibility: str = "unlisted",
        mastodon_version: str = "4.3.0",
        http: HttpSettings = HttpSettings(),  # noqa: B008 - frozen dataclass, safe to share
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")
        self.account = account
        self.instance_url = instance_url.rstrip("/")
        self.visibility = visibility
        self.http = http
        self._clock = clock
        self._sleep = sleep
        self._limits: tuple[int, int] | None = None
        self._last_response: requests.Response | None = None
        session = requests.Session()
        session.hooks["response"].append(self._remember_response)
        self._client = Mastodon(
            access_token=access_token,
            api_base_url=self.instance_url,
            ratelimit_method="throw",
            # Mastodon.py hands this straight to requests, which takes (connect, read).
            request_timeout=(http.connect_timeout, http.read_timeout),  # type: ignore[arg-type]
            mastodon_version=mastodon_version,
            version_check_mode="created",
            session=session,
            user_agent="amplifier (Mastodon.py)",
        )

    # -- public API ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the images, wait for them, then post one status with the idempotency key."""
        media_ids = [self._upload(item) for item in post.media]
        # Idempotency-Key: the server returns the first status for the same key for 1 h,
        # so a retry after an ambiguous failure cannot post twice within that hour.
        with self._sdk_errors("posting status", creates_post=True):
            status = self._client.status_post(
                status=post.text,
                idempotency_key=post.idempotency_key,
                visibility=self.visibility,
                language=post.language,
                spoiler_text=post.content_warning,
                media_ids=media_ids or None,
            )
        remote_id = str(status["id"])
        url = status.get("url")
        log.info("mastodon %s: published status %s", self.account, remote_id)
        return Receipt(
            remote_id=remote_id,
            url=str(url) if url else None,
            rate_limits=self._rate_limits_seen(),
        )

    def verify(self) -> AccountInfo:
        """Read the account behind the token (GET verify_credentials); posts nothing."""
        with self._sdk_errors("verifying credentials", creates_post=False):
            account = self._client.account_verify_credentials()
        acct = str(account.get("acct") or account.get("username") or "")
        url = account.get("url")
        host = urlsplit(str(url) if url else self.instance_url).netloc
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{host}"
        is_bot = bool(account.get("bot"))
        return AccountInfo(
            network="mastodon",
            account=self.account,
            handle=handle,
            display_name=str(account.get("display_name") or ""),
            url=str(url) if url else None,
            is_bot=is_bot,
            notes=() if is_bot else (BOT_NOTE,),
        )

    def instance_limits(self) -> tuple[int, int]:
        """(max_characters, characters_reserved_per_url) from /api/v2/instance, read once."""
        if self._limits is None:
            self._limits = self._fetch_limits()
        return self._limits

    # -- steps --------------------------------------------------------------------------
    def _fetch_limits(self) -> tuple[int, int]:
        try:
            with self._sdk_errors("reading instance limits", creates_post=False):
                instance: Mapping[str, Any] = self._client.instance_v2()
        except PostRejected:  # 404 or a version without /api/v2/instance: use the defaults
            instance = {}
        configuration = instance.get("configuration")
        statuses = configuration.get("statuses") if isinstance(configuration, Mapping) else None
        if isinstance(statuses, Mapping):
            max_characters = statuses.get("max_characters")
            per_url = statuses.get("characters_reserved_per_url")
            if isinstance(max_characters, int) and isinstance(per_url, int):
                return max_characters, per_url
        log.warning(
            "mastodon %s: %s gives no configuration.statuses limits; assuming %s characters, "
            "%s per URL",
            self.account,
            self.instance_url,
            *DEFAULT_LIMITS,
        )
        return DEFAULT_LIMITS

    def _upload(self, item: MediaItem) -> str:
        """Upload one image with its alt text and wait, bounded, until the server processed it."""
        with self._sdk_errors("uploading media", creates_post=False):
            media = self._client.media_post(item.path, description=item.alt)
            media_id = str(media["id"])
            waited = 0.0
            polls = 0
            # Bounded by the sum of the pauses, not by the clock: an injected clock that
            # stands still must not turn this into an endless loop.
            while media.get("url") is None:
                budget = self.http.media_processing_timeout - waited
                if budget <= 1e-9:
                    raise TransientError(
                        f"mastodon {self.account}: media {media_id} still processing "
                        f"after {waited:g} s",
                        account=self.account,
                        network=self.network,
                    )
                pause = min(MEDIA_POLL_INTERVALS[min(polls, len(MEDIA_POLL_INTERVALS) - 1)], budget)
                self._sleep(pause)
                waited += pause
                polls += 1
                media = self._client.media(media_id)
        return media_id

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    def _rate_limits_seen(self) -> tuple[RateLimitWindow, ...]:
        response = self._last_response
        if response is None or header(response.headers, "x-ratelimit-remaining") is None:
            return ()
        reset_at = parse_reset(header(response.headers, "x-ratelimit-reset"))
        return (
            RateLimitWindow(
                window=window_name(reset_at, self._clock()),
                limit=_int_or_none(header(response.headers, "x-ratelimit-limit")),
                remaining=_int_or_none(header(response.headers, "x-ratelimit-remaining")),
                reset_at=reset_at,
            ),
        )

    # -- the one place Mastodon.py exceptions become amplifier errors --------------------
    @contextmanager
    def _sdk_errors(self, action: str, *, creates_post: bool) -> Iterator[None]:
        """Translate Mastodon.py exceptions; creates_post marks requests that may post."""
        self._last_response = None
        try:
            yield
        except MastodonError as exc:
            raise self._translate(exc, action, creates_post) from exc

    def _translate(self, exc: MastodonError, action: str, creates_post: bool) -> NetworkError:
        where = {"account": self.account, "network": self.network}
        prefix = f"mastodon {self.account}: {action} failed"
        response = self._last_response
        status = response.status_code if response is not None else None
        if isinstance(exc, MastodonRatelimitError):
            if status is not None and status != 429:
                # Mastodon.py raises this when it cannot read the reset header, even after
                # a 2xx: the request may have been carried out.
                return TransientError(
                    f"{prefix}: unreadable rate-limit headers on HTTP {status}",
                    ambiguous=creates_post,
                    **where,
                )
            seen = self._rate_limits_seen()
            retry_at = seen[0].reset_at if seen else None
            if retry_at is None:
                retry_at = self._clock() + timedelta(minutes=5)
            window = window_name(retry_at, self._clock())
            return RateLimited(
                f"{prefix}: HTTP 429 rate limited ({window} window) until {retry_at.isoformat()}",
                retry_at=retry_at,
                window=window,
                **where,
            )
        if isinstance(exc, MastodonNetworkError):
            ambiguous = creates_post and _may_have_landed(exc)
            kind = "timed out" if _is_timeout(exc) else "network error"
            cause = type(exc.__context__ or exc).__name__  # requests' class: no URL, no header
            return TransientError(f"{prefix}: {kind} ({cause})", ambiguous=ambiguous, **where)
        if isinstance(exc, MastodonIOError):  # the image file itself cannot be read
            return PostRejected(f"{prefix}: {exc}", reason=str(exc), **where)
        if isinstance(exc, MastodonIllegalArgumentError | MastodonVersionError):
            return PostRejected(f"{prefix}: {exc}", reason=str(exc), **where)
        if isinstance(exc, MastodonAPIError):
            code, http_reason, server_text = _api_error_parts(exc)
            detail = f"HTTP {code} {http_reason}: {server_text}" if code else str(exc.args[0])
            if isinstance(exc, MastodonServerError) or (code and may_have_landed(code)):
                # Any 5xx (Cloudflare's 52x too), 408 and 425: not a refusal, so not proof
                # that nothing was stored.
                return TransientError(f"{prefix}: {detail}", ambiguous=creates_post, **where)
            if isinstance(exc, MastodonUnauthorizedError) or code == 403:
                return AuthFailed(f"{prefix}: {detail}", **where)
            if isinstance(exc, MastodonNotFoundError) or (code and 400 <= code < 500):
                return PostRejected(f"{prefix}: {detail}", reason=server_text, **where)
            # No status code: a 2xx whose body was not JSON. The request went through.
            return TransientError(f"{prefix}: {detail}", ambiguous=creates_post, **where)
        return TransientError(f"{prefix}: {type(exc).__name__}", ambiguous=creates_post, **where)


def _api_error_parts(exc: MastodonAPIError) -> tuple[int | None, str, str]:
    """Mastodon.py's args: ('Mastodon API returned error', status, reason, server message)."""
    args = exc.args
    if len(args) >= 4 and isinstance(args[1], int):
        return args[1], str(args[2] or ""), str(args[3] or "")
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
