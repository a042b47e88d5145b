"""Cards kept in the store and read ahead of the slots, so no slot waits for a web page.

``refresh_cards`` reads each link that has no stored card, a card older than
``REFRESH_AFTER``, or a failure older than ``RETRY_AFTER``, and stores what it got: the card,
or the reason there is none. ``card_for`` is the delivery's read: the stored card or None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from amplifier.cards.build import CardUnavailable, make_card
from amplifier.cards.fetch import FetchPolicy
from amplifier.config import Settings
from amplifier.content import Library, post_link
from amplifier.logs import log_event
from amplifier.networks.base import LinkCard

if TYPE_CHECKING:  # the store is handed in: `check --fetch-cards` never loads SQLAlchemy
    from amplifier.store import Store

REFRESH_AFTER = timedelta(days=7)
RETRY_AFTER = timedelta(hours=6)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardOutcome:
    """What became of one link: its card, or why it has none."""

    url: str
    card: LinkCard | None
    failure: str | None


def card_links(library: Library, settings: Settings) -> list[str]:
    """The links a Bluesky account may post with a card: a post (or translation) for Bluesky
    with a link and no images, when any account is on Bluesky."""
    if not any(account.network == "bluesky" for account in settings.accounts):
        return []
    templates = [*library.originals.values()]
    templates += [t for versions in library.translations.values() for t in versions.values()]
    # The address the post links to on Bluesky, tagged as its campaign says: the delivery
    # looks its card up by the link it carries.
    links = {
        tagged.url
        for t in templates
        if t.link and not t.media and "bluesky" in t.networks
        for tagged in [post_link(settings, t, "bluesky")]
        if tagged is not None
    }
    return sorted(links)


def due_links(store: Store, links: Iterable[str], now: datetime) -> list[str]:
    """The links among ``links`` whose stored card is missing or old enough to read again."""
    ages = store.link_card_ages()
    due = []
    for url in links:
        known = ages.get(url)
        if known is None:
            due.append(url)
            continue
        fetched_at, has_card = known
        if now - fetched_at >= (REFRESH_AFTER if has_card else RETRY_AFTER):
            due.append(url)
    return due


def fetch_card(url: str, policy: FetchPolicy | None = None) -> CardOutcome:
    """Read one link's card now, never raising for the page's sake."""
    try:
        return CardOutcome(url, make_card(url, policy), None)
    except CardUnavailable as exc:
        return CardOutcome(url, None, str(exc))


def refresh_cards(
    store: Store,
    links: Iterable[str],
    *,
    clock: Callable[[], datetime],
    policy: FetchPolicy | None = None,
    force: bool = False,
    log: logging.Logger = logger,
) -> list[CardOutcome]:
    """Read and store the card of every link that is due (every link with ``force``)."""
    chosen = list(links) if force else due_links(store, links, clock())
    outcomes = []
    for url in chosen:
        outcome = fetch_card(url, policy)
        store.save_link_card(url, outcome.card, outcome.failure, clock())
        if outcome.card is not None:
            log_event(log, "card", url=url, title=outcome.card.title,
                      thumb=len(outcome.card.thumb) or None)  # fmt: skip
        else:
            log_event(log, "card-failed", logging.WARNING, url=url, reason=outcome.failure)
        outcomes.append(outcome)
    return outcomes


def card_for(store: Store, url: str) -> tuple[LinkCard | None, str | None]:
    """The stored card of ``url``, or None and why (never read yet, or the stored failure)."""
    stored = store.load_link_card(url)
    if stored is None:
        return None, "the card has not been read yet (it is read ahead of the slots)"
    return stored.card, stored.failure
