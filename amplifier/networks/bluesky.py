"""Bluesky adapter over atproto 0.0.73. What the SDK does, and what we do about it:

* Timeouts: ``Request(**kwargs)`` hands its kwargs to ``httpx.Client`` (else httpx's 5 s default).
* Sessions: ``login(handle, password)`` is ``createSession`` (30 / 5 min, 300 / day), so it runs
  once; ``on_session_change`` stores the session on CREATE and REFRESH, and later instances
  import it (``login(session_string=...)`` sends nothing). The SDK refreshes only proactively,
  when the access JWT expires within 15 minutes, and never retries a refused token: on
  ``ExpiredToken`` / ``InvalidToken`` we log in with the app password once and repeat the call.
* Errors: translated in ``bluesky_errors`` only. The SDK wraps httpx timeouts and
  ``httpx.NetworkError`` (cause in ``__cause__``) but lets ``RemoteProtocolError`` through raw,
  and keeps a body that is not XRPC JSON as bytes: its words are recovered from there.
* Exactly once: the post's record key is derived from the delivery (``bluesky_keys``), so a
  repeated ``createRecord`` cannot add a second post; the PDS (0.5.35) answers it with
  ``500 InternalServerError``. After any answer that is not a definite refusal (every 5xx, a
  lost or cut answer, a timeout) the adapter reads that key back (``getRecord``): a record there
  is the post, and its receipt is returned; otherwise the failure stays ambiguous.
* verify() checks the stored session with ``getSession`` (no login spent while it is valid) and
  reads the profile record from the PDS itself, which works without an appview.
* Content warnings are not sent: self-labels are a fixed set (porn, nudity, graphic-media ...),
  not free text; a post marked ``sensitive`` carries the ``graphic-media`` self-label.
* Links are facets; a tagged link shows in the text as the apps show links
  (``networks.links``), its facet carrying the whole address. A post without media carries
  its link's card (``app.bsky.embed.external``) when the delivery hands one over (read ahead,
  ``cards/``): Bluesky, unlike X and Mastodon, builds none itself. Its thumbnail is uploaded
  ahead of the slot; it and every image or video are used again while the PDS keeps them
  (``bluesky_blobs``). A thumbnail the PDS refuses leaves the card without its image.
* Media: up to four images, or one MP4 video as ``app.bsky.embed.video`` (``bluesky_media``).
* A thread's later part carries its reply ref (root and parent, URI and CID read back with
  ``getRecord``: ``bluesky_records``); the threadgate is the first part's alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pydantic
from atproto_client import Client, models
from atproto_client import exceptions as sdk_errors
from atproto_client.client.session import Session, SessionEvent
from atproto_client.request import Request

from amplifier.errors import (
    AccountUnreadable,
    AuthFailed,
    NetworkError,
    PostRejected,
    TransientError,
)
from amplifier.logs import log_event
from amplifier.networks.base import (
    AccountInfo,
    HttpSettings,
    LinkCard,
    NetworkName,
    OutgoingPost,
    Receipt,
    SessionStore,
)
from amplifier.networks.bluesky_blobs import Blobs, missing_blob
from amplifier.networks.bluesky_errors import TOKEN_ERRORS, BlueskyErrors, Kind
from amplifier.networks.bluesky_gates import write_post
from amplifier.networks.bluesky_keys import record_key
from amplifier.networks.bluesky_media import MAX_IMAGE_BYTES, read_media
from amplifier.networks.bluesky_records import POST_COLLECTION, find_by_text, reply_ref
from amplifier.networks.bluesky_xrpc import (
    facets_for,
    get_record,
    graphic_media_label,
    rate_limit_windows,
    read_post_counts,
    timestamp,
    upload_blob,
    usable_session,
    window_name,
    xrpc_error,
)
from amplifier.networks.metrics import BATCH, MetricsAnswer

__all__ = ["MAX_IMAGE_BYTES", "BlueskyNetwork", "facets_for", "rate_limit_windows", "window_name"]

logger = logging.getLogger(__name__)

PROFILE_COLLECTION = "app.bsky.actor.profile"
_REMEMBERED_KEYS = 256  # first-attempt times kept for posts that carry no due time

T = TypeVar("T")
_SESSION_ORIGINS = {
    SessionEvent.IMPORT: "stored",
    SessionEvent.REFRESH: "refreshed",
    SessionEvent.CREATE: "new",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        self._errors = BlueskyErrors(account, clock, self._secrets)
        self._client: Any = None  # built on first use
        self._did: str | None = None
        self._session_string = ""
        # Counts password logins, so callers refused together log in only once between them.
        self._login_generation = 0
        self._login_lock = threading.RLock()
        self._session_origin: str | None = None  # "stored", "refreshed" or "new"
        self._first_attempt: dict[str, datetime] = {}
        self._blobs = Blobs(account, self._upload_blob, clock)

    # -- the Network protocol ----------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the media, then create the post record under the delivery's own record key.

        Never sleeps on a rate limit. After an answer that is not a definite refusal the record
        key is read back: if the post is there, its receipt is returned."""
        files = read_media(post.media, self._errors.rejected)  # before any request
        fields: dict[str, Any] = {  # post.content_warning has no Bluesky equivalent
            "created_at": timestamp(self._clock()),
            "text": post.text,
            "facets": facets_for(post.text, post.link) or None,
            "langs": [post.language] if post.language else None,
            "labels": graphic_media_label() if post.sensitive else None,
        }
        replies = post.replies
        if post.reply_to is not None:  # a thread's later part; the gate is its first part's
            fields["reply"] = self._reply_ref(post.reply_root or post.reply_to, post.reply_to)
            replies = "everyone"
        self._record(fields)  # the lexicon's checks, before any upload

        def embedded() -> tuple[Any, list[str]]:  # the embed, and the blobs it carries
            if files:
                return self._blobs.media(files)
            return self._blobs.card(post.card) if post.card is not None else (None, [])

        embed, blobs = embedded()
        rkey = self._record_key(post)
        try:
            receipt = self._create(post, rkey, self._record(fields, embed), replies)
        except PostRejected as refused:
            if not blobs or not missing_blob(refused):
                raise
            # The PDS no longer holds a blob it was handed (its post deleted, or uploaded too
            # long ago): nothing was stored, so upload again and create the post once more.
            self._blobs.lost(blobs)
            log_event(logger, "blob-gone", logging.WARNING, account=self.account,
                      network="bluesky", reason=str(refused))  # fmt: skip
            embed, blobs = embedded()
            receipt = self._create(post, rkey, self._record(fields, embed), replies)
        self._blobs.held(blobs)
        log_event(logger, "posted", account=self.account, network="bluesky", uri=receipt.remote_id)
        return receipt

    def stage_card(self, card: LinkCard) -> bool:
        """Upload a card's thumbnail ahead of the slot that embeds it, so the slot does not;
        nothing if a usable upload of it is kept. Whether it uploaded."""
        return self._blobs.stage(card)

    def verify(self) -> AccountInfo:
        """Check the session with getSession, then read the profile record; posts nothing.

        A stored session the PDS accepts is used as it is: no createSession is spent (30 per
        5 minutes, 300 per day). A missing or refused one costs one login with the app password.
        """

        def read_session(client: Any) -> Any:
            return client.com.atproto.server.get_session()

        session = self._run("getSession", read_session, kind="read")
        if session.active is False:
            status = session.status or "no reason given"
            message = f"bluesky getSession: the account is not active ({status})"
            raise AuthFailed(message, **self._where)
        handle = str(session.handle)
        return AccountInfo(
            network=self.network,
            account=self.account,
            handle=handle,
            display_name=self._display_name(),
            url=f"https://bsky.app/profile/{handle}",
            notes=("Bluesky has no bot flag: say in the profile bio who runs this account.",),
            session=self._session_origin,
        )

    def find_existing(self, text: str, since: datetime) -> Receipt | None:
        """The newest of the account's own posts with exactly this text, created since ``since``.

        Crash recovery after an ambiguous failure: pages through listRecords (newest first) and
        stops at the first record created before ``since`` or after ``find_max_pages`` pages.
        """
        since = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        size, pages, url_of = self.find_page_size, self.find_max_pages, self._post_url

        def search(client: Any) -> Receipt | None:
            return find_by_text(client, self._did, text, since, page_size=size,
                                max_pages=pages, url_of=url_of)  # fmt: skip

        return self._run("listRecords", search, kind="read")

    def read_metrics(self, remote_ids: Sequence[str]) -> MetricsAnswer:
        """Counts of these posts (25 AT URIs at most): one getPosts; deleted ones are left out."""
        uris = list(remote_ids)[: BATCH["bluesky"]]

        return self._run("getPosts", lambda client: read_post_counts(client, uris), kind="read")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.request.close()

    def _reply_ref(self, root: str, parent: str) -> Any:
        try:
            return self._run("getRecord", lambda c: reply_ref(c, root, parent), kind="read")
        except AccountUnreadable as gone:  # deleted since: nothing to reply to
            raise self._errors.rejected(f"the post this replies to is gone: {gone}") from gone

    def _upload_blob(self, data: bytes, mime: str) -> Any:
        return self._run("uploadBlob", lambda c: upload_blob(c, data, mime), kind="content")

    def _create(self, post: OutgoingPost, rkey: str, record: Any, replies: Any) -> Receipt:
        """createRecord under ``rkey``; after an ambiguous failure, the post if it landed."""

        def create(client: Any) -> Receipt:
            assert self._did is not None  # set by the login that gave this client
            uri, answer = write_post(client, self._did, rkey, record, replies, post.quotes)
            return Receipt(uri, self._post_url(uri), rate_limit_windows(answer.headers))

        try:
            return self._run("createRecord", create, kind="write")
        except TransientError as failure:
            if not failure.ambiguous:
                raise
            found = self._landed(rkey, post.text)
            if found is None:
                raise
            log_event(logger, "landed-after-all", account=self.account, network="bluesky",
                      rkey=rkey, reason=str(failure))  # fmt: skip
            return found

    # -- the record, its key, and reading it back -----------------------------------------
    def _record(self, fields: dict[str, Any], embed: Any = None) -> Any:
        """The post record; the SDK's lexicon checks refuse it before anything is sent."""
        try:
            return models.AppBskyFeedPost.Record(**fields, embed=embed)
        except pydantic.ValidationError as exc:
            reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise self._errors.rejected(f"bluesky createRecord: invalid post: {reason}") from exc

    def _record_key(self, post: OutgoingPost) -> str:
        """The delivery's record key. Without a due time the first attempt's time stands in,
        which keeps retries in this process on one key (not retries after a restart)."""
        due_at = post.due_at
        if due_at is None:
            due_at = self._first_attempt.setdefault(post.idempotency_key, self._clock())
            while len(self._first_attempt) > _REMEMBERED_KEYS:
                del self._first_attempt[next(iter(self._first_attempt))]
        return record_key(post.idempotency_key, due_at)

    def _landed(self, rkey: str, text: str) -> Receipt | None:
        """The receipt of the post at ``rkey`` if it is there; None if it is not, or if even
        this read fails (the caller's failure then stands, ambiguous)."""

        def read(client: Any) -> dict[str, Any]:
            return get_record(client, self._did, POST_COLLECTION, rkey)

        try:
            found = self._run("getRecord", read, kind="read")
        except NetworkError as exc:  # RecordNotFound (a 400) included
            log_event(
                logger,
                "not-found",
                account=self.account,
                network="bluesky",
                rkey=rkey,
                reason=str(exc),
            )
            return None
        uri = str(found.get("uri") or "")
        value = found.get("value") or {}
        if not uri:
            return None
        if value.get("text") != text:  # the key is ours alone; another text means a collision
            raise self._errors.rejected(
                f"bluesky createRecord: {uri} holds another post; nothing sent"
            )
        return Receipt(uri, self._post_url(uri))

    def _display_name(self) -> str:
        """displayName of the profile record, read from the PDS ("" when there is none)."""

        def read(client: Any) -> dict[str, Any]:
            return get_record(client, self._did, PROFILE_COLLECTION, "self")

        try:
            value = self._run("getRecord", read, kind="read").get("value") or {}
        except AccountUnreadable:  # RecordNotFound: the account never set a profile
            return ""
        return str(value.get("displayName") or "") if isinstance(value, dict) else ""

    # -- sessions ----------------------------------------------------------------------------
    def _run(self, action: str, call: Callable[[Any], T], *, kind: Kind) -> T:
        """Call the PDS with a logged-in client; one password login if the session is refused."""
        with self._errors.translated("createSession", kind="login"):  # a login never posts
            client, generation, fresh_login = self._ready_client()
        with self._errors.translated(action, kind=kind):
            try:
                return call(client)
            except (sdk_errors.UnauthorizedError, sdk_errors.BadRequestError) as exc:
                refused = xrpc_error(exc)[0]
                if fresh_login or refused not in TOKEN_ERRORS:
                    raise
        # The PDS refused the token before acting on the call, so repeating it is safe.
        with self._errors.translated("createSession", kind="login"), self._login_lock:
            if generation == self._login_generation:  # nobody logged in meanwhile
                log_event(
                    logger,
                    "session-refused",
                    account=self.account,
                    network="bluesky",
                    error=refused,
                )
                self._password_login(client)
        with self._errors.translated(action, kind=kind):
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
                if stored and usable_session(stored):
                    self._client.login(session_string=stored, fetch_bsky_profile=False)
                    log_event(
                        logger, "login", account=self.account, network="bluesky", session="stored"
                    )
            if self._session_string:  # imported, or logged in earlier
                return self._client, self._login_generation, False
            self._password_login(self._client)  # on failure there is still no session: retried
            return self._client, self._login_generation, True

    def _password_login(self, client: Any) -> None:
        log_event(logger, "login", account=self.account, network="bluesky", session="app-password")
        client.login(self.handle, self._app_password, fetch_bsky_profile=False)
        self._login_generation += 1

    def _on_session_change(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did
        self._session_string = session.export()
        self._session_origin = _SESSION_ORIGINS.get(event, self._session_origin)
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._sessions.save_session(self.account, self._session_string)

    def _secrets(self) -> list[str]:
        """What no message may show: the app password and the session's two tokens."""
        return [self._app_password, *self._session_string.split(":::")[2:4]]

    def _post_url(self, uri: str) -> str:
        handle = Session.decode(self._session_string).handle if self._session_string else ""
        return f"https://bsky.app/profile/{handle or self.handle}/post/{uri.rsplit('/', 1)[-1]}"
