"""The characters every emoji twitter-text recognises contains, known without compiling it.

twitter-text's emoji pattern has 2,564 alternatives built from a 395 kB table; importing it
compiles them (~40 ms a start). :mod:`amplifier.content.xweight` needs only its "markers":
a match of the pattern must contain at least one (each alternative's first character, or
for the keycap alternatives that start with an ASCII ``#``, ``*`` or digit, the first
non-ASCII character they require), so a text without any has no emoji.

They are written out below, with a digest of the two files the pattern is built from. When
the installed twitter-text's files have that digest, the written set is the answer; when
they differ (another release) the set is derived from the live pattern, as before.
``tests/content/test_twittertext.py`` derives it and compares; to refresh after an upgrade,
print ``derived_markers()`` as ranges and ``source_digest()``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from amplifier.content.twittertext import package_folder, pattern

# sha256 of twitter_text/regexp/emoji.py then emoji-test.txt (twitter-text-parser 3.0.0).
SOURCE_DIGEST = "0b2a05a205b9fc99eab3b19763511f003b52e0569b9f298af7c572474983ea85"
MARKER_RANGES: tuple[tuple[int, int], ...] = (
    (0xA9, 0xA9),
    (0xAE, 0xAE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x20E3, 0x20E3),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2604),
    (0x260E, 0x260E),
    (0x2611, 0x2611),
    (0x2614, 0x2615),
    (0x2618, 0x2618),
    (0x261D, 0x261D),
    (0x2620, 0x2620),
    (0x2622, 0x2623),
    (0x2626, 0x2626),
    (0x262A, 0x262A),
    (0x262E, 0x262F),
    (0x2638, 0x263A),
    (0x2640, 0x2640),
    (0x2642, 0x2642),
    (0x2648, 0x2653),
    (0x265F, 0x2660),
    (0x2663, 0x2663),
    (0x2665, 0x2666),
    (0x2668, 0x2668),
    (0x267B, 0x267B),
    (0x267E, 0x267F),
    (0x2692, 0x2697),
    (0x2699, 0x2699),
    (0x269B, 0x269C),
    (0x26A0, 0x26A1),
    (0x26AA, 0x26AB),
    (0x26B0, 0x26B1),
    (0x26BD, 0x26BE),
    (0x26C4, 0x26C5),
    (0x26C8, 0x26C8),
    (0x26CE, 0x26CF),
    (0x26D1, 0x26D1),
    (0x26D3, 0x26D4),
    (0x26E9, 0x26EA),
    (0x26F0, 0x26F5),
    (0x26F7, 0x26FA),
    (0x26FD, 0x26FD),
    (0x2702, 0x2702),
    (0x2705, 0x2705),
    (0x2708, 0x270D),
    (0x270F, 0x270F),
    (0x2712, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2764),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0xFE0F, 0xFE0F),
    (0x1F004, 0x1F004),
    (0x1F0CF, 0x1F0CF),
    (0x1F170, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1E6, 0x1F1FF),
    (0x1F201, 0x1F202),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F250, 0x1F251),
    (0x1F300, 0x1F321),
    (0x1F324, 0x1F393),
    (0x1F396, 0x1F397),
    (0x1F399, 0x1F39B),
    (0x1F39E, 0x1F3F0),
    (0x1F3F3, 0x1F3F5),
    (0x1F3F7, 0x1F3FA),
    (0x1F400, 0x1F4FD),
    (0x1F4FF, 0x1F53D),
    (0x1F549, 0x1F54E),
    (0x1F550, 0x1F567),
    (0x1F56F, 0x1F570),
    (0x1F573, 0x1F57A),
    (0x1F587, 0x1F587),
    (0x1F58A, 0x1F58D),
    (0x1F590, 0x1F590),
    (0x1F595, 0x1F596),
    (0x1F5A4, 0x1F5A5),
    (0x1F5A8, 0x1F5A8),
    (0x1F5B1, 0x1F5B2),
    (0x1F5BC, 0x1F5BC),
    (0x1F5C2, 0x1F5C4),
    (0x1F5D1, 0x1F5D3),
    (0x1F5DC, 0x1F5DE),
    (0x1F5E1, 0x1F5E1),
    (0x1F5E3, 0x1F5E3),
    (0x1F5E8, 0x1F5E8),
    (0x1F5EF, 0x1F5EF),
    (0x1F5F3, 0x1F5F3),
    (0x1F5FA, 0x1F64F),
    (0x1F680, 0x1F6C5),
    (0x1F6CB, 0x1F6D2),
    (0x1F6D5, 0x1F6D5),
    (0x1F6E0, 0x1F6E5),
    (0x1F6E9, 0x1F6E9),
    (0x1F6EB, 0x1F6EC),
    (0x1F6F0, 0x1F6F0),
    (0x1F6F3, 0x1F6FA),
    (0x1F7E0, 0x1F7EB),
    (0x1F90D, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1F971),
    (0x1F973, 0x1F976),
    (0x1F97A, 0x1F9A2),
    (0x1F9A5, 0x1F9AA),
    (0x1F9AE, 0x1F9AF),
    (0x1F9B4, 0x1F9CA),
    (0x1F9CD, 0x1F9FF),
    (0x1FA70, 0x1FA73),
    (0x1FA78, 0x1FA7A),
    (0x1FA80, 0x1FA82),
    (0x1FA90, 0x1FA95),
)


def source_digest() -> str:
    """The digest of the installed files the emoji pattern is built from."""
    folder = package_folder() / "regexp"
    digest = hashlib.sha256()
    for name in ("emoji.py", "emoji-test.txt"):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def emoji_markers() -> frozenset[str] | None:
    """The marker characters, or None if the emoji pattern's shape is new."""
    try:
        if source_digest() == SOURCE_DIGEST:
            return frozenset(chr(c) for start, end in MARKER_RANGES for c in range(start, end + 1))
    except OSError:
        pass  # files not where expected: ask the pattern itself
    return derived_markers()


def _first_non_ascii_literal(items: list[tuple[Any, Any]], literal: Any) -> int | None:
    for op, value in items:
        if op is not literal:
            return None  # something optional or repeated before it: cannot rely on it
        if value > 0x7F:
            return int(value)
    return None


def derived_markers() -> frozenset[str] | None:
    """The markers read from twitter-text's compiled emoji pattern (imports it)."""
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        tree = parser.parse(pattern("emoji").pattern)
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
