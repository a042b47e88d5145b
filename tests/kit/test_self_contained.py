"""The built kit asks nothing of any other origin: the only addresses in its files are the
composers' share links (and og:url, the kit's own address)."""

from __future__ import annotations

import re

from .conftest import BASE_URL, SampleKit

# Any absolute or protocol-relative address, in HTML, CSS or JavaScript.
ADDRESS = re.compile(r"""(?:https?:)?//[A-Za-z0-9][^\s"'<>)]*""")
SHARE_LINK = re.compile(
    r"https://(x\.com/intent/post|bsky\.app/intent/compose|www\.threads\.net/intent/post)"
    r"\?text=[A-Za-z0-9%._~-]*$"
)
# Where a post's own words are shown as text (a campaign link among them): nothing loads them.
POST_WORDS = re.compile(r'<p class="text"[^>]*>.*?</p>|<h2 [^>]*>.*?</h2>', re.DOTALL)


def test_no_address_of_another_origin_except_share_links(sample_kit: SampleKit) -> None:
    """Every http(s) address in every built file, outside the posts' own words shown as text,
    is a composer's share link or og:url."""
    files = [p for p in sample_kit.out.rglob("*") if p.suffix in (".html", ".css", ".js")]
    assert {p.suffix for p in files} == {".html", ".css", ".js"}
    shares = 0
    for path in files:
        for found in ADDRESS.findall(POST_WORDS.sub("", path.read_text(encoding="utf-8"))):
            url = found.replace("&amp;", "&")
            if SHARE_LINK.match(url):
                shares += 1
                continue
            assert url.startswith(BASE_URL) and path.suffix == ".html", (path.name, url)
    assert shares > 100


def test_nothing_is_loaded_from_elsewhere(sample_kit: SampleKit) -> None:
    """Scripts, stylesheets, images and forms point inside the kit; CSS imports nothing; the
    pages carry a Content-Security-Policy allowing only the kit's own origin."""
    for path in sample_kit.out.glob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "default-src 'none'" in html and "script-src 'self'" in html
        for tag in re.findall(r"<(?:script|link|img|form|iframe)\b[^>]*>", html):
            for value in re.findall(r'(?:src|href|action)="([^"]*)"', tag):
                assert "//" not in value and not value.startswith("/"), (path.name, tag)
    css = (sample_kit.out / "kit.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css
    script = (sample_kit.out / "kit.js").read_text(encoding="utf-8")
    for call in ("fetch(", "XMLHttpRequest", "sendBeacon", "WebSocket", "import("):
        assert call not in script
