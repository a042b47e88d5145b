"""Fair, reproducible rotation over explicit, serialisable state.

One rotator serves two jobs: choosing an account's next post template, and choosing the
hashtags for one post from an account's pool. Everything it knows lives in a
:class:`RotationState` that the caller stores (as JSON) and passes back in; there is no I/O,
no clock and no global random state, so the same inputs always give the same pick.

How a pick is made
------------------
* A *cycle* uses every item ``weight`` times. It is split into *rounds*: round ``r`` holds
  the items whose weight is greater than ``r``. Every item is used once (round 0) before any
  item is used a second time, and so on.
* Inside a round the order is a shuffle reproducible from ``(seed, cycle, round)``: items are
  sorted by a SHA-256 of ``seed, cycle, round, item``. Hashing each item (rather than shuffling
  the list) keeps the relative order of the other items unchanged when templates are added or
  removed mid-cycle.
* The same item is never picked twice in a row (``state.last``), across round and cycle
  boundaries too, unless it is the only item that can be picked at all.
* ``weights`` may change between calls. Items missing from it are forgotten; new items are
  unused in the current cycle, so they come up in round 0 soon. Weights <= 0 are never picked.
* ``exclude`` names items a guard refused right now: the next candidate is taken instead, from a
  later round or, failing that, from the next cycle.
* When nothing in the current cycle can be picked (the cycle is complete, or its remaining uses
  all belong to excluded items or to ``state.last``), the pick comes from cycle + 1 and the
  current cycle's leftovers are dropped.

Weights versus no-repeat
------------------------
Weights are honoured exactly in every cycle whenever the no-repeat rule allows it: always when
the two largest weights are equal, and when the largest is one more than the next largest and
there are at least three items. (The heaviest item is then taken first in each of its rounds so
that its extra use never lands right after itself.) With a larger gap, back-to-back repeats
cannot be avoided, so the no-repeat rule wins and the heaviest item's surplus uses are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TypeGuard

__all__ = [
    "RotationExhausted",
    "RotationState",
    "next_item",
    "next_items",
    "preview_items",
]


class RotationExhausted(ValueError):
    """No item can be picked: there are none with a positive weight, or all are excluded."""


def _normalise_used(
    used: Mapping[str, int] | Collection[tuple[str, int]],
) -> tuple[tuple[str, int], ...]:
    pairs = used.items() if isinstance(used, Mapping) else used
    # Sorted and without zero counts, so equal states compare and hash equal.
    return tuple(sorted((item, count) for item, count in pairs if count > 0))


@dataclass(frozen=True)
class RotationState:
    """Where one rotation stands: cycle number, uses in this cycle, and the last pick.

    ``used`` is stored as sorted ``(item, count)`` pairs so the state stays immutable and
    hashable; a mapping may be passed in and is normalised. ``used_counts`` gives a dict.
    """

    cycle: int = 0
    used: tuple[tuple[str, int], ...] = field(default=())
    last: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "used", _normalise_used(self.used))

    @property
    def used_counts(self) -> dict[str, int]:
        """How many times each item was used in the current cycle."""
        return dict(self.used)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form; :meth:`from_dict` reads it back."""
        return {"cycle": self.cycle, "used": dict(self.used), "last": self.last}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RotationState:
        """Read :meth:`to_dict` output; missing keys take their defaults, wrong types raise."""
        if not isinstance(data, Mapping):
            raise ValueError(f"rotation state must be a mapping, not {type(data).__name__}")
        cycle = data.get("cycle", 0)
        if not _is_int(cycle) or cycle < 0:
            raise ValueError(f"rotation state 'cycle' must be an integer >= 0, not {cycle!r}")
        raw_used = data.get("used", {})
        if raw_used is None:
            raw_used = {}
        if not isinstance(raw_used, Mapping):
            raise ValueError(
                f"rotation state 'used' must be a mapping of item to count, "
                f"not {type(raw_used).__name__}"
            )
        used: dict[str, int] = {}
        for item, count in raw_used.items():
            if not isinstance(item, str):
                raise ValueError(f"rotation state 'used' keys must be strings, not {item!r}")
            if not _is_int(count) or count < 0:
                raise ValueError(
                    f"rotation state 'used' count for {item!r} must be an integer >= 0, "
                    f"not {count!r}"
                )
            used[item] = count
        last = data.get("last")
        if last is not None and not isinstance(last, str):
            raise ValueError(f"rotation state 'last' must be a string or null, not {last!r}")
        return cls(cycle=cycle, used=tuple(used.items()), last=last)


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass, but True as a count is a corrupted state, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _active(weights: Mapping[str, int]) -> dict[str, int]:
    active: dict[str, int] = {}
    for item, weight in weights.items():
        if not isinstance(item, str):
            raise ValueError(f"rotation items must be strings, not {item!r}")
        if not _is_int(weight):
            raise ValueError(f"weight of {item!r} must be an integer, not {weight!r}")
        if weight > 0:
            active[item] = weight
    return active


