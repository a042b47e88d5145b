"""The daily digest: what went out, what was skipped and why, what comes tomorrow, the spend.

What comes tomorrow is the forecast's (``forecast.predict``, the stage above this one), so
the caller hands its lines in; the rest is read from the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from amplifier.alerts.messages import when
from amplifier.guards import SENT, month_bounds, usd
from amplifier.store import REHEARSAL_PREFIX, Store

_NOT_SENT = ("skipped", "missed", "failed", "unknown")


def digest_text(store: Store, now: datetime, day: str, tomorrow: Sequence[str]) -> tuple[str, str]:
    """(subject, body) of the digest for the 24 hours before ``now``."""
    since = now - timedelta(days=1)
    rows = [
        row
        for row in store.deliveries_since(since)
        if not row.slot_key.startswith(REHEARSAL_PREFIX)
    ]
    rows = [row for row in rows if row.due_at <= now]
    published = [row for row in rows if row.status == "published"]
    held = [row for row in rows if row.status in _NOT_SENT]
    waiting = Counter(row.status for row in rows if row.status in ("deferred", "sending"))
    lines = [f"Since {when(since)}: {len(published)} published, {len(held)} not sent."]
    if published:
        lines.append("\nWent out:")
        lines += [
            f"- {row.account}: {row.template_id} {row.url or ''}".rstrip() for row in published
        ]
    if held:
        lines.append("\nNot sent, and why:")
        lines += [
            f"- {row.account}: {row.template_id} {row.status}: {row.last_error or ''}".rstrip()
            for row in held
        ]
    if waiting:
        lines.append(
            "\nStill waiting: "
            + ", ".join(f"{n} {status}" for status, n in sorted(waiting.items()))
        )
    lines.append("\nTomorrow:")
    lines += [f"- {line}" for line in tomorrow] or ["- nothing scheduled"]
    start, end = month_bounds(now)
    spent = store.spend_micros(start, end, statuses=SENT, network="x")
    lines.append(f"\nX spend this month ({start:%Y-%m}): {usd(spent)}.")
    subject = f"amplifier daily digest {day}: {len(published)} published, {len(held)} not sent"
    return subject, "\n".join(lines)
