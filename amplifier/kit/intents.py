"""Where a supporter's share goes: each network's composer address and the limit it keeps.

A share is a link that opens the supporter's own composer with the text filled in; the
supporter presses Post. The text travels in the query string, percent-encoded, and decodes
back to exactly the rendered text, so it is measured before encoding, the way each network
counts it: X weighted (twitter-text), Bluesky graphemes and UTF-8 bytes, Mastodon 500 with
every URL as 23 (the stock server's figures: the supporter's own server may allow more, never
less in practice), Threads 500 with URLs at full length and one topic tag.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import quote

from amplifier.config import DEFAULT_LIMITS, NetworkLimits, Settings
from amplifier.networks.base import NetworkName

ShareNetwork = Literal["x", "bluesky", "mastodon", "threads"]
SHARE_NETWORKS: tuple[ShareNetwork, ...] = ("x", "bluesky", "mastodon", "threads")
MASTODON_CHOOSER = "mastodon.html"


@dataclass(frozen=True)
class ShareTarget:
    """One network's composer: its name, how its text is measured, and where the link goes."""

    network: ShareNetwork
    label: str
    measured_as: NetworkName  # which of content's measures counts it as the network does
    compose: str  # the composer's address, up to the text; Mastodon's is a path on a server
    limits: NetworkLimits


# Threads has no network of the worker's: its text is measured as Bluesky's (graphemes, URLs
# in full) against its own 500, and it links one topic tag per post.
THREADS_LIMITS = NetworkLimits(max_length=500, url_length=0, max_hashtags=1)

TARGETS: dict[ShareNetwork, ShareTarget] = {
    "x": ShareTarget("x", "X", "x", "https://x.com/intent/post?text=", DEFAULT_LIMITS["x"]),
    "bluesky": ShareTarget(
        "bluesky",
        "Bluesky",
        "bluesky",
        "https://bsky.app/intent/compose?text=",
        DEFAULT_LIMITS["bluesky"],
    ),
    "mastodon": ShareTarget(
        "mastodon", "Mastodon", "mastodon", "/share?text=", DEFAULT_LIMITS["mastodon"]
    ),
    # The host is the one the brief names; not confirmed live from here (docs/organizers.md).
    "threads": ShareTarget(
        "threads", "Threads", "bluesky", "https://www.threads.net/intent/post?text=", THREADS_LIMITS
    ),
}


def share_limits(settings: Settings) -> dict[ShareNetwork, NetworkLimits]:
    """Each composer's limits: the platform's own, lowered where the config sets less, with the
    config's hashtag cap (the campaign's accounts and its supporters follow one rule)."""
    found: dict[ShareNetwork, NetworkLimits] = {}
    for network, target in TARGETS.items():
        platform = target.limits
        if network == "threads":
            found[network] = platform
            continue
        configured = settings.networks.limits(target.measured_as)
        found[network] = replace(
            platform,
            max_length=min(platform.max_length, configured.max_length),
            max_hashtags=min(platform.max_hashtags, configured.max_hashtags),
        )
    return found


def encoded(text: str) -> str:
    """The text as a query value: every character but ASCII letters, digits and ``_.~-``
    percent-encoded in UTF-8."""
    return quote(text, safe="")


def compose_url(network: ShareNetwork, text: str, instance: str | None = None) -> str:
    """``intent_url`` for a text already ``encoded``."""
    target = TARGETS[network]
    if network == "mastodon":
        path = target.compose + text
        return f"https://{instance}{path}" if instance else path
    return target.compose + text


def intent_url(network: ShareNetwork, text: str, instance: str | None = None) -> str:
    """The composer link for ``text``. Mastodon's needs the supporter's server (``instance``,
    a host name); without one it is the path the kit's chooser page completes."""
    return compose_url(network, encoded(text), instance)


def chooser_url(text: str, page: str = MASTODON_CHOOSER) -> str:
    """The kit's own page that asks for a Mastodon server, with the text to share (already
    ``encoded``)."""
    return f"{page}?text={text}"
