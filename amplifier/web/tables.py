"""The history page's rows as HTML, built in Python: 50 rows of a dozen values each through
Jinja2 cost more than the statement that read them (an expression, a filter call and an
escape per value). Every value from the store or the config is escaped here as autoescape
would; only numbers and times formatted here go in as they are.

Values are escaped by ``escape_text``, markupsafe's replacements as plain ``str`` calls: its
``escape`` (a Python wrapper, a ``Markup`` object, ``str()`` of it) cost ten times the
replacing, and a page escapes a hundred values. A page's rows share their moments (the
accounts' slots fall at the same times), so each distinct moment is written out once per page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from markupsafe import Markup

from amplifier.store import HistoryLine
from amplifier.web.render import when

NOT_OUT = ("deferred", "unknown", "sending")  # an ambiguous attempt matters while not settled
COSTED = ("published", "unknown", "sending", "deferred")  # billed, or may be


def escape_text(value: str) -> str:
    """``str(markupsafe.escape(value))`` for a str, the same five replacements in the same
    order (tests/web/test_tables.py holds them equal for any text)."""
    return (
        value.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class _Times(dict[tuple[datetime, tzinfo | None], str]):
    """Each (moment, zone) written once. The store's moments are all UTC, so equal moments
    (equal keys, whatever their tzinfo object) read the same."""

    def __missing__(self, key: tuple[datetime, tzinfo | None]) -> str:
        found = self[key] = when(*key)
        return found


def _happened(row: HistoryLine, zone: tzinfo | None, times: _Times) -> str:
    """What happened: the live post, the retry, the reason, the ambiguity, the cost."""
    parts = []
    if row.url:
        parts.append(f'<a href="{escape_text(row.url)}" rel="noreferrer">Live post</a>')
    if row.status == "deferred" and row.retry_at:
        parts.append(f"Retry at {times[row.retry_at, zone]}.")
    if row.last_error:
        parts.append(escape_text(row.last_error))
    if row.ambiguous_since and row.status in NOT_OUT:
        parts.append(f"[ambiguous since {times[row.ambiguous_since, zone]}]")
    if row.cost_micros is not None and row.status in COSTED:
        parts.append(f"· ${row.cost_micros / 1_000_000:.3f}")
    return " ".join(parts)


def history_rows(rows: Sequence[HistoryLine], zones: Mapping[str, tzinfo]) -> Markup:
    """The table body's rows, each slot in its account's timezone (UTC for an account no
    longer configured)."""
    times = _Times()
    lines = []
    for row in rows:
        zone = zones.get(row.account)
        status = escape_text(row.status)
        lines.append(
            f'<tr class="{status}">\n'
            f"  <td>{int(row.id)}</td>\n"
            f'  <td data-label="Slot">{times[row.due_at, zone]}</td>\n'
            f'  <td data-label="Account">{escape_text(row.account)}</td>\n'
            f'  <td data-label="State"><span class="state {status}">{status}</span></td>\n'
            f'  <td data-label="Post">{escape_text(row.template_id or "-")}</td>\n'
            f'  <td data-label="What happened">{_happened(row, zone, times)}</td>\n'
            "</tr>\n"
        )
    return Markup("".join(lines))  # every stored value above went through escape_text()
