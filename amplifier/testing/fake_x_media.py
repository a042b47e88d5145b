"""X's chunked media upload on the fake X: initialize, append, finalize, and processing states.

    POST /2/media/upload/initialize   JSON media_type, total_bytes, media_category -> data.id
    POST /2/media/upload/{id}/append  multipart segment_index, media: in order, 0, 1, 2...
    POST /2/media/upload/{id}/finalize  every byte announced must have come
    GET  /2/media/upload?command=STATUS&media_id={id}

``script`` decides how processing goes for the next uploads: ``polls`` looks answer
in_progress before it ends (0: finalize answers succeeded), ``fail`` ends it failed with X's
error object, ``never`` keeps it in_progress for ever. A post may carry the media only once
it succeeded (X answers 400 otherwise). ``uploads`` records each upload: its parts in the order
they came, how often it was finalized and looked at.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amplifier.testing.fakeserver import Request, Response

if TYPE_CHECKING:
    from amplifier.testing.fake_x import FakeX

CATEGORIES = ("tweet_video", "tweet_gif", "amplify_video")
FAILURE = {"code": 1, "name": "InvalidMedia", "message": "Invalid or Unsupported media"}


@dataclass
class FakeMedia:
    """One uploaded image, video or GIF as the fake saw it; posts carry it once succeeded."""

    id: str
    name: str
    media_type: str
    category: str
    size: int
    alt_text: str | None = None
    state: str = "succeeded"  # a chunked upload's processing: pending, in_progress, failed


@dataclass(frozen=True)
class ProcessingScript:
    """How X's processing of an upload goes."""

    polls: int = 1  # STATUS looks answering in_progress before the end
    fail: bool = False
    never: bool = False
    check_after_secs: int = 1


@dataclass
class ChunkedUpload:
    """One chunked upload as the fake saw it."""

    media: FakeMedia
    total_bytes: int
    script: ProcessingScript
    segments: list[int] = field(default_factory=list)  # segment_index, in arrival order
    content: bytearray = field(default_factory=bytearray)
    finalized: int = 0
    polls: int = 0


class FakeXMedia:
    """The chunked endpoints, recording into ``fake.media`` (what posts may carry)."""

    def __init__(
        self, fake: FakeX, multipart: Callable[[Request], dict[str, tuple[str | None, bytes]]]
    ) -> None:
        self.fake = fake
        self.script = ProcessingScript()
        self.uploads: dict[str, ChunkedUpload] = {}
        self._multipart = multipart
        self._ids = itertools.count(1880028106020515840)
        self._lock = threading.Lock()
        fake.server.route("POST", "/2/media/upload/", self._post, prefix=True)
        fake.server.route("GET", "/2/media/upload", self._status)

    def reset(self) -> None:
        with self._lock:
            self.uploads.clear()
            self.script = ProcessingScript()

    def _post(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, {"title": "Unauthorized", "status": 401})
        parts = request.path.removeprefix("/2/media/upload/").split("/")
        with self._lock:
            if parts == ["initialize"]:
                return self._initialize(request)
            upload = self.uploads.get(parts[0])
            if upload is None or len(parts) != 2:
                return _invalid(f"no upload at {request.path}")
            if parts[1] == "append":
                return self._append(upload, request)
            if parts[1] == "finalize":
                return self._finalize(upload)
        return _invalid(f"unknown command {parts[1]!r}")

    def _initialize(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return _invalid("a JSON body is required")
        category, kind, total = (
            body.get(k) for k in ("media_category", "media_type", "total_bytes")
        )
        if category not in CATEGORIES:
            return _invalid(f"media_category {category!r} is not allowed")
        if not isinstance(total, int) or total < 1 or not isinstance(kind, str):
            return _invalid("media_type and total_bytes are required")
        media_id = str(next(self._ids))
        media = FakeMedia(media_id, "", kind, str(category), total, state="pending")
        self.uploads[media_id] = ChunkedUpload(media, total, self.script)
        self.fake.media[media_id] = media
        return Response(
            200,
            {"data": {"id": media_id, "media_key": f"7_{media_id}", "expires_after_secs": 86400}},
        )

    def _append(self, upload: ChunkedUpload, request: Request) -> Response:
        fields = self._multipart(request)
        index = fields.get("segment_index", (None, b""))[1].decode()
        if "media" not in fields or not index.isdigit():
            return _invalid("segment_index and media are required")
        if int(index) != len(upload.segments) or upload.finalized:
            return _invalid(f"segment {index} out of order")
        chunk = fields["media"][1]
        if len(upload.content) + len(chunk) > upload.total_bytes:
            return _invalid("more bytes than total_bytes")
        upload.segments.append(int(index))
        upload.content.extend(chunk)
        return Response(200, {"data": {"expires_at": 1893456000}})

    def _finalize(self, upload: ChunkedUpload) -> Response:
        if len(upload.content) != upload.total_bytes:
            return _invalid(f"{len(upload.content)} of {upload.total_bytes} bytes received")
        upload.finalized += 1
        upload.media.state = (
            "in_progress"
            if upload.script.polls or upload.script.never
            else ("failed" if upload.script.fail else "succeeded")
        )
        return Response(200, {"data": self._data(upload)})

    def _status(self, request: Request) -> Response:
        if not request.header("Authorization"):
            return Response(401, {"title": "Unauthorized", "status": 401})
        if request.query.get("command") != ["STATUS"]:
            return _invalid("command must be STATUS")
        with self._lock:
            upload = self.uploads.get((request.query.get("media_id") or [""])[0])
            if upload is None or not upload.finalized:
                return _invalid("media_id is not a finalized upload")
            upload.polls += 1
            script = upload.script
            if not script.never and upload.polls >= script.polls:
                upload.media.state = "failed" if script.fail else "succeeded"
            return Response(200, {"data": self._data(upload)})

    @staticmethod
    def _data(upload: ChunkedUpload) -> dict[str, object]:
        state = upload.media.state
        info: dict[str, object] = {"state": state}
        if state in ("pending", "in_progress"):
            info |= {"check_after_secs": upload.script.check_after_secs, "progress_percent": 50}
        elif state == "failed":
            info |= {"progress_percent": 100, "error": FAILURE}
        else:
            info["progress_percent"] = 100
        media = upload.media
        return {"id": media.id, "media_key": f"7_{media.id}", "size": media.size,
                "processing_info": info}  # fmt: skip


def _invalid(message: str) -> Response:
    detail = "One or more parameters to your request was invalid."
    return Response(400, {"errors": [{"message": message}], "title": "Invalid Request",
                          "detail": detail})  # fmt: skip
