"""A Bluesky post's media: up to four images, or one MP4 video, each with its alt text.

Files are read and checked before any request (``read_media``), then uploaded as blobs
(``bluesky_blobs``, which uses an upload again while the PDS keeps it) and embedded
(``media_embed``): images as ``app.bsky.embed.images``, a video as
``app.bsky.embed.video``. The video goes up the way the Bluesky docs call the simple method:
``uploadBlob`` to the account's own PDS, whose post the video service then picks up and
processes; for the first seconds after the post its video may show as not ready yet. The
lexicon takes MP4 only, of at most ``MAX_VIDEO_BYTES``; Bluesky shows videos from accounts
whose email address is verified (docs/operators.md).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atproto_client import models

from amplifier.networks.base import MediaItem
from amplifier.networks.mp4_size import video_size

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000  # the app's 976.56 KB limit for images
MAX_VIDEO_BYTES = 100_000_000  # app.bsky.embed.video's lexicon
VIDEO_TYPE = "video/mp4"  # the only type the lexicon accepts


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    mime_type: str
    alt: str


def read_media(
    media: tuple[MediaItem, ...], rejected: Callable[[str], Exception]
) -> list[MediaFile]:
    """Each file's bytes, type and alt text; ``rejected(reason)`` raised for one Bluesky would
    refuse (read before any request, so a refused post costs none)."""
    files = [_read(item, rejected) for item in media]
    videos = sum(1 for f in files if f.mime_type == VIDEO_TYPE)
    if videos and len(files) > 1:
        raise rejected("Bluesky takes a video alone in its post, with no other media")
    if len(files) > MAX_IMAGES:
        raise rejected(f"Bluesky takes at most {MAX_IMAGES} images per post")
    return files


def media_embed(files: list[MediaFile], upload: Callable[[MediaFile], Any]) -> Any:
    """The embed that carries the files (``upload(file)``: its blob reference) with their alt
    texts: one video, or the images."""
    if len(files) == 1 and files[0].mime_type == VIDEO_TYPE:
        video = files[0]
        size = video_size(video.data)  # the app lays the video out by it
        shape = models.AppBskyEmbedDefs.AspectRatio(width=size[0], height=size[1]) if size else None
        return models.AppBskyEmbedVideo.Main(
            video=upload(video), alt=video.alt or None, aspect_ratio=shape
        )
    embedded = [models.AppBskyEmbedImages.Image(alt=f.alt, image=upload(f)) for f in files]
    return models.AppBskyEmbedImages.Main(images=embedded)


def _read(item: MediaItem, rejected: Callable[[str], Exception]) -> MediaFile:
    if not item.path.is_file():
        raise rejected(f"media file not found: {item.path}")
    name, size = item.path.name, item.path.stat().st_size
    mime_type = mimetypes.guess_type(name)[0] or ""
    if mime_type == VIDEO_TYPE:
        if size > MAX_VIDEO_BYTES:
            raise rejected(f"video {name}: {size} bytes, over Bluesky's {MAX_VIDEO_BYTES}")
    elif mime_type.startswith("video/"):
        raise rejected(f"{name}: Bluesky takes MP4 videos only")
    elif not mime_type.startswith("image/"):
        raise rejected(f"{name} is not an image or video Bluesky can show")
    elif size > MAX_IMAGE_BYTES:
        raise rejected(f"image {name}: {size} bytes, over {MAX_IMAGE_BYTES}")
    return MediaFile(item.path.read_bytes(), mime_type, item.alt)
