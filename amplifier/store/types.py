"""The rows the store hands out, and what the worker gives it before a claim."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row

DeliveryStatus = Literal[
    "sending", "published", "deferred", "failed", "unknown", "missed", "skipped", "rehearsed"
]

# A dry run's rows live beside the live ones under this prefix of the slot key, so a rehearsal
# never takes a live slot (nor its idempotency key) and the live worker never sees it.
REHEARSAL_PREFIX = "rehearsal:"


@dataclass(frozen=True)
class WorkerStop:
    """How the last long-running worker to stop cleanly stopped: who, when, how."""

    worker_id: str
    at: datetime
    how: str


@dataclass(frozen=True)
class RotationWrite:
    """A rotation state to save with a claim, if the stored one is still ``expected``.

    ``key`` is the account's name (or its rehearsal key); ``expected`` is the document the
    decision read, None when none was stored yet.
    """

    key: str
    state: Mapping[str, object]
    expected: Mapping[str, object] | None


@dataclass(frozen=True)
class PartDraft:
    """A later part of a thread as decided: its text as rendered, and its link if it has one."""

    text: str
    link: str | None = None


@dataclass(frozen=True)
class DeliveryDraft:
    """What the worker knows about a post before claiming its slot."""

    account: str
    network: str
    slot_key: str  # amplifier.schedule.slots.Slot.key
    due_at: datetime  # aware UTC
    template_id: str
    campaign: str
    text: str  # the exact rendered text that will be sent
    language: str | None = None
    link: str | None = None
    content_warning: str | None = None
    media: tuple[tuple[str, str], ...] = ()  # (path, alt) pairs
    sensitive: bool = False  # media marked sensitive (Mastodon) / labelled graphic (Bluesky)
    replies: str = "everyone"  # who may reply (networks.base.Replies)
    quotes: bool = True  # whether the post may be quoted
    thread: tuple[PartDraft, ...] = ()  # a thread's later parts; this draft is its first


@dataclass(frozen=True)
class Delivery:
    """One row of the deliveries table: a slot of an account, and what became of it."""

    id: int
    account: str
    network: str
    slot_key: str
    due_at: datetime
    template_id: str
    campaign: str
    text: str
    language: str | None
    link: str | None
    content_warning: str | None
    media: tuple[tuple[str, str], ...]
    idempotency_key: str
    status: DeliveryStatus
    attempts: int  # publish attempts made so far (across retries and restarts)
    remote_id: str | None
    url: str | None
    last_error: str | None
    retry_at: datetime | None
    ambiguous_since: datetime | None  # start of the earliest attempt that may have landed
    # When it went out (published) or was logged by a dry run (rehearsed); None while it has not.
    sent_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # When the attempt in flight began; None until one begins after a claim or a take-over.
    attempt_at: datetime | None = None
    sensitive: bool = False  # 0013: see DeliveryDraft
    replies: str = "everyone"  # 0013
    quotes: bool = True  # 0013
    # 0015: a thread's part (all None for a post alone); see migration_0015.
    thread_key: str | None = None
    thread_part: int | None = None
    thread_size: int | None = None
    thread_rest: tuple[PartDraft, ...] = ()  # the first part's: the later parts as decided
    reply_to: str | None = None  # the network's id of the part this one replies to
    reply_root: str | None = None  # the network's id of the thread's first part

    @property
    def more_parts(self) -> bool:
        """A thread's part with a part after it."""
        return self.thread_part is not None and self.thread_part < (self.thread_size or 0)


def part_slot_key(thread_key: str, part: int) -> str:
    """A thread's part's slot key: the first part's is the slot's own."""
    return thread_key if part == 1 else f"{thread_key}#part{part}"


def rest_json(parts: tuple[PartDraft, ...]) -> str | None:
    return json.dumps([[part.text, part.link] for part in parts]) if parts else None


def idempotency_key(account: str, slot_key: str) -> str:
    """The key sent to platforms that dedupe on one (Mastodon): stable per account and slot."""
    return hashlib.sha256(f"{account}|{slot_key}".encode()).hexdigest()[:32]


def row_to_delivery(row: Row[Any]) -> Delivery:
    data = dict(row._mapping)
    data["media"] = tuple((str(path), str(alt)) for path, alt in json.loads(data["media"]))
    data["sensitive"] = bool(data.get("sensitive", False))
    data["quotes"] = bool(data.get("quotes", True))
    rest = data.get("thread_rest")
    data["thread_rest"] = tuple(PartDraft(t, link) for t, link in json.loads(rest)) if rest else ()
    return Delivery(**data)
