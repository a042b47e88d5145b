"""Each account's limits: its Mastodon server's own, as stored, else the configured defaults.

A Mastodon server publishes its limits (``networks.mastodon_limits``); the worker and
``accounts verify`` keep them in the store, and every stage that measures a post for an account
(the plan, ``check``, ``preview``) asks ``account_limits`` with what is stored, so a post too
long for the account's own server is known before it is sent. A lower ``[networks.mastodon]
max_length`` in the config still wins: it is the organizers' own rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC

from amplifier.config.limits import DEFAULT_MEDIA_LIMITS, MediaLimits, NetworkLimits
from amplifier.config.models import Account, Settings
from amplifier.networks.mastodon_limits import InstanceLimits, InstanceLimitsCache, instance_key

Known = Mapping[str, InstanceLimits] | InstanceLimitsCache


@dataclass(frozen=True)
class AccountLimits:
    """What one account's posts must fit: text and images.

    ``stored`` is the server's own limits they came from (None: the configured defaults).
    """

    text: NetworkLimits
    media: MediaLimits
    instance: str | None = None  # the Mastodon server's key (scheme and host)
    stored: InstanceLimits | None = None

    def describe(self) -> str:
        """One line for ``check``: the figures, and where they came from."""
        media = self.media
        figures = (
            f"{self.text.max_length} characters (a URL counts {self.text.url_length}), "
            f"{media.max_images} images of up to {_size(media.max_bytes)}"
        )
        if media.max_pixels:
            figures += f" and {media.max_pixels:,} pixels"
        if self.stored is None:
            return (
                f"{figures}: the default, not read from {self.instance} yet "
                "(amplifier accounts verify reads it)"
            )
        when = self.stored.fetched_at
        at = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "an unknown time"
        return f"{figures}: stored from {self.instance} at {at}"


def instance_of(account: Account) -> str | None:
    """The key a Mastodon account's server is stored under; None for other accounts."""
    if account.network != "mastodon" or not account.instance:
        return None
    return instance_key(account.instance)


def stored_for(account: Account, known: Known | None) -> InstanceLimits | None:
    """The stored limits of the account's server, when they came from the server itself."""
    key = instance_of(account)
    if key is None or known is None:
        return None
    found = known.get(key) if isinstance(known, Mapping) else known.load_instance_limits(key)
    return found if found is not None and found.source != "default" else None


def account_limits(
    settings: Settings, account: Account, known: Known | InstanceLimits | None = None
) -> AccountLimits:
    """The account's limits: its server's own (``known``: the stored limits, or one server's
    limits as read), else the configured ones for its network."""
    text = settings.networks.limits(account.network)
    media = DEFAULT_MEDIA_LIMITS[account.network]
    instance = instance_of(account)
    if isinstance(known, InstanceLimits):
        stored = known if instance is not None and known.source != "default" else None
    else:
        stored = stored_for(account, known)
    if stored is None:
        return AccountLimits(text, media, instance)
    configured = settings.networks.mastodon.max_length
    max_length = stored.max_characters
    if configured is not None:
        max_length = min(max_length, configured)
    text = replace(text, max_length=max_length, url_length=stored.characters_reserved_per_url)
    types, video_types = media.types, media.video_types
    if stored.supported_mime_types:
        types = tuple(kind for kind in media.types if kind in stored.supported_mime_types)
        video_types = tuple(k for k in video_types if k in stored.supported_mime_types)
    media = replace(
        media,
        video_types=video_types,
        max_video_bytes=stored.video_size_limit or media.max_video_bytes,
        max_bytes=stored.image_size_limit or media.max_bytes,
        max_images=stored.max_media_attachments or media.max_images,
        max_pixels=stored.image_matrix_limit or media.max_pixels,
        types=types,
    )
    return AccountLimits(text, media, instance, stored)


def _size(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    return f"{size:,} bytes"
