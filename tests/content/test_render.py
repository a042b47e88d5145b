"""Rendering: safe placeholders, hashtags fitted without cutting, exact length limits."""

from __future__ import annotations

import pytest

from amplifier.config import DEFAULT_LIMITS, NetworkLimits
from amplifier.content.length import x_length
from amplifier.content.rendering import (
    PLACEHOLDERS,
    RenderedPost,
    TooLong,
    fill,
    hashtags_in,
    normalize_hashtag,
    placeholder_problems,
    render,
)
from amplifier.errors import RenderError
from amplifier.networks.base import NetworkName

X = DEFAULT_LIMITS["x"]
LINK = "https://example.org/campaign/2026/spring-action"


def _render_x(
    text: str, hashtags: list[str], link: str | None = None, limits: NetworkLimits = X
) -> RenderedPost:
    return render(text, network="x", limits=limits, link=link, hashtags=hashtags)


# --- placeholders ------------------------------------------------------------------------


def test_placeholder_names() -> None:
    """Exactly two names are allowed."""
    assert PLACEHOLDERS == ("hashtags", "link")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Hi {name}", "unknown placeholder {name}: allowed are {hashtags} and {link}"),
        ("{x.__class__}", "attribute or index access"),
        ("{link[0]}", "attribute or index access"),
        ("{link.__init__.__globals__}", "attribute or index access"),
        ("{}", "positional placeholder {}"),
        ("{0}", "positional placeholder {0}"),
        ("{link!r}", "conversion (!r)"),
        ("{hashtags:>10}", "format spec (:>10)"),
        ("a { b", "a '{' without a matching '}'"),
        ("a } b", "a '}' without a matching '{'"),
        ("{link!}", "malformed placeholder"),
    ],
)
def test_bad_placeholder_has_message(text: str, fragment: str) -> None:
    """Each unsafe or unknown placeholder form is reported with a readable message."""
    problems = placeholder_problems(text)
    assert problems, text
    assert any(fragment in message for _, message in problems), problems
    with pytest.raises(RenderError, match="line 1"):
        fill(text, {"hashtags": "", "link": ""})


def test_problems_carry_their_line() -> None:
    """Problems on later lines give their 0-based line, and one bad line hides nothing."""
    text = "fine {link}\nbad {\nworse {who} and {0}"
    lines = [line for line, _ in placeholder_problems(text)]
    assert lines == [1, 2, 2]


def test_attribute_access_is_never_evaluated() -> None:
    """{x.__class__} is reported, never looked up: rendering it raises without output."""
    with pytest.raises(RenderError, match="attribute or index access") as caught:
        _render_x("Look {link.__class__}", [], link=LINK)
    assert "<class" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{literal}} {link}", "{literal} L"),
        ("a }} b {{ c", "a } b { c"),
        ("{hashtags}|{link}", "H|L"),
        ("no placeholders", "no placeholders"),
    ],
)
def test_fill_substitutes_and_unescapes(text: str, expected: str) -> None:
    """fill replaces the two names and turns doubled braces into single ones."""
    assert placeholder_problems(text) == []
    assert fill(text, {"hashtags": "H", "link": "L"}) == expected


# --- hashtags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Climate", "#Climate"), ("#Klima_2026", "#Klima_2026"), ("#ĐổiMới", "#ĐổiMới")],
)
def test_hashtag_normalised(given: str, expected: str) -> None:
    """Tags come with or without '#', Unicode letters included."""
    assert normalize_hashtag(given) == expected


@pytest.mark.parametrize("bad", ["2026", "#", "", "two words", "semi;colon", "##double", "a-b"])
def test_bad_hashtag_named(bad: str) -> None:
    """A tag no network would link is refused, and the message names it."""
    with pytest.raises(RenderError, match="bad hashtag"):
        _render_x("Hello", ["Good", bad])


def test_hashtags_fitted_up_to_cap() -> None:
    """Tags are added in priority order until the network's cap; the rest are skipped."""
    post = _render_x("Join us", ["A1", "#B2", "C3", "D4"])
    assert post.text == "Join us\n\n#A1 #B2"
    assert post.hashtags == ("#A1", "#B2")
    assert post.skipped_hashtags == ("#C3", "#D4")
    assert post.length == x_length(post.text)


def test_tag_that_does_not_fit_is_skipped_for_a_shorter_one() -> None:
    """A long tag over the limit is skipped and the next shorter one still goes in."""
    text = "a" * 270  # leaves 10: "\n\n#Short" is 8, "\n\n#" + 20 letters is 23
    post = _render_x(text, ["#" + "L" * 20, "Short"])
    assert post.hashtags == ("#Short",)
    assert post.skipped_hashtags == ("#" + "L" * 20,)
    assert post.length == 278


def test_already_present_tag_not_duplicated_and_counts_toward_cap() -> None:
    """A tag the text holds is not added again and uses one of the cap's places."""
    post = _render_x("We stand for #climate justice", ["Climate", "Justice", "Vote"])
    assert post.text == "We stand for #climate justice\n\n#Justice"
    assert post.hashtags == ("#Justice",)
    assert post.skipped_hashtags == ("#Vote",)


def test_hashtag_inside_url_is_not_present() -> None:
    """A '#fragment' inside a link is not a hashtag of the text."""
    assert hashtags_in("see https://example.org/page#Climate and #Vote") == ["#Vote"]


