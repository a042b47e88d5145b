"""Mastodon media: what the server takes, checked before any upload, and its processing awaited.

``POST /api/v2/media`` answers 202 with ``url: null`` while the server processes the file (a
video always, an image often); ``GET /api/v1/media/:id`` answers 206 until it is done, then 200
with a url, or 422 once processing failed. Mastodon.py's ``synchronous=True`` polls that every
5 s with no end, so ``await_processing`` polls instead: pauses growing to 5 s, at most
``media_processing_timeout`` seconds in all (counted in the pauses, so an injected clock that
stands still cannot make it endless), through the adapter's ``sleep`` (the worker's stop event,
so a shutdown ends the wait at once). Not ready in time, or stopping: ``MediaNotReady`` (a
``TransientError``, never ambiguous: the status was not sent), which defers the delivery. A
failed processing is the server's 422: a refusal (``PostRejected`` through the adapter's error
map), since the same file would fail again.
"""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable
from typing import Any

from amplifier.errors import MediaNotReady
from amplifier.networks.base import MediaItem
from amplifier.networks.mastodon_limits import InstanceLimits

# Polling intervals while an upload is processed; the last one repeats until the bound.
MEDIA_POLL_INTERVALS = (0.5, 1.0, 2.0, 4.0, 5.0)
# Mastodon's own caps when the server publishes none (a stock 4.x server's).
DEFAULT_VIDEO_BYTES = 99 * 1024 * 1024
VIDEO_TYPES = ("video/mp4", "video/quicktime")


def media_type(item: MediaItem) -> str:
    """The file's type as Mastodon.py sends it (from the name; the check read the bytes)."""
    return mimetypes.guess_type(item.path.name)[0] or ""


def media_refusal(media: tuple[MediaItem, ...], limits: InstanceLimits) -> str | None:
    """Why the server would refuse these files, read from what it publishes; None if none."""
    most = limits.max_media_attachments
    if most is not None and len(media) > most:
        return f"{len(media)} images; this instance takes at most {most}"
    videos = [item for item in media if media_type(item).startswith("video/")]
    if videos and len(media) > 1:
        return f"{videos[0].path.name}: a video goes alone, with no other media"
    for item in media:
        if not item.path.is_file():
            continue  # the upload names the missing file
        size = item.path.stat().st_size
        kind = media_type(item)
        video = kind.startswith("video/")
        cap = (limits.video_size_limit or DEFAULT_VIDEO_BYTES) if video else limits.image_size_limit
        if cap is not None and size > cap:
            return f"{item.path.name}: {size} bytes, over {cap}"
        if limits.supported_mime_types and kind not in limits.supported_mime_types:
            return f"{item.path.name}: this instance does not take {kind or 'it'}"
        if video and kind not in VIDEO_TYPES:
            return f"{item.path.name}: amplifier sends MP4 or MOV videos, not {kind}"
        if limits.description_limit is not None and len(item.alt) > limits.description_limit:
            return f"{item.path.name}: alt text over {limits.description_limit}"
    return None


def await_processing(
    media: dict[str, Any],
    poll: Callable[[str], dict[str, Any]],
    *,
    sleep: Callable[[float], object],
    stop: threading.Event | None,
    budget: float,
    account: str,
) -> str:
    """Poll until the upload ``media`` has a url; its id. ``poll`` is Mastodon.py's ``media``."""
    media_id = str(media["id"])
    waited = 0.0
    polls = 0
    while media.get("url") is None:
        left = budget - waited
        if left <= 1e-9:
            raise _pending(account, f"media {media_id} still processing after {waited:g} s")
        pause = min(MEDIA_POLL_INTERVALS[min(polls, len(MEDIA_POLL_INTERVALS) - 1)], left)
        sleep(pause)
        waited += pause
        polls += 1
        if stop is not None and stop.is_set():
            raise _pending(account, f"media {media_id} still processing when the worker stopped")
        media = poll(media_id)
    return media_id


def _pending(account: str, why: str) -> MediaNotReady:
    return MediaNotReady(f"mastodon {account}: {why}", account=account, network="mastodon")
