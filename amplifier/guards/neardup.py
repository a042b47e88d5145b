"""Near-duplicate search: every pair of texts at least ``threshold`` similar, and their clusters.

``similar_pairs(texts, threshold)`` returns exactly the pairs, with exactly the scores, that
comparing every pair with ``guards.similarity`` gives (the max of a word-order score and a
Jaccard index of word 2-shingles, defined in that module), comparing few of them:

1. Texts with the same words are one text: their pairs score 1.0.
2. A pair is a candidate only if it shares as many tokens as ``similarity >= t`` needs.
   With n >= m words:
   - order >= t needs M >= t(n+m)/2 words matched in order, in blocks of consecutive words.
     Consecutive blocks have an unmatched word between them in one text or the other, so
     the B blocks number at most n+m-2M+1, and each block of s words shares s-1 word pairs:
     the texts share at least M-B >= 3M-1-(n+m) >= (1.5t-1)(n+m)-1 word pairs (counted
     with repeats), and m >= t/(2-t) x n.
   - shingles >= t needs t x the larger set of distinct word pairs shared (Jaccard), so at
     least t x the pairs of either text, and sets of sizes within a factor t.
   Where the word-pair bound is not positive (t <= 2/3, or two very short texts), pairs
   are joined on words: order is at most the Dice index of the word multisets, so they
   share t/2 x (n+m) words (and shingles on their own sets, below 2/3).
3. Each candidate is scored with set arithmetic first (the shingle score, and the word
   multiset Dice index, a ceiling on the order score); ``SequenceMatcher`` runs only when
   that ceiling could lift the score over the shingle one.

How the shared tokens are counted (``_count_join``): texts are visited by size, and each is
counted against the smaller ones it could pair with. A token many texts hold (a word pair of
the campaign's few dozen words) is one Python int whose bit k says whether the k-th text
visited holds it; adding a text's such tokens into a few bit-sliced counters (bit k of
counter l is bit l of text k's count) and comparing them with the need takes a handful of
operations on machine words per token, whatever the texts share. A token few texts hold is
counted by visiting them. So the cost is linear in the tokens, plus, for crowded tokens, a
term quadratic in principle but 30 texts per machine-word step: 10,000 campaign posts take
well under a second, 20,000 about twice that (bench/bench_check.py measures it on a campaign
of a few dozen words and on one of ~500). What it replaced, and why:

- A prefix filter (PPJoin, the join before this one) visits, for each text, every text
  holding one of its rarest tokens. Posts of one campaign share their vocabulary, so even
  their rarest word pairs are common (7 of 19 needed: a 13-token prefix, most posts).
  On 5,000 posts of a 40-word vocabulary it took 14.6 s, 7.5 times its time at 2,500.
- Signatures of two or three tokens (pkwise): with a few dozen words, 7.6% of pairs of
  posts share two word pairs and 1.4% three, so collisions outgrow the count above.
- MinHash/LSH would miss pairs; the search must find every one.

``clusters(pairs)``: the pairs' connected sets, for "these 7 posts are alike" reports.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Generic, TypeVar

from amplifier.guards.similarity import Comparable, _similarity

K = TypeVar("K", bound=Hashable)
Token = int | tuple[int, int]
# need(text, its size, a partner's size): tokens the pair must share; smallest(text, size):
# the smallest partner size worth counting.
Need = Callable[[int, int, int], int]
Smallest = Callable[[int, int], int]


def _at_least(value: float) -> int:
    """ceil, minus float error (0.8 * 6 / 1.2 = 4.000...01 must give 4)."""
    return math.ceil(value - 1e-9)


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair ``(i, j, score)``, i < j, of ``texts`` with ``similarity >= threshold``,
    in order: exactly what comparing every pair gives."""
    with _no_cycle_collection():
        return _similar_pairs(texts, threshold)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The search allocates a few objects per word and makes no reference cycles, yet each
    allocation burst starts the cycle collector over everything the caller holds (a check's
    whole library): 25-30% of the search's time at 10,000 posts. Paused, then restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    items = [Comparable.of(text) for text in texts]
    groups: dict[tuple[str, ...] | str, list[int]] = {}
    for index, item in enumerate(items):
        # Texts with no word are similar only when equal once casefolded (a str key never
        # equals a tuple of words).
        key = item.words or item.text.strip().casefold()
        groups.setdefault(key, []).append(index)
    found = [(i, j, 1.0) for members in groups.values() for i, j in combinations(members, 2)]
    heads = [members[0] for key, members in groups.items() if isinstance(key, tuple)]
    distinct = [items[i] for i in heads]
    for a, b in _candidates(distinct, threshold):
        # The order score depends on which text comes first: score each way once, if needed.
        scores: dict[bool, float] = {}
        for i in groups[distinct[a].words]:
            for j in groups[distinct[b].words]:
                forward = i < j
                if forward not in scores:
                    first, second = (
                        (distinct[a], distinct[b]) if forward else (distinct[b], distinct[a])
                    )
                    scores[forward] = _score(first, second)
                if scores[forward] >= threshold:
                    found.append((min(i, j), max(i, j), scores[forward]))
    found.sort()
    return found


