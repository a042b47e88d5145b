"""X's weighted length for texts that hold no emoji, without twitter-text's emoji scan.

``parse_tweet`` searches every text with twitter-text's emoji pattern (2,564 alternatives,
tried at every position) and then weighs it one character at a time in Python: together
about 2 ms a post, most of ``amplifier check``'s time on a large folder. Most campaign texts
hold no emoji, and for those the answer is a count: characters in the light ranges, the
rest at the default weight, each URL at its transformed length.

Exactness: a match of the emoji pattern must contain at least one "marker" character,
derived below from the pattern itself (each alternative's first character, or for the
keycap alternatives that start with an ASCII ``#``, ``*`` or digit, the first non-ASCII
character they require). A text without any marker therefore has no emoji entity, and
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

from amplifier.content.twittertext import emoji as emoji_pattern
from amplifier.content.twittertext import extract_urls_with_indices, invalid_chars

_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")  # parse_tweet's convert_line_ending


def _first_non_ascii_literal(items: list[tuple[Any, Any]], literal: Any) -> int | None:
    for op, value in items:
        if op is not literal:
            return None  # something optional or repeated before it: cannot rely on it
        if value > 0x7F:
            return int(value)
    return None


@lru_cache(maxsize=1)
def emoji_markers() -> frozenset[str] | None:
    """The marker characters, or None if the emoji pattern's shape is new."""
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        tree = parser.parse(emoji_pattern.pattern)
        if len(tree.data) != 1 or tree.data[0][0] is not constants.BRANCH:
            return None
        markers: set[int] = set()
        for alternative in tree.data[0][1][1]:
            items = list(alternative.data)
            op, value = items[0]
            if op is constants.LITERAL and value > 0x7F:
                markers.add(value)
            elif op is constants.LITERAL:  # keycap: an ASCII start, a required non-ASCII part
                required = _first_non_ascii_literal(items[1:], constants.LITERAL)
                if required is None:
                    return None
                markers.add(required)
            elif op is constants.IN:
                for member, bounds in value:
                    if member is constants.LITERAL and bounds > 0x7F:
                        markers.add(bounds)
                    elif member is constants.RANGE and bounds[0] > 0x7F:
                        markers.update(range(bounds[0], bounds[1] + 1))
                    else:
                        return None
            else:
                return None
    except Exception:
        return None
    return frozenset(map(chr, markers))


@lru_cache(maxsize=8)
def _light_characters(options_key: tuple[tuple[int, int, int], ...]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\U{s:08x}-\\U{e:08x}" for s, e, _ in options_key) + "]")


def weighed_without_emoji(text: str, options: dict[str, Any]) -> tuple[int, bool] | None:
    """(weighted length, valid) exactly as parse_tweet gives them, or None to ask it instead."""
    markers = emoji_markers()
    ranges = tuple((r["start"], r["end"], r["weight"]) for r in options["ranges"])
    if markers is None or len({weight for _, _, weight in ranges}) > 1:
        return None
    normalized = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    if not markers.isdisjoint(normalized) or invalid_chars.search(normalized):
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
