"""A rule saying no: what each guard returns, and how refusals are summed up for a skip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Scope = Literal["post", "account"]


@dataclass(frozen=True)
class Refusal:
    """One rule saying no, with the figure that made it say no."""

    rule: str
    scope: Scope
    detail: str
    post: str = ""  # the post refused (its original id); "" for an account-level refusal

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def by_rule(refusals: Sequence[Refusal]) -> dict[str, list[Refusal]]:
    """Refusals grouped by rule, rules in the order they first refused."""
    grouped: dict[str, list[Refusal]] = {}
    for refusal in refusals:
        grouped.setdefault(refusal.rule, []).append(refusal)
    return grouped


def summarise(refusals: Sequence[Refusal]) -> str:
    """'every eligible post refused: no-repeat x3 (e.g. …); distinct-text x1 (e.g. …)'."""
    parts = [
        f"{rule} x{len(group)} (e.g. {group[0].detail})"
        for rule, group in by_rule(refusals).items()
    ]
    return "every eligible post refused by the guards: " + "; ".join(parts)
