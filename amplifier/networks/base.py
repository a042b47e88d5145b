"""The one narrow interface between amplifier and a social network.

An adapter does I/O only: it sends one rendered post and reports what happened, as a
``Receipt`` or as one of the ``amplifier.errors.NetworkError`` subclasses. Policy
(retries, claims, rate-limit budgets) lives above it, in ``amplifier.delivery`` and the worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from amplifier.networks.mastodon_limits import InstanceLimits

NetworkName = Literal["x", "mastodon", "bluesky"]
NETWORK_NAMES: tuple[NetworkName, ...] = ("x", "mastodon", "bluesky")
# Who may reply to a post: each network enforces what it can (docs/operators.md).
Replies = Literal["everyone", "following", "mentioned", "nobody"]
REPLIES: tuple[Replies, ...] = ("everyone", "following", "mentioned", "nobody")


@dataclass(frozen=True)
class MediaItem:
    """An image to attach, with the alt text every image must carry."""

    path: Path
    alt: str


def replies_of(value: str) -> Replies:
    """A stored reply setting as the adapters take it ("everyone" for anything unknown)."""
    return next((known for known in REPLIES if known == value), "everyone")


@dataclass(frozen=True)
class LinkCard:
    """A link's preview card as the page describes itself (Open Graph / Twitter-card tags).

    ``thumb`` is already re-encoded (JPEG within Bluesky's blob limit) or empty; only Bluesky
    is sent one: X and Mastodon build their cards from the link themselves.
    """

    url: str
    title: str
    description: str
    thumb: bytes = b""
    thumb_mime: str = ""


@dataclass(frozen=True)
class OutgoingPost:
    """Everything an adapter needs to publish one post; already rendered and length-checked.

    ``idempotency_key`` and ``due_at`` (when the delivery was due) are the same for every
    attempt of one delivery, across retries and restarts: Mastodon sends the key as
    Idempotency-Key, Bluesky derives the post's record key from both (``bluesky_keys``).
    """

    account: str
    text: str
    idempotency_key: str
    language: str | None = None
    link: str | None = None
    media: tuple[MediaItem, ...] = ()
    content_warning: str | None = None
    due_at: datetime | None = None
    card: LinkCard | None = None  # Bluesky: the link's card, for a post with no images
    sensitive: bool = False  # the media are marked sensitive (Mastodon) / graphic (Bluesky)
    replies: Replies = "everyone"  # X reply_settings, Bluesky threadgate
    quotes: bool = True  # False: Bluesky postgate, Mastodon quote policy "nobody"
    # A thread's later part: the network's id of the post it replies to (the part before it)
    # and of the thread's first post (Bluesky's reply root); None for a post of its own.
    reply_to: str | None = None
    reply_root: str | None = None


@dataclass(frozen=True)
class RateLimitWindow:
    """One rate-limit window as the platform reported it on a response.

    ``window`` is a short name: "15m" (X per-endpoint), "24h-user" / "24h-app" (X daily),
    "5m" / "3h" (Mastodon), "1h" / "24h" (Bluesky points) or "unknown".
    """

    window: str
    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    """Proof that a post went out."""

    remote_id: str
    url: str | None
    rate_limits: tuple[RateLimitWindow, ...] = ()


@dataclass(frozen=True)
class AccountInfo:
    """Who a set of credentials belongs to, read without posting anything."""

    network: NetworkName
    account: str
    handle: str
    display_name: str = ""
    url: str | None = None
    is_bot: bool | None = None  # Mastodon's bot flag; None where the platform has none
    notes: tuple[str, ...] = ()  # reminders for the organizer, e.g. X's "Automated" label
    # Bluesky: how the check got its session. "stored": the stored one was accepted, no login
    # spent; "refreshed": its tokens were renewed (refreshSession); "new": logged in with the
    # app password (createSession). None where the platform has no sessions.
    session: str | None = None
    # Mastodon: what the instance accepts (amplifier.networks.mastodon_limits.InstanceLimits).
    instance_limits: InstanceLimits | None = None


class Network(Protocol):
    """What every adapter (real, fake or dry-run) provides."""

    network: NetworkName
    account: str

    def publish(self, post: OutgoingPost) -> Receipt:
        """Send one post; raise a NetworkError subclass on failure; never sleep on a rate limit."""
        ...

    def verify(self) -> AccountInfo:
        """Check the credentials read-only and say whose they are."""
        ...


@runtime_checkable
class StagesCards(Protocol):
    """An adapter that uploads what a link card needs ahead of the slot (Bluesky)."""

    def stage_card(self, card: LinkCard) -> bool: ...


class SessionStore(Protocol):
    """Where a Bluesky session string is kept between runs (the database, in the worker)."""

    def load_session(self, account: str) -> str | None: ...

    def save_session(self, account: str, session: str) -> None: ...


@dataclass
class FreshLoginSessions:
    """A SessionStore that hides what ``inner`` holds, so the adapter logs in afresh, and
    stores the new session in ``inner`` (``accounts verify`` with a fresh login)."""

    inner: SessionStore

    def load_session(self, account: str) -> str | None:
        return None

    def save_session(self, account: str, session: str) -> None:
        self.inner.save_session(account, session)


@dataclass
class MemorySessionStore:
    """A SessionStore held in memory, for tests and one-off commands."""

    sessions: dict[str, str] = field(default_factory=dict)

    def load_session(self, account: str) -> str | None:
        return self.sessions.get(account)

    def save_session(self, account: str, session: str) -> None:
        self.sessions[account] = session


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts every adapter applies to every request (seconds)."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    media_processing_timeout: float = 60.0


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works on any mapping."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
