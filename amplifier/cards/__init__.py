"""Link cards: a post's link read ahead of its slots into a card (title, description,
thumbnail) kept in the store, for networks that take one from the poster (Bluesky).

fetch.py is the security boundary (public addresses only, checked on every redirect and
connected to as checked; size, type and time capped); page.py reads the Open Graph and
Twitter-card tags; thumbnail.py re-encodes the image with Pillow (imported only there, when an
image is made); build.py makes one card; cache.py reads due links into the store and hands a
delivery its card. A link whose page cannot be read is posted as a plain link, its reason
logged and stored.
"""

from __future__ import annotations

from amplifier.cards.build import CardUnavailable, make_card
from amplifier.cards.cache import (
    REFRESH_AFTER,
    RETRY_AFTER,
    CardOutcome,
    card_for,
    card_links,
    due_links,
    fetch_card,
    refresh_cards,
)
from amplifier.cards.fetch import FetchPolicy, FetchRefused, public_address

__all__ = [
    "REFRESH_AFTER",
    "RETRY_AFTER",
    "CardOutcome",
    "CardUnavailable",
    "FetchPolicy",
    "FetchRefused",
    "card_for",
    "card_links",
    "due_links",
    "fetch_card",
    "make_card",
    "public_address",
    "refresh_cards",
]
