"""The length, image and video rules of each network: the platforms' own (length overridable
under ``[networks]``); a Mastodon server's own come from config/instances.py."""

from __future__ import annotations

from dataclasses import dataclass

from amplifier.networks.base import NetworkName


@dataclass(frozen=True)
class NetworkLimits:
    """The length rules of one network (or one Mastodon server)."""

    max_length: int
    url_length: int  # what one URL counts as; 0 where URLs count in full (Bluesky)
    max_hashtags: int
    max_bytes: int | None = None  # UTF-8 byte cap, where the network has one


DEFAULT_LIMITS: dict[NetworkName, NetworkLimits] = {
    "x": NetworkLimits(max_length=280, url_length=23, max_hashtags=2),
    "mastodon": NetworkLimits(max_length=500, url_length=23, max_hashtags=4),
    "bluesky": NetworkLimits(max_length=300, url_length=0, max_hashtags=3, max_bytes=3000),
}


PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
MP4, MOV = "video/mp4", "video/quicktime"


@dataclass(frozen=True)
class MediaLimits:
    """What one network (or one Mastodon server) takes as images.

    ``types`` are MIME types; ``max_pixels`` bounds width x height, ``min_side``/``max_side``
    each side; ``animated_gif`` False refuses a GIF of more than one frame.

    Videos (``video_types``; none: the network takes no video from amplifier) go alone, one to
    a post, within ``max_video_bytes`` and ``min_video_seconds``..``max_video_seconds``.
    ``max_gif_bytes``/``max_gif_frames``: a GIF's own caps where they differ from an image's,
    and ``gif_alone`` where a GIF, like a video, must be the post's only media (X).
    """

    max_bytes: int
    max_images: int
    types: tuple[str, ...] = (PNG, JPEG, GIF, WEBP)
    max_pixels: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    animated_gif: bool = True
    video_types: tuple[str, ...] = ()
    max_video_bytes: int = 0
    min_video_seconds: float = 0.0
    max_video_seconds: float | None = None
    max_gif_bytes: int | None = None
    max_gif_frames: int | None = None
    gif_alone: bool = False


# The platforms' own (see /work/shared/PLATFORMS.md); the adapters hold the same figures
# (tests/content/test_media.py checks they agree). X: images through the simple v2 upload;
# GIFs (tweet_gif, 15 MB) and videos (tweet_video: 512 MB, 0.5 to 140 s) through the chunked
# one, each alone in its post. Mastodon's stock server takes 16 MB images of 33,177,600 pixels
# and 99 MB videos unless the instance publishes its own (configuration.media_attachments).
# Bluesky: 1 MB images; one MP4 video alone, within app.bsky.embed.video's 100,000,000 bytes and
# the app's 3 minutes (the adapter uploads it to the PDS as a blob: networks/bluesky_media.py).
MB = 1024 * 1024
DEFAULT_MEDIA_LIMITS: dict[NetworkName, MediaLimits] = {
    "x": MediaLimits(
        max_bytes=5 * MB,
        max_images=4,
        types=(PNG, JPEG, GIF, WEBP),
        min_side=4,
        max_side=8192,
        video_types=(MP4, MOV),
        max_video_bytes=512 * MB,
        min_video_seconds=0.5,
        max_video_seconds=140.0,
        max_gif_bytes=15 * MB,
        max_gif_frames=350,
        gif_alone=True,
    ),
    "mastodon": MediaLimits(
        max_bytes=16 * MB,
        max_images=4,
        max_pixels=33_177_600,
        video_types=(MP4, MOV),
        max_video_bytes=99 * MB,
    ),
    "bluesky": MediaLimits(
        max_bytes=1_000_000,
        max_images=4,
        video_types=(MP4,),
        max_video_bytes=100_000_000,
        max_video_seconds=180.0,
    ),
}
