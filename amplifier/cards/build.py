"""One link's card: the page read under the fetch rules, its tags, its image re-encoded."""

from __future__ import annotations

import logging

from amplifier.cards.fetch import FetchPolicy, FetchRefused, fetch
from amplifier.cards.page import read_card
from amplifier.cards.thumbnail import ThumbnailRefused, reencode
from amplifier.logs import log_event
from amplifier.networks.base import LinkCard

MAX_HTML_BYTES = 1_000_000
MAX_IMAGE_BYTES = 5_000_000  # what is downloaded; the thumbnail made of it is far smaller

logger = logging.getLogger(__name__)


class CardUnavailable(Exception):
    """No card for this link; the message says why (for the log and ``check``)."""


def html_type(media_type: str) -> bool:
    return media_type in ("text/html", "application/xhtml+xml")


def image_type(media_type: str) -> bool:
    return media_type.startswith("image/") and media_type != "image/svg+xml"


def make_card(url: str, policy: FetchPolicy | None = None) -> LinkCard:
    """The card of the page at ``url``; ``CardUnavailable`` with the reason when there is none.

    A page without a readable image still gets a card (title and description), the reason
    for the missing image logged."""
    policy = policy or FetchPolicy()
    try:
        page = fetch(url, accept=html_type, max_bytes=MAX_HTML_BYTES, policy=policy)
    except FetchRefused as exc:
        raise CardUnavailable(str(exc)) from exc
    found = read_card(page.body, page.charset, page.url)
    if found is None:
        raise CardUnavailable(f"{url}: the page has no title (no og:title, no <title>)")
    thumb = b""
    if found.image:
        try:
            image = fetch(found.image, accept=image_type, max_bytes=MAX_IMAGE_BYTES, policy=policy)
            thumb = reencode(image.body)
        except (FetchRefused, ThumbnailRefused) as exc:
            log_event(logger, "card-image", logging.WARNING, url=url, reason=str(exc))
    return LinkCard(
        url=url,
        title=found.title,
        description=found.description,
        thumb=thumb,
        thumb_mime="image/jpeg" if thumb else "",
    )
