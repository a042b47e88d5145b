"""What one Mastodon server accepts, as it publishes it, and where that is kept between runs.

Servers differ: forks and other software raise or lower the 500-character limit, and media
limits vary. ``GET /api/v2/instance`` (Mastodon 4.0+) publishes them under ``configuration``;
``/api/v1/instance`` has the same ``configuration`` since Mastodon 3.4, and Pleroma/Akkoma put
``max_toot_chars`` and ``upload_limit`` at its top level. A server that answers neither gives
the defaults (Mastodon's stock 500 characters, URLs as 23): reading limits never fails a post.

This module imports no SDK, so the store, ``check`` and ``preview`` can use it freely. The store
keeps ``InstanceLimits.to_json()`` per ``instance_key(url)`` through an ``InstanceLimitsCache``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_CHARACTERS = 23
MAX_AGE = timedelta(days=1)  # a cached answer older than this is asked again (and kept on error)

Source = Literal["v2", "v1", "default"]


@dataclass(frozen=True)
class InstanceLimits:
    """A Mastodon server's limits. None (or an empty tuple): the server does not say.

    ``source`` is where ``max_characters`` came from: "v2" / "v1" (the instance endpoints) or
    "default" (neither answered with it); ``fetched_at`` is when it was read.
    """

    max_characters: int = DEFAULT_MAX_CHARACTERS
    characters_reserved_per_url: int = DEFAULT_URL_CHARACTERS
    max_media_attachments: int | None = None
    image_size_limit: int | None = None  # bytes
    description_limit: int | None = None  # characters of alt text
    supported_mime_types: tuple[str, ...] = ()
    version: str | None = None  # the server's own version string, for the record
    source: Source = "default"
    fetched_at: datetime | None = field(default=None, compare=False)
    image_matrix_limit: int | None = None  # width x height, in pixels
    video_size_limit: int | None = None  # bytes

    def to_json(self) -> str:
        """One JSON object for the store; ``from_json`` reads it back."""
        data = asdict(self)
        data["supported_mime_types"] = list(self.supported_mime_types)
        data["fetched_at"] = self.fetched_at.isoformat() if self.fetched_at else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> InstanceLimits | None:
        """The limits ``to_json`` wrote, or None if ``text`` is not such a record."""
        try:
            data = json.loads(text)
            fetched = data.get("fetched_at")
            per_url = _count(data.get("characters_reserved_per_url"))
            return cls(
                max_characters=_positive(data.get("max_characters")) or DEFAULT_MAX_CHARACTERS,
                characters_reserved_per_url=DEFAULT_URL_CHARACTERS if per_url is None else per_url,
                max_media_attachments=_positive(data.get("max_media_attachments")),
                image_size_limit=_positive(data.get("image_size_limit")),
                image_matrix_limit=_positive(data.get("image_matrix_limit")),
                video_size_limit=_positive(data.get("video_size_limit")),
                description_limit=_positive(data.get("description_limit")),
                supported_mime_types=tuple(map(str, data.get("supported_mime_types") or ())),
                version=str(data["version"]) if data.get("version") else None,
                source=data["source"] if data.get("source") in ("v2", "v1") else "default",
                fetched_at=datetime.fromisoformat(fetched) if fetched else None,
            )
        except (ValueError, TypeError, AttributeError, KeyError):
            return None

    def describe(self) -> str:
        """One line for ``accounts verify``."""
        parts = [f"{self.max_characters} characters (a URL counts "]
        parts[0] += f"{self.characters_reserved_per_url})"
        if self.max_media_attachments is not None:
            size = f" of up to {_megabytes(self.image_size_limit)}" if self.image_size_limit else ""
            parts.append(f"{self.max_media_attachments} images{size}")
        if self.description_limit is not None:
            parts.append(f"alt text up to {self.description_limit} characters")
        where = {
            "v2": "/api/v2/instance",
            "v1": "/api/v1/instance",
            "default": "defaults: it published none",
        }
        return f"{', '.join(parts)} ({where[self.source]})"

    def is_fresh(self, now: datetime) -> bool:
        return self.fetched_at is not None and now - self.fetched_at < MAX_AGE


class InstanceLimitsCache(Protocol):
    """Where known instance limits are kept between runs (the database, in the worker)."""

    def load_instance_limits(self, instance: str) -> InstanceLimits | None: ...

    def save_instance_limits(self, instance: str, limits: InstanceLimits) -> None: ...


@dataclass
class MemoryInstanceLimitsCache:
    """An InstanceLimitsCache held in memory, for tests and one-off commands."""

    limits: dict[str, InstanceLimits] = field(default_factory=dict)

    def load_instance_limits(self, instance: str) -> InstanceLimits | None:
        return self.limits.get(instance)

    def save_instance_limits(self, instance: str, limits: InstanceLimits) -> None:
        self.limits[instance] = limits


def instance_key(url: str) -> str:
    """The cache key of a server: scheme and host (with port), lower case, nothing else."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def limits_from_answer(body: object, source: Literal["v2", "v1"]) -> InstanceLimits:
    """The limits a v2 or v1 instance answer publishes; ``source`` "default" if it has none."""
    if not isinstance(body, Mapping):
        return InstanceLimits()
    configuration = _mapping(body.get("configuration"))
    statuses = _mapping(configuration.get("statuses"))
    media = _mapping(configuration.get("media_attachments"))
    # Pleroma and Akkoma: top-level max_toot_chars and upload_limit on v1.
    max_characters = _positive(statuses.get("max_characters")) or _positive(
        body.get("max_toot_chars")
    )
    per_url = _count(statuses.get("characters_reserved_per_url"))
    mime_types = media.get("supported_mime_types")
    version = body.get("version")
    return InstanceLimits(
        max_characters=max_characters or DEFAULT_MAX_CHARACTERS,
        characters_reserved_per_url=per_url if per_url is not None else DEFAULT_URL_CHARACTERS,
        max_media_attachments=_positive(statuses.get("max_media_attachments")),
        image_size_limit=_positive(media.get("image_size_limit"))
        or _positive(body.get("upload_limit")),
        image_matrix_limit=_positive(media.get("image_matrix_limit")),
        video_size_limit=_positive(media.get("video_size_limit")),
        description_limit=_positive(media.get("description_limit")),
        supported_mime_types=tuple(str(m) for m in mime_types)
        if isinstance(mime_types, list)
        else (),
        version=str(version) if isinstance(version, str) and version else None,
        source=source if max_characters else "default",
    )


def merged(first: InstanceLimits, second: InstanceLimits) -> InstanceLimits:
    """``first`` with what it lacks taken from ``second`` (v2, then v1)."""
    if first.source == "default" and second.source != "default":
        first, second = second, first
    return replace(
        first,
        max_media_attachments=first.max_media_attachments or second.max_media_attachments,
        image_size_limit=first.image_size_limit or second.image_size_limit,
        image_matrix_limit=first.image_matrix_limit or second.image_matrix_limit,
        video_size_limit=first.video_size_limit or second.video_size_limit,
        description_limit=first.description_limit or second.description_limit,
        supported_mime_types=first.supported_mime_types or second.supported_mime_types,
        version=first.version or second.version,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int | None:
    """A whole number of 0 or more (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _positive(value: Any) -> int | None:
    count = _count(value)
    return count if count else None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
