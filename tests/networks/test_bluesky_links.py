"""A tagged link on Bluesky: the text shows it as the apps do, the facet carries it whole.

Driven through the real atproto client against the fake PDS; the facets are read back from
the stored record and cut from the text's UTF-8 bytes, as the app does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from amplifier.networks.base import HttpSettings, MemorySessionStore, OutgoingPost
from amplifier.networks.bluesky import BlueskyNetwork, facets_for
from amplifier.networks.links import shown_link
from amplifier.testing.fake_bluesky import FakeBluesky

HANDLE = "families.test"
PASSWORD = "app-pw-7q2x-k9zz-m4rt"
LINK = (
    "https://action.example.org/sign/stop_separation/?ref=mail&utm_source=bluesky"
    "&utm_medium=social&utm_campaign=fbt&utm_content=petition#form"
)
SHOWN = "action.example.org/sign/stop_se..."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(handle=HANDLE, password=PASSWORD) as server:
        yield server


def _slices(text: str, facets: list[dict[str, object]]) -> list[tuple[str, object]]:
    encoded = text.encode("utf-8")
    out = []
    for facet in facets:
        index = facet["index"]
        features = facet["features"]
        assert isinstance(index, dict) and isinstance(features, list)
        out.append((encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8"), features[0]))
    return out


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (LINK, SHOWN),
        ("https://example.org/", "example.org"),
        ("https://example.org", "example.org"),
        ("https://Example.org/shorter?abc=12", "example.org/shorter?abc=12"),  # 15: whole
        ("https://example.org/shorter?abcd=12", "example.org/shorter?abcd..."),  # 16: 13 kept
        ("http://example.org:8080/p", "example.org:8080/p"),
        ("https://example.org:443/p", "example.org/p"),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
    ],
)
def test_shown_link_is_the_apps_short_form(url: str, shown: str) -> None:
    """Host (scheme dropped), then the path with query and fragment, cut to 13 characters
    and '...' where it is longer than 15: the app's own toShortUrl."""
    assert shown_link(url) == shown


def test_publish_links_the_short_form_to_the_whole_tagged_address(fake: FakeBluesky) -> None:
    """Non-ASCII before the link and a tag after it: byte offsets exact, one link facet over
    the short form with the whole address, the tag still a tag."""
    fake.reset()
    text = f"Niñas y niños 🇺🇸: firma {SHOWN}\n\n#FamiliesBelongTogether"
    net = BlueskyNetwork(
        "b",
        handle=HANDLE,
        app_password=PASSWORD,
        sessions=MemorySessionStore(),
        service_url=fake.base_url,
        http=HttpSettings(connect_timeout=2.0, read_timeout=5.0),
    )
    try:
        net.publish(OutgoingPost("b", text, f"k-{uuid.uuid4().hex}", link=LINK))
    finally:
        net.close()
    [record] = fake.records
    assert record.text == text
    start = len("Niñas y niños 🇺🇸: firma ".encode())
    assert [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in record.facets] == [
        (start, start + len(SHOWN)),
        (start + len(SHOWN) + 2, len(text.encode())),
    ]
    assert _slices(text, record.facets) == [
        (SHOWN, {"uri": LINK, "$type": "app.bsky.richtext.facet#link"}),
        (
            "#FamiliesBelongTogether",
            {"tag": "FamiliesBelongTogether", "$type": "app.bsky.richtext.facet#tag"},
        ),
    ]


def test_a_link_shown_whole_is_left_to_the_detector() -> None:
    """An untagged link in the text as it is: the detector's facet, nothing added."""
    text = "Read https://example.org/report today"
    [facet] = facets_for(text, "https://example.org/report")
    assert facet.features[0].uri == "https://example.org/report"
    assert (facet.index.byte_start, facet.index.byte_end) == (5, 31)


def test_the_short_form_inside_a_longer_word_is_not_linked() -> None:
    """Only the short form standing as a word of its own gets the facet."""
    text = f"x{SHOWN} and {SHOWN}"
    facets = facets_for(text, LINK)
    linked = [f for f in facets if getattr(f.features[0], "uri", None) == LINK]
    assert [(f.index.byte_start, f.index.byte_end) for f in linked] == [
        (len(text) - len(SHOWN), len(text))
    ]