def _candidates(items: Sequence[Comparable], threshold: float) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of texts with words, all different, that may reach the threshold
    one way or the other: no pair that does is left out."""
    words = [len(item.words) for item in items]
    pairs, counted, shingles = _tokens(items)
    distinct_pairs = [len(item.shingles) for item in items]
    slope = 1.5 * threshold - 1  # word pairs shared per word, from the block bound
    dice = threshold / (2 - threshold)  # a partner of n words has at least dice x n
    short = math.inf if slope <= 0 else 1 / slope - 1  # the word-pair bound is <= 0 up to here
    candidates: set[tuple[int, int]] = set()
    joined = [i for i, size in enumerate(words) if size <= short]
    by_words = _count_join(
        [counted(i) for i in joined],
        [words[i] for i in joined],
        need=lambda _, n, m: _at_least(threshold / 2 * (n + m)),
        smallest=lambda _, n: _at_least(dice * n),
    )
    candidates.update((joined[a], joined[b]) for a, b in by_words)
    if slope > 0:
        # Shingles >= t needs t x the larger set of distinct word pairs shared, so at least
        # t x this text's; order >= t needs the block bound. Either may hold.
        longest = 2 * max(words, default=0)
        by_order = [_at_least(slope * total - 1) for total in range(longest + 1)]
        by_shingles = [_at_least(threshold * size) for size in distinct_pairs]
        by_dice = [_at_least(dice * size) for size in range(longest + 1)]
        candidates.update(
            _count_join(
                pairs,
                words,
                need=lambda i, n, m: max(1, min(by_order[n + m], by_shingles[i])),
                smallest=lambda i, n: min(by_dice[n], by_shingles[i] + 1),
            )
        )
    else:
        share = threshold / (1 + threshold)
        candidates.update(
            _count_join(
                [shingles(i) for i in range(len(items))],
                distinct_pairs,
                need=lambda _, n, m: _at_least(share * (n + m)),
                smallest=lambda _, n: _at_least(threshold * n),
            )
        )
    multisets: dict[int, frozenset[tuple[str, int]]] = {}
    kept = []
    for i, j in sorted(candidates):
        a, b = items[i], items[j]
        # Set arithmetic first (both ways the same): the shingle score, and a ceiling on the
        # order score (the word-multiset Dice index).
        jaccard = len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
        for index, item in ((i, a), (j, b)):
            if index not in multisets:
                multisets[index] = item.counted_words()
        ceiling = 2 * len(multisets[i] & multisets[j]) / (len(a.words) + len(b.words))
        if max(jaccard, ceiling) >= threshold:
            kept.append((i, j))
    return kept


def _score(a: Comparable, b: Comparable) -> float:
    """``similarity(a, b)``; SequenceMatcher only when the word-multiset ceiling on the order
    score could lift it over the shingle score."""
    jaccard = len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
    shared = len(a.counted_words() & b.counted_words())
    ceiling = 2 * shared / (len(a.words) + len(b.words))
    return jaccard if ceiling <= jaccard else _similarity(a, b)


def _tokens(
    items: Sequence[Comparable],
) -> tuple[list[list[Token]], Callable[[int], list[Token]], Callable[[int], list[Token]]]:
    """Each text's word pairs as ints, a repeated pair as (int, n-th time): a multiset as a
    set; and functions giving a text's words the same way, and its set of shingles (word
    pairs, or the word of a one-word text), for the joins that need them."""
    ids: dict[str, int] = {}
    for item in items:
        for word in item.words:
            if word not in ids:
                ids[word] = len(ids)
    vocabulary = len(ids)
    numbered = [[ids[word] for word in item.words] for item in items]
    pairs: list[list[Token]] = []
    for words in numbered:
        keys = [a * vocabulary + b for a, b in pairwise(words)]
        pairs.append(list(keys) if len(set(keys)) == len(keys) else _counted(keys))

    def counted(index: int) -> list[Token]:
        words = numbered[index]
        return list(words) if len(set(words)) == len(words) else _counted(words)

    def shingles(index: int) -> list[Token]:
        words = numbered[index]
        if len(words) == 1:
            return [-1 - words[0]]  # negative: never a word pair's key
        return list({a * vocabulary + b for a, b in pairwise(words)})

    return pairs, counted, shingles


def _counted(keys: list[int]) -> list[Token]:
    seen: dict[int, int] = {}
    tokens: list[Token] = []
    for key in keys:
        times = seen[key] = seen.get(key, 0) + 1
        tokens.append(key if times == 1 else (key, times))
    return tokens


def _count_join(
    token_lists: Sequence[Sequence[Token]],
    sizes: Sequence[int],
    *,
    need: Need,
    smallest: Smallest,
) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, i < j, whose token lists (no token twice in a list) share at least
    ``need(x, size x, size y)`` tokens, x the one of larger size, y a partner of size at least
    ``smallest(x, size x)``; ``need`` must not fall as the partner's size grows.

    Lists are visited by size; each is counted against the smaller ones. A token many lists
    hold is counted for all of them at once: ``crowded`` maps it to an int whose bit k says
    the k-th list visited holds it. A token few lists hold is cheaper to count by visiting
    them: ``sparse`` maps it to their positions.
    """
    order = sorted((i for i, tokens in enumerate(token_lists) if tokens), key=sizes.__getitem__)
    ordered_sizes = [sizes[i] for i in order]
    held = Counter(token for tokens in token_lists for token in tokens)
    many = CROWDED_FROM + len(order) // CROWDED_PER
    crowded: dict[Token, int] = {}
    sparse: dict[Token, list[int]] = {}
    pairs: set[tuple[int, int]] = set()
    for position, i in enumerate(order):
        tokens = token_lists[i]
        n = ordered_sizes[position]
        low = bisect_left(ordered_sizes, smallest(i, n), 0, position)
        if low < position:
            shared = _Shared(tokens, crowded, sparse, low)
            for other in shared.enough(i, n, ordered_sizes, position, need):
                j = order[other]
                pairs.add((j, i) if j < i else (i, j))
        bit = 1 << position
        for token in tokens:
            if held[token] >= many:
                crowded[token] = crowded.get(token, 0) | bit
            else:
                sparse.setdefault(token, []).append(position)
    return pairs