def test_hashtags_placeholder_filled_in_place() -> None:
    """With {hashtags}, the tags replace it, separated by single spaces."""
    post = _render_x("Join {hashtags} today {link}", ["A", "B"], link=LINK)
    assert post.text == f"Join #A #B today {LINK}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Join us {hashtags}", "Join us"),
        ("{hashtags} Join us", "Join us"),
        ("Join {hashtags} us", "Join us"),
        ("Text\n\n{hashtags}\n\nMore", "Text\n\nMore"),
        ("Text  \nnext line\t\n\n\n\n", "Text\nnext line"),
        ("Go {link} now", "Go now"),
    ],
)
def test_no_stray_whitespace(text: str, expected: str) -> None:
    """Empty placeholders leave no double spaces, trailing spaces or blank paragraphs."""
    post = _render_x(text, [])
    assert post.text == expected


# --- links and limits --------------------------------------------------------------------


def test_link_appended_with_one_space() -> None:
    """Without {link}, the link follows the text after one space, before the tags."""
    post = _render_x("Read this ", ["Vote"], link=LINK)
    assert post.text == f"Read this {LINK}\n\n#Vote"
    assert post.link == LINK
    assert post.length == len("Read this ") + 23 + len("\n\n#Vote")


@pytest.mark.parametrize(("size", "fits"), [(280, True), (281, False)])
def test_exact_limit_boundary(size: int, fits: bool) -> None:
    """280 weighted characters fit on X; 281 raise TooLong."""
    if fits:
        assert _render_x("a" * size, []).length == 280
    else:
        with pytest.raises(TooLong):
            _render_x("a" * size, [])


def test_tag_that_lands_exactly_on_limit_fits() -> None:
    """A tag bringing the text to exactly 280 is added."""
    post = _render_x("a" * 273, ["Vote"])  # 273 + len("\n\n#Vote") == 280
    assert post.hashtags == ("#Vote",)
    assert post.length == 280


def test_too_long_message_explains_the_rule() -> None:
    """TooLong says network, length, limit, how much to cut, how that network counts, and
    that the hashtags render would add are not in the count (they are added only if they fit)."""
    with pytest.raises(TooLong) as caught:
        _render_x("a" * 278, ["Vote"], link=LINK)
    error = caught.value
    assert (error.network, error.length, error.limit) == ("x", 302, 280)
    assert str(error) == (
        "too long for x: 302 of 280 characters, cut at least 22 (X counts URLs as 23, emoji "
        "and CJK as 2; hashtags from 'hashtags:' and the campaign are not counted: they are "
        "added only where they fit)"
    )
    assert isinstance(error, RenderError)


BLUESKY_BIG = NetworkLimits(max_length=1000, url_length=0, max_hashtags=3, max_bytes=3000)


@pytest.mark.parametrize(
    ("network", "limits", "text", "fragment"),
    [
        (
            "mastodon",
            DEFAULT_LIMITS["mastodon"],
            "a" * 501,
            "501 of 500 characters, cut at least 1 (Mastodon",
        ),
        (
            "bluesky",
            DEFAULT_LIMITS["bluesky"],
            "a" * 301,
            "301 of 300 characters, cut at least 1 (Bluesky",
        ),
        (
            "bluesky",
            BLUESKY_BIG,
            "𝒜" * 760,
            "3040 of 3000 bytes, cut at least 40 (counted in UTF-8;",
        ),
    ],
)
def test_too_long_per_network(
    network: NetworkName, limits: NetworkLimits, text: str, fragment: str
) -> None:
    """Each network's TooLong names its own counting rule (and bytes for Bluesky)."""
    with pytest.raises(TooLong) as caught:
        render(text, network=network, limits=limits, link=None, hashtags=[])
    assert fragment in str(caught.value)


def test_bluesky_tags_stop_at_byte_cap() -> None:
    """On Bluesky a tag that would pass 3000 bytes is skipped even under 300 graphemes."""
    text = "𝒜" * 748  # 2992 bytes, 748 graphemes under a raised grapheme cap
    post = render(text, network="bluesky", limits=BLUESKY_BIG, link=None, hashtags=["Longer", "A"])
    assert post.hashtags == ("#A",)
    assert post.skipped_hashtags == ("#Longer",)


def test_mastodon_counts_long_link_as_23() -> None:
    """A long link costs 23 on Mastodon, so tags still fit beside 470 characters."""
    long_link = "https://example.org/" + "x" * 200
    post = render(
        "a" * 470,
        network="mastodon",
        limits=DEFAULT_LIMITS["mastodon"],
        link=long_link,
        hashtags=["Go"],
    )
    assert post.length == 470 + 1 + 23 + len("\n\n#Go")
    assert post.hashtags == ("#Go",)


def test_x_refuses_invalid_characters() -> None:
    """Text X would reject for U+FFFE is refused at render time, not at publish time."""
    with pytest.raises(RenderError, match="U\\+FFFE"):
        _render_x("bad \ufffe char", [])


def test_rendered_text_has_no_trailing_whitespace() -> None:
    """No line of a rendered post ends in whitespace and the post has no outer spaces."""
    post = _render_x("  Hello {hashtags}  \n  world {link} \n", ["A"], link=LINK)
    assert post.text == post.text.strip()
    assert all(line == line.rstrip() for line in post.text.split("\n"))


def test_mastodon_content_warning_counts_toward_limit() -> None:
    """Mastodon counts the content warning with the text; X and Bluesky limits are unchanged."""
    from amplifier.content.rendering import limits_for_post

    base = DEFAULT_LIMITS["mastodon"]
    cut = limits_for_post(base, "mastodon", "deaths of children")
    assert cut.max_length == base.max_length - len("deaths of children")
    assert limits_for_post(DEFAULT_LIMITS["x"], "x", "warning") == DEFAULT_LIMITS["x"]
    with pytest.raises(TooLong):
        render("a" * 490, network="mastodon", limits=cut, link=None, hashtags=())
