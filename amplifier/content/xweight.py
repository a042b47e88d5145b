"""X's weighted length for texts that hold no emoji, without twitter-text's emoji scan.

``parse_tweet`` searches every text with twitter-text's emoji pattern (2,564 alternatives,
tried at every position) and then weighs it one character at a time in Python: together
about 2 ms a post, most of ``amplifier check``'s time on a large folder. Most campaign texts
hold no emoji, and for those the answer is a count: characters in the light ranges, the
rest at the default weight, each URL at its transformed length.

Exactness: a match of the emoji pattern must contain at least one "marker" character
(emoji_markers.py: each alternative's first character, or for the keycap alternatives that
start with an ASCII ``#``, ``*`` or digit, the first non-ASCII character they require,
known without compiling the pattern). A text without any marker therefore has no emoji entity, and
``parse_tweet`` would weigh it exactly as :func:`weighed_without_emoji` does. Where the
pattern is not of the expected shape (another twitter-text release), or a text has a
marker or a character X refuses, the caller falls back to ``parse_tweet``.
``tests/content/test_length.py`` compares both on the conformance cases and on random texts.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from amplifier.content.emoji_markers import emoji_markers
from amplifier.content.twittertext import extract_urls_with_indices, pattern, possible_urls

_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")  # parse_tweet's convert_line_ending


@lru_cache(maxsize=8)
def _light_characters(options_key: tuple[tuple[int, int, int], ...]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\U{s:08x}-\\U{e:08x}" for s, e, _ in options_key) + "]")


def weight_bound(text: str, options: dict[str, Any]) -> int | None:
    """A weighted length parse_tweet's can only be below or equal to, found without any URL
    search; None when the text may hold an emoji or a character X refuses.

    Every character at its own weight, plus, for every place a URL could be
    (:func:`possible_urls`), ``transformed_url_length`` less the least 3 characters can weigh:
    a URL found weighs that length in place of its characters (at least 3), and each URL
    holds at least one of those places. Enough to know that a
    text fits without the exact count (and twitter-text's URL patterns).
    """
    markers = emoji_markers()
    ranges = tuple((r["start"], r["end"], r["weight"]) for r in options["ranges"])
    if markers is None or len({weight for _, _, weight in ranges}) > 1:
        return None
    normalized = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    if not markers.isdisjoint(normalized) or pattern("invalid_chars").search(normalized):
        return None
    light = len(_light_characters(ranges).findall(normalized))
    light_weight = ranges[0][2] if ranges else options["default_weight"]
    total = light * light_weight + (len(normalized) - light) * options["default_weight"]
    # A URL is at least 3 characters ("a.b"), each weighing at least the lighter weight.
    lightest = min(light_weight, options["default_weight"])
    per_url = max(0, options["transformed_url_length"] * options["scale"] - 3 * lightest)
    total += possible_urls(normalized) * per_url
    return int(total / options["scale"])


def weighed_without_emoji(text: str, options: dict[str, Any]) -> tuple[int, bool] | None:
    """(weighted length, valid) exactly as parse_tweet gives them, or None to ask it instead."""
    markers = emoji_markers()
    ranges = tuple((r["start"], r["end"], r["weight"]) for r in options["ranges"])
    if markers is None or len({weight for _, _, weight in ranges}) > 1:
        return None
    normalized = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    if not markers.isdisjoint(normalized) or pattern("invalid_chars").search(normalized):
        return None
    urls = extract_urls_with_indices(normalized)
    url_chars = sum(len(entity["url"]) for entity in urls)
    counted = len(normalized) - url_chars
    light = len(_light_characters(ranges).findall(normalized))
    light -= sum(len(_light_characters(ranges).findall(entity["url"])) for entity in urls)
    light_weight = ranges[0][2] if ranges else options["default_weight"]
    total = light * light_weight + (counted - light) * options["default_weight"]
    total += len(urls) * options["transformed_url_length"] * options["scale"]
    weighted = int(total / options["scale"])
    return weighted, 0 < weighted <= options["max_weighted_tweet_length"]
