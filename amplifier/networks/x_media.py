"""X's chunked media upload (API v2): a video or GIF sent in parts, then X's processing awaited.

tweepy 4.17 has no v2 media upload (tweepy#2217), so these requests go through tweepy's own
session, signed by its own OAuth1 handler (or the OAuth2 user token), per
https://docs.x.com/x-api/media/quickstart/media-upload-chunked:

    POST /2/media/upload/initialize   {"media_type", "total_bytes", "media_category"} -> data.id
    POST /2/media/upload/{id}/append  multipart: segment_index, media (each part once, in order)
    POST /2/media/upload/{id}/finalize                  -> data.processing_info (when async)
    GET  /2/media/upload?command=STATUS&media_id={id}   -> data.processing_info

``processing_info.state`` goes pending -> in_progress -> succeeded | failed; the next look waits
``check_after_secs`` (capped at ``MAX_CHECK_AFTER``), and all looks together at most the
adapter's ``media_processing_timeout``, counted in the pauses themselves (an injected clock
that stands still cannot make it endless). The pause is the adapter's ``sleep``: the worker's
stop event, so a shutdown ends the wait at once. Processing that fails is a refusal of this
media (``MediaRefused``): sending it again would fail the same way. Processing that outlasts
the bound, or a shutdown, is ``MediaPending`` (the adapter's ``MediaNotReady``: the delivery is
deferred and tried later). Neither ever creates a post.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import requests

from amplifier.networks.base import MediaItem

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT = 1000
# Types the v2 simple upload takes as tweet_image (GIFs and videos: the chunked flow).
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp"}  # fmt: skip
CHUNK_BYTES = 4 * 1024 * 1024  # under X's 5 MB per APPEND
MAX_CHECK_AFTER = 10.0  # seconds: X may ask for more; we look again sooner, within the bound
FIRST_CHECK = 1.0  # when X names no wait
VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime"}
GIF_TYPES = {".gif": "image/gif"}
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
CATEGORIES = {"video": "tweet_video", "gif": "tweet_gif"}


class MediaRefused(Exception):
    """X processed the media and refused it; ``reason`` is its words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MediaPending(Exception):
    """The media was not ready within the bound (or the worker is stopping)."""


@dataclass(frozen=True)
class Image:
    """An image for the simple upload."""

    name: str
    content: bytes
    media_type: str
    alt: str


@dataclass(frozen=True)
class Motion:
    """A video or GIF to upload in parts, read from its file part by part (up to 512 MB: never
    held in memory whole)."""

    name: str
    path: Path
    size: int
    media_type: str
    category: str  # tweet_video or tweet_gif
    alt: str


def motion_of(suffix: str) -> tuple[str, str, int] | None:
    """(media type, category, size cap) of a video or GIF named with ``suffix``; None otherwise."""
    if suffix in VIDEO_TYPES:
        return VIDEO_TYPES[suffix], CATEGORIES["video"], MAX_VIDEO_BYTES
    if suffix in GIF_TYPES:
        return GIF_TYPES[suffix], CATEGORIES["gif"], MAX_GIF_BYTES
    return None


def read_media(
    media: tuple[MediaItem, ...], reject: Callable[[str], NoReturn]
) -> list[Image | Motion]:
    """Every file checked and read before any request, so a bad file never half-publishes;
    ``reject`` raises the adapter's refusal."""
    if len(media) > MAX_IMAGES:
        reject(f"{len(media)} images; X allows at most {MAX_IMAGES}")
    items: list[Image | Motion] = []
    for item in media:
        name, suffix = item.path.name, item.path.suffix.lower()
        motion = motion_of(suffix)
        media_type = motion[0] if motion else IMAGE_TYPES.get(suffix)
        if media_type is None:
            reject(f"{name}: X takes PNG, JPEG, WebP, GIF, MP4 or MOV")
        if motion and len(media) > 1:
            reject(f"{name}: X takes a video or GIF alone, with no other media")
        if not item.alt.strip() or len(item.alt) > MAX_ALT_TEXT:
            reject(f"{name}: alt text must be 1-{MAX_ALT_TEXT} characters")
        if not item.path.is_file():
            reject(f"{item.path}: media file not found")
        size = item.path.stat().st_size
        most = motion[2] if motion else MAX_IMAGE_BYTES
        if size > most:
            reject(f"{name}: {size} bytes; X takes at most {most} bytes")
        try:
            if motion:
                with item.path.open("rb"):  # readable now; read part by part when sent
                    items.append(Motion(name, item.path, size, media_type, motion[1], item.alt))
            else:
                items.append(Image(name, item.path.read_bytes(), media_type, item.alt))
        except OSError as exc:
            reject(f"{name}: cannot read ({exc.strerror})")
    return items


