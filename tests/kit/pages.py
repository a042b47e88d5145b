"""Reading a built kit back: every share group (its text, its buttons) from the HTML itself.

Parsed with the standard library's HTMLParser, so what the tests see is what a browser gets:
entities decoded, the text of ``<p class="text">`` as its text content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Button:
    network: str
    href: str
    share_path: str | None


@dataclass
class Group:
    page: str
    card: str  # the card's element id (post-<id>)
    language: str  # the card's lang attribute
    version: int  # 0: the same in every version
    id: str
    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    copy_target: str | None = None


class _Reader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.groups: list[Group] = []
        self.html_lang: str | None = None
        self.card = ("", "")
        self.version = 0
        self.reading: Group | None = None
        self.metas: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        if tag == "html":
            self.html_lang = found.get("lang")
        elif tag == "meta" and "property" in found:
            self.metas[found["property"]] = found.get("content", "")
        elif tag == "article":
            self.card = (found["id"], found["lang"])
            self.version = 0  # blocks every version has alike come first
        elif tag == "div" and "version" in classes:
            self.version = int(found["data-version"])
        elif tag == "p" and "text" in classes:
            group = Group(self.page, *self.card, self.version, found["id"])
            self.groups.append(group)
            self.reading = group
        elif tag == "a" and "data-network" in found:
            self.groups[-1].buttons.append(
                Button(found["data-network"], found["href"], found.get("data-share-path"))
            )
        elif tag == "button" and "data-copy" in found:
            self.groups[-1].copy_target = found["data-copy"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.reading = None

    def handle_data(self, data: str) -> None:
        if self.reading is not None:
            self.reading.text += data


@dataclass(frozen=True)
class PageRead:
    name: str
    lang: str | None
    metas: dict[str, str]
    groups: list[Group]


def read_page(path: Path) -> PageRead:
    reader = _Reader(path.name)
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return PageRead(path.name, reader.html_lang, reader.metas, reader.groups)


def campaign_pages(out: Path) -> list[PageRead]:
    return [
        read_page(path)
        for path in sorted(out.glob("*.html"))
        if path.name != "index.html" and not path.name.startswith("mastodon.")
    ]


def decoded_text(href: str) -> str:
    """The ``text`` parameter of a share link, decoded as the composer decodes it."""
    [text] = parse_qs(urlsplit(href).query, keep_blank_values=True, strict_parsing=True)["text"]
    return text
