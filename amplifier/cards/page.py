"""What a page says of itself: title, description and image from its Open Graph tags
(``og:*``), else its Twitter-card tags (``twitter:*``), else ``<title>`` and the ``description``
meta tag. Read with the standard library's HTML parser, which never raises on bad markup."""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MAX_TITLE = 300
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class PageCard:
    """A page's card before its image is read: ``image`` is an absolute http(s) address or ""."""

    title: str
    description: str
    image: str


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self.charset: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "title":
            self._in_title = not self.title
        elif tag == "meta":
            if values.get("charset") and self.charset is None:
                self.charset = values["charset"].strip()
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _clean(text: str, limit: int) -> str:
    text = " ".join(html.unescape(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def declared_charset(body: bytes) -> str | None:
    """The charset a ``<meta charset>`` in the page's first 4 KB declares, if any."""
    reader = _MetaReader()
    reader.feed(body[:4096].decode("ascii", errors="replace"))
    return reader.charset


def read_card(body: bytes, charset: str | None, page_url: str) -> PageCard | None:
    """The page's card, or None when it names no title (nothing a card could show)."""
    encoding = charset or declared_charset(body) or "utf-8"
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", errors="replace")
    reader = _MetaReader()
    reader.feed(text)
    reader.close()
    meta = reader.meta

    def first(*keys: str) -> str:
        return next((meta[key] for key in keys if meta.get(key, "").strip()), "")

    title = _clean(first("og:title", "twitter:title") or reader.title, MAX_TITLE)
    if not title:
        return None
    description = _clean(
        first("og:description", "twitter:description", "description"), MAX_DESCRIPTION
    )
    image = first("og:image:secure_url", "og:image", "og:image:url", "twitter:image",
                  "twitter:image:src").strip()  # fmt: skip
    image = urljoin(page_url, image) if image else ""
    if image and urlsplit(image).scheme.lower() not in ("http", "https"):
        image = ""  # data: and the like: never read
    return PageCard(title, description, image)
