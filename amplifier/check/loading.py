"""``load``: the settings and the posts, as every command (the worker too) sees them;
``load_posts``: the posts of settings already read."""

from __future__ import annotations

from pathlib import Path

from amplifier.config import Settings, load_settings
from amplifier.content import Library, load_library
from amplifier.networks.base import NETWORK_NAMES


def load(config: str | Path | None, posts: str | Path | None) -> tuple[Settings, Library]:
    """Settings and library as every command sees them; raises ConfigError on a bad config."""
    settings = load_settings(config)
    return settings, load_posts(settings, posts)


def load_posts(settings: Settings, posts: str | Path | None) -> Library:
    """The library of ``settings`` (``posts``: another folder), for a command that has read
    its settings already (the worker, post-now: once, not twice)."""
    folder = Path(posts) if posts else settings.posts_path
    return load_library(
        folder,
        campaigns=settings.campaigns,
        limits={network: settings.networks.limits(network) for network in NETWORK_NAMES},
    )
