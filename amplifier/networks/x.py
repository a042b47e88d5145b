"""The X adapter: tweepy's v2 Client for posts, our own v2 media uploads, one error map.

tweepy 4.17 has no request timeout, a hard-coded host and no v2 media upload, and never
reads the 24-hour limit headers. ``_XTransport`` (an HTTPAdapter on ``client.session``)
applies the timeouts and, for fake servers, sends tweepy's requests to ``api_base``.
Images go to ``POST /2/media/upload`` (multipart, ``media_category=tweet_image``) and their
alt text to ``POST /2/media/metadata`` (``{"id", "metadata": {"alt_text": {"text"}}}``), per
https://docs.x.com/x-api/media/upload-media and .../create-media-metadata, signed with
tweepy's own OAuth1 handler. Videos and GIFs go through the chunked flow (``x_media``), one
alone in its post. Every tweepy/requests exception is translated in
``XNetwork._mapped_errors`` and nowhere else; what a call does (``Kind``: "write" creates the
post, "content" uploads an image, "read" only reads) decides what a failure means.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

import requests
import tweepy
from requests import Response
from requests.adapters import HTTPAdapter

from amplifier.errors import (
    AccountUnreadable,
    AuthFailed,
    DuplicatePost,
    MediaNotReady,
    NetworkError,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.logs import log_event
from amplifier.networks.answers import about_credentials, may_have_landed, scrub
from amplifier.networks.base import (
    AccountInfo,
    HttpSettings,
    NetworkName,
    OutgoingPost,
    Receipt,
)
from amplifier.networks.metrics import BATCH, MetricsAnswer, answer, x_counts
from amplifier.networks.x_answers import (
    FALLBACK_WAIT,
    exhausted_window,
    rate_limit_windows,
    sent_at_all,
    server_words_of,
)
from amplifier.networks.x_lookup import XTimelineLookup
from amplifier.networks.x_media import (
    IMAGE_TYPES,
    MAX_ALT_TEXT,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    ChunkedUpload,
    Image,
    MediaPending,
    MediaRefused,
    Motion,
    read_media,
)

__all__ = [
    "FALLBACK_WAIT",
    "IMAGE_TYPES",
    "MAX_ALT_TEXT",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "XNetwork",
    "exhausted_window",
    "rate_limit_windows",
]

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # hard-coded inside tweepy's Client.request
UPLOAD_HOST = "https://api.x.com"  # where X documents the v2 media endpoints
# Who may reply (networks.base.Replies) as X's reply_settings: X has no "nobody", but
# "mentionedUsers" on a post that mentions no one leaves only the author. Everyone: not sent.
REPLY_SETTINGS = {"following": "following", "mentioned": "mentionedUsers",
                  "nobody": "mentionedUsers"}  # fmt: skip
Kind = Literal["write", "content", "read"]
AUTOMATED_LABEL_NOTE = (
    "Turn on the 'Automated' label for this account (X settings > Your account > "
    "Account information > Automation) and say in the bio who runs it."
)
# tweepy logs request headers at DEBUG, so it only ever sees this stand-in; the transport
# swaps in the real OAuth2 token just before sending.
_BEARER_STANDIN = "Bearer amplifier-token-added-by-transport"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _raise_for_status(response: requests.Response) -> None:
    """Raise as tweepy's Client.request would, so _mapped_errors handles our requests too."""
    if not 200 <= response.status_code < 300:
        raise tweepy.HTTPException(response)  # _from_response reads only .response


class _XTransport(HTTPAdapter):
    """Applies timeouts, points tweepy's fixed host at api_base and adds the OAuth2 token."""

    def __init__(
        self, *, timeout: tuple[float, float], api_base: str | None, bearer_token: str | None
    ) -> None:
        super().__init__()  # max_retries stays 0: a POST is never re-sent behind our back
        self._timeout = timeout
        self._api_base = api_base
        self._bearer_token = bearer_token

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        url = request.url or ""
        if self._api_base is not None and url.startswith(TWEEPY_HOST + "/"):
            request.url = self._api_base + url[len(TWEEPY_HOST) :]
            # The session chose proxies for api.twitter.com; choose again for the new host.
            kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        if self._bearer_token is not None and request.headers.get("Authorization") == (
            _BEARER_STANDIN
        ):
            request.headers["Authorization"] = f"Bearer {self._bearer_token}"
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, *args, **kwargs)


class _UnreadableBody(Exception):
    """A 2xx answer without the JSON we expected."""


