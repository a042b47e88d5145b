"""The length rules of each network: the platforms' own, overridable under ``[networks]``."""

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
