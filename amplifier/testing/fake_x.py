"""A fake X API v2 on localhost: posts, the signed-in user, media upload and alt text.

Videos and GIFs: the chunked upload and its processing states (``fake_x_media``, ``chunked``).

Answers are shaped like X's own: 201 ``{"data": {"id", "text"}}`` with ``x-rate-limit-*``
headers, the duplicate-content 403, and (when ``user_limit_24h`` is set) the undocumented
``x-user-limit-24hour-*`` headers and a 429 once the day's allowance is spent.

    python -m amplifier.testing.fake_x --port 8400   # prints its base URL, serves until killed
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from amplifier.testing.fake_x_media import FakeMedia, FakeXMedia
from amplifier.testing.fake_x_reads import LOOKUPS_PER_15_MIN, PublicMetrics, lookup
from amplifier.testing.fake_x_timeline import PATH as TIMELINE_PATH
from amplifier.testing.fake_x_timeline import USER_ID, user_tweets
from amplifier.testing.fakeserver import FakeServer, Fault, Request, Response

DUPLICATE_BODY: dict[str, Any] = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "title": "Forbidden",
    "status": 403,
}
UNAUTHORIZED_BODY: dict[str, Any] = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
POSTS_PER_15_MIN = 100  # X's per-user limit on POST /2/tweets
_GONE = FakeMedia("", "", "", "", 0, state="unknown")


@dataclass
class FakeTweet:
    """One accepted post, with the media it carried and their alt texts at posting time."""

    id: str
    text: str
    media_ids: list[str] = field(default_factory=list)
    alt_texts: list[str | None] = field(default_factory=list)
    reply_settings: str | None = None  # as sent; None: everyone
    in_reply_to: str | None = None  # reply.in_reply_to_tweet_id as sent (a thread's part)
    created_at: float = 0.0  # epoch seconds, by the fake's clock


def _invalid(message: str) -> Response:
    return Response(
        400,
        {
            "errors": [{"message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def _multipart_fields(request: Request) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, bytes) of a multipart/form-data body."""
    content_type = request.header("Content-Type") or ""
    if not content_type.startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name and isinstance(payload, bytes):
            fields[str(name)] = (part.get_filename(), payload)
    return fields


