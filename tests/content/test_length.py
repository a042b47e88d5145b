"""Per-network length: X against the official twitter-text conformance data, Mastodon and
Bluesky against their servers' rules.

Which conformance sections hold v3 expectations: WeightedTweetsWithDiscountedEmojiCounterTest
is the v3 section (emoji discounted) and UnicodeDirectionalMarkerCounterTest has no emoji, so
v2 and v3 agree on it. WeightedTweetsCounterTest was written for config v2, where an emoji
counts per code point; its cases without emoji mean the same under v3 and are tested, and
the two with emoji (V2_ONLY) are checked to reappear in the v3 section with v3 counts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from amplifier.config import DEFAULT_LIMITS
from amplifier.content.length import (
    bluesky_length,
    mastodon_countable_text,
    mastodon_length,
    measure,
    utf8_bytes,
    x_count,
    x_invalid_characters,
    x_length,
)

CONFORMANCE = Path(__file__).parent.parent / "data" / "twitter-text-validate.yml"
V3_SECTIONS = (
    "WeightedTweetsWithDiscountedEmojiCounterTest",
    "UnicodeDirectionalMarkerCounterTest",
)
V2_SECTION = "WeightedTweetsCounterTest"
V2_ONLY = {
    "Count a mix of single byte single word, and double word unicode characters",
    "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
}


def _sections() -> dict[str, list[dict[str, Any]]]:
    with CONFORMANCE.open(encoding="utf-8") as handle:
        tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(handle)["tests"]
    return tests


SECTIONS = _sections()
V3_CASES = [
    pytest.param(case, id=f"{section}: {case['description']}")
    for section in (*V3_SECTIONS, V2_SECTION)
    for case in SECTIONS[section]
    if not (section == V2_SECTION and case["description"] in V2_ONLY)
]


def test_conformance_sections_have_expected_size() -> None:
    """The data file holds the 20 + 22 + 2 cases this module's selection assumes."""
    sizes = {name: len(SECTIONS[name]) for name in (V2_SECTION, *V3_SECTIONS)}
    assert sizes == {
        V2_SECTION: 20,
        "WeightedTweetsWithDiscountedEmojiCounterTest": 22,
        "UnicodeDirectionalMarkerCounterTest": 2,
    }
    assert len(V3_CASES) == 42


@pytest.mark.parametrize("case", V3_CASES)
def test_x_matches_conformance(case: dict[str, Any]) -> None:
    """x_length and x_count agree with twitter-text's v3 weightedLength and valid."""
    expected = case["expected"]
    assert x_length(case["text"]) == expected["weightedLength"]
    assert x_count(case["text"]).valid is expected["valid"]


@pytest.mark.parametrize("description", sorted(V2_ONLY))
def test_v2_only_cases_reappear_with_v3_counts(description: str) -> None:
    """Each v2 emoji case we skip is in the v3 section with another count, which we match."""
    v2 = next(c for c in SECTIONS[V2_SECTION] if c["description"] == description)
    v3 = next(c for c in SECTIONS[V3_SECTIONS[0]] if c["text"] == v2["text"])
    assert v3["expected"]["weightedLength"] != v2["expected"]["weightedLength"]
    assert x_length(v2["text"]) == v3["expected"]["weightedLength"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 280, 280),
        ("日本語", 6),  # CJK weighs 2
        ("👨‍👩‍👧‍👦", 2),  # one ZWJ family emoji weighs 2
        ("see https://example.org/" + "p" * 80, 4 + 23),  # URL as 23 whatever its length
        ("see example.org", 4 + 23),  # X also links bare domains
    ],
)
def test_x_length_examples(text: str, expected: int) -> None:
    """X weights CJK and emoji 2 and every URL, with or without scheme, 23."""
    assert x_length(text) == expected


def test_x_url_length_follows_argument() -> None:
    """A different t.co length changes the URL's weight and nothing else."""
    assert x_length("go https://example.org", url_length=30) == 3 + 30


def test_x_invalid_characters_named() -> None:
    """Characters X refuses are reported by code point."""
    assert x_invalid_characters("ok\ufffe\uffff") == ["U+FFFE", "U+FFFF"]
    assert x_invalid_characters("fine ✓") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://a.io", 23),
        ("https://example.org/" + "very-long-path/" * 20 + "end", 23),
        ("read https://example.org/x?utm_source=a&b=c now", 5 + 23 + 4),
        ("http://example.org/日本語", 23),  # Mastodon's override lets the path run on
        ("gemini://example.org/page", 23),  # a protocol Mastodon adds
        ("example.org", 11),  # no scheme: Mastodon counts it in full
        ("👨‍👩‍👧‍👦", 1),  # ZWJ family is one grapheme
        ("🇫🇷👍🏽e\u0301", 3),  # flag, skin tone, combining accent
        ("日本語のテキスト", 8),  # CJK one per character
        ("hi @alice@mastodon.example.org", 3 + 6),  # remote mention counts as @alice
        ("hi @alice", 9),  # local mention unchanged
        ("mail a@b.org", 12),  # an email is not a mention
        ("   ", 0),  # blank text counts as nothing, as Ruby's blank?
        ("", 0),
    ],
)
def test_mastodon_length(text: str, expected: int) -> None:
    """Mastodon counts URLs as 23, remote mentions as @user, the rest as graphemes."""
    assert mastodon_length(text) == expected


def test_mastodon_rewrites_like_countable_text() -> None:
    """Each URL becomes 23 x's and each remote mention its local part, in place."""
    text = "(see https://example.org/a) @bob@social.example, @eve"
    assert mastodon_countable_text(text) == "(see " + "x" * 23 + ") @bob, @eve"


