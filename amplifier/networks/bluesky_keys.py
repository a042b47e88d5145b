"""Record keys that make a Bluesky post idempotent: every attempt of one delivery writes the
same ``app.bsky.feed.post`` record key, so a repeated ``createRecord`` cannot add a second post.

Posts use ``tid`` record keys: 64 bits, top bit 0, then 53 bits of microseconds since the Unix
epoch and a 10-bit clock id, written as 13 base32-sortable characters. The key here is derived
from the delivery alone: the time part is the delivery's due time (whole seconds) plus a spread of
up to one second, and the clock id comes from the same hash of the idempotency key. So keys

* repeat exactly for every retry and restart of one delivery (idempotency key and due time are
  stored with the row);
* sort close to when the post went out, like the keys the app writes, so the account's
  listRecords (ordered by key) stays in time order;
* differ between deliveries: ~30 bits of the hash separate two deliveries due in the same second.

The PDS checks only the syntax of a TID, not its time (a key a year off is stored as a normal
post), and the Bluesky appview orders posts by ``createdAt`` and the time it indexed them, never
by the key. The PDS also refuses record keys its slur filter matches. Its patterns with word
boundaries cannot match a key that starts with a digit (every TID until the year 2184); the one
without could appear inside a key, and spans at most a second of TID time, so a key it matches is
moved on by about a second, deterministically.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13
_CLOCK_IDS = 1024
_SHIFT = 1 << 20  # microseconds: moves every character a refused pattern can sit in
_TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# The PDS's unanchored slur pattern (pds/dist/handle/explicit-slurs.js), cut down to the
# characters a TID can hold.
_REFUSED_BY_PDS = re.compile(r"n[ilao4][gq]{2}(l[e3]t|[e3]r)")


def encode_tid(micros: int, clock_id: int) -> str:
    """The 13-character TID of a time (microseconds since the epoch) and a clock id."""
    if not 0 <= micros < 2**53 or not 0 <= clock_id < _CLOCK_IDS:
        raise ValueError(f"no TID for micros={micros}, clock_id={clock_id}")
    value = (micros << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(TID_LENGTH)))


def is_tid(text: str) -> bool:
    """Whether ``text`` is a syntactically valid TID (what the PDS checks for post keys)."""
    return bool(_TID_PATTERN.match(text))


def tid_time(rkey: str) -> datetime | None:
    """The time part of a TID record key, or None if ``rkey`` is not a TID."""
    if not is_tid(rkey):
        return None
    value = 0
    for char in rkey:
        value = value * 32 + TID_ALPHABET.index(char)
    return datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)


def record_key(idempotency_key: str, due_at: datetime) -> str:
    """The record key of the post of one delivery: the same for every attempt of it."""
    if due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=UTC)
    digest = hashlib.sha256(b"amplifier-bluesky-rkey\0" + idempotency_key.encode()).digest()
    spread = int.from_bytes(digest[:8], "big")
    micros = int(due_at.timestamp()) * 1_000_000 + spread % 1_000_000
    clock_id = (spread // 1_000_000) % _CLOCK_IDS
    key = encode_tid(micros, clock_id)
    while _REFUSED_BY_PDS.search(key):  # one step at most in practice; every step changes it
        micros += _SHIFT
        key = encode_tid(micros, clock_id)
    return key