class FakeX:
    """X's v2 endpoints on a FakeServer; ``posts`` and ``media`` record what was accepted."""

    def __init__(
        self,
        server: FakeServer | None = None,
        *,
        user_limit_24h: int | None = None,
        username: str = "amplifier_test",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = server if server is not None else FakeServer()
        self.user_limit_24h = user_limit_24h
        self.username = username
        self.clock = clock
        self.posts: list[FakeTweet] = []
        self.media: dict[str, FakeMedia] = {}
        self.metrics: dict[str, PublicMetrics] = {}  # post id -> its counts (tests set them)
        self.deleted: set[str] = set()
        self.returned = 0  # posts returned by lookups: what X bills for reads
        self._lookups_in_window = 0
        self._ids = itertools.count(1456012973835788293)
        self._lock = threading.Lock()
        self._window_start = clock()
        self._day_start = clock()
        self._posts_in_window = 0
        self._posts_in_day = 0
        srv = self.server
        srv.route("POST", "/2/tweets", self._create_tweet)
        srv.route("GET", "/2/tweets", self._lookup)
        srv.route("GET", "/2/users/me", self._me)
        srv.route("GET", TIMELINE_PATH, self._timeline, prefix=True)  # /2/users/:id/tweets
        srv.route("POST", "/2/media/upload", self._upload)
        srv.route("POST", "/2/media/metadata", self._metadata)
        self.chunked = FakeXMedia(self, _multipart_fields)  # videos and GIFs

    # -- plumbing shared with FakeServer -------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def received(self) -> list[Request]:
        return self.server.received

    def add_fault(self, fault: Fault) -> None:
        self.server.add_fault(fault)

    def start(self) -> FakeX:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeX:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, *, user_limit_24h: int | None = None) -> None:
        """Forget every post, upload, request and pending fault (one server, many tests)."""
        with self.server.lock:
            self.server.faults.clear()
            self.server.received.clear()
        with self._lock:
            self.posts.clear()
            self.media.clear()
            self.metrics.clear()
            self.deleted.clear()
            self.returned = self._lookups_in_window = 0
            self.user_limit_24h = user_limit_24h
            self._window_start = self._day_start = self.clock()
            self._posts_in_window = self._posts_in_day = 0
        self.chunked.reset()

    # -- headers -------------------------------------------------------------------------
    def _limit_headers(self, *, remaining_today: int | None) -> dict[str, str]:
        headers = {
            "x-rate-limit-limit": str(POSTS_PER_15_MIN),
            "x-rate-limit-remaining": str(max(POSTS_PER_15_MIN - self._posts_in_window, 0)),
            "x-rate-limit-reset": str(int(self._window_start + 900)),
        }
        if self.user_limit_24h is not None and remaining_today is not None:
            headers |= {
                "x-user-limit-24hour-limit": str(self.user_limit_24h),
                "x-user-limit-24hour-remaining": str(max(remaining_today, 0)),
                "x-user-limit-24hour-reset": str(int(self._day_start + 86400)),
            }
        return headers

    def _roll_windows(self) -> None:
        now = self.clock()
        if now >= self._window_start + 900:
            self._window_start, self._posts_in_window = now, 0
            self._lookups_in_window = 0
        if now >= self._day_start + 86400:
            self._day_start, self._posts_in_day = now, 0

    # -- routes --------------------------------------------------------------------------
    def _create_tweet(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _invalid("text is required")
        text: str = body["text"]
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
        reply_settings = body.get("reply_settings")
        allowed = ("following", "mentionedUsers", "subscribers", "verified")
        if reply_settings is not None and reply_settings not in allowed:
            return _invalid(f"reply_settings must be one of {', '.join(allowed)}")
        with self._lock:
            self._roll_windows()
            remaining_today = (
                None if self.user_limit_24h is None else self.user_limit_24h - self._posts_in_day
            )
            if remaining_today is not None and remaining_today <= 0:
                return Response(
                    429,
                    {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                    self._limit_headers(remaining_today=0),
                )
            if any(post.text == text for post in self.posts):
                return Response(403, DUPLICATE_BODY, self._limit_headers(remaining_today=None))
            unknown = [m for m in media_ids if self.media.get(m, _GONE).state != "succeeded"]
            if unknown:
                return _invalid(f"media_ids {unknown} are not uploaded media")
            in_reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            if in_reply_to is not None and all(p.id != str(in_reply_to) for p in self.posts):
                return _invalid("reply.in_reply_to_tweet_id: the post does not exist")
            tweet = FakeTweet(
                id=str(next(self._ids)),
                text=text,
                media_ids=media_ids,
                alt_texts=[self.media[m].alt_text for m in media_ids],
                reply_settings=reply_settings,
                in_reply_to=None if in_reply_to is None else str(in_reply_to),
                created_at=self.clock(),
            )
            self.posts.append(tweet)
            self._posts_in_window += 1
            self._posts_in_day += 1
            left = None if remaining_today is None else remaining_today - 1
            headers = self._limit_headers(remaining_today=left)
            headers["location"] = f"https://api.twitter.com/2/tweets/{tweet.id}"
        return Response(201, {"data": {"id": tweet.id, "text": text}}, headers)

    def _lookup(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        ids = [i for v in request.query.get("ids", []) for i in v.split(",") if i]
        fields = [f for v in request.query.get("tweet.fields", []) for f in v.split(",")]
        with self._lock:
            self._roll_windows()
            left = LOOKUPS_PER_15_MIN - self._lookups_in_window
            headers = {
                "x-rate-limit-limit": str(LOOKUPS_PER_15_MIN),
                "x-rate-limit-remaining": str(max(left - 1, 0)),
                "x-rate-limit-reset": str(int(self._window_start + 900)),
            }
            if left <= 0:
                body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
                return Response(429, body, headers)
            self._lookups_in_window += 1
            texts = {p.id: p.text for p in self.posts if p.id not in self.deleted}
            answer, returned = lookup(ids, texts, self.metrics, fields, headers)
            self.returned += returned
        return answer

    def _me(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        return Response(
            200, {"data": {"id": USER_ID, "name": "Amplifier Test", "username": self.username}}
        )

    def _timeline(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        with self._lock:
            answer, returned = user_tweets(request, list(self.posts), self.deleted)
            self.returned += returned
        return answer

    def _upload(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        fields = _multipart_fields(request)
        if "media" not in fields:
            return _invalid("media is required (multipart/form-data)")
        category = fields.get("media_category", (None, b""))[1].decode()
        if category not in ("tweet_image", "dm_image", "subtitles"):
            return _invalid(f"media_category {category!r} is not allowed")
        filename, content = fields["media"]
        media_type = fields.get("media_type", (None, b"application/octet-stream"))[1].decode()
        with self._lock:
            media_id = str(next(self._ids))
            self.media[media_id] = FakeMedia(
                media_id, filename or "", media_type, category, len(content)
            )
        data = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(content),
            "expires_after_secs": 86400,
        }
        return Response(200, {"data": data})

    def _metadata(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, UNAUTHORIZED_BODY)
        body = request.json()
        media_id = str(body.get("id")) if isinstance(body, dict) else ""
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text") if body else None
        with self._lock:
            if media_id not in self.media:
                return _invalid(f"media id {media_id!r} was not uploaded")
            if not isinstance(alt, str):
                return _invalid("metadata.alt_text.text is required")
            self.media[media_id].alt_text = alt
        return Response(
            200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )


def make_fake_x(server: FakeServer | None = None, *, user_limit_24h: int | None = None) -> FakeX:
    """A FakeX on ``server`` (a new one on a free 127.0.0.1 port by default), not yet started."""
    return FakeX(server, user_limit_24h=user_limit_24h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake X API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user-limit-24h", type=int, default=None)
    args = parser.parse_args(argv)
    fake = FakeX(FakeServer(port=args.port), user_limit_24h=args.user_limit_24h).start()
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(fake.base_url, flush=True)
    while not stopped.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
