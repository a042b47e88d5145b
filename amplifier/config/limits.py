"""The length and image rules of each network: the platforms' own (length overridable under
``[networks]``); a Mastodon server's own come from config/instances.py."""

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


@dataclass(frozen=True)
class MediaLimits:
    """What one network (or one Mastodon server) takes as images.

    ``types`` are MIME types; ``max_pixels`` bounds width x height, ``min_side``/``max_side``
    each side; ``animated_gif`` False refuses a GIF of more than one frame.
    """

    max_bytes: int
    max_images: int
    types: tuple[str, ...] = (PNG, JPEG, GIF, WEBP)
    max_pixels: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    animated_gif: bool = True


# The platforms' own (see /work/shared/PLATFORMS.md); the adapters hold the same figures
# (tests/content/test_media.py checks they agree). X's simple v2 upload takes no GIF (a GIF
# needs the chunked flow, not built); Mastodon's stock server takes 16 MB and 33,177,600
# pixels unless the instance publishes its own (configuration.media_attachments).
DEFAULT_MEDIA_LIMITS: dict[NetworkName, MediaLimits] = {
    "x": MediaLimits(
        max_bytes=5 * 1024 * 1024,
        max_images=4,
        types=(PNG, JPEG, WEBP),
        min_side=4,
        max_side=8192,
        animated_gif=False,
    ),
    "mastodon": MediaLimits(max_bytes=16 * 1024 * 1024, max_images=4, max_pixels=33_177_600),
    "bluesky": MediaLimits(max_bytes=1_000_000, max_images=4),
}