def test_mastodon_url_length_follows_server() -> None:
    """A server reserving another length per URL changes only the URL's share."""
    assert mastodon_length("go https://example.org/abc", url_length=10) == 3 + 10


@pytest.mark.parametrize(
    ("text", "graphemes", "bytes_"),
    [
        ("hello", 5, 5),
        ("👨‍👩‍👧‍👦", 1, 25),
        ("日本語", 3, 9),
        ("https://example.org/" + "x" * 30, 50, 50),  # Bluesky counts URLs in full
    ],
)
def test_bluesky_graphemes_and_bytes(text: str, graphemes: int, bytes_: int) -> None:
    """Bluesky's 300 counts graphemes while its 3000 counts UTF-8 bytes."""
    assert bluesky_length(text) == graphemes
    assert utf8_bytes(text) == bytes_


def test_measure_dispatches_per_network() -> None:
    """The same text measures differently on each network, as each one counts."""
    text = "日本語 https://example.org/" + "p" * 40
    lengths = {name: measure(text, name, limits) for name, limits in DEFAULT_LIMITS.items()}
    assert lengths == {"x": 6 + 1 + 23, "mastodon": 3 + 1 + 23, "bluesky": 3 + 1 + 60}


def test_twitter_text_loads_without_pkg_resources() -> None:
    """A fresh interpreter measuring X text never imports pkg_resources (~6 MiB per worker),
    still weighs emoji as twitter-text does, and can import the real pkg_resources afterwards."""
    probe = (
        "import sys\n"
        "from amplifier.content.length import x_length\n"
        "assert 'pkg_resources' not in sys.modules, 'pkg_resources was imported'\n"
        "print(x_length('\\U0001F44D\\U0001F3FD ok'))\n"
        "import pkg_resources\n"
        "print(hasattr(pkg_resources, 'working_set'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "True"]


# Pieces random texts are built from: ASCII words, digits and keycap-prone '#', Latin accents,
# CJK, Cyrillic, the light ranges' edges (U+2000..U+2037), emoji (plain, keycap, ZWJ, flag,
# skin tone, VS-16), characters X refuses, line endings in all three forms, and URLs.
_PIECES = (
    "word",
    "Familias",
    "#FamiliesBelongTogether",
    "#1",
    "2026",
    "*",
    " ",
    "  ",
    ".",
    ",",
    "niños",
    "Ñandú",
    "café",
    "日本語",
    "한국어",
    "привет",
    "\u2000",
    "\u200d",
    "\u2010",
    "\u201f",
    "\u2032",
    "\u2037",
    "\u2038",
    "\u10ff",
    "\u1100",
    "\U0001f600",
    "#\ufe0f\u20e3",
    "1\u20e3",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1fa\U0001f1f8",
    "\U0001f44d\U0001f3fd",
    "\u2764\ufe0f",
    "\u00a9",
    "\u00ae",
    "\ufeff",
    "\ufffe",
    "\r\n",
    "\r",
    "\n",
    "https://example.org/reunify?x=1",
    "example.com",
    "http://t.co/abc",
    "www.aclu.org/families",
    "e\u0301",
)


def _random_texts(count: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_emoji_free_fast_path_agrees_with_parse_tweet() -> None:
    """Where the count without twitter-text's emoji scan answers, it is parse_tweet's answer
    (conformance texts and 5,000 random ones); and it answers for most emoji-free texts."""
    from amplifier.content.emoji_markers import emoji_markers
    from amplifier.content.twittertext import defaults, parse_tweet
    from amplifier.content.xweight import weighed_without_emoji

    assert emoji_markers() is not None, "the emoji pattern's shape is no longer understood"
    texts = [case["text"] for section in SECTIONS.values() for case in section if "text" in case]
    texts += _random_texts(5000, seed=7)
    answered = 0
    for url_length in (23, 30):
        options = {**defaults(), "transformed_url_length": url_length}
        for text in texts:
            fast = weighed_without_emoji(text, options)
            if fast is None:
                continue
            answered += 1
            parsed = parse_tweet(text, options)
            assert fast == (parsed.weightedLength, parsed.valid), repr(text)
    assert answered > 500
    plain = [t for t in _random_texts(500, seed=8) if t.isascii()]
    assert plain and all(weighed_without_emoji(t, defaults()) is not None for t in plain)


def test_fast_path_steps_aside_for_emoji_and_refused_characters() -> None:
    """A text holding an emoji (even a keycap made of '#' and U+20E3) or U+FEFF goes to
    parse_tweet."""
    from amplifier.content.twittertext import defaults
    from amplifier.content.xweight import weighed_without_emoji

    options = defaults()
    for text in ("ok \U0001f600", "#\ufe0f\u20e3 tag", "1\u20e3", "a\ufeffb", "\u00a9 2026"):
        assert weighed_without_emoji(text, options) is None, repr(text)
    assert weighed_without_emoji("#Tag 1 2 3 https://example.org", options) == (34, True)


def test_latin1_grapheme_shortcut_agrees_with_the_unicode_rules() -> None:
    """Below U+0100 the count without the regex is the regex's count: every pair of
    characters, and random strings with CR, LF and CR LF."""
    import random

    from amplifier.content.length import GRAPHEME, graphemes

    latin1 = [chr(point) for point in range(0x100)]
    for first in latin1:
        for second in latin1:
            pair = first + second
            assert graphemes(pair) == len(GRAPHEME.findall(pair)), repr(pair)
    rng = random.Random(3)
    alphabet = ["\r", "\n", "\r\n", "a", "ñ", "\u00ad", "\x00", " ", "é"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert graphemes(text) == len(GRAPHEME.findall(text)), repr(text)
    assert graphemes("e\u0301") == 1  # a combining accent still takes the regex
