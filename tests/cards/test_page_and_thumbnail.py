"""A page's card from its tags, and its image re-encoded within Bluesky's blob limit."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from amplifier.cards.page import read_card
from amplifier.cards.thumbnail import MAX_BLOB_BYTES, ThumbnailRefused, reencode
from amplifier.testing.images import png

BASE = "https://petition.example/campaign/sign"


def test_open_graph_tags_come_first() -> None:
    """og:* wins over twitter:* and <title>; a relative image is made absolute."""
    body = b"""<html><head><title>Page title</title>
    <meta name="twitter:title" content="Tw title">
    <meta property="og:title" content="OG &amp; title">
    <meta name="description" content="plain"><meta property="og:description" content="  OG
    description ">
    <meta property="og:image" content="/img/card.png"></head></html>"""
    card = read_card(body, None, BASE)
    assert card is not None
    assert (card.title, card.description) == ("OG & title", "OG description")
    assert card.image == "https://petition.example/img/card.png"


def test_twitter_tags_then_title_and_description() -> None:
    """Without og:*, twitter:* tags; without those, <title> and the description meta tag."""
    body = b'<head><meta name="twitter:title" content="T"><meta name="twitter:image" content="https://i.example/a.jpg"></head>'
    card = read_card(body, None, BASE)
    assert card is not None and (card.title, card.image) == ("T", "https://i.example/a.jpg")
    body = b'<head><title> Just a\n title </title><meta name="description" content="D"></head>'
    card = read_card(body, None, BASE)
    assert card is not None and (card.title, card.description, card.image) == (
        "Just a title",
        "D",
        "",
    )


def test_no_title_no_card_and_odd_images_are_dropped() -> None:
    """A page naming no title makes no card; an image that is not http(s) is not read."""
    assert read_card(b"<html><body>x</body></html>", None, BASE) is None
    body = b'<title>x</title><meta property="og:image" content="data:image/png;base64,AAAA">'
    card = read_card(body, None, BASE)
    assert card is not None and card.image == ""


def test_charset_from_the_page_and_broken_markup() -> None:
    """The declared charset decodes the page; broken markup and an unknown charset never raise."""
    body = '<meta charset="iso-8859-1"><title>Niñas</title>'.encode("iso-8859-1")
    card = read_card(body, None, BASE)
    assert card is not None and card.title == "Niñas"
    assert read_card(b"<title>ok</title><meta <<<>>> <", "no-such-charset", BASE) is not None


def test_long_texts_are_cut() -> None:
    """Title and description are cut to a card's size."""
    body = f'<title>{"t" * 1000}</title><meta name="description" content="{"d" * 5000}">'
    card = read_card(body.encode(), None, BASE)
    assert card is not None and len(card.title) == 300 and len(card.description) == 1000


def test_thumbnail_is_a_jpeg_within_the_limit() -> None:
    """A large noisy PNG becomes a JPEG of at most the blob limit, at most 1200 px a side."""
    noise = Image.effect_noise((3000, 2000), 100).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert out.tell() > MAX_BLOB_BYTES
    thumb = reencode(out.getvalue())
    assert len(thumb) <= MAX_BLOB_BYTES
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.format == "JPEG" and max(image.size) <= 1200
    small = reencode(png(8, 8), max_bytes=2_000)
    assert len(small) <= 2_000 and small.startswith(b"\xff\xd8")


def test_thumbnail_refuses_what_is_not_an_image_and_decompression_bombs() -> None:
    """Garbage and an image claiming a huge size are refused with a reason, not raised."""
    with pytest.raises(ThumbnailRefused, match="not an image"):
        reencode(b"<html>not an image</html>")
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # tiny file, 100 million pixels
    with pytest.raises(ThumbnailRefused):
        reencode(bomb.getvalue())
