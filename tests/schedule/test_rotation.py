"""Tests for amplifier.schedule.rotation: fairness, weights, no-repeat, reproducibility, state."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Mapping

import pytest

from amplifier.schedule.rotation import (
    RotationExhausted,
    RotationState,
    next_item,
    next_items,
    preview_items,
)


def run(
    weights: Mapping[str, int], seed: str, n: int, state: RotationState | None = None
) -> list[tuple[str, RotationState]]:
    """The next n picks, each with the state returned alongside it."""
    state = state or RotationState()
    out = []
    for _ in range(n):
        item, state = next_item(state, weights, seed)
        out.append((item, state))
    return out


def cycles_of(picks: list[tuple[str, RotationState]]) -> list[list[str]]:
    """Group picks by the cycle number in the state returned with them."""
    groups: dict[int, list[str]] = {}
    for item, state in picks:
        groups.setdefault(state.cycle, []).append(item)
    return [groups[c] for c in sorted(groups)]


def random_weights(rng: random.Random, size: int, top: int) -> dict[str, int]:
    return {f"t{i}": rng.randint(1, top) for i in range(size)}


def test_equal_weights_every_cycle_is_a_permutation() -> None:
    """With weight 1 each, every block of n picks uses every item exactly once."""
    for seed in range(40):
        for size in range(1, 8):
            weights = {f"t{i}": 1 for i in range(size)}
            picks = [item for item, _ in run(weights, f"s{seed}", size * 5)]
            for start in range(0, len(picks), size):
                assert sorted(picks[start : start + size]) == sorted(weights)


def test_every_item_used_once_before_any_repeat_with_mixed_weights() -> None:
    """Within a cycle no item gets its (r+1)-th use before every item of weight >= r has r uses."""
    rng = random.Random(7)
    for seed in range(60):
        weights = random_weights(rng, rng.randint(2, 7), 4)
        for cycle in cycles_of(run(weights, f"seed{seed}", 80))[:-1]:
            seen: Counter[str] = Counter()
            for item in cycle:
                r = seen[item]
                for other, weight in weights.items():
                    if weight >= r:
                        assert seen[other] >= r, (weights, cycle)
                seen[item] += 1


@pytest.mark.parametrize(
    "weights",
    [
        {"a": 3, "b": 3, "c": 2, "d": 1},
        {"a": 2, "b": 2},
        {"a": 2, "b": 1, "c": 1},
        {"a": 4, "b": 3, "c": 3, "d": 1, "e": 1},
        {"a": 1, "b": 1, "c": 1, "d": 1, "e": 5, "f": 5},
    ],
)
def test_weights_are_honoured_exactly_over_each_full_cycle(weights: dict[str, int]) -> None:
    """When no-repeat allows it, each completed cycle uses every item exactly weight times."""
    for seed in range(60):
        cycles = cycles_of(run(weights, f"w{seed}", sum(weights.values()) * 6))
        assert len(cycles) >= 6
        for cycle in cycles[:-1]:
            assert Counter(cycle) == Counter(weights), (seed, cycle)


def test_no_repeat_wins_over_an_unreachable_weight() -> None:
    """With a:3 b:1 the picks alternate: a repeat would be the only way to honour weight 3."""
    picks = [item for item, _ in run({"a": 3, "b": 1}, "x", 40)]
    assert picks == ["a", "b"] * 20 or picks == ["b", "a"] * 20


def test_no_immediate_repeat_across_1000_picks() -> None:
    """For many seeds, sizes (including 2) and weights, no item is picked twice in a row."""
    rng = random.Random(11)
    for seed in range(30):
        for size in (2, 3, 4, 7):
            weights = random_weights(rng, size, 4)
            picks = preview_items(RotationState(), weights, f"r{seed}", 1000)
            assert all(a != b for a, b in itertools.pairwise(picks)), weights
            assert set(picks) == set(weights)


def test_single_item_repeats_because_it_is_the_only_candidate() -> None:
    """A pool of one item keeps returning it rather than failing."""
    assert preview_items(RotationState(), {"only": 2}, "s", 5) == ["only"] * 5


def test_same_seed_gives_the_same_sequence() -> None:
    """Two runs from the same state and seed pick identically."""
    weights = {f"t{i}": 1 + i % 3 for i in range(9)}
    first = preview_items(RotationState(), weights, "account-42", 200)
    second = preview_items(RotationState(), weights, "account-42", 200)
    assert first == second


def test_different_seeds_give_different_sequences() -> None:
    """Different seeds shuffle differently (nearly all of 40 seeds give distinct orders)."""
    weights = {f"t{i}": 1 for i in range(8)}
    sequences = {tuple(preview_items(RotationState(), weights, f"acct{s}", 16)) for s in range(40)}
    assert len(sequences) >= 38
    a = preview_items(RotationState(), weights, "alice", 16)
    b = preview_items(RotationState(), weights, "bob", 16)
    assert a != b


def test_state_round_trips_through_json_and_continues_identically() -> None:
    """to_dict -> json -> from_dict gives an equal state that keeps picking the same items."""
    weights = {"a": 2, "b": 1, "c": 3, "d": 3}
    _, state = run(weights, "j", 7)[-1]
    restored = RotationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert hash(restored) == hash(state)
    assert preview_items(restored, weights, "j", 30) == preview_items(state, weights, "j", 30)


def test_from_dict_fills_missing_keys_with_defaults() -> None:
    """An empty or partial dict reads as the initial state."""
    assert RotationState.from_dict({}) == RotationState()
    assert RotationState.from_dict({"cycle": 3}) == RotationState(cycle=3)
    assert RotationState.from_dict({"used": None}) == RotationState()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"cycle": "1"}, "'cycle' must be an integer"),
        ({"cycle": -1}, "'cycle' must be an integer >= 0"),
        ({"cycle": True}, "'cycle' must be an integer"),
        ({"used": ["a", 1]}, "'used' must be a mapping"),
        ({"used": {"a": "1"}}, "count for 'a'"),
        ({"used": {"a": -2}}, "count for 'a'"),
        ({"used": {1: 1}}, "keys must be strings"),
        ({"last": 5}, "'last' must be a string or null"),
    ],
)
def test_from_dict_rejects_wrong_types_with_clear_messages(
    data: dict[object, object], fragment: str
) -> None:
    """Corrupted stored state raises ValueError naming the field at fault."""
    with pytest.raises(ValueError, match=fragment):
        RotationState.from_dict(data)  # type: ignore[arg-type]


def test_from_dict_rejects_a_non_mapping() -> None:
    """A list where a dict should be raises ValueError, not AttributeError."""
    with pytest.raises(ValueError, match="must be a mapping"):
        RotationState.from_dict([1, 2])  # type: ignore[arg-type]


def test_state_is_immutable_hashable_and_normalised() -> None:
    """Equal content gives equal, hashable states regardless of pair order or zero counts."""
    one = RotationState(cycle=1, used=(("b", 1), ("a", 2), ("z", 0)), last="b")
    two = RotationState(cycle=1, used=(("a", 2), ("b", 1)), last="b")
    assert one == two and len({one, two}) == 1
    assert one.used_counts == {"a": 2, "b": 1}
    with pytest.raises(AttributeError):
        one.cycle = 2  # type: ignore[misc]


def test_new_item_added_mid_cycle_comes_before_any_second_use() -> None:
    """A template added mid-cycle is unused in that cycle, so it is picked in round 0."""
    for seed in range(30):
        weights = {"a": 2, "b": 2, "c": 2}
        picks = run(weights, f"n{seed}", 2)
        state = picks[-1][1]
        added = {**weights, "new": 1}
        later = preview_items(state, added, f"n{seed}", 2)
        first_uses = {item for item, _ in picks}
        remaining_round0 = set(weights) - first_uses
        # The one unused old item and the new one both come before anything repeats.
        assert set(later) == remaining_round0 | {"new"}


def test_removed_item_is_never_picked_and_forgotten() -> None:
    """Items gone from weights are ignored, dropped from state, and the cycle still completes."""
    weights = {"a": 1, "b": 1, "c": 1, "d": 1}
    _, state = run(weights, "rm", 2)[-1]
    smaller = {"a": 1, "b": 1, "c": 1}
    picks = run(smaller, "rm", 30, state)
    assert {item for item, _ in picks} <= set(smaller)
    assert all("d" not in s.used_counts for _, s in picks)
    assert all(a != b for (a, _), (b, _) in itertools.pairwise(picks))


def test_weight_zero_or_negative_is_never_picked() -> None:
    """Items with weight <= 0 are skipped entirely."""
    picks = preview_items(RotationState(), {"a": 1, "b": 0, "c": 2, "d": -3}, "z", 60)
    assert set(picks) == {"a", "c"}


def test_lowered_weight_below_uses_ends_that_items_turn() -> None:
    """If a weight drops below the uses already made this cycle, the item waits for next cycle."""
    state = RotationState(cycle=0, used=(("a", 3), ("b", 1)), last="b")
    item, after = next_item(state, {"a": 1, "b": 2, "c": 1}, "s")
    assert item == "c" and after.cycle == 0


def test_exclude_skips_to_the_next_candidate() -> None:
    """An excluded item is never picked while excluded, and keeps its turn for later."""
    weights = {"a": 1, "b": 1, "c": 1}
    for seed in range(20):
        state = RotationState()
        first = preview_items(state, weights, f"e{seed}", 1)[0]
        item, state = next_item(state, weights, f"e{seed}", exclude={first})
        assert item != first
        item2, state = next_item(state, weights, f"e{seed}")
        assert item2 == first  # round 0 still owes it a use
        assert state.cycle == 0


def test_exclude_moves_to_a_later_round() -> None:
    """When every round-0 item left is excluded, a round-1 item is taken in the same cycle."""
    state = RotationState(cycle=4, used=(("a", 1), ("b", 1)), last="b")
    item, after = next_item(state, {"a": 2, "b": 2, "c": 1}, "s", exclude={"c"})
    assert item == "a"
    assert after.cycle == 4 and after.used_counts == {"a": 2, "b": 1}


def test_exclude_moves_to_the_next_cycle() -> None:
    """When the current cycle holds only excluded items, the pick comes from cycle + 1."""
    state = RotationState(cycle=2, used=(("a", 1), ("b", 1)), last="b")
    item, after = next_item(state, {"a": 1, "b": 1, "c": 1}, "s", exclude={"c"})
    assert item == "a"
    assert after == RotationState(cycle=3, used=(("a", 1),), last="a")


def test_last_item_repeats_when_everything_else_is_excluded() -> None:
    """The last item may repeat only when it is the one candidate left."""
    state = RotationState(cycle=0, used=(("a", 1),), last="a")
    item, _ = next_item(state, {"a": 2, "b": 1}, "s", exclude={"b"})
    assert item == "a"


def test_complete_cycle_starts_the_next_with_empty_uses() -> None:
    """After the last use of a cycle, the next call is in cycle + 1 with only that pick used."""
    weights = {"a": 1, "b": 1}
    _, full = run(weights, "c", 2)[-1]
    assert full.cycle == 0 and full.used_counts == {"a": 1, "b": 1}
    item, after = next_item(full, weights, "c")
    assert after.cycle == 1 and after.used_counts == {item: 1}


@pytest.mark.parametrize("weights", [{}, {"a": 0, "b": 0}, {"a": -1}])
def test_nothing_to_rotate_raises_rotation_exhausted(weights: dict[str, int]) -> None:
    """Empty or non-positive weights raise RotationExhausted, which is a ValueError."""
    with pytest.raises(RotationExhausted, match="no item has a weight above 0"):
        next_item(RotationState(), weights, "s")
    assert issubclass(RotationExhausted, ValueError)


def test_everything_excluded_raises_rotation_exhausted() -> None:
    """Excluding every item raises RotationExhausted naming them."""
    with pytest.raises(RotationExhausted, match=r"all 2 items are excluded.*a, b"):
        next_item(RotationState(), {"a": 1, "b": 1}, "s", exclude=["a", "b"])


def test_wrong_weight_type_raises_value_error() -> None:
    """A non-integer weight is a configuration error, reported by name."""
    with pytest.raises(ValueError, match="weight of 'a'"):
        next_item(RotationState(), {"a": 1.5}, "s")  # type: ignore[dict-item]


def test_next_items_returns_k_distinct_items_and_rotates_fairly() -> None:
    """Hashtag picks are distinct within a post and every tag is used before any repeats."""
    tags = {f"#t{i}": 1 for i in range(6)}
    for seed in range(30):
        state = RotationState()
        used: list[str] = []
        for _ in range(3):
            chosen, state = next_items(state, tags, f"h{seed}", 2)
            assert len(chosen) == len(set(chosen)) == 2
            used.extend(chosen)
        assert sorted(used) == sorted(tags)


def test_next_items_returns_all_available_when_fewer_than_k() -> None:
    """Asking for more items than exist returns each available item once."""
    chosen, state = next_items(RotationState(), {"a": 1, "b": 3, "c": 1}, "s", 5, exclude={"c"})
    assert sorted(chosen) == ["a", "b"]
    assert state.last == chosen[-1]


def test_next_items_with_nothing_available_returns_empty_and_same_state() -> None:
    """k = 0, or nothing pickable, returns no items and the state unchanged."""
    start = RotationState(cycle=1, used=(("a", 1),), last="a")
    assert next_items(start, {"a": 1}, "s", 0) == ([], start)
    assert next_items(start, {}, "s", 3) == ([], start)
    with pytest.raises(ValueError, match="k must be 0 or more"):
        next_items(start, {"a": 1}, "s", -1)


def test_preview_matches_repeated_next_item() -> None:
    """preview_items gives exactly the picks next_item would make, without storing state."""
    weights = {"a": 2, "b": 2, "c": 1}
    assert preview_items(RotationState(), weights, "p", 25) == [
        item for item, _ in run(weights, "p", 25)
    ]
