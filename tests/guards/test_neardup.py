"""The near-duplicate search finds exactly what comparing every pair finds, and clusters it."""

from __future__ import annotations

import gc
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amplifier import guards
from amplifier.guards import neardup
from amplifier.guards.neardup import Cluster, clusters, similar_pairs
from amplifier.guards.similarity import similarity

THRESHOLDS = [0.5, 0.8, 0.95, 1.0]
# Tokens held by at least this many texts are counted bit-parallel, the others one holder at a
# time: every token one way, the other way, and mixed.
CROWDED_FROM = [0, 3, 10**9]
# A campaign's few words: texts drawn from them share most of their word pairs, the case a
# prefix filter handles worst and the one where a wrong bound would show.
WORDS = ["families", "children", "asylum", "detention", "Families", "children,"]
# More words, mostly once per text: edits then leave blocks of consecutive words in common.
CAMPAIGN = [
    *[
        "families",
        "belong",
        "together",
        "children",
        "asylum",
        "detention",
        "parents",
        "border",
        "courts",
    ],
    *["reunite", "separation", "rights", "law", "help", "call", "write", "vote", "act", "now"],
]
EXTRAS = ["#Together", "https://example.org/x", "@ana", "$AAA", "example.org", "—", "2018"]


def every_pair(texts: list[str], threshold: float) -> list[tuple[int, int, float]]:
    return [
        (i, j, score)
        for i, j in combinations(range(len(texts)), 2)
        if (score := similarity(texts[i], texts[j])) >= threshold
    ]


def text_from(vocabulary: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(vocabulary), max_size=14).map(" ".join)


# Few words, so that many texts repeat or nearly repeat each other; now and then a link,
# tag, mention or cashtag (dropped by normalise) or a text with no word at all.
small_texts = st.lists(
    st.one_of(
        text_from(WORDS[:2]),
        text_from(WORDS[:4]),
        text_from(WORDS + EXTRAS),
        st.sampled_from(["", "#Only #Tags", "#only #tags", "https://a.example", "one", "one."]),
    ),
    min_size=2,
    max_size=16,
)


def search(texts: list[str], threshold: float, crowded_from: int) -> list[tuple[int, int, float]]:
    """similar_pairs with tokens counted bit-parallel from ``crowded_from`` holders on."""
    default = neardup.CROWDED_FROM
    neardup.CROWDED_FROM = crowded_from
    try:
        return similar_pairs(texts, threshold)
    finally:
        neardup.CROWDED_FROM = default


@pytest.mark.parametrize("crowded_from", CROWDED_FROM)
@pytest.mark.parametrize("threshold", THRESHOLDS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=small_texts)
def test_same_pairs_and_scores_as_comparing_every_pair(
    threshold: float, crowded_from: int, texts: list[str]
) -> None:
    """On texts from a handful of words, the search returns exactly the pairs, scores and
    order that scoring every pair gives: none missed, none invented."""
    assert search(texts, threshold, crowded_from) == every_pair(texts, threshold)


@pytest.mark.parametrize("crowded_from", CROWDED_FROM)
@pytest.mark.parametrize("threshold", THRESHOLDS)
@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(st.sampled_from(CAMPAIGN), min_size=2, max_size=24),
    edits=st.lists(
        st.tuples(st.sampled_from(["drop", "insert", "swap"]), st.integers(0, 23)),
        max_size=12,
    ),
    copies=st.integers(2, 5),
)
def test_edited_copies_of_one_text(
    threshold: float, crowded_from: int, base: list[str], edits: list[tuple[str, int]], copies: int
) -> None:
    """Copies of one text with words dropped, swapped, or inserted between its word pairs:
    the blocks of two matched words that make the order score's bound on shared word pairs
    tight, so a bound one too high would miss a pair here."""
    texts = [" ".join(base)]
    for copy in range(1, copies):
        words = list(base)
        for number, (kind, spot) in enumerate(edits[: copy * 3]):
            spot %= len(words)
            if kind == "drop" and len(words) > 1:
                words.pop(spot)
            elif kind == "insert":
                words.insert(spot, f"new{number}")
            else:
                words[spot], words[-1 - spot] = words[-1 - spot], words[spot]
        texts.append(" ".join(words))
    assert search(texts, threshold, crowded_from) == every_pair(texts, threshold)


def test_a_repeated_text_is_scored_in_the_order_of_each_pair() -> None:
    """The order score is not symmetric (SequenceMatcher): a text repeated before and after
    another gets each pair's own score, as comparing the pair directly would."""
    texts = ["b b a a b b a", "a b a", "a b b a", "a b a"]
    assert similarity(texts[0], texts[1]) != similarity(texts[1], texts[0])
    assert similar_pairs(texts, 0.5) == every_pair(texts, 0.5)


def test_guards_similar_pairs_is_this_search() -> None:
    """amplifier.guards.similar_pairs, which the other stages call, gives the same answer."""
    texts = ["Families belong together.", "Families belong together!", "Asylum is a right."]
    assert guards.similar_pairs(texts, 0.8) == similar_pairs(texts, 0.8) == [(0, 1, 1.0)]


def test_clusters_join_chains_and_name_the_closest_pair() -> None:
    """Pairs sharing a member form one cluster (a chain is enough), members in order of
    first appearance, with the closest pair; unrelated pairs stay apart."""
    pairs = [("a", "b", 0.85), ("c", "d", 0.9), ("b", "e", 0.95), ("e", "f", 0.81)]
    assert clusters(pairs) == [
        Cluster(("a", "b", "e", "f"), ("b", "e", 0.95)),
        Cluster(("c", "d"), ("c", "d", 0.9)),
    ]


def test_clusters_merge_two_groups_found_apart() -> None:
    """A pair linking two clusters built so far merges them, first member first."""
    pairs = [(1, 2, 0.8), (3, 4, 0.8), (5, 3, 0.9), (2, 5, 0.82)]
    assert clusters(pairs) == [Cluster((1, 2, 3, 4, 5), (5, 3, 0.9))]
    assert clusters([]) == []


def test_the_cycle_collector_is_left_as_it_was() -> None:
    """The search pauses the cycle collector and restores it, on or off."""
    texts = ["Families belong together.", "Families belong together now."]
    assert gc.isenabled()
    similar_pairs(texts, 0.8)
    assert gc.isenabled()
    gc.disable()
    try:
        similar_pairs(texts, 0.8)
        assert not gc.isenabled()
    finally:
        gc.enable()