class XNetwork:
    """Publishes to one X account through tweepy (OAuth 1.0a, or an OAuth2 user token).

    OAuth2 user tokens need the tweet.write, users.read and (for images) media.write scopes.
    """

    network: NetworkName = "x"

    def __init__(
        self,
        account: str,
        *,
        consumer_key: str = "",
        consumer_secret: str = "",
        access_token: str = "",
        access_token_secret: str = "",
        oauth2_user_token: str | None = None,
        http: HttpSettings = HttpSettings(),  # noqa: B008 - frozen, safe as a default
        api_base: str = TWEEPY_HOST,
        upload_base: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], object] = time.sleep,
        stop: threading.Event | None = None,
    ) -> None:
        """``sleep`` pauses between looks at a video's processing (the worker passes its stop
        event's wait, so a shutdown cuts the pause short); ``stop`` set ends the wait."""
        self.account = account
        self._clock = clock
        custom_base = None if api_base.rstrip("/") == TWEEPY_HOST else api_base.rstrip("/")
        # Uploads follow a custom api_base, so a fake server never leaks images to X.
        self._upload_base = (upload_base or custom_base or UPLOAD_HOST).rstrip("/")
        self._user_auth = oauth2_user_token is None
        self._oauth1 = (consumer_key, consumer_secret, access_token, access_token_secret)
        self._oauth2_token = oauth2_user_token
        if self._user_auth:
            self._client = tweepy.Client(
                consumer_key=consumer_key,
                consumer_secret=consumer_secret,
                access_token=access_token,
                access_token_secret=access_token_secret,
                return_type=requests.Response,  # keeps the headers of successful answers
                wait_on_rate_limit=False,  # never sleep in-process
            )
        else:
            self._client = tweepy.Client(
                bearer_token=_BEARER_STANDIN.removeprefix("Bearer "),
                return_type=requests.Response,
                wait_on_rate_limit=False,
            )
        self._session: requests.Session = self._client.session
        transport = _XTransport(
            timeout=(http.connect_timeout, http.read_timeout),
            api_base=custom_base,
            bearer_token=oauth2_user_token,
        )
        self._session.mount("https://", transport)
        self._session.mount("http://", transport)
        secrets = (*self._oauth1[1:], oauth2_user_token or "")
        self._lookup = XTimelineLookup(self._client, account, user_auth=self._user_auth,
                                       access_token=access_token, secrets=secrets)  # fmt: skip
        self._chunked = ChunkedUpload(
            self._session,
            self._upload_base,
            self._signing,
            check=_raise_for_status,
            data=self._data,
            sleep=sleep,
            stop=stop,
            budget=http.media_processing_timeout,
        )

    def __repr__(self) -> str:
        return f"XNetwork(account={self.account!r})"  # never the credentials

    # -- the Network protocol -----------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the media with their alt text, then create the post.

        A failed upload raises before the post is created, never ambiguous: a retry uploads
        again and creates the post once."""
        items = read_media(post.media, self._reject)
        media_ids: list[str] = []
        with self._mapped_errors("media upload", kind="content"):
            for item in items:
                if isinstance(item, Motion):
                    media_id = self._chunked.upload(item)
                    log_event(log, "media-processed", account=self.account, id=media_id)
                else:
                    media_id = self._upload_image(item)
                self._describe(media_id, item.alt)
                media_ids.append(media_id)
        with self._mapped_errors("create post", kind="write"):
            response = self._client.create_tweet(
                text=post.text,
                media_ids=media_ids or None,
                reply_settings=REPLY_SETTINGS.get(post.replies),
                in_reply_to_tweet_id=post.reply_to,
                user_auth=self._user_auth,
            )
            tweet_id = str(self._data(response)["id"])
        log_event(log, "posted", account=self.account, network="x", id=tweet_id)
        return Receipt(
            remote_id=tweet_id,
            url=f"https://x.com/i/web/status/{tweet_id}",
            rate_limits=rate_limit_windows(response.headers),
        )

    def find_existing(self, text: str, since: datetime) -> Receipt | None:
        """The account's own post with this text since ``since`` (``x_lookup``); never raises."""
        return self._lookup.find(text, since)

    @property
    def posts_read(self) -> int:
        """Posts the last ``find_existing`` read: X bills each."""
        return self._lookup.posts_read

    def verify(self) -> AccountInfo:
        """Read GET /2/users/me; posts nothing."""
        with self._mapped_errors("verify credentials", kind="read"):
            data = self._data(self._client.get_me(user_auth=self._user_auth), "username")
            username = str(data["username"])
            name = str(data.get("name") or "")
        return AccountInfo(
            network="x",
            account=self.account,
            handle=username,
            display_name=name,
            url=f"https://x.com/{username}",
            notes=(AUTOMATED_LABEL_NOTE,),
        )

    def read_metrics(self, remote_ids: Sequence[str]) -> MetricsAnswer:
        """The public metrics of these posts (at most 100): one GET /2/tweets; X bills each
        post it returns. Deleted or hidden posts come back as errors and count as missing."""
        ids = list(remote_ids)[: BATCH["x"]]
        with self._mapped_errors("read post metrics", kind="read"):
            response = self._client.get_tweets(
                ids, tweet_fields=["public_metrics"], user_auth=self._user_auth
            )
            try:
                data = response.json().get("data") or []
            except (ValueError, AttributeError) as exc:
                raise _UnreadableBody from exc
        found = {str(tweet["id"]): x_counts(tweet) for tweet in data if isinstance(tweet, dict)}
        return answer(ids, found, rate_limits=rate_limit_windows(response.headers))

    # -- media ----------------------------------------------------------------------------
    def _upload_image(self, image: Image) -> str:
        auth, headers = self._signing()
        uploaded = self._session.post(
            f"{self._upload_base}/2/media/upload",
            files={"media": (image.name, image.content, image.media_type)},
            data={"media_category": "tweet_image", "media_type": image.media_type},
            auth=auth,
            headers=headers,
        )
        _raise_for_status(uploaded)
        data = self._data(uploaded)
        if (data.get("processing_info") or {}).get("state") == "failed":
            self._reject(f"{image.name}: X could not process the image")
        return str(data["id"])

    def _describe(self, media_id: str, alt: str) -> None:
        """The alt text, through POST /2/media/metadata."""
        auth, headers = self._signing()
        described = self._session.post(
            f"{self._upload_base}/2/media/metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": alt}}},
            auth=auth,
            headers=headers,
        )
        _raise_for_status(described)

    def _signing(self) -> tuple[Any, dict[str, str]]:
        """The same credentials tweepy uses, for the requests tweepy cannot make."""
        headers = {"User-Agent": str(self._client.user_agent)}
        if not self._user_auth:
            headers["Authorization"] = _BEARER_STANDIN
            return None, headers
        return tweepy.OAuth1UserHandler(*self._oauth1).apply_auth(), headers

    # -- errors: the one place SDK and transport exceptions become ours ------------------
    @contextmanager
    def _mapped_errors(self, action: str, *, kind: Kind) -> Iterator[None]:
        """Translate tweepy/requests failures of ``action``; only a "write" may be ambiguous."""
        may_post = kind == "write"
        try:
            yield
        except tweepy.HTTPException as exc:
            raise self._from_response(exc.response, action, kind) from exc
        except requests.RequestException as exc:
            why = f"got no HTTP status ({type(exc).__name__}: {exc})"
            raise self._transient(action, why, may_post and sent_at_all(exc)) from exc
        except _UnreadableBody as exc:
            # A 2xx whose body we cannot read: for a post, it may well exist.
            raise self._transient(action, "answered an unreadable body", may_post) from exc
        except MediaRefused as exc:  # processing failed: the same file would fail again
            self._reject(exc.reason)
        except MediaPending as exc:  # not ready in time: a later attempt may find it ready
            message = self._scrub(f"X account {self.account!r}: {action}: {exc}")
            raise MediaNotReady(message, account=self.account, network="x") from exc

    def _transient(self, action: str, why: str, ambiguous: bool) -> TransientError:
        message = self._scrub(f"X account {self.account!r}: {action} {why}")
        return TransientError(message, account=self.account, network="x", ambiguous=ambiguous)

    def _from_response(self, response: requests.Response, action: str, kind: Kind) -> NetworkError:
        status = response.status_code
        title, reason = (self._scrub(words) for words in server_words_of(response))
        said = f"{title}: {reason}" if reason and reason != title else title
        message = f"X account {self.account!r}: {action} got HTTP {status} "
        message += said or "(no explanation)"
        where: dict[str, str] = {"account": self.account, "network": "x"}
        if status == 429:
            window, retry_at = exhausted_window(response.headers, self._clock())
            return RateLimited(
                f"{message} (window {window}, retry at {retry_at.isoformat()})",
                retry_at=retry_at,
                window=window,
                **where,
            )
        if may_have_landed(status):
            # X has created posts behind a 5xx before; 408/425 ask for a retry: not a refusal.
            return TransientError(message, ambiguous=kind == "write", **where)
        if status == 403 and "duplicate content" in reason.lower():
            return DuplicatePost(message, **where)
        if status in (401, 403) or (kind == "read" and about_credentials(said)):
            return AuthFailed(message, **where)
        if kind == "read":
            return AccountUnreadable(message, **where)
        return PostRejected(message, reason=reason or title, **where)

    def _scrub(self, text: str) -> str:
        return scrub(text, [*self._oauth1[1:], self._oauth2_token or ""])

    def _reject(self, reason: str) -> NoReturn:
        message = f"X account {self.account!r}: {reason}"
        raise PostRejected(message, reason=reason, account=self.account, network="x")

    @staticmethod
    def _data(response: requests.Response, required: str = "id") -> dict[str, Any]:
        """The "data" object of a 2xx answer, which must carry the ``required`` key."""
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _UnreadableBody from exc
        if not isinstance(data, dict) or required not in data:
            raise _UnreadableBody
        return data
