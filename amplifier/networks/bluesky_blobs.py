"""Blobs uploaded once and used again while the PDS keeps them: card thumbnails (uploaded
ahead of the slot), images and videos.

The PDS keeps a blob that a record references for as long as the record; one uploaded and
not yet referenced "will be deleted if it is not referenced within a time window (eg,
minutes)" (``com.atproto.repo.uploadBlob``). So:

* a thumbnail staged ahead of a slot (``Blobs.stage``, the worker's job a minute before a
  Bluesky slot whose post has a card), or a file uploaded by an attempt that then failed, is
  used only while younger than ``STAGED_FOR``: a retry soon after does not upload again;
* a blob a published post carries is used again for every later post with the same bytes:
  a campaign's posts share a few links and images, and uploadBlob counts against 1,000 a day;
* a PDS that lost one anyway refuses the post with ``BlobNotFound``: the adapter uploads
  again and creates the post once more (a refused createRecord stored nothing).

Blobs are keyed by their bytes' SHA-256 (and type), so a changed file is a new upload.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from amplifier.errors import PostRejected
from amplifier.logs import log_event
from amplifier.networks.base import LinkCard
from amplifier.networks.bluesky_media import MediaFile, media_embed
from amplifier.networks.bluesky_xrpc import external_embed

logger = logging.getLogger(__name__)

STAGED_FOR = timedelta(minutes=3)  # well inside "minutes": a staged blob older is uploaded again
MAX_KEPT = 128  # blobs remembered per account; the oldest is forgotten first
MAX_THUMB_BYTES = 1_000_000  # app.bsky.embed.external's thumb (cards/ re-encodes within it)
_MISSING = ("BlobNotFound", "Could not find blob")  # the PDS's words for a blob it does not hold


@dataclass
class _Kept:
    ref: Any
    uploaded_at: datetime
    referenced: bool = False


def blob_key(data: bytes, mime_type: str) -> str:
    return f"{mime_type}:{hashlib.sha256(data).hexdigest()}"


def _fits(card: LinkCard) -> bool:
    return 0 < len(card.thumb) <= MAX_THUMB_BYTES


def missing_blob(refused: PostRejected) -> bool:
    """Whether the PDS refused a record because a blob it embeds is not (or no longer) there."""
    words = f"{refused.reason} {refused}"
    return any(marker in words for marker in _MISSING)


class Blobs:
    """One account's blobs: what was uploaded, when, and whether a post holds it."""

    def __init__(
        self,
        account: str,
        upload: Callable[[bytes, str], Any],
        clock: Callable[[], datetime],
    ) -> None:
        self._account = account
        self._upload = upload  # uploadBlob through the adapter's session and error handling
        self._clock = clock
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def stage(self, card: LinkCard) -> bool:
        """Upload the card's thumbnail unless a usable blob of it is kept; whether it uploaded.

        Raises what the upload raises (the caller's job logs it; the slot then uploads)."""
        if not _fits(card):
            return False
        mime_type = _thumb_type(card)
        key = blob_key(card.thumb, mime_type)
        if self._usable(key) is not None:
            return False
        self._put(card.thumb, mime_type, key, card.url)
        return True

    def card(self, card: LinkCard) -> tuple[Any, list[str]]:
        """The card's external embed and the key of the thumbnail it carries (none: no image).

        A kept blob is used as it is; otherwise the thumbnail is uploaded now. One the PDS
        refuses leaves the card without its image, logged."""
        if not card.thumb:
            return external_embed(card, None), []
        if not _fits(card):
            return self._without_thumb(card, f"over the {MAX_THUMB_BYTES:,} bytes Bluesky takes")
        try:
            ref, key = self.ref(card.thumb, _thumb_type(card), card.url)
        except PostRejected as refused:
            return self._without_thumb(card, str(refused))
        return external_embed(card, ref), [key]

    def media(self, files: list[MediaFile]) -> tuple[Any, list[str]]:
        """The embed of a post's images or video, and the keys of the blobs it carries."""
        keys: list[str] = []

        def upload(file: MediaFile) -> Any:
            ref, key = self.ref(file.data, file.mime_type, "media")
            keys.append(key)
            return ref

        return media_embed(files, upload), keys

    def ref(self, data: bytes, mime_type: str, what: str) -> tuple[Any, str]:
        """A usable blob of these bytes, kept or uploaded now, and its key."""
        key = blob_key(data, mime_type)  # hashed once: a video's bytes may be 100 MB
        ref = self._usable(key)
        return (ref if ref is not None else self._put(data, mime_type, key, what)), key

    def held(self, keys: list[str]) -> None:
        """A published post carries these blobs: the PDS keeps them as long as that post."""
        with self._lock:
            for key in keys:
                if key in self._kept:
                    self._kept[key].referenced = True

    def lost(self, keys: list[str]) -> None:
        """The PDS may no longer hold these blobs (a deleted post, an upload kept too long)."""
        with self._lock:
            for key in keys:
                self._kept.pop(key, None)

    def _without_thumb(self, card: LinkCard, reason: str) -> tuple[Any, list[str]]:
        log_event(logger, "card-thumb-refused", logging.WARNING, account=self._account,
                  network="bluesky", url=card.url, reason=reason)  # fmt: skip
        return external_embed(card, None), []

    def _usable(self, key: str) -> Any:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if kept.referenced or self._clock() - kept.uploaded_at <= STAGED_FOR:
                return kept.ref
            del self._kept[key]  # uploaded too long ago: the PDS may have deleted it
            return None

    def _put(self, data: bytes, mime_type: str, key: str, what: str) -> Any:
        ref = self._upload(data, mime_type)
        with self._lock:
            self._kept[key] = _Kept(ref, self._clock())
            while len(self._kept) > MAX_KEPT:
                del self._kept[next(iter(self._kept))]
        log_event(logger, "blob-uploaded", account=self._account, network="bluesky",
                  of=what, bytes=len(data))  # fmt: skip
        return ref


def _thumb_type(card: LinkCard) -> str:
    return card.thumb_mime or "image/jpeg"
