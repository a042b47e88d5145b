"""The data of the fake Mastodon server: its constants, and the records tests inspect."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

URL_PATTERN = re.compile(r"https?://\S+")
NOT_PROCESSED = "Cannot attach files that have not finished processing. Try again in a moment!"
# What Mastodon answers GET /api/v1/media/:id with (422) once processing failed, and a status
# that puts a video beside other media.
PROCESSING_FAILED = "Error processing thumbnail for uploaded media"
VIDEO_AND_IMAGES = "Cannot attach a video to a post that already contains images"
MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime")
FIRST_ID = 117020585907693810  # snowflake-sized ids, as real servers hand out
# Length in seconds of each rate-limit counter's window, as on a real server.
PERIODS = {"api": 300, "statuses": 3 * 3600, "media": 1800}
# Fields of real responses whose values the fake never varies.
ACCOUNT_CONSTANTS: dict[str, Any] = {
    "id": "117020565966271181",
    "created_at": "2026-08-01T00:00:00.000Z",
    "note": "",
    **dict.fromkeys(["locked", "indexable", "group"], False),
    **dict.fromkeys(["discoverable", "last_status_at"]),
    **dict.fromkeys(["followers_count", "following_count"], 0),
    **{key: [] for key in ("emojis", "roles", "fields")},
}
STATUS_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(["in_reply_to_id", "in_reply_to_account_id", "edited_at", "reblog"]),
    **dict.fromkeys(["card", "poll"]),
    **dict.fromkeys(["replies_count", "reblogs_count", "favourites_count"], 0),
    **dict.fromkeys(["favourited", "reblogged", "muted", "bookmarked", "pinned"], False),
    **{key: [] for key in ("filtered", "mentions", "tags", "emojis")},
}
INSTANCE_CONSTANTS: dict[str, Any] = {
    "title": "Fake Mastodon",
    "version": "4.3.0",
    "source_url": "https://github.com/mastodon/mastodon",
    "languages": ["en"],
    "registrations": {"enabled": False, "approval_required": False, "message": None},
    "api_versions": {"mastodon": 2},
    "contact": {"email": "", "account": None},
    "rules": [],
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class FakeMedia:
    id: str
    description: str | None
    content_type: str
    polls: int = 0
    ready: bool = False
    size: int = 0

    @property
    def kind(self) -> str:
        """Mastodon's attachment type: a GIF is played as a looping video ("gifv")."""
        if self.content_type.startswith("video/"):
            return "video"
        return "gifv" if self.content_type == "image/gif" else "image"


@dataclass
class FakeStatus:
    """One accepted status, as tests inspect it."""

    id: str
    text: str
    visibility: str
    language: str | None
    spoiler_text: str
    media_descriptions: list[str | None]
    media_ids: list[str]
    idempotency_key: str | None
    created_at: datetime
    # What readers did since (tests set them); a deleted status answers 404.
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0
    quotes: int = 0
    deleted: bool = False
    sensitive: bool = False  # as sent; a content warning also makes media sensitive
    quote_approval_policy: str | None = None  # as sent (Mastodon 4.5+): public, followers, nobody
    in_reply_to_id: str | None = None  # as sent: a thread's part answers the one before it


@dataclass(frozen=True)
class FakeMastodonSettings:
    """How the fake behaves; ``FakeMastodon.reset(**changes)`` swaps in a changed copy."""

    token: str = "fake-mastodon-token"
    username: str = "amplifier_test"
    display_name: str = "Amplifier Test"
    bot: bool = True
    max_characters: int | None = 500  # None: the instance endpoints omit configuration.statuses
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    image_matrix_limit: int = 33_177_600  # pixels (width x height)
    description_limit: int = 1500
    instance_versions: tuple[str, ...] = ("v2", "v1")  # which instance endpoints exist
    instance_status: int = 200
    instance_body: str | None = None  # answered as text/plain instead of the instance JSON
    instance_delay: float = 0.0  # seconds before the instance endpoints answer
    media_ready_after_polls: int = 2  # 0: uploads are ready at once (200 with a url)
    media_fails: bool = False  # processing fails: polls answer 422 PROCESSING_FAILED
    video_size_limit: int = 99 * 1024 * 1024
    status_limit: int = 300  # per 3 h, as Mastodon's default
    api_limit: int = 300  # per 5 min
    batch_statuses: bool = True  # GET /api/v1/statuses?id[]= exists (Mastodon 4.3+)
    quotes_count: bool = True  # statuses carry quotes_count (Mastodon 4.5+)
    clock: Callable[[], datetime] = utc_now
