"""Link cards as last read (0013): a card, or why a link has none, and when it was read.

Written by the card fetch ahead of the slots (``cards.refresh_cards``), read at delivery: the
slot itself never waits for a web page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from amplifier.networks.base import LinkCard
from amplifier.store.base import StoreBase, upsert
from amplifier.store.schema import link_cards

_AGES = select(link_cards.c.url, link_cards.c.fetched_at, link_cards.c.failure)


@dataclass(frozen=True)
class StoredCard:
    """What is known of one link: its card (None when the page could not be made one)."""

    url: str
    card: LinkCard | None
    failure: str | None
    fetched_at: datetime


class LinkCardsState(StoreBase):
    """One row per link: the card or the failure, replaced on each read of the page."""

    def load_link_card(self, url: str) -> StoredCard | None:
        query = select(link_cards).where(link_cards.c.url == url)
        with self._read("load_link_card") as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        card = None
        if row.title is not None and row.failure is None:
            thumb = bytes(row.thumb) if row.thumb else b""
            card = LinkCard(
                url=row.url,
                title=row.title,
                description=row.description or "",
                thumb=thumb,
                thumb_mime="image/jpeg" if thumb else "",
            )
        return StoredCard(row.url, card, row.failure, row.fetched_at)

    def save_link_card(
        self, url: str, card: LinkCard | None, failure: str | None, fetched_at: datetime
    ) -> None:
        """Replace what is known of ``url``: its card, or (``card`` None) the failure."""
        values = {
            "url": url,
            "title": card.title if card else None,
            "description": card.description if card else None,
            "thumb": card.thumb if card and card.thumb else None,
            "failure": None if card else (failure or "unknown"),
            "fetched_at": fetched_at,
        }
        with self._write("save_link_card") as conn:
            upsert(conn, link_cards, values, ["url"])

    def link_card_ages(self) -> dict[str, tuple[datetime, bool]]:
        """Every stored link: (when it was read, whether it has a card); no thumbnail read."""
        with self._read("link_card_ages") as conn:
            rows = conn.execute(_AGES).all()
        return {str(url): (fetched_at, failure is None) for url, fetched_at, failure in rows}