# A token held by at least CROWDED_FROM + lists / CROWDED_PER lists is counted bit-parallel:
# below that, visiting its holders one by one takes fewer steps (measured on bench_check's
# campaigns at 5,000 to 20,000 posts).
CROWDED_FROM = 8
CROWDED_PER = 1000


class _Shared:
    """How many tokens one list shares with each list visited before it, from ``low`` on."""

    def __init__(
        self,
        tokens: Sequence[Token],
        crowded: dict[Token, int],
        sparse: dict[Token, list[int]],
        low: int,
    ) -> None:
        self.low = low
        self.counters: list[int] = []  # bit-sliced: bit k of counters[l] is bit l of a count
        self.crowded = 0  # crowded tokens some earlier list holds: the most counters can add
        self.visited: dict[int, int] = {}  # position -> sparse tokens shared
        for token in tokens:
            holders = crowded.get(token)
            if holders is None:
                positions = sparse.get(token, ())
                for position in positions[bisect_left(positions, low) :]:
                    self.visited[position] = self.visited.get(position, 0) + 1
                continue
            carry = holders >> low
            if not carry:
                continue
            self.crowded += 1
            for level, bits in enumerate(self.counters):
                self.counters[level] = bits ^ carry
                carry &= bits
                if not carry:
                    break
            else:
                self.counters.append(carry)

    def enough(self, text: int, size: int, sizes: Sequence[int], end: int, need: Need) -> list[int]:
        """Positions (before ``end``) sharing what ``need`` asks with ``text``."""
        found = []
        for position, count in self.visited.items():
            wanted = need(text, size, sizes[position])
            if count + self.crowded < wanted:
                continue
            if count < wanted:
                shift = position - self.low
                count += sum(
                    (bits >> shift & 1) << level for level, bits in enumerate(self.counters)
                )
            if count >= wanted:
                found.append(position)
        if not self.counters:
            return found
        bits = 0
        start = self.low
        while start < end:
            # Sizes come sorted: one threshold per run of sizes needing the same.
            wanted = need(text, size, sizes[start])
            stop = bisect_left(sizes, sizes[start] + 1, start, end)
            while stop < end and need(text, size, sizes[stop]) == wanted:
                stop = bisect_left(sizes, sizes[stop] + 1, stop, end)
            if wanted < 1 << len(self.counters):
                window = ((1 << (stop - start)) - 1) << (start - self.low)
                bits |= _at_least_count(self.counters, wanted) & window
            start = stop
        while bits:
            lowest = bits & -bits
            found.append(self.low + lowest.bit_length() - 1)
            bits ^= lowest
        return found


