"""The guard step: every rule over the planned post, re-planning without each post refused."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from amplifier.config import Account, Settings
from amplifier.guards.history import (
    GuardContext,
    account_refusal,
    known_refusals,
    post_refusal,
)
from amplifier.guards.refusals import Refusal, summarise
from amplifier.guards.spend import Cost, budget_problem, thread_cost
from amplifier.schedule import NothingToPost, PlannedPost, Slot

S = TypeVar("S")

Replan = Callable[[frozenset[str]], tuple[PlannedPost | NothingToPost, S]]


@dataclass(frozen=True)
class Decision(Generic[S]):
    """The guard's answer: a post to claim (with its state and cost), or why the slot is skipped.

    ``refused`` lists every refusal on the way, the posts passed over included.
    """

    planned: PlannedPost | None
    state: S | None
    cost: Cost | None
    refused: tuple[Refusal, ...]
    skip_reason: str | None

    @property
    def rule(self) -> str | None:
        """The rule that decided a skip ('guards' when several posts were refused)."""
        if self.skip_reason is None or not self.refused:
            return None
        return self.refused[-1].rule if self.refused[-1].scope == "account" else "guards"


def decide(
    first: tuple[PlannedPost | NothingToPost, S],
    replan: Replan[S],
    account: Account,
    slot: Slot,
    context: GuardContext,
    settings: Settings,
    *,
    moment: datetime,
    offered: Collection[str] | None = None,
) -> Decision[S]:
    """Apply every rule to the planned post going out at ``moment``, re-planning without each
    post refused.

    ``offered``: the posts the slot may take (by original id), when the caller narrowed them
    (``post-now --post``): refusals of other posts are not reported, only set aside.
    """
    rules = settings.guards
    refusal = account_refusal(account, slot, context.own, rules, moment=moment)
    if refusal is not None:
        return Decision(None, None, None, (refusal,), f"guard {refusal}")
    planned, state = first
    refused: list[Refusal] = []
    excluded: set[str] = set()
    known = known_refusals(account, moment, context, rules)
    while isinstance(planned, PlannedPost):
        post = planned.template.original_id
        refusal = known.get(post) or post_refusal(
            planned, account, context, settings, moment=moment
        )
        if refusal is None:
            break
        if not excluded:
            # Re-planning renders, the slow part: set aside at once every post certain to be
            # refused, so the rotation's next offer is one worth rendering.
            refused.extend(
                r
                for r in known.values()
                if r.post != post and (offered is None or r.post in offered)
            )
            excluded.update(known)
        refused.append(refusal)
        excluded.add(post)  # the rotation offers the next one
        planned, state = replan(frozenset(excluded))
    if not isinstance(planned, PlannedPost):
        reason = summarise(refused) if refused else planned.reason
        if refused and planned.too_long:
            reason += "; too long for this network: " + "; ".join(planned.too_long)
        return Decision(None, None, None, tuple(refused), reason)
    template = planned.template
    texts = [part.text for part in planned.parts]
    cost = thread_cost(account.network, texts, len(template.media), rules.x_prices)
    problem = budget_problem(cost, context.budgets)
    if problem is not None and cost.parts > 1:  # a thread starts only if it can finish
        problem += f" (a thread of {cost.parts} posts, each billed: it starts only paid in full)"
    if problem is not None:
        refused.append(Refusal("x-budget", "account", problem))
        return Decision(None, None, cost, tuple(refused), f"guard x-budget: {problem}")
    return Decision(planned, state, cost, tuple(refused), None)
