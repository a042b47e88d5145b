"""The data of the fake Bluesky PDS: accounts, records, rate limits, tokens and error answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amplifier.testing.fakeserver import Handler, Request, Response

POST_COLLECTION = "app.bsky.feed.post"
PROFILE_COLLECTION = "app.bsky.actor.profile"
MAX_BLOB_BYTES = 100_000_000  # the PDS's own cap; the lexicons' tighter ones are checked per embed
MAX_IMAGE_BLOB_BYTES = 1_000_000
MAX_POST_GRAPHEMES = 300
MAX_POST_BYTES = 3000
JWT_SECRET = b"fake-bluesky-signing-key"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass
class FakeAccount:
    handle: str
    password: str
    did: str
    display_name: str = ""
    active: bool = True
    status: str | None = None  # why it is not active: "takendown", "deactivated" ...


@dataclass
class FakePost:
    """One created app.bsky.feed.post record, exactly as the client sent it."""

    uri: str
    cid: str
    repo: str
    value: dict[str, Any]
    # What readers did since (tests set them); a deleted post is left out of getPosts.
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    deleted: bool = False

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def text(self) -> str:
        return str(self.value.get("text", ""))

    @property
    def facets(self) -> list[dict[str, Any]]:
        return list(self.value.get("facets") or [])

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.value.get("embed")

    @property
    def langs(self) -> list[str] | None:
        return self.value.get("langs")


@dataclass
class FakeRateLimit:
    """A points budget per window, reported in ratelimit-* headers like the PDS does."""

    limit: int
    window_seconds: int = 3600
    cost: int = 1
    used: int = 0
    window_start: float | None = None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(payload: dict[str, Any]) -> str:
    """An HS256 JWT; the SDK only decodes it, the fake checks it by lookup."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
    body = b64url(json.dumps(payload).encode())
    signature = hmac.new(JWT_SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(signature)}"


def jwt_exp(token: str) -> float:
    payload = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(decoded["exp"])


def fake_cid(prefix: str, data: bytes) -> str:
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().rstrip("=").lower()
    return prefix + digest


def xrpc_error(status: int, error: str, message: str) -> Response:
    return Response(status, {"error": error, "message": message})


def rate_limited(
    limits: dict[str, FakeRateLimit],
    nsid: str,
    handler: Handler,
    clock: Callable[[], float],
    lock: threading.Lock,
) -> Handler:
    """``handler`` charged against ``limits[nsid]`` (when set), answering 429 past it, with
    the ratelimit-* headers the PDS sends."""

    def serve(request: Request) -> Response:
        limit = limits.get(nsid)
        if limit is None:
            return handler(request)
        now = clock()
        with lock:
            if limit.window_start is None or now >= limit.window_start + limit.window_seconds:
                limit.window_start, limit.used = now, 0
            allowed = limit.used + limit.cost <= limit.limit
            if allowed:
                limit.used += limit.cost
            headers = {
                "RateLimit-Limit": str(limit.limit),
                "RateLimit-Remaining": str(max(limit.limit - limit.used, 0)),
                "RateLimit-Reset": str(int(limit.window_start + limit.window_seconds)),
                "RateLimit-Policy": f"{limit.limit};w={limit.window_seconds}",
            }
        refused = xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        response = handler(request) if allowed else refused
        response.headers.update(headers)
        return response

    return serve
