"""Substantially similar texts: the score the distinct-text rule and ``amplifier check`` use.

``normalise(text)``: Unicode NFKC and casefold; remove URLs (what twitter-text finds, bare
domains included, and anything starting with http:// or https://), @mentions, #hashtags and
$cashtags; every other character that is not a letter, a digit or a mark becomes a space; the
rest splits on whitespace into words.

``similarity(a, b) = max(order, shingles)`` over the two word lists:

- order: ``difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()``, i.e. 2 x the words
  that match in order / all words. It catches edits: one word changed in 20 gives 0.95.
- shingles: the Jaccard index (shared / all) of the sets of word 2-shingles (each pair of
  consecutive words; the word itself for a one-word text). It catches reordered sentences,
  which keep every pair but the ones across the seams.

Texts are substantially similar when ``similarity >= similarity_threshold`` (0.8). Texts that
normalise to no word at all (only links or tags) are similar only when equal after casefolding.
So the same text with other hashtags or another link is identical (1.0); two posts sharing a
stock phrase but saying different things score well below 0.8. tests/guards/test_compliance.py lists
pairs on each side of the line.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from amplifier.content import extract_urls
from amplifier.guards.text import CASHTAG, MENTION

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{Nd}_&/=])[#＃][\p{L}\p{M}\p{Nd}_]+")
_NOT_WORD = regex.compile(r"[^\p{L}\p{M}\p{Nd}]+")


@lru_cache(maxsize=4096)
def normalise(text: str) -> tuple[str, ...]:
    """The words similarity compares: no links, mentions, hashtags, cashtags or punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for url in sorted(extract_urls(folded), key=len, reverse=True):
        folded = folded.replace(url, " ")
    folded = _URL.sub(" ", folded)
    folded = MENTION.sub(" ", folded)
    folded = _HASHTAG.sub(" ", folded)
    folded = CASHTAG.sub(" ", folded)
    return tuple(_NOT_WORD.sub(" ", folded).split())


def _shingles(words: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    if len(words) < 2:
        return frozenset({words})
    return frozenset(words[i : i + 2] for i in range(len(words) - 1))


@dataclass(frozen=True)
class Comparable:
    """A text as ``similarity`` sees it, normalised once."""

    text: str
    words: tuple[str, ...]
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, text: str) -> Comparable:
        words = normalise(text)
        return cls(text, words, _shingles(words) if words else frozenset())

    def counted_pairs(self) -> frozenset[tuple[str, str, int]]:
        """Consecutive word pairs with their n-th occurrence: a multiset as a plain set."""
        seen: dict[tuple[str, str], int] = {}
        tokens = []
        for pair in zip(self.words, self.words[1:], strict=False):
            seen[pair] = seen.get(pair, 0) + 1
            tokens.append((*pair, seen[pair]))
        return frozenset(tokens)

    def counted_words(self) -> frozenset[tuple[str, int]]:
        """The words as a set of (word, n-th occurrence): a multiset as a plain set."""
        seen: dict[str, int] = {}
        tokens = []
        for word in self.words:
            seen[word] = seen.get(word, 0) + 1
            tokens.append((word, seen[word]))
        return frozenset(tokens)


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0.0 to 1.0, as the module docstring defines it."""
    return _similarity(Comparable.of(a), Comparable.of(b))


def _similarity(a: Comparable, b: Comparable) -> float:
    if not a.words or not b.words:
        return 1.0 if a.text.strip().casefold() == b.text.strip().casefold() else 0.0
    order = difflib.SequenceMatcher(None, a.words, b.words, autojunk=False).ratio()
    shingles = len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
    return max(order, shingles)
