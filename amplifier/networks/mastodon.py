"""Mastodon adapter: one status per post, through Mastodon.py 2.3.3.

Choices forced by the library (see /work/shared/PLATFORMS.md):

* ``ratelimit_method="throw"``: the default "wait" sleeps in-process for up to hours.
* ``mastodon_version`` is given together with ``version_check_mode="created"``. With mode
  "none" Mastodon.py 2.3.3 ignores the given version, keeps 1.0.0 and sends media to the
  old ``/api/v1/media``; with a version and "created" it never probes the server.
* Media processing is awaited by our own bounded, stoppable polling (``mastodon_media``);
  ``synchronous=True`` never gives up. Videos and GIFs take the same path as images.
* Rate-limit headers are read from the raw response through a ``requests`` response hook,
  because Mastodon.py re-bases ``ratelimit_reset`` on the real wall clock and drops it when
  it looks past, which an injected clock cannot follow. The same raw answer gives back the
  server's words when Mastodon.py drops a body that is not JSON (``mastodon_errors``).
* The instance's own limits (``instance_limits``) come from /api/v2/instance, then
  /api/v1/instance, with a short timeout, through an ``InstanceLimitsCache``; any failure there
  means "use the defaults", never a failed post (``mastodon_limits``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonNotFoundError, MastodonVersionError

from amplifier.errors import NetworkError, PostRejected
from amplifier.logs import log_event
from amplifier.networks.base import (
    AccountInfo,
    HttpSettings,
    MediaItem,
    NetworkName,
    OutgoingPost,
    Receipt,
)
from amplifier.networks.mastodon_errors import (
    Kind,
    MastodonErrors,
    parse_reset,
    rate_limits_of,
    window_name,
)
from amplifier.networks.mastodon_limits import (
    MAX_AGE,
    InstanceLimits,
    InstanceLimitsCache,
    MemoryInstanceLimitsCache,
    instance_key,
    limits_from_answer,
    merged,
)
from amplifier.networks.mastodon_media import await_processing, media_refusal
from amplifier.networks.metrics import BATCH, MetricsAnswer, PostCounts, answer, mastodon_counts

__all__ = ["BOT_NOTE", "MastodonNetwork", "parse_reset", "window_name"]

log = logging.getLogger(__name__)

VISIBILITIES = ("public", "unlisted", "private", "direct")
LIMITS_TIMEOUT = 5.0  # seconds, at most, for each instance endpoint: limits never hold a post up
BOT_NOTE = (
    "This Mastodon account is not marked as a bot: tick 'This is an automated account' in "
    "Preferences > Profile so people know it posts automatically."
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        sleep: Callable[[float], object] = time.sleep,
        stop: threading.Event | None = None,
        limits_cache: InstanceLimitsCache | None = None,
    ) -> None:
        """``sleep`` pauses between looks at an upload's processing (the worker passes its
        stop event's wait); ``stop`` set ends the wait, handing the post back."""
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")
        self.account = account
        self.instance_url = instance_url.rstrip("/")
        self.visibility = visibility
        self.http = http
        self._clock = clock
        self._sleep = sleep
        self._stop = stop
        self._token = access_token
        self._limits: InstanceLimits | None = None
        self._limits_checked: datetime | None = None  # when this process last looked
        self._limits_cache = limits_cache or MemoryInstanceLimitsCache()
        self._errors = MastodonErrors(account, clock, (access_token,))
        self._last_response: requests.Response | None = None
        self._batch_reads = True  # GET /api/v1/statuses?id[]= (4.3+), until a server lacks it
        self._session = requests.Session()
        self._session.hooks["response"].append(self._remember_response)
        self._client = Mastodon(
            access_token=access_token,
            api_base_url=self.instance_url,
            ratelimit_method="throw",
            # Mastodon.py hands this straight to requests, which takes (connect, read).
            request_timeout=(http.connect_timeout, http.read_timeout),  # type: ignore[arg-type]
            mastodon_version=mastodon_version,
            version_check_mode="created",
            session=self._session,
            user_agent="amplifier (Mastodon.py)",
        )

    # -- public API ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the images, wait for them, then post one status with the idempotency key."""
        if post.media:
            self._check_media(post.media, self.instance_limits())  # before any upload
        media_ids = [self._upload(item) for item in post.media]
        # Idempotency-Key: the server returns the first status for the same key for 1 h,
        # so a retry after an ambiguous failure cannot post twice within that hour.
        with self._sdk_errors("posting status", kind="write"):
            status = self._client.status_post(
                status=post.text,
                idempotency_key=post.idempotency_key,
                visibility=self.visibility,
                language=post.language,
                spoiler_text=post.content_warning,
                sensitive=post.sensitive,  # hides the media behind a click
                # Mastodon 4.5+ honours it; older servers ignore the unknown field.
                quote_approval_policy=None if post.quotes else "nobody",
                media_ids=media_ids or None,
                in_reply_to_id=post.reply_to,  # a thread's later part
            )
        remote_id = str(status["id"])
        url = status.get("url")
        log_event(log, "posted", account=self.account, network="mastodon", id=remote_id)
        return Receipt(
            remote_id=remote_id,
            url=str(url) if url else None,
            rate_limits=rate_limits_of(self._last_response, self._clock()),
        )

    def verify(self) -> AccountInfo:
        """Read the account behind the token (GET verify_credentials) and the instance's
        limits, read afresh and cached; posts nothing."""
        with self._sdk_errors("verifying credentials", kind="read"):
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
            instance_limits=self.instance_limits(refresh=True),
        )

    def read_metrics(self, remote_ids: Sequence[str]) -> MetricsAnswer:
        """The counts of these statuses (at most 40): one GET /api/v1/statuses?id[]= where the
        server has it (Mastodon 4.3+), else GET /api/v1/statuses/:id one at a time."""
        ids = list(remote_ids)[: BATCH["mastodon"]]
        if self._batch_reads:
            self._last_response = None
            try:
                statuses = self._client.statuses(ids)
            except (MastodonNotFoundError, MastodonVersionError):
                self._batch_reads = False  # an older server: one status at a time from now on
            except MastodonError as exc:
                raise self._errors.translate(
                    exc, "reading statuses", "read", self._last_response
                ) from exc
            else:
                found = {str(status["id"]): mastodon_counts(status) for status in statuses}
                windows = rate_limits_of(self._last_response, self._clock())
                return answer(ids, found, rate_limits=windows)
        return self._read_one_by_one(ids)

    def _read_one_by_one(self, ids: list[str]) -> MetricsAnswer:
        found: dict[str, PostCounts] = {}
        missing: list[str] = []
        for count, remote_id in enumerate(ids, start=1):
            self._last_response = None
            try:
                found[remote_id] = mastodon_counts(self._client.status(remote_id))
            except MastodonNotFoundError:
                missing.append(remote_id)  # deleted, or no longer visible to this account
            except MastodonError as exc:
                error: NetworkError = self._errors.translate(
                    exc, "reading a status", "read", self._last_response
                )
                windows = rate_limits_of(self._last_response, self._clock())
                return MetricsAnswer(found, tuple(missing), count, windows, error)
        windows = rate_limits_of(self._last_response, self._clock())
        return MetricsAnswer(found, tuple(missing), len(ids), windows)

    def instance_limits(self, *, refresh: bool = False) -> InstanceLimits:
        """The instance's limits; never raises.

        Known in this process (looked at within ``MAX_AGE``), else from the cache while fresh,
        else read from the instance and cached. ``refresh`` reads them again. An instance that
        cannot be read leaves a stale cached value in use, or the defaults."""
        now = self._clock()
        checked = self._limits_checked
        if self._limits is not None and not refresh and checked and now - checked < MAX_AGE:
            return self._limits
        self._limits_checked = now
        key = instance_key(self.instance_url)
        cached = self._cached_limits(key)
        if cached is not None and cached.is_fresh(now) and not refresh:
            self._limits = cached
            return cached
        fresh = self.read_instance_limits()
        if fresh.source != "default":
            self._save_limits(key, fresh)
        elif cached is not None:
            fresh = cached  # the instance said nothing usable now; what it said before stands
        self._limits = fresh
        return fresh

    def read_instance_limits(self) -> InstanceLimits:
        """GET /api/v2/instance, and /api/v1/instance when v2 gives no character limit.
        Never raises: any failure (an error status, a timeout, a body that is not JSON) reads
        as "not published", and what nothing published is the default."""
        limits = self._instance_answer("v2")
        if limits.source == "default":
            limits = merged(limits, self._instance_answer("v1"))
        if limits.source == "default":
            log_event(
                log,
                "instance-limits-unknown",
                logging.WARNING,
                account=self.account,
                network="mastodon",
                instance=self.instance_url,
                reason="publishes no character limit",
                assumed_characters=limits.max_characters,
                assumed_url_length=limits.characters_reserved_per_url,
            )
        return replace(limits, fetched_at=self._clock())

    # -- steps --------------------------------------------------------------------------
    def _instance_answer(self, version: str) -> InstanceLimits:
        url = f"{self.instance_url}/api/{version}/instance"
        timeout = (
            min(self.http.connect_timeout, LIMITS_TIMEOUT),
            min(self.http.read_timeout, LIMITS_TIMEOUT),
        )
        headers = {"Authorization": f"Bearer {self._token}", "User-Agent": "amplifier"}
        try:
            answer = self._session.get(url, headers=headers, timeout=timeout)
            if answer.status_code != 200:
                log_event(
                    log, "instance-read", account=self.account, url=url, status=answer.status_code
                )
                return InstanceLimits()
            return limits_from_answer(answer.json(), "v2" if version == "v2" else "v1")
        except Exception as exc:
            log_event(log, "instance-read", account=self.account, url=url, error=type(exc).__name__)
            return InstanceLimits()

    def _cached_limits(self, key: str) -> InstanceLimits | None:
        try:
            return self._limits_cache.load_instance_limits(key)
        except Exception:
            log_event(
                log,
                "instance-limits-cache",
                logging.WARNING,
                account=self.account,
                error="unreadable",
            )
            return None

    def _save_limits(self, key: str, limits: InstanceLimits) -> None:
        try:
            self._limits_cache.save_instance_limits(key, limits)
        except Exception:
            log_event(
                log,
                "instance-limits-cache",
                logging.WARNING,
                account=self.account,
                error="not saved",
            )

    def _check_media(self, media: tuple[MediaItem, ...], limits: InstanceLimits) -> None:
        """Refuse what the instance says it will refuse, before uploading anything."""
        reason = media_refusal(media, limits)
        if reason is not None:
            self._reject(reason)

    def _reject(self, reason: str) -> None:
        message = f"mastodon {self.account}: {reason}"
        raise PostRejected(message, reason=reason, account=self.account, network=self.network)

    def _upload(self, item: MediaItem) -> str:
        """Upload one file with its alt text and wait, bounded, until the server processed it."""
        with self._sdk_errors("uploading media", kind="content"):
            media = self._client.media_post(item.path, description=item.alt)
            return await_processing(
                media,
                self._client.media,
                sleep=self._sleep,
                stop=self._stop,
                budget=self.http.media_processing_timeout,
                account=self.account,
            )

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response = response

    @contextmanager
    def _sdk_errors(self, action: str, *, kind: Kind) -> Iterator[None]:
        """Translate Mastodon.py exceptions (``mastodon_errors``); "write" posts the status."""
        self._last_response = None
        try:
            yield
        except MastodonError as exc:
            response = self._last_response
            raise self._errors.translate(exc, action, kind, response) from exc