def _order_key(seed: str, cycle: int, round_: int, item: str) -> bytes:
    # The seed is length-prefixed so no seed/item pair can collide with another.
    text = f"{len(seed)}:{seed}|{cycle}|{round_}|{item}"
    return hashlib.sha256(text.encode("utf-8")).digest()


def _heavy_item(active: Mapping[str, int]) -> str | None:
    """The single heaviest item, if its weight is strictly above every other item's."""
    ranked = sorted(active.items(), key=lambda pair: pair[1], reverse=True)
    if len(ranked) >= 2 and ranked[0][1] > ranked[1][1]:
        return ranked[0][0]
    return None


def _pick_in_cycle(
    active: Mapping[str, int],
    used: Mapping[str, int],
    seed: str,
    cycle: int,
    usable: Callable[[str], bool],
) -> str | None:
    heavy = _heavy_item(active)

    def position(item: str) -> tuple[int, int, bytes]:
        # An item's next use belongs to round used[item]; earlier rounds come first.
        round_ = used.get(item, 0)
        return (round_, 0 if item == heavy else 1, _order_key(seed, cycle, round_, item))

    pending = [item for item, weight in active.items() if used.get(item, 0) < weight]
    for item in sorted(pending, key=position):
        if usable(item):
            return item
    return None


def next_item(
    state: RotationState,
    weights: Mapping[str, int],
    seed: str,
    *,
    exclude: Collection[str] = (),
) -> tuple[str, RotationState]:
    """Pick the next item and return it with the state to store for the following call.

    Raises :class:`RotationExhausted` when no item has a positive weight or all are excluded.
    """
    active = _active(weights)
    if not active:
        raise RotationExhausted("nothing to rotate: no item has a weight above 0")
    excluded = frozenset(exclude)
    allowed = [item for item in active if item not in excluded]
    if not allowed:
        raise RotationExhausted(
            f"all {len(active)} items are excluded right now: {', '.join(sorted(active))}"
        )
    avoid_last = state.last is not None and allowed != [state.last]

    def usable(item: str) -> bool:
        return item not in excluded and not (avoid_last and item == state.last)

    cycle = state.cycle
    used = {item: count for item, count in state.used if item in active}
    pick = _pick_in_cycle(active, used, seed, cycle, usable)
    if pick is None:
        cycle, used = cycle + 1, {}
        pick = _pick_in_cycle(active, used, seed, cycle, usable)
    if pick is None:  # pragma: no cover - round 0 of a fresh cycle holds every allowed item
        raise AssertionError("rotation found no candidate in a fresh cycle")
    used[pick] = used.get(pick, 0) + 1
    return pick, RotationState(cycle=cycle, used=tuple(used.items()), last=pick)


def next_items(
    state: RotationState,
    weights: Mapping[str, int],
    seed: str,
    k: int,
    *,
    exclude: Collection[str] = (),
) -> tuple[list[str], RotationState]:
    """Pick ``k`` distinct items (the hashtags for one post) by repeated :func:`next_item`.

    If fewer than ``k`` items can be picked, all that can are returned (possibly none, with the
    state unchanged); a ``k`` below 0 raises ValueError.
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, not {k}")
    chosen: list[str] = []
    blocked = set(exclude)
    while len(chosen) < k:
        try:
            item, state = next_item(state, weights, seed, exclude=blocked)
        except RotationExhausted:
            break
        chosen.append(item)
        blocked.add(item)
    return chosen, state


def preview_items(state: RotationState, weights: Mapping[str, int], seed: str, n: int) -> list[str]:
    """The next ``n`` picks from ``state``, without storing anything (for `amplifier preview`)."""
    picks: list[str] = []
    for _ in range(n):
        item, state = next_item(state, weights, seed)
        picks.append(item)
    return picks
