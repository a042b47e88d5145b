"""How long each network says a text is.

- X: twitter-text config v3 through the twitter-text-parser package (NFC, URLs 23,
  emoji 2, CJK and most non-Latin scripts 2). It passes the official conformance cases.
- Mastodon: ``StatusLengthValidator#countable_text`` rewritten in Python: URLs found by
  twitter-text's extractor *with Mastodon's regex overrides* (config/initializers/
  twitter_regex.rb) count as ``url_length`` characters, ``@user@domain`` counts as
  ``@user``, and the rest counts grapheme clusters.
- Bluesky: grapheme clusters (300) and UTF-8 bytes (3000), as the post lexicon says.

Differences from Mastodon that remain (all far from anything a campaign post contains):
the content warning is not counted here (measure it separately when one is used);
grapheme and ``[[:word:]]`` tables come from the ``regex`` module's Unicode version,
not Ruby's; IDNA checks use Python's IDNA 2003 codec instead of libidn.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex

from amplifier.config import NetworkLimits
from amplifier.content.twittertext import defaults, parse_tweet, pattern
from amplifier.content.xweight import weighed_without_emoji, weight_bound
from amplifier.errors import RenderError

if TYPE_CHECKING:
    from amplifier.networks.base import NetworkName

GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """Number of extended grapheme clusters: what a person sees as one character."""
    if not text or max(text) < "\u0100":
        # Latin-1 has no combining, joining or prepended characters: every character is a
        # cluster of its own except CR LF (UAX #29 GB3), and no regex is needed.
        return len(text) - text.count("\r\n")
    return len(GRAPHEME.findall(text))


def utf8_bytes(text: str) -> int:
    """Length in UTF-8 bytes (Bluesky's lexicon caps post text at 3000)."""
    return len(text.encode("utf-8"))


# --- X -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class XCount:
    """twitter-text's verdict: weighted length and whether X would accept the text."""

    weighted_length: int
    valid: bool  # 0 < weighted_length <= 280 and no characters X refuses


@lru_cache(maxsize=8)
def _x_options(url_length: int) -> dict[str, Any]:
    return {**defaults(), "transformed_url_length": url_length}


@lru_cache(maxsize=1024)  # check measures each text, then renders it: the same text twice
def x_count(text: str, url_length: int = 23) -> XCount:
    """Weighted length and validity under twitter-text config v3."""
    options = _x_options(url_length)
    counted = weighed_without_emoji(text, options)  # exact, and ~20x faster, when it answers
    if counted is not None:
        return XCount(weighted_length=counted[0], valid=counted[1])
    parsed = parse_tweet(text, options)
    return XCount(weighted_length=int(parsed.weightedLength), valid=bool(parsed.valid))


def x_length_bound(text: str, url_length: int = 23) -> int | None:
    """A number X's weighted length is at most, found without twitter-text's URL and emoji
    patterns; None when the text may hold an emoji (then only :func:`x_length` answers)."""
    return weight_bound(text, _x_options(url_length))


def x_length(text: str, url_length: int = 23) -> int:
    """X's weighted length (config v3): the number compared with 280."""
    return x_count(text, url_length).weighted_length


def x_invalid_characters(text: str) -> list[str]:
    """Characters X refuses outright (U+FFFE, U+FEFF, U+FFFF), as U+XXXX names."""
    normalized = unicodedata.normalize("NFC", text)
    return sorted({f"U+{ord(ch):04X}" for ch in pattern("invalid_chars").findall(normalized)})


# --- Mastodon ----------------------------------------------------------------------------

# Mastodon's twitter_regex.rb replaces these twitter-text pieces; the domain, port and
# preceding-character rules stay twitter-text's, so those are reused from the package.
_WS = r"\p{White_Space}"
_PATH_CHAR = rf"[^{_WS}<>()?]"
_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_UCHARS = (
    r"\u00A0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF\U00010000-\U0001FFFD\U00020000-\U0002FFFD"
    r"\U00030000-\U0003FFFD\U00040000-\U0004FFFD\U00050000-\U0005FFFD\U00060000-\U0006FFFD"
    r"\U00070000-\U0007FFFD\U00080000-\U0008FFFD\U00090000-\U0009FFFD\U000A0000-\U000AFFFD"
    r"\U000B0000-\U000BFFFD\U000C0000-\U000CFFFD\U000D0000-\U000DFFFD\U000E1000-\U000EFFFD"
    r"\U0000E000-\U0000F8FF\U000F0000-\U000FFFFD\U00100000-\U0010FFFD"
)
_QUERY_CHAR = rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@\^{_UCHARS}]"
_QUERY_END = rf"[a-z0-9_&=#/\-{_UCHARS}]"


