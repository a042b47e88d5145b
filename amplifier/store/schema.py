"""The schema as the last migration leaves it: the Table objects the store's queries use.

Never used to create or change a table: migrations.py writes each step's DDL out, so an old
step keeps producing the old schema. ``tests/store/test_migrations.py`` checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false, true
from sqlalchemy.types import DateTime


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite keeps naive UTC text, so UTC is attached on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; amplifier stores UTC")
        value = value.astimezone(UTC)
        # SQLite's DATETIME text has no offset; all stored values being UTC keeps them comparable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the stored text parsed as UTC in one C call: what the DATETIME
        processor (``datetime.fromisoformat``) then ``process_result_value`` give, without
        ``datetime.replace`` (slower than the parse) nor two Python calls per value; a history
        page reads 150 of them."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                found = parse(value + "+00:00")  # naive UTC text, as stored: UTC attached
            except (TypeError, ValueError):  # text with an offset of its own
                found = None
            if found is not None and found.tzinfo is UTC:
                return found
            found = parse(value)  # anything else, as the DATETIME processor reads it
            return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)

        return process


# For the store's queries only; the steps above never build DDL from these.
metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", Text, nullable=False),
    Column("network", Text, nullable=False),
    Column("slot_key", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("template_id", Text, nullable=False),
    Column("campaign", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("language", Text),
    Column("link", Text),
    Column("content_warning", Text),
    Column("media", Text, nullable=False),  # JSON list of [path, alt]
    Column("idempotency_key", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("remote_id", Text),
    Column("url", Text),
    Column("last_error", Text),
    Column("retry_at", UTCDateTime),
    # When the earliest attempt that may have landed began (None: none may have).
    Column("ambiguous_since", UTCDateTime),
    # When it went out (published) or a dry run logged it (rehearsed); the store's clock (0007).
    Column("sent_at", UTCDateTime),
    Column("claimed_by", Text),
    Column("claimed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the attempt in flight began (0009); None until one begins after a claim or take-over.
    Column("attempt_at", UTCDateTime),
    # The post's media are marked sensitive (0013): Mastodon's flag, Bluesky's graphic-media.
    Column("sensitive", Boolean, nullable=False, server_default=false()),
    # Who may reply, whether it may be quoted (0013): X reply_settings, Bluesky's gates.
    Column("replies", Text, nullable=False, server_default="everyone"),
    Column("quotes", Boolean, nullable=False, server_default=true()),
    # A thread's part (0015): the first part's slot key, its number from 1, how many parts;
    # the first part holds the later ones as rendered (JSON); what each later part replies to.
    Column("thread_key", Text),
    Column("thread_part", Integer),
    Column("thread_size", Integer),
    Column("thread_rest", Text),
    Column("reply_to", Text),
    Column("reply_root", Text),
)

rotation_state = Table(
    "rotation_state",
    metadata,
    Column("account", Text, primary_key=True),
    Column("state", Text, nullable=False),  # JSON object
    Column("updated_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("account", Text, primary_key=True),
    Column("value", Text, nullable=False),  # sealed by SealedSessions, never clear
    Column("updated_at", UTCDateTime, nullable=False),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("account", Text, nullable=False),
    Column("window", Text, nullable=False, quote=True),
    Column("limit_", Integer),
    Column("remaining", Integer),
    Column("reset_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("account", "window"),
)

flags = Table(
    "flags",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("by", Text, quote=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
)

delivery_costs = Table(
    "delivery_costs",
    metadata,
    Column("delivery_id", BigInteger, primary_key=True, autoincrement=False),
    Column("account", Text, nullable=False),
    Column("network", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("cost_micros", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sign_in_failures = Table(  # the console's throttle (0014)
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("client", Text, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
)

account_checks = Table(  # when each account's credentials were last confirmed (0014)
    "account_checks",
    metadata,
    Column("account", Text, primary_key=True),
    Column("verified_at", UTCDateTime, nullable=False),
    Column("how", Text, nullable=False),
)

instance_limits = Table(
    "instance_limits",
    metadata,
    Column("instance", Text, primary_key=True),  # networks.mastodon_limits.instance_key
    Column("limits", Text, nullable=False),  # InstanceLimits.to_json()
    Column("fetched_at", UTCDateTime),  # when the server was asked (0008)
    Column("updated_at", UTCDateTime, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("account", Text, nullable=False),
    Column("network", Text, nullable=False),
    Column("age", Text, nullable=False),  # the target age's label ('24h'), or 'gone' (0012)
    Column("age_seconds", BigInteger, nullable=False),  # the target age; 0 for 'gone'
    Column("taken_at", UTCDateTime, nullable=False),
    # What the network gave; NULL where it gives no such count.
    Column("likes", BigInteger),
    Column("reposts", BigInteger),
    Column("replies", BigInteger),
    Column("quotes", BigInteger),
    Column("bookmarks", BigInteger),
    Column("impressions", BigInteger),
    Column("cost_micros", BigInteger, nullable=False),  # X bills each post read
    UniqueConstraint("delivery_id", "age"),
)


link_cards = Table(
    "link_cards",
    metadata,
    Column("url", Text, primary_key=True),  # the post's link, as written
    Column("title", Text),  # NULL when the page could not be read
    Column("description", Text),
    Column("thumb", LargeBinary),  # a JPEG within Bluesky's blob limit, or NULL
    Column("failure", Text),  # why there is no card; NULL when there is one
    Column("fetched_at", UTCDateTime, nullable=False),
)


alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("event", Text, nullable=False),
    Column("account", Text),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("urgent", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_to", Text, nullable=False),
    Column("claimed_by", Text),
    Column("lease_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
)
