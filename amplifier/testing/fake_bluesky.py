"""A fake Bluesky PDS on ``FakeServer``, answering the XRPC calls atproto 0.0.73 makes.

Served: ``com.atproto.server.createSession`` / ``refreshSession`` / ``getSession`` and
``com.atproto.repo.createRecord`` / ``getRecord`` / ``uploadBlob`` / ``listRecords``: all the
adapter calls, and nothing of the appview (a bare PDS serves no ``app.bsky`` reads either). The
profile record (``app.bsky.actor.profile/self``) holds the display name. ``createRecord`` takes
the client's ``rkey`` (a TID, else ``400 InvalidRequest``) and answers a key already taken as
the real PDS 0.5.35 does: ``500 InternalServerError``. Tokens are HS256 JWTs with a real
``exp``: the SDK decodes the access token to decide when to refresh, so ``access_ttl`` under
15 minutes makes it refresh before each call.
Errors use the PDS's words: a bad or revoked token is ``400 InvalidToken`` / ``400 ExpiredToken``,
a bad password ``401 AuthenticationRequired``.

Tests read ``records``, ``blobs``, ``create_session_calls``, ``refresh_session_calls`` and
``get_session_calls`` and script faults with ``server.add_fault``. Standalone: ``python -m
amplifier.testing.fake_bluesky --port 8040`` prints its base URL and serves until killed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import regex  # type: ignore[import-untyped,unused-ignore]  # the venv has no stubs for regex

from amplifier.networks.bluesky_keys import is_tid
from amplifier.testing.fake_bluesky_data import (
    MAX_BLOB_BYTES,
    MAX_IMAGE_BLOB_BYTES,
    MAX_POST_BYTES,
    MAX_POST_GRAPHEMES,
    POST_COLLECTION,
    PROFILE_COLLECTION,
    TID_ALPHABET,
    FakeAccount,
    FakePost,
    FakeRateLimit,
    fake_cid,
    jwt_exp,
    make_jwt,
    rate_limited,
    xrpc_error,
)
from amplifier.testing.fake_bluesky_reads import read_posts
from amplifier.testing.fake_bluesky_writes import apply_writes
from amplifier.testing.fakeserver import FakeServer, Handler, Request, Response

__all__ = ["FakeAccount", "FakeBluesky", "FakePost", "FakeRateLimit", "main", "make_jwt"]


class FakeBluesky:
    """A PDS holding one or more accounts, their sessions, posts and blobs."""

    def __init__(
        self,
        *,
        handle: str = "amplifier.test",
        password: str = "fake-app-password",
        display_name: str = "Amplifier Test",
        access_ttl: float = 7200.0,
        refresh_ttl: float = 90 * 86400.0,
        clock: Callable[[], float] = time.time,
        server: FakeServer | None = None,
    ) -> None:
        self.server = server if server is not None else FakeServer()
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self.accounts: dict[str, FakeAccount] = {}
        self.records: list[FakePost] = []
        self.gates: list[FakePost] = []  # threadgates and postgates (applyWrites)
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.rate_limits: dict[str, FakeRateLimit] = {}
        self.create_session_calls = 0
        self.refresh_session_calls = 0
        self.get_session_calls = 0
        self._access_tokens: dict[str, str] = {}  # token -> did
        self._refresh_tokens: dict[str, str] = {}
        self._last_tid = 0
        self._lock = threading.Lock()
        self.add_account(handle, password, display_name)
        self._register_routes()

    # -- set-up and inspection --------------------------------------------------------------
    def add_account(self, handle: str, password: str, display_name: str = "") -> FakeAccount:
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        account = FakeAccount(handle, password, did, display_name)
        self.accounts[handle] = account
        return account

    def reset(self) -> None:
        """Back to a fresh PDS (accounts kept), so one server can serve many tests."""
        with self._lock:
            self.records.clear()
            self.gates.clear()
            self.blobs.clear()
            self.rate_limits.clear()
            self.create_session_calls = self.refresh_session_calls = self.get_session_calls = 0
        self.revoke_sessions()
        with self.server.lock:
            self.server.faults.clear()
            self.server.received.clear()

    def collect_blobs(self) -> list[str]:
        """Delete the blobs no record references, as the PDS does to stale uploads; their CIDs."""
        with self._lock:
            held = json.dumps([post.value for post in self.records])
            gone = [cid for cid in self.blobs if f'"{cid}"' not in held]
            for cid in gone:
                del self.blobs[cid]
        return gone

    def revoke_sessions(self) -> None:
        """Forget every token, as after a password change or a PDS-side revocation."""
        with self._lock:
            self._access_tokens.clear()
            self._refresh_tokens.clear()

    def set_rate_limit(self, nsid: str, limit: int, window: int = 3600, cost: int = 1) -> None:
        """Charge ``cost`` points per call of ``nsid`` against ``limit`` per ``window`` seconds."""
        self.rate_limits[nsid] = FakeRateLimit(limit, window, cost)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def start(self) -> FakeBluesky:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeBluesky:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing --------------------------------------------------------------------------
    def _register_routes(self) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("POST", "com.atproto.server.createSession", self._create_session),
            ("POST", "com.atproto.server.refreshSession", self._refresh_session),
            ("GET", "com.atproto.server.getSession", self._get_session),
            ("GET", "com.atproto.repo.getRecord", self._get_record),
            ("POST", "com.atproto.repo.createRecord", self._create_record),
            ("POST", "com.atproto.repo.applyWrites", lambda r: apply_writes(self, r)),
            ("POST", "com.atproto.repo.uploadBlob", self._upload_blob),
            ("GET", "com.atproto.repo.listRecords", self._list_records),
            ("GET", "app.bsky.feed.getPosts", lambda r: read_posts(self, r)),
        ]
        for method, nsid, handler in routes:
            self.server.route(method, f"/xrpc/{nsid}", self._limited(nsid, handler))

    def _limited(self, nsid: str, handler: Handler) -> Handler:
        return rate_limited(self.rate_limits, nsid, handler, self.clock, self._lock)

    def _issue_session(self, account: FakeAccount) -> dict[str, Any]:
        now = self.clock()
        access = make_jwt(
            {"scope": "com.atproto.appPass", "sub": account.did, "iat": int(now),
             "exp": int(now + self.access_ttl), "aud": "did:web:fake.pds"}
        )  # fmt: skip
        refresh = make_jwt(
            {"scope": "com.atproto.refresh", "sub": account.did, "iat": int(now),
             "exp": int(now + self.refresh_ttl), "jti": uuid.uuid4().hex}
        )  # fmt: skip
        with self._lock:
            self._access_tokens[access] = account.did
            self._refresh_tokens[refresh] = account.did
        tokens = {"accessJwt": access, "refreshJwt": refresh, "active": True}
        return {**tokens, "handle": account.handle, "did": account.did}

    def _account_for(self, request: Request, tokens: dict[str, str]) -> FakeAccount | Response:
        """The account a bearer token belongs to, or the PDS's error answer."""
        authorization = request.header("Authorization") or ""
        if not authorization.startswith("Bearer "):
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        token = authorization.removeprefix("Bearer ")
        with self._lock:
            did = tokens.get(token)
        if did is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        if jwt_exp(token) <= self.clock():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return next(account for account in self.accounts.values() if account.did == did)

    def _account_by_actor(self, actor: str) -> FakeAccount | None:
        return next((a for a in self.accounts.values() if actor in (a.handle, a.did)), None)

    def _next_rkey(self) -> str:
        with self._lock:
            tid = max(int(time.time() * 1_000_000) << 10, self._last_tid + 1)
            self._last_tid = tid
        return "".join(TID_ALPHABET[(tid >> (5 * i)) & 31] for i in reversed(range(13)))

    # -- com.atproto.server ----------------------------------------------------------------
    def _create_session(self, request: Request) -> Response:
        with self._lock:
            self.create_session_calls += 1
        data = request.json() or {}
        account = self._account_by_actor(str(data.get("identifier", "")))
        if account is None or data.get("password") != account.password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Response(200, self._issue_session(account))

    def _refresh_session(self, request: Request) -> Response:
        with self._lock:
            self.refresh_session_calls += 1
        account = self._account_for(request, self._refresh_tokens)
        if isinstance(account, Response):
            if account.status == 400:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            return account
        with self._lock:  # refresh tokens rotate: the old one is spent
            self._refresh_tokens.pop((request.header("Authorization") or "")[7:], None)
        return Response(200, self._issue_session(account))

    def _get_session(self, request: Request) -> Response:
        with self._lock:
            self.get_session_calls += 1
        account = self._account_for(request, self._access_tokens)
        if isinstance(account, Response):
            return account
        body: dict[str, Any] = {"did": account.did, "handle": account.handle}
        body["active"] = account.active
        if account.status:
            body["status"] = account.status
        return Response(200, body)

    # -- com.atproto.repo ------------------------------------------------------------------
    def _create_record(self, request: Request) -> Response:
        account = self._account_for(request, self._access_tokens)
        if isinstance(account, Response):
            return account
        data = request.json() or {}
        if data.get("repo") not in (account.did, account.handle):
            return xrpc_error(401, "AuthenticationRequired", "Input/repo must be the session's")
        record = data.get("record")
        collection = data.get("collection")
        if not isinstance(record, dict) or not collection:
            return xrpc_error(400, "InvalidRequest", "Input must have collection and record")
        if collection == POST_COLLECTION:
            problem = self._post_problem(record)
            if problem:
                message = f"Invalid {POST_COLLECTION} record: {problem}"
                return xrpc_error(400, "InvalidRequest", message)
        rkey = data.get("rkey") or self._next_rkey()
        if not isinstance(rkey, str) or not is_tid(rkey):
            message = f"Invalid record key for {collection}: Invalid TID string (got {rkey!r})"
            return xrpc_error(400, "InvalidRequest", message)
        uri = f"at://{account.did}/{collection}/{rkey}"
        if any(post.uri == uri for post in self.records):
            # What the real PDS answers: its repository tree refuses a second value at the key.
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        cid = fake_cid("bafyrei", json.dumps(record, sort_keys=True).encode() + rkey.encode())
        with self._lock:
            self.records.append(FakePost(uri, cid, account.did, record))
        return Response(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})

    def _post_problem(self, record: dict[str, Any]) -> str | None:
        text = record.get("text")
        if not isinstance(text, str) or "createdAt" not in record:
            return "Record must have the properties text and createdAt"
        if len(regex.findall(r"\X", text)) > MAX_POST_GRAPHEMES:
            return f"Record/text must not be longer than {MAX_POST_GRAPHEMES} graphemes"
        if len(text.encode("utf-8")) > MAX_POST_BYTES:
            return f"Record/text must not be longer than {MAX_POST_BYTES} bytes"
        labels = record.get("labels")
        if labels is not None:
            kind = labels.get("$type") if isinstance(labels, dict) else None
            values = labels.get("values") if isinstance(labels, dict) else None
            if kind != "com.atproto.label.defs#selfLabels" or not isinstance(values, list):
                return "Record/labels must be com.atproto.label.defs#selfLabels"
            if len(values) > 10 or not all(
                isinstance(v, dict) and isinstance(v.get("val"), str) for v in values
            ):
                return "Record/labels/values must be at most 10 labels with a val"
        embed = record.get("embed") or {}
        for image in embed.get("images", []):
            link = (image.get("image") or {}).get("ref", {}).get("$link")
            if link not in self.blobs:
                return "Could not find blob"
            if len(self.blobs[link][1]) > MAX_IMAGE_BLOB_BYTES:
                return "Record/embed/images/0/image file too large"
        if embed.get("$type") == "app.bsky.embed.video":
            link = (embed.get("video") or {}).get("ref", {}).get("$link")
            if link not in self.blobs:
                return "Could not find blob"
            if self.blobs[link][0] != "video/mp4":
                return "Record/embed/video/video mimeType must be video/mp4"
        if embed.get("$type") == "app.bsky.embed.external":
            external = embed.get("external") or {}
            if not all(isinstance(external.get(k), str) for k in ("uri", "title", "description")):
                return "Record/embed/external must have the properties uri, title and description"
            thumb = external.get("thumb")
            if thumb is not None:
                ref = thumb.get("ref") if isinstance(thumb, dict) else None
                link = ref.get("$link") if isinstance(ref, dict) else None
                if link not in self.blobs:
                    return "Could not find blob"
                if not str(self.blobs[link][0]).startswith("image/"):
                    return "Record/embed/external/thumb must be an image"
                if len(self.blobs[link][1]) > MAX_IMAGE_BLOB_BYTES:
                    return "Record/embed/external/thumb file too large"
        return None

    def _upload_blob(self, request: Request) -> Response:
        account = self._account_for(request, self._access_tokens)
        if isinstance(account, Response):
            return account
        if len(request.body) > MAX_BLOB_BYTES:
            return xrpc_error(400, "BlobTooLarge", "This file is too large.")
        mime = request.header("Content-Type") or "application/octet-stream"
        cid = fake_cid("bafkrei", request.body)
        with self._lock:
            self.blobs[cid] = (mime, request.body)
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(request.body)}
        return Response(200, {"blob": blob})

    def _get_record(self, request: Request) -> Response:
        def param(name: str) -> str:
            return request.query.get(name, [""])[0]

        account = self._account_by_actor(param("repo"))
        if account is None:
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {param('repo')}")
        uri = f"at://{account.did}/{param('collection')}/{param('rkey')}"
        profile = param("collection") == PROFILE_COLLECTION and param("rkey") == "self"
        if profile and account.display_name:
            value = {"$type": PROFILE_COLLECTION, "displayName": account.display_name}
            return Response(
                200, {"uri": uri, "cid": fake_cid("bafyrei", uri.encode()), "value": value}
            )
        with self._lock:
            found = next((p for p in [*self.records, *self.gates] if p.uri == uri), None)
        if found is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Response(200, {"uri": found.uri, "cid": found.cid, "value": found.value})

    def _list_records(self, request: Request) -> Response:
        def param(name: str, default: str = "") -> str:
            return request.query.get(name, [default])[0]

        account = self._account_by_actor(param("repo"))
        if account is None:
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {param('repo')}")
        limit = max(1, min(int(param("limit", "50")), 100))
        cursor = param("cursor")
        with self._lock:
            matching = [
                post
                for post in self.records
                if post.repo == account.did and post.uri.split("/")[3] == param("collection")
            ]
        matching.sort(key=lambda post: post.rkey, reverse=True)  # newest first, as the PDS does
        if cursor:
            matching = [post for post in matching if post.rkey < cursor]
        page = matching[:limit]
        body: dict[str, Any] = {
            "records": [{"uri": p.uri, "cid": p.cid, "value": p.value} for p in page]
        }
        if len(matching) > limit:
            body["cursor"] = page[-1].rkey
        return Response(200, body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Bluesky PDS until killed.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--handle", default="amplifier.test")
    parser.add_argument("--password", default="fake-app-password")
    args = parser.parse_args(argv)
    server = FakeServer(port=args.port)  # 127.0.0.1 only
    fake = FakeBluesky(handle=args.handle, password=args.password, server=server)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    with fake:
        print(fake.base_url, flush=True)
        while not stopped.wait(0.5):  # a timed wait lets the signal handler run promptly
            pass


if __name__ == "__main__":
    main()