Check = Callable[[requests.Response], None]  # raises as tweepy would on a non-2xx answer
Data = Callable[[requests.Response], dict[str, Any]]  # the answer's "data" object


class ChunkedUpload:
    """One X account's chunked uploads: the session, where to send, how to sign and wait."""

    def __init__(
        self,
        session: requests.Session,
        base: str,
        signing: Callable[[], tuple[Any, dict[str, str]]],
        *,
        check: Check,
        data: Data,
        sleep: Callable[[float], object],
        stop: threading.Event | None,
        budget: float,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._session = session
        self._base = base
        self._signing = signing
        self._check = check
        self._data = data
        self._sleep = sleep
        self._stop = stop
        self._budget = budget
        self._chunk_bytes = chunk_bytes

    def upload(self, motion: Motion) -> str:
        """Initialize, append every part once in order, finalize, await processing: the id."""
        auth, headers = self._signing()
        started = self._session.post(
            f"{self._base}/2/media/upload/initialize",
            json={
                "media_type": motion.media_type,
                "total_bytes": motion.size,
                "media_category": motion.category,
            },
            auth=auth,
            headers=headers,
        )
        self._check(started)
        media_id = str(self._data(started)["id"])
        for index, part in enumerate(self._parts(motion)):
            appended = self._session.post(
                f"{self._base}/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": ("part", part, "application/octet-stream")},
                auth=auth,
                headers=headers,
            )
            self._check(appended)
        finished = self._session.post(
            f"{self._base}/2/media/upload/{media_id}/finalize", auth=auth, headers=headers
        )
        self._check(finished)
        self._await(media_id, self._data(finished).get("processing_info"))
        return media_id

    def _parts(self, motion: Motion) -> Iterator[bytes]:
        """The file's bytes, ``chunk_bytes`` at a time; a file gone unreadable is refused."""
        try:
            with motion.path.open("rb") as handle:
                while part := handle.read(self._chunk_bytes):
                    yield part
        except OSError as exc:
            raise MediaRefused(f"{motion.name}: cannot read ({exc.strerror})") from exc

    def _await(self, media_id: str, processing: object) -> None:
        """Look at the processing state until it succeeds, fails, or the bound is spent."""
        waited = 0.0
        while isinstance(processing, dict):
            state = processing.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                raise MediaRefused(_failure_words(processing))
            left = self._budget - waited
            if left <= 1e-9:
                raise MediaPending(f"media {media_id} still processing after {waited:g} s")
            pause = min(_check_after(processing), MAX_CHECK_AFTER, left)
            self._sleep(pause)
            waited += pause
            if self._stop is not None and self._stop.is_set():
                raise MediaPending(f"media {media_id} still processing when the worker stopped")
            auth, headers = self._signing()
            status = self._session.get(
                f"{self._base}/2/media/upload",
                params={"command": "STATUS", "media_id": media_id},
                auth=auth,
                headers=headers,
            )
            self._check(status)
            processing = self._data(status).get("processing_info")
        # No processing_info: X needs no processing for this media, it is ready.


def _check_after(processing: dict[str, Any]) -> float:
    value = processing.get("check_after_secs")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return FIRST_CHECK


def _failure_words(processing: dict[str, Any]) -> str:
    error = processing.get("error")
    if isinstance(error, dict):
        words = error.get("message") or error.get("name")
        if isinstance(words, str) and words.strip():
            return f"X could not process it: {words.strip()}"
    return "X could not process it"
