"""The history page's rows as HTML, built in Python: 50 rows of a dozen values each through
Jinja2 cost more than the statement that read them (an expression, a filter call and an
escape per value). Every value from the store or the config is escaped here as autoescape
would; only numbers and times formatted here go in as they are.

A page's rows share most of their values (a few accounts, states and posts; the accounts'
slots fall at the same moments), so each distinct value is escaped, and each distinct moment
written out, once per page: the same text, a third of the work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from markupsafe import Markup, escape

from amplifier.store import HistoryLine
from amplifier.web.render import when

NOT_OUT = ("deferred", "unknown", "sending")  # an ambiguous attempt matters while not settled
COSTED = ("published", "unknown", "sending", "deferred")  # billed, or may be


class _Escaped(dict[str, str]):
    """Each value escaped once, on first sight (a dict lookup after that)."""

    def __missing__(self, value: str) -> str:
        found = self[value] = str(escape(value))
        return found


class _Times(dict[tuple[datetime, tzinfo | None], str]):
    """Each (moment, zone) written once. The store's moments are all UTC, so equal moments
    (equal keys, whatever their tzinfo object) read the same."""

    def __missing__(self, key: tuple[datetime, tzinfo | None]) -> str:
        found = self[key] = when(*key)
        return found


def _happened(row: HistoryLine, zone: tzinfo | None, escaped: _Escaped, times: _Times) -> str:
    """What happened: the live post, the retry, the reason, the ambiguity, the cost."""
    parts = []
    if row.url:
        parts.append(f'<a href="{escape(row.url)}" rel="noreferrer">Live post</a>')
    if row.status == "deferred" and row.retry_at:
        parts.append(f"Retry at {times[row.retry_at, zone]}.")
    if row.last_error:
        parts.append(escaped[row.last_error])
    if row.ambiguous_since and row.status in NOT_OUT:
        parts.append(f"[ambiguous since {times[row.ambiguous_since, zone]}]")
    if row.cost_micros is not None and row.status in COSTED:
        parts.append(f"· ${row.cost_micros / 1_000_000:.3f}")
    return " ".join(parts)


def history_rows(rows: Sequence[HistoryLine], zones: Mapping[str, tzinfo]) -> Markup:
    """The table body's rows, each slot in its account's timezone (UTC for an account no
    longer configured)."""
    escaped, times = _Escaped(), _Times()
    lines = []
    for row in rows:
        zone = zones.get(row.account)
        status = escaped[row.status]
        lines.append(
            f'<tr class="{status}">\n'
            f"  <td>{int(row.id)}</td>\n"
            f'  <td data-label="Slot">{times[row.due_at, zone]}</td>\n'
            f'  <td data-label="Account">{escaped[row.account]}</td>\n'
            f'  <td data-label="State"><span class="state {status}">{status}</span></td>\n'
            f'  <td data-label="Post">{escaped[row.template_id or "-"]}</td>\n'
            f'  <td data-label="What happened">{_happened(row, zone, escaped, times)}</td>\n'
            "</tr>\n"
        )
    return Markup("".join(lines))  # every stored value above went through escape()
