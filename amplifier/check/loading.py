"""``load``: the settings and the posts, as every command (the worker too) sees them."""

from __future__ import annotations

from pathlib import Path

from amplifier.config import Settings, load_settings
from amplifier.content import Library, load_library
from amplifier.networks.base import NETWORK_NAMES


def load(config: str | Path | None, posts: str | Path | None) -> tuple[Settings, Library]:
    """Settings and library as every command sees them; raises ConfigError on a bad config."""
    settings = load_settings(config)
    folder = Path(posts) if posts else settings.posts_path
    library = load_library(
        folder,
        campaigns=settings.campaigns,
        limits={network: settings.networks.limits(network) for network in NETWORK_NAMES},
    )
    return settings, library
