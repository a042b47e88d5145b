"""Bluesky adapter over atproto 0.0.73. What the SDK does, and what we do about it:

* Timeouts: ``Request(**kwargs)`` hands its kwargs to ``httpx.Client`` (else httpx's 5 s default).
* Sessions: ``login(handle, password)`` is ``createSession`` (30 / 5 min, 300 / day), so it runs
  once; ``on_session_change`` stores the session on CREATE and REFRESH, and later instances
  import it (``login(session_string=...)`` sends nothing). The SDK refreshes only proactively,
  when the access JWT expires within 15 minutes, and never retries a refused token: on
  ``ExpiredToken`` / ``InvalidToken`` we log in with the app password once and repeat the call.
* Errors: translated in ``_translated_errors`` only. The SDK wraps httpx timeouts and
  ``httpx.NetworkError`` (cause in ``__cause__``) but lets ``RemoteProtocolError`` through raw.
* Content warnings are not sent: self-labels are a fixed set (porn, nudity, graphic-media ...),
  not free text. No link cards either: links are facets.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pydantic
from atproto_client import Client, models
from atproto_client import exceptions as sdk_errors
from atproto_client.client.session import Session, SessionEvent
from atproto_client.models.utils import get_response_model
from atproto_client.request import Request
from atproto_client.utils.facet_detection import detect_facets

from amplifier.errors import AuthFailed, NetworkError, PostRejected, RateLimited, TransientError
from amplifier.networks.base import (
    AccountInfo,
    HttpSettings,
    MediaItem,
    NetworkName,
    OutgoingPost,
    RateLimitWindow,
    Receipt,
    SessionStore,
    header,
)

logger = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
MAX_IMAGE_BYTES = 1_000_000  # the app's 976.56 KB limit for images
MAX_IMAGES = 4
DEFAULT_RATE_LIMIT_PAUSE = timedelta(minutes=5)
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})  # a fresh login cures these
_ACCOUNT_ERRORS = frozenset(  # 400s about the account, not the post
    {"AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired", "AuthenticationRequired"}
)
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def facets_for(text: str) -> list[Any]:
    """Link and #tag facets (``models.AppBskyRichtextFacet.Main``) with UTF-8 byte offsets.

    atproto's ``detect_facets`` is a port of the official TypeScript detector, makes no request
    and counts bytes, not code points. Mentions are left out: they need a handle lookup, and a
    campaign bot should not @mention anyway. ``$CASHTAGS`` come out as tags, as in the app.
    """
    return list(detect_facets(text))


class BlueskyNetwork:
    """Publishes to one Bluesky account with an app password and a stored session."""

    network: NetworkName = "bluesky"
    find_page_size = 100
    find_max_pages = 5  # crash recovery looks at most 500 records back

    def __init__(
        self,
        account: str,
        *,
        handle: str,
        app_password: str,
        sessions: SessionStore,
        service_url: str = "https://bsky.social",
        http: HttpSettings = HttpSettings(),  # noqa: B008 - frozen, so sharing it is safe
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.account = account
        self.handle = handle
        self._app_password = app_password
        self._sessions = sessions
        self._service_url = service_url
        self._http = http
        self._clock = clock
        self._where = {"account": account, "network": "bluesky"}  # for every error raised
        self._client: Any = None  # built on first use
        self._did: str | None = None
        self._session_string = ""
        # Counts password logins, so callers refused together log in only once between them.
        self._login_generation = 0
        self._login_lock = threading.RLock()

    # -- the Network protocol ----------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the images, then create the post record. Never sleeps on a rate limit."""
        images = [self._read_image(item) for item in post.media]  # before any request
        if len(images) > MAX_IMAGES:
            raise self._rejected(f"Bluesky takes at most {MAX_IMAGES} images per post")
        fields: dict[str, Any] = {  # post.content_warning has no Bluesky equivalent
            "created_at": _timestamp(self._clock()),
            "text": post.text,
            "facets": facets_for(post.text) or None,
            "langs": [post.language] if post.language else None,
        }
        with self._translated_errors("createRecord", write=False):
            models.AppBskyFeedPost.Record(**fields)  # the lexicon's checks, before any upload
        embed = None
        if images:
            embed = self._run("uploadBlob", lambda client: _upload(client, images), write=False)

        def create(client: Any) -> Receipt:
            record = models.AppBskyFeedPost.Record(**fields, embed=embed)
            data = models.ComAtprotoRepoCreateRecord.Data(
                repo=self._did, collection=POST_COLLECTION, record=record
            )
            # Raw invoke rather than send_post: the answer's ratelimit-* headers go in the receipt.
            response = client.invoke_procedure(
                "com.atproto.repo.createRecord", data=data, input_encoding="application/json"
            )
            uri = str(get_response_model(response, models.ComAtprotoRepoCreateRecord.Response).uri)
            return Receipt(uri, self._post_url(uri), rate_limit_windows(response.headers))

        receipt = self._run("createRecord", create, write=True)
        logger.info("bluesky account %s: posted %s", self.account, receipt.remote_id)
        return receipt

    def verify(self) -> AccountInfo:
        """Read the account's own profile (app.bsky.actor.getProfile); posts nothing."""

        def read_profile(client: Any) -> AccountInfo:
            params = models.AppBskyActorGetProfile.Params(actor=self._did)
            profile = client.app.bsky.actor.get_profile(params)
            return AccountInfo(
                network=self.network,
                account=self.account,
                handle=str(profile.handle),
                display_name=str(profile.display_name or ""),
                url=f"https://bsky.app/profile/{profile.handle}",
                notes=("Bluesky has no bot flag: say in the profile bio who runs this account.",),
            )

        return self._run("getProfile", read_profile, write=False)

    def find_existing(self, text: str, since: datetime) -> Receipt | None:
        """The newest of the account's own posts with exactly this text, created since ``since``.

        Crash recovery after an ambiguous failure: pages through listRecords (newest first) and
        stops at the first record created before ``since`` or after ``find_max_pages`` pages.
        """
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)

        def search(client: Any) -> Receipt | None:
            cursor: str | None = None
            for _ in range(self.find_max_pages):
                size = self.find_page_size
                params = models.ComAtprotoRepoListRecords.Params(
                    repo=self._did, collection=POST_COLLECTION, limit=size, cursor=cursor
                )
                response = client.invoke_query("com.atproto.repo.listRecords", params=params)
                content = response.content if isinstance(response.content, dict) else {}
                records = content.get("records") or []
                for record in records:
                    value = record.get("value") or {}
                    created_at = _parse_time(value.get("createdAt"))
                    if created_at is not None and created_at < since:
                        return None
                    uri = str(record.get("uri") or "")
                    if uri and value.get("text") == text:
                        return Receipt(uri, self._post_url(uri))
                cursor = content.get("cursor")
                if not cursor or not records:
                    return None
            return None

        return self._run("listRecords", search, write=False)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.request.close()

    # -- sessions ----------------------------------------------------------------------------
    def _run(self, action: str, call: Callable[[Any], T], *, write: bool) -> T:
        """Call the PDS with a logged-in client; one password login if the session is refused."""
        with self._translated_errors("createSession", write=False):  # a login never posts
            client, generation, fresh_login = self._ready_client()
        with self._translated_errors(action, write=write):
            try:
                return call(client)
            except (sdk_errors.UnauthorizedError, sdk_errors.BadRequestError) as exc:
                refused = _xrpc_error(exc)[0]
                if fresh_login or refused not in _TOKEN_ERRORS:
                    raise
        # The PDS refused the token before acting on the call, so repeating it is safe.
        with self._translated_errors("createSession", write=False), self._login_lock:
            if generation == self._login_generation:  # nobody logged in meanwhile
                logger.info("bluesky account %s: session refused (%s)", self.account, refused)
                self._password_login(client)
        with self._translated_errors(action, write=write):
            return call(client)
        raise AssertionError("unreachable: _translated_errors never swallows an exception")

    def _ready_client(self) -> tuple[Any, int, bool]:
        """The client (built and logged in on first use only), its login generation, and
        whether it logged in with the password just now."""
        with self._login_lock:
            if self._client is None:
                connect, read = self._http.connect_timeout, self._http.read_timeout
                timeout = httpx.Timeout(read, connect=connect, pool=connect)
                self._client = Client(base_url=self._service_url, request=Request(timeout=timeout))
                self._client.on_session_change(self._on_session_change)
                stored = self._sessions.load_session(self.account)
                if stored and _usable_session(stored):
                    self._client.login(session_string=stored, fetch_bsky_profile=False)
                    logger.info("bluesky account %s: reusing the stored session", self.account)
            if self._session_string:  # imported, or logged in earlier
                return self._client, self._login_generation, False
            self._password_login(self._client)  # on failure there is still no session: retried
            return self._client, self._login_generation, True

    def _password_login(self, client: Any) -> None:
        logger.info("bluesky account %s: logging in with the app password", self.account)
        client.login(self.handle, self._app_password, fetch_bsky_profile=False)
        self._login_generation += 1

    def _on_session_change(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did
        self._session_string = session.export()
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._sessions.save_session(self.account, self._session_string)

    def _post_url(self, uri: str) -> str:
        handle = Session.decode(self._session_string).handle if self._session_string else ""
        return f"https://bsky.app/profile/{handle or self.handle}/post/{uri.rsplit('/', 1)[-1]}"

    def _read_image(self, item: MediaItem) -> tuple[bytes, str, str]:
        if not item.path.is_file():
            raise self._rejected(f"image not found: {item.path}")
        size = item.path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise self._rejected(f"image {item.path.name}: {size} bytes, over {MAX_IMAGE_BYTES}")
        mime_type = mimetypes.guess_type(item.path.name)[0] or ""
        if not mime_type.startswith("image/"):
            raise self._rejected(f"{item.path.name} is not an image Bluesky can show")
        return item.path.read_bytes(), mime_type, item.alt

    # -- error translation, the one place ----------------------------------------------------
    @contextmanager
    def _translated_errors(self, action: str, *, write: bool) -> Iterator[None]:
        """Turn atproto, httpx and pydantic exceptions into amplifier's NetworkError tree.

        ``write`` marks the call creating the post: only there can a lost answer be ambiguous."""
        where = self._where
        try:
            yield
        except NetworkError:
            raise
        except pydantic.ValidationError as exc:  # the SDK's lexicon checks on our record
            reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise self._rejected(f"bluesky {action}: invalid post: {reason}") from exc
        except sdk_errors.RateLimitExceededError as exc:
            raise self._rate_limited(action, exc) from exc
        except sdk_errors.RequestErrorBase as exc:
            if exc.response is None:  # a transport failure the SDK wrapped; the cause says which
                raise self._transient(action, exc.__cause__ or exc, write=write) from exc
            status = int(exc.response.status_code)
            error, server_message = _xrpc_error(exc)
            # "from None" below: the SDK's own message repeats the unscrubbed server text.
            words = self._scrub(f"{error}: {server_message}".strip(": "))
            message = f"bluesky {action}: HTTP {status} {words}".rstrip()
            if status in (401, 403) or error in _TOKEN_ERRORS | _ACCOUNT_ERRORS:
                raise AuthFailed(message, **where) from None
            if status >= 500 or status in (408, 409):
                ambiguous = write and status in (502, 504)  # a gateway may hide a landed write
                raise TransientError(message, ambiguous=ambiguous, **where) from None
            raise PostRejected(message, reason=words, **where) from None
        except httpx.TransportError as exc:
            raise self._transient(action, exc, write=write) from exc
        except sdk_errors.AtProtocolError as exc:  # e.g. a 2xx body that does not parse
            message = f"bluesky {action}: unexpected answer ({type(exc).__name__})"
            raise TransientError(message, ambiguous=write, **where) from exc

    def _transient(self, action: str, cause: BaseException, *, write: bool) -> TransientError:
        message = self._scrub(f"bluesky {action}: {type(cause).__name__}: {cause}")
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

    def _rejected(self, message: str) -> PostRejected:
        return PostRejected(message, reason=message, **self._where)

    def _scrub(self, message: str) -> str:
        """Belt and braces: server text should never echo a secret, but make sure."""
        for secret in [self._app_password, *self._session_string.split(":::")[2:4]]:
            if secret:
                message = message.replace(secret, "[redacted]")
        return message


def rate_limit_windows(headers: Mapping[str, str]) -> tuple[RateLimitWindow, ...]:
    """The ratelimit-* headers of a PDS answer as one RateLimitWindow (none if absent)."""
    names = ("limit", "remaining", "reset")
    limit, remaining, reset = (_int_or_none(header(headers, f"ratelimit-{n}")) for n in names)
    if limit is None and remaining is None and reset is None:
        return ()
    reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
    window = window_name(header(headers, "ratelimit-policy"))
    return (RateLimitWindow(window, limit, remaining, reset_at),)


def window_name(policy: str | None) -> str:
    """Window name of a ratelimit-policy: "5000;w=3600" -> "1h", "30;w=300" -> "5m"."""
    for part in (policy or "").split(",")[0].split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key == "w" and value.isdigit() and int(value) > 0:
            seconds = int(value)
            if seconds % 3600 == 0:
                return f"{seconds // 3600}h"
            return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
    return "unknown"


def _upload(client: Any, images: list[tuple[bytes, str, str]]) -> Any:
    """uploadBlob each image, then the app.bsky.embed.images embed that carries the alt texts."""
    embedded = []
    for data, mime_type, alt in images:
        # Raw invoke: the SDK's upload_blob hands the bytes to httpx as data= (deprecated there).
        response = client.invoke_procedure(
            "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime_type}
        )
        blob = get_response_model(response, models.ComAtprotoRepoUploadBlob.Response).blob
        embedded.append(models.AppBskyEmbedImages.Image(alt=alt, image=blob))
    return models.AppBskyEmbedImages.Main(images=embedded)


def _usable_session(session_string: str) -> bool:
    """Whether a stored session string can be imported (the SDK would choke on it otherwise)."""
    try:
        session = Session.decode(session_string)
        return bool(session.refresh_jwt) and session.access_jwt_payload.exp is not None
    except Exception:  # any decoding failure means: log in afresh
        logger.warning("stored bluesky session is unreadable; logging in instead")
        return False


def _xrpc_error(exc: Any) -> tuple[str, str]:
    """The XRPC error name and message of an SDK exception ("" where absent)."""
    content = getattr(exc.response, "content", None)
    return str(getattr(content, "error", "") or ""), str(getattr(content, "message", "") or "")


def _timestamp(moment: datetime) -> str:
    """createdAt as the official clients write it: UTC, milliseconds, "Z"."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _parse_time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed
