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
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

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


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair ``(i, j, score)``, i < j, of ``texts`` with ``similarity >= threshold``.

    Exact, and far from comparing every pair (10,000 posts are 50 million pairs): a pair is
    scored only if a set-similarity join (``_overlap_candidates``) says it shares enough
    tokens to possibly reach the threshold. With n and m words and t the threshold:

    - shingles >= t needs ceil(t/(1+t) x (sizes)) shared 2-shingles (Jaccard).
    - order >= t needs M >= t(n+m)/2 words matched in order, in blocks of consecutive words.
      Consecutive blocks have an unmatched word between them in one text or the other, so
      the B blocks number at most n+m-2M+1, and each block of s words shares s-1 word pairs:
      the texts share at least M-B >= 3M-1-(n+m) >= (1.5t-1)(n+m)-1 word pairs (counted
      with repeats). Word pairs are rare, so above t = 2/3 this join is near-linear in the
      number of texts. Pairs this bound cannot reach (it is <= 0 for very short texts, and
      for any t <= 2/3) are joined on words instead: order is at most the Dice index of the
      word multisets, so they share ceil(t(n+m)/2) words.
    """
    items = [Comparable.of(text) for text in texts]
    candidates: set[tuple[int, int]] = set()
    wordless: dict[str, list[int]] = {}  # no words: similar only when equal, casefolded
    for index, item in enumerate(items):
        if not item.words:
            wordless.setdefault(item.text.strip().casefold(), []).append(index)
    for group in wordless.values():
        candidates.update(combinations(group, 2))
    counted = [item.counted_words() for item in items]
    shingle_share = threshold / (1 + threshold)
    candidates |= _overlap_candidates(
        [item.shingles for item in items],
        least=lambda n: _at_least(threshold * n),
        need=lambda n, m: _at_least(shingle_share * (n + m)),
    )
    slope = 1.5 * threshold - 1  # word pairs shared per word, from the block bound above
    # Texts of up to `short` words may pair with a text the word-pair bound cannot reach.
    short = math.inf if slope <= 0 else 1 / slope - 1
    word_join = [i for i, item in enumerate(items) if 0 < len(item.words) <= short]
    dice = threshold / (2 - threshold)  # the partner of n words has at least dice x n
    found_by_words = _overlap_candidates(
        [counted[i] for i in word_join],
        least=lambda n: _at_least(dice * n),
        need=lambda n, m: _at_least(threshold / 2 * (n + m)),
    )
    candidates |= {(word_join[a], word_join[b]) for a, b in found_by_words}
    if slope > 0:
        # Sizes here are word pairs, n - 1 for n words.
        candidates |= _overlap_candidates(
            [item.counted_pairs() for item in items],
            least=lambda c: _at_least(slope * ((c + 1) * (1 + dice)) - 1),
            need=lambda c, d: _at_least(slope * (c + d + 2) - 1),
            smallest=lambda c: _at_least(dice * (c + 1)) - 1,
        )
    found = []
    for i, j in sorted(candidates):
        a, b = items[i], items[j]
        if not a.words or not b.words:
            score = _similarity(a, b)
        else:
            # Set arithmetic first: the shingle score exactly, and a ceiling on the order
            # score (the word-multiset Dice index). SequenceMatcher only when it can matter.
            shingles = len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
            ceiling = 2 * len(counted[i] & counted[j]) / (len(a.words) + len(b.words))
            if max(shingles, ceiling) < threshold:
                continue
            score = shingles if ceiling <= shingles else _similarity(a, b)
        if score >= threshold:
            found.append((i, j, score))
    return found


def _at_least(value: float) -> int:
    """ceil, minus float error (0.8 * 6 / 1.2 = 4.000...01 must give 4)."""
    return math.ceil(value - 1e-9)


def _overlap_candidates(
    token_sets: Sequence[frozenset[Any]],
    *,
    least: Callable[[int], int],
    need: Callable[[int, int], int],
    smallest: Callable[[int], int] | None = None,
) -> set[tuple[int, int]]:
    """Pairs of sets of sizes n >= m that may share ``need(n, m)`` tokens; never misses one
    whose need is at least 1.

    ``least(n)`` is the fewest tokens a set of size n must share with any partner, and
    ``smallest(n)`` (default ``least(n)``) the smallest partner it can have. A set-similarity
    join (prefix and positional filtering, as in PPJoin): tokens are ranked rarest first; a
    pair sharing k >= least(n) tokens shares a token within the first n - k + 1 of each set,
    so only those prefixes are indexed and probed. Sets are probed in order of size against
    the smaller ones already indexed; a pair is dropped as soon as the tokens left after a
    match cannot bring the overlap to what the pair needs.
    """
    smallest = smallest or least
    frequency: Counter[Any] = Counter(token for tokens in token_sets for token in tokens)
    ranked = sorted(frequency, key=frequency.__getitem__)  # ties: first seen first (stable)
    rank = {token: number for number, token in enumerate(ranked)}
    ordered = [sorted(rank[token] for token in tokens) for tokens in token_sets]
    index: dict[int, list[tuple[int, int]]] = {}  # token -> (set, position) of each prefix
    pairs: set[tuple[int, int]] = set()
    for i in sorted((i for i, x in enumerate(ordered) if x), key=lambda i: len(ordered[i])):
        x = ordered[i]
        n = len(x)
        prefix = min(n, n - max(least(n), 1) + 1)
        too_small = smallest(n)
        needs: dict[int, int] = {}  # partner size -> tokens the pair must share
        shared: dict[int, tuple[int, int]] = {}  # set -> (tokens shared so far, last position)
        dropped: set[int] = set()
        for p in range(prefix):
            for j, q in index.get(x[p], ()):
                m = len(ordered[j])
                if m < too_small or j in dropped:
                    continue
                wanted = needs.get(m)
                if wanted is None:
                    wanted = needs[m] = need(n, m)
                seen = shared[j][0] + 1 if j in shared else 1
                if seen + min(n - p - 1, m - q - 1) < wanted:
                    dropped.add(j)
                    shared.pop(j, None)
                else:
                    shared[j] = (seen, q)
        for j, (seen, q) in shared.items():
            # Every shared token ranked before x's last prefix token has been seen; what is
            # left can add at most the tokens after the prefix in x and after q in the other.
            m = len(ordered[j])
            if seen + min(n - prefix, m - q - 1) >= needs[m]:
                pairs.add((min(i, j), max(i, j)))
        for p in range(prefix):
            index.setdefault(x[p], []).append((i, p))
    return pairs
