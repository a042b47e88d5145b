"""A card's thumbnail uploaded once, ahead of the slot, and used again while the PDS keeps it.

The PDS keeps a blob that a record references for as long as the record; one uploaded and
not yet referenced "will be deleted if it is not referenced within a time window (eg,
minutes)" (``com.atproto.repo.uploadBlob``). So:

* a thumbnail staged ahead of a slot (``CardThumbs.stage``, the worker's job a minute before
  a Bluesky slot whose post has a card) is used only while younger than ``STAGED_FOR``;
* a thumbnail a published post carries is used again for every later post with the same
  image: a campaign's posts share a few links, and uploadBlob counts against 1,000 a day;
* a PDS that lost it anyway refuses the post with ``BlobNotFound``: the adapter uploads it
  again and creates the post once more (a refused createRecord stored nothing).

Thumbnails are keyed by their bytes' SHA-256, so a changed image is a new upload.
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
from amplifier.networks.bluesky_xrpc import external_embed

logger = logging.getLogger(__name__)

STAGED_FOR = timedelta(minutes=3)  # well inside "minutes": a staged blob older is uploaded again
MAX_KEPT = 128  # thumbnails remembered per account; the oldest is forgotten first
MAX_THUMB_BYTES = 1_000_000  # app.bsky.embed.external's thumb (cards/ re-encodes within it)
_MISSING = ("BlobNotFound", "Could not find blob")  # the PDS's words for a blob it does not hold


@dataclass
class _Kept:
    ref: Any
    uploaded_at: datetime
    referenced: bool = False


def thumb_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fits(card: LinkCard) -> bool:
    return 0 < len(card.thumb) <= MAX_THUMB_BYTES


def missing_blob(refused: PostRejected) -> bool:
    """Whether the PDS refused a record because a blob it embeds is not (or no longer) there."""
    words = f"{refused.reason} {refused}"
    return any(marker in words for marker in _MISSING)


class CardThumbs:
    """One account's card thumbnails: what was uploaded, when, and whether a post holds it."""

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
        if not _fits(card) or self._usable(thumb_key(card.thumb)) is not None:
            return False
        self._put(card)
        return True

    def embed(self, card: LinkCard) -> tuple[Any, str | None]:
        """The card's external embed and the key of the thumbnail it carries (None: no image).

        A kept blob is used as it is; otherwise the thumbnail is uploaded now. One the PDS
        refuses leaves the card without its image, logged."""
        if not card.thumb:
            return external_embed(card, None), None
        if not _fits(card):
            return self._without_thumb(card, f"over the {MAX_THUMB_BYTES:,} bytes Bluesky takes")
        key = thumb_key(card.thumb)
        ref = self._usable(key)
        if ref is None:
            try:
                ref = self._put(card)
            except PostRejected as refused:
                return self._without_thumb(card, str(refused))
        return external_embed(card, ref), key

    def _without_thumb(self, card: LinkCard, reason: str) -> tuple[Any, None]:
        log_event(logger, "card-thumb-refused", logging.WARNING, account=self._account,
                  network="bluesky", url=card.url, reason=reason)  # fmt: skip
        return external_embed(card, None), None

    def held(self, key: str | None) -> None:
        """A published post carries this thumbnail: the PDS keeps it as long as that post."""
        with self._lock:
            kept = self._kept.get(key) if key is not None else None
            if kept is not None:
                kept.referenced = True

    def lost(self, key: str | None) -> None:
        """The PDS no longer holds this thumbnail (deleted post, or staged too long ago)."""
        with self._lock:
            if key is not None:
                self._kept.pop(key, None)

    def _usable(self, key: str) -> Any:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if kept.referenced or self._clock() - kept.uploaded_at <= STAGED_FOR:
                return kept.ref
            del self._kept[key]  # staged too long ago: the PDS may have deleted it
            return None

    def _put(self, card: LinkCard) -> Any:
        ref = self._upload(card.thumb, card.thumb_mime or "image/jpeg")
        with self._lock:
            self._kept[thumb_key(card.thumb)] = _Kept(ref, self._clock())
            while len(self._kept) > MAX_KEPT:
                del self._kept[next(iter(self._kept))]
        log_event(logger, "card-thumb-uploaded", account=self._account, network="bluesky",
                  url=card.url)  # fmt: skip
        return ref