def _at_least_count(counters: list[int], wanted: int) -> int:
    """Bits whose bit-sliced count is at least ``wanted`` (>= 1)."""
    greater, equal = 0, -1  # compared so far from the top level: count above / equal
    for level in range(len(counters) - 1, -1, -1):
        bits = counters[level]
        if wanted >> level & 1:
            equal &= bits
        else:
            greater |= equal & bits
            equal &= ~bits
    return greater | equal


# -- clusters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster(Generic[K]):
    """Items joined by similar pairs (each alike to at least one other), and the closest pair."""

    members: tuple[K, ...]
    closest: tuple[K, K, float]


def clusters(pairs: Iterable[tuple[K, K, float]]) -> list[Cluster[K]]:
    """The connected groups of ``pairs``, members in the order they first appear, groups in
    the order of their first member."""
    parent: dict[K, K] = {}
    seen: dict[K, int] = {}  # item -> order of first appearance

    def root(item: K) -> K:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    best: dict[K, tuple[K, K, float]] = {}
    listed = list(pairs)
    for a, b, _ in listed:
        for item in (a, b):
            if item not in parent:
                parent[item] = item
                seen[item] = len(seen)
        ra, rb = root(a), root(b)
        if ra != rb:
            first, second = (ra, rb) if seen[ra] < seen[rb] else (rb, ra)
            parent[second] = first
    for a, b, score in listed:
        top = root(a)
        if top not in best or score > best[top][2]:
            best[top] = (a, b, score)
    members: dict[K, list[K]] = {}
    for item in seen:
        members.setdefault(root(item), []).append(item)
    return [Cluster(tuple(group), best[top]) for top, group in members.items()]