@lru_cache(maxsize=1)
def mastodon_url() -> regex.Pattern[str]:
    """Mastodon's URL pattern, compiled on first use (~30 ms, and twitter-text's domain
    patterns): only a text with ``://`` in it is ever searched with it."""
    # Ruby interpolates the path-ending class before it redefines the balanced parens, so the
    # ending keeps twitter-text's original parens while the path body uses the new ones.
    balanced = pattern("valid_url_balanced_parens").pattern
    path_end = rf"""(?:[^{_WS}()?!*"'「」<>;:=,.$%\[\]~&|@]|(?:{balanced}))"""
    path = rf"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{path_end})|(?:{_PATH_CHAR}+/))"
    return regex.compile(
        rf"(?P<before>{pattern('valid_url_preceding_chars').pattern})"
        r"(?P<url>"
        r"(?P<protocol>(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://)?"
        rf"(?P<domain>{pattern('valid_domain').pattern})"
        r"(?::[0-9]+)?"
        rf"(?:/{path}*)?"
        rf"(?:\?{_QUERY_CHAR}*{_QUERY_END})?"
        r")",
        regex.IGNORECASE | regex.V0,
    )


_WORD = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"  # Ruby's [[:word:]]
# Account::MENTION_RE: group "name" is user or user@domain.
MASTODON_MENTION = regex.compile(
    rf"(?<![=/]|{_WORD})@(?P<name>(?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@{_WORD}+(?:[.-]+{_WORD}+)*)?)"
)
# twitter-text's end_mention_match: a mention followed by these is not a mention.
_MENTION_END = regex.compile(rf"[@＠{pattern('latin_accent_chars').pattern}]|://")
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_DOMAIN_LENGTH = 253


def _valid_domain_length(url_length: int, domain: str, has_protocol: bool) -> bool:
    """twitter-text's is_valid_domain: the IDNA-encoded URL must stay within 4096."""
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    url_length += max(0, len(encoded) - len(domain))
    if not has_protocol:
        url_length += len("https://")
    return url_length <= _MAX_URL_LENGTH


def _mastodon_urls(text: str) -> list[tuple[int, int, str]]:
    """URLs as Extractor.extract_urls_with_indices(extract_url_without_protocol: false)."""
    if "://" not in text:  # only URLs with a protocol count, and every protocol ends so
        return []
    found: list[tuple[int, int, str]] = []
    for match in mastodon_url().finditer(text):
        if match.group("protocol") is None:
            continue
        start, end = match.span("url")
        url = match.group("url")
        tco = pattern("valid_tco_url").match(url)
        if tco:
            if tco.group(1) and len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                continue
            end = start + len(tco.group(0))
        if not _valid_domain_length(end - start, match.group("domain"), True):
            continue
        found.append((start, end, "url"))
    return found


def _mastodon_mentions(text: str) -> list[tuple[int, int, str]]:
    """Mentions as Extractor.extract_mentions_or_lists_with_indices, keeping the name."""
    if "@" not in text and "＠" not in text:
        return []
    found: list[tuple[int, int, str]] = []
    for match in MASTODON_MENTION.finditer(text):
        if _MENTION_END.match(text, match.end()):
            continue
        name = match.group("name")
        _, _, domain = name.partition("@")
        if len(domain) > _MAX_DOMAIN_LENGTH:
            continue
        found.append((match.start(), match.end(), name))
    return found


def mastodon_countable_text(text: str, url_length: int = 23) -> str:
    """The text Mastodon measures: URLs -> 'x' * url_length, @user@domain -> @user."""
    if not text or text.isspace():
        return ""  # Ruby's blank? counts as empty
    entities = sorted(_mastodon_urls(text) + _mastodon_mentions(text), key=lambda e: e[0])
    kept: list[tuple[int, int, str]] = []
    for entity in entities:  # remove_overlapping_entities: the earlier one wins
        if kept and kept[-1][1] > entity[0]:
            continue
        kept.append(entity)
    pieces: list[str] = []
    index = 0
    for start, end, what in kept:
        pieces.append(text[index:start])
        pieces.append("x" * url_length if what == "url" else "@" + what.split("@")[0])
        index = end
    pieces.append(text[index:])
    return "".join(pieces)


# The shortest URL Mastodon counts: a protocol ("dat://", "ssb://") and a domain ("a.b").
_SHORTEST_MASTODON_URL = len("dat://a.b")


def mastodon_length_bound(text: str, url_length: int = 23) -> int:
    """A number Mastodon's count is at most, found without its URL pattern: every character
    counts at most 1 (a grapheme holds one or more), and a URL, which holds a ``://`` of its
    own, counts ``url_length`` in place of at least 9 characters (a mention only shrinks)."""
    return len(text) + text.count("://") * max(0, url_length - _SHORTEST_MASTODON_URL)


@lru_cache(maxsize=1024)
def mastodon_length(text: str, url_length: int = 23) -> int:
    """Mastodon's StatusLengthValidator count for a status body (content warning excluded)."""
    return graphemes(mastodon_countable_text(text, url_length))


# --- Bluesky -----------------------------------------------------------------------------


def bluesky_length(text: str) -> int:
    """Bluesky's count: grapheme clusters (limit 300); links count in full."""
    return graphemes(text)


def measure(text: str, network: NetworkName, limits: NetworkLimits) -> int:
    """The length ``network`` compares with ``limits.max_length``."""
    if network == "x":
        return x_length(text, limits.url_length)
    if network == "mastodon":
        return mastodon_length(text, limits.url_length)
    if network == "bluesky":
        return bluesky_length(text)
    raise RenderError(f"unknown network {network!r}")
