"""A fake Mastodon server on localhost, for driving the real Mastodon.py against.

It answers the few endpoints amplifier uses, shaped like the real responses recorded in
the Mastodon.py cassettes (Mastodon 4.6), and behaves like the real server where it matters:

* POST /api/v1/statuses honours Idempotency-Key (same key, same status, nothing new),
  answers 422 for an empty or too long text (code points, URLs count
  ``characters_reserved_per_url``, the content warning counts too), and 401 for a wrong token.
* Every answer carries x-ratelimit-limit/remaining/reset (ISO-8601). Posting counts against
  the statuses limit (``status_limit`` per 3 h), uploads against 30 per 30 min, everything
  else against ``api_limit`` per 5 min; going over answers 429.
* POST /api/v2/media answers 202 with ``url: null`` (422 for a file over
  ``image_size_limit``, a video over ``video_size_limit``); GET /api/v1/media/<id> answers
  206 until the ``media_ready_after_polls``-th poll, then 200 with a url, or 422 when
  ``media_fails`` (processing failed, as Mastodon says it). A status refuses a video beside
  other media, as Mastodon does.
* GET /api/v2/instance and /api/v1/instance publish the limits in Mastodon 4's shapes
  (``image_matrix_limit`` included); the settings serve only some versions
  (``instance_versions``), answer another status (``instance_status``, e.g. a 500 from a
  server picky about its Host header), a body that is not JSON (``instance_body``) or late
  (``instance_delay``).

Run standalone: ``python -m amplifier.testing.fake_mastodon --port 8030 --token T``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import html
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from amplifier.testing.fake_mastodon_data import (
    ACCOUNT_CONSTANTS,
    FIRST_ID,
    INSTANCE_CONSTANTS,
    MEDIA_TYPES,
    NOT_PROCESSED,
    PERIODS,
    PROCESSING_FAILED,
    STATUS_CONSTANTS,
    URL_PATTERN,
    VIDEO_AND_IMAGES,
    FakeMastodonSettings,
    FakeMedia,
    FakeStatus,
    iso,
)
from amplifier.testing.fake_mastodon_reads import StatusReads
from amplifier.testing.fakeserver import FakeServer, Fault, Request, Response

__all__ = ["FakeMastodon", "FakeMastodonSettings", "FakeMedia", "FakeStatus", "main"]


class FakeMastodon:
    """The fake server; ``statuses`` holds what was accepted, ``server.received`` every request."""

    def __init__(
        self,
        settings: FakeMastodonSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._defaults = settings or FakeMastodonSettings()
        self._lock = threading.Lock()
        self.server = FakeServer(host, port)
        self.reset()
        self.server.route("POST", "/api/v1/statuses", self._post_status)
        self.server.route("POST", "/api/v2/media", self._post_media)
        self.server.route("GET", "/api/v1/media/", self._get_media, prefix=True)
        self.server.route("GET", "/api/v1/accounts/verify_credentials", self._verify)
        reads = StatusReads(self)
        self.server.route("GET", "/api/v1/statuses", reads.many)
        self.server.route("GET", "/api/v1/statuses/", reads.one, prefix=True)
        for version in ("v1", "v2"):
            for path in (f"/api/{version}/instance", f"/api/{version}/instance/"):
                self.server.route("GET", path, self._instance)

    def reset(self, **changes: Any) -> FakeMastodon:
        """Forget every post, upload, fault and request; settings become defaults + changes."""
        with self._lock:
            self.settings = replace(self._defaults, **changes)
            self.statuses: list[FakeStatus] = []
            self.media: dict[str, FakeMedia] = {}
            self._by_key: dict[str, FakeStatus] = {}
            self._counters: dict[tuple[str, int], int] = {}
            self._next_id = FIRST_ID
        with self.server.lock:
            self.server.faults.clear()
            self.server.received.clear()
        return self

    # -- plumbing -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.server.base_url

    def add_fault(self, fault: Fault) -> None:
        self.server.add_fault(fault)

    def start(self) -> FakeMastodon:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeMastodon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _count(self, family: str) -> tuple[bool, dict[str, str]]:
        """Count one request against a limit: (allowed, the x-ratelimit-* headers)."""
        settings = self.settings
        limits = {"api": settings.api_limit, "statuses": settings.status_limit, "media": 30}
        limit, period = limits[family], PERIODS[family]
        bucket = int(self.settings.clock().timestamp() // period)
        used = self._counters.get((family, bucket), 0)
        allowed = used < limit
        if allowed:
            used += 1
            self._counters[(family, bucket)] = used
        reset = datetime.fromtimestamp((bucket + 1) * period, UTC)
        return allowed, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": iso(reset),
        }

    def _gate(self, request: Request, family: str) -> tuple[Response | None, dict[str, str]]:
        """Authentication and rate limits; a Response means: answer this instead."""
        if not self._authorized(request):
            return Response(
                401,
                {"error": "The access token is invalid"},
                {"WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token"'},
            ), {}
        allowed, headers = self._count("api")
        if allowed and family != "api":
            allowed, headers = self._count(family)
        if not allowed:
            return Response(429, {"error": "Too many requests"}, headers), headers
        return None, headers

    # -- JSON shapes (field names copied from real Mastodon 4.6 responses) ----------------
    def account_json(self, *, with_source: bool = False) -> dict[str, Any]:
        base, name = self.base_url, self.settings.username
        account: dict[str, Any] = {
            **ACCOUNT_CONSTANTS,
            "username": name,
            "acct": name,
            "display_name": self.settings.display_name,
            "bot": self.settings.bot,
            "url": f"{base}/@{name}",
            "uri": f"{base}/users/{name}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "statuses_count": len(self.statuses),
        }
        if with_source:  # verify_credentials adds the owner's own settings
            account["source"] = {"privacy": "unlisted", "sensitive": False, "language": None}
            account["source"] |= {"note": "", "fields": [], "follow_requests_count": 0}
            account["role"] = {"id": "-99", "name": "", "permissions": "65536", "color": ""}
        return account

    def media_json(self, media: FakeMedia) -> dict[str, Any]:
        url = f"{self.base_url}/system/media_attachments/files/{media.id}/original/image"
        return {
            **dict.fromkeys(["remote_url", "preview_remote_url", "text_url", "blurhash"]),
            "id": media.id,
            "type": media.kind,
            "url": url if media.ready else None,
            "preview_url": url.replace("original", "small") if media.ready else None,
            "meta": {"original": {"width": 1, "height": 1, "size": "1x1", "aspect": 1.0}},
            "description": media.description,
        }

    def status_json(self, status: FakeStatus, media: list[FakeMedia]) -> dict[str, Any]:
        base = self.base_url
        return {
            **STATUS_CONSTANTS,
            "id": status.id,
            "created_at": iso(status.created_at),
            "sensitive": status.sensitive or bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{base}/users/{self.settings.username}/statuses/{status.id}",
            "url": f"{base}/@{self.settings.username}/{status.id}",
            "content": f"<p>{html.escape(status.text)}</p>",
            "application": {"name": "amplifier", "website": None},
            "account": self.account_json(),
            "media_attachments": [self.media_json(m) for m in media],
            "favourites_count": status.favourites,
            "reblogs_count": status.reblogs,
            "replies_count": status.replies,
            "in_reply_to_id": status.in_reply_to_id,
        } | ({"quotes_count": status.quotes} if self.settings.quotes_count else {})

    # -- handlers -----------------------------------------------------------------------
    def _post_status(self, request: Request) -> Response:
        with self._lock:
            key = request.header("Idempotency-Key")
            if key is not None and key in self._by_key and self._authorized(request):
                # Real Mastodon answers a repeated key with the first status, unchanged.
                earlier = self._by_key[key]
                attached = [self.media[i] for i in earlier.media_ids]
                return Response(200, self.status_json(earlier, attached))
            refusal, headers = self._gate(request, "statuses")
            if refusal is not None:
                return refusal
            fields = _fields(request)
            text = _first(fields, "status") or ""
            spoiler = _first(fields, "spoiler_text") or ""
            ids = fields.get("media_ids[]", []) + fields.get("media_ids", [])
            unknown = [i for i in ids if i not in self.media]
            if unknown:
                error = f"Media {', '.join(unknown)} not found or already attached to another post"
                return Response(422, {"error": error}, headers)
            attached = [self.media[i] for i in ids]
            if any(not m.ready for m in attached):
                return Response(422, {"error": NOT_PROCESSED}, headers)
            if len(attached) > 1 and any(m.kind == "video" for m in attached):
                return Response(422, {"error": VIDEO_AND_IMAGES}, headers)
            reply_to = _first(fields, "in_reply_to_id")
            if reply_to is not None and all(s.id != reply_to for s in self.statuses):
                return Response(404, {"error": "Record not found"}, headers)
            if not text.strip() and not attached:
                return Response(422, {"error": "Validation failed: Text can't be blank"}, headers)
            length = len(URL_PATTERN.sub("x" * self.settings.characters_reserved_per_url, text))
            limit = self.settings.max_characters or 500
            if length + len(spoiler) > limit:
                error = f"Validation failed: Text character limit of {limit} exceeded"
                return Response(422, {"error": error}, headers)
            status = FakeStatus(
                id=self._new_id(),
                text=text,
                visibility=_first(fields, "visibility") or "public",
                language=_first(fields, "language"),
                spoiler_text=spoiler,
                media_descriptions=[m.description for m in attached],
                media_ids=ids,
                idempotency_key=key,
                created_at=self.settings.clock(),
                sensitive=(_first(fields, "sensitive") or "").lower() in ("1", "true"),
                quote_approval_policy=_first(fields, "quote_approval_policy"),
                in_reply_to_id=reply_to,
            )
            self.statuses.append(status)
            if key is not None:
                self._by_key[key] = status
            return Response(200, self.status_json(status, attached), headers)

    def _post_media(self, request: Request) -> Response:
        with self._lock:
            refusal, headers = self._gate(request, "media")
            if refusal is not None:
                return refusal
            parts = _multipart(request)
            if "file" not in parts:
                return Response(422, {"error": "Validation failed: File can't be blank"}, headers)
            size = len(parts["file"][1])
            media = FakeMedia(self._new_id(), None, content_type=parts["file"][0], size=size)
            video = media.kind == "video"
            most = self.settings.video_size_limit if video else self.settings.image_size_limit
            if size > most:
                error = f"Validation failed: File file size must be less than {most} bytes"
                return Response(422, {"error": error}, headers)
            media.description = parts.get("description", ("", b""))[1].decode("utf-8") or None
            media.ready = self.settings.media_ready_after_polls <= 0
            self.media[media.id] = media
            return Response(200 if media.ready else 202, self.media_json(media), headers)

    def _get_media(self, request: Request) -> Response:
        with self._lock:
            refusal, headers = self._gate(request, "api")
            if refusal is not None:
                return refusal
            media = self.media.get(request.path.rsplit("/", 1)[-1])
            if media is None:
                return Response(404, {"error": "Record not found"}, headers)
            media.polls += 1
            if self.settings.media_fails:
                return Response(422, {"error": PROCESSING_FAILED}, headers)
            media.ready = media.ready or media.polls >= self.settings.media_ready_after_polls
            return Response(200 if media.ready else 206, self.media_json(media), headers)

    def _verify(self, request: Request) -> Response:
        with self._lock:
            refusal, headers = self._gate(request, "api")
            if refusal is not None:
                return refusal
            return Response(200, self.account_json(with_source=True), headers)

    def _instance(self, request: Request) -> Response:
        settings = self.settings
        version = request.path.split("/")[2]
        if settings.instance_delay:
            time.sleep(settings.instance_delay)  # a slow server, as the client sees it
        if version not in settings.instance_versions:
            return Response(404, {"error": "Record not found"})
        if settings.instance_status != 200:
            return Response(settings.instance_status, "Internal Server Error")
        if settings.instance_body is not None:
            return Response(200, settings.instance_body)
        configuration: dict[str, Any] = {"urls": {"streaming": None}, "polls": {"max_options": 4}}
        if settings.max_characters is not None:
            configuration["statuses"] = {
                "max_characters": settings.max_characters,
                "max_media_attachments": settings.max_media_attachments,
                "characters_reserved_per_url": settings.characters_reserved_per_url,
            }
        media: dict[str, Any] = {"supported_mime_types": list(MEDIA_TYPES)}
        media["image_size_limit"] = settings.image_size_limit
        media["video_size_limit"] = settings.video_size_limit
        media["image_matrix_limit"] = settings.image_matrix_limit
        domain = self.base_url.split("://", 1)[1]
        if version == "v2":
            media["description_limit"] = settings.description_limit
            configuration["media_attachments"] = media
            body = {**INSTANCE_CONSTANTS, "domain": domain, "configuration": configuration}
            return Response(200, body)
        configuration["media_attachments"] = media  # v1: the same fields, a flatter answer
        body = {"uri": domain, "title": INSTANCE_CONSTANTS["title"], "version": "4.3.0"}
        return Response(200, {**body, "configuration": configuration})

    def _authorized(self, request: Request) -> bool:
        return request.header("Authorization") == f"Bearer {self.settings.token}"


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _fields(request: Request) -> dict[str, list[str]]:
    """Form or JSON body as {name: [values]} (Mastodon.py sends JSON only with polls)."""
    if "json" in (request.header("Content-Type") or ""):
        body = request.json() or {}
        return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in body.items()}
    return parse_qs(request.body.decode("utf-8"), keep_blank_values=True)


def _multipart(request: Request) -> dict[str, tuple[str, bytes]]:
    """multipart/form-data as {field: (content type, bytes)}."""
    head = f"Content-Type: {request.header('Content-Type') or ''}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_content_type(), payload)
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Mastodon on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="fake-mastodon-token")
    parser.add_argument("--bot", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    settings = FakeMastodonSettings(token=args.token, bot=args.bot)
    with contextlib.suppress(KeyboardInterrupt), FakeMastodon(settings, port=args.port) as fake:
        print(fake.base_url, flush=True)
        threading.Event().wait()  # serve until killed


if __name__ == "__main__":
    main()
