"""What becomes of one account's slot: the decision the worker acts on and the forecast chains.

``decide_slot`` is plan -> render -> guard, plus the worker's own rules, over a read-only
``StateView``; it writes nothing and sends nothing:

    nothing to post                     skip, with why (no post in the campaign, none in the
                                        account's language, every one refused by which rule)
    older than the grace window         missed: never sent late, so a restart never floods
    paused                              skip ("paused by X since T")
    refused by the guards               skip, with the rule and its figure
    otherwise                           send: the post (the next in rotation when a guard
                                        refused the first), its new rotation state, its cost;
                                        ``deferred`` when the account's rate-limit window is
                                        shut, so it waits for the reset

The worker records, claims and delivers what it says (worker/slot.py); ``predict`` runs it slot
after slot over the stored state with its own predictions laid over it. One function, so what
``amplifier preview`` shows is what the worker does.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from amplifier.config import Account, Settings, account_limits
from amplifier.content import Library
from amplifier.forecast.view import StateView, Wait, slot_key
from amplifier.guards import (
    Cost,
    Refusal,
    budgets,
    decide,
    guard_context,
    month_bounds,
    others_since,
    own_since,
)
from amplifier.schedule import AccountState, NothingToPost, PlannedPost, Slot, plan_slot
from amplifier.store import DeliveryDraft, PartDraft

Action = Literal["send", "skip", "missed"]


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class SlotDecision:
    """What becomes of one slot, and why.

    ``planned`` is the post that goes out (send) or would have (missed; a guard skip keeps
    the first post planned); ``refused`` every refusal on the way, the posts passed over by a
    send included; ``moment`` when it goes out (or is recorded).
    """

    account: Account
    slot: Slot
    moment: datetime
    action: Action
    rehearsal: bool
    planned: PlannedPost | None = None
    state: AccountState | None = None
    cost: Cost | None = None
    refused: tuple[Refusal, ...] = ()
    reason: str | None = None
    rule: str | None = None
    deferred: Wait | None = None  # the rate-limit window shut: until when, which
    paused: bool = False  # skipped because posting is paused (``reason`` says by whom, since)

    @property
    def replaced(self) -> tuple[Refusal, ...]:
        """A send's refusals: the posts it went out instead of, each with its rule."""
        return self.refused if self.action == "send" else ()

    def draft(self) -> DeliveryDraft:
        """The row to record; a rehearsal's slot key carries the rehearsal prefix."""
        account, slot, planned = self.account, self.slot, self.planned
        key = slot_key(slot.key, rehearsal=self.rehearsal)
        if planned is None:
            return DeliveryDraft(
                account=account.name,
                network=account.network,
                slot_key=key,
                due_at=slot.due_at,
                template_id="",
                campaign=account.campaigns[0],
                text="",
            )
        template = planned.template
        return DeliveryDraft(
            account=account.name,
            network=account.network,
            slot_key=key,
            due_at=slot.due_at,
            template_id=template.id,
            campaign=template.campaign,
            text=planned.rendered.text,
            language=template.language,
            link=planned.rendered.link,
            content_warning=template.content_warning,
            sensitive=template.sensitive,
            replies=planned.replies,
            quotes=planned.quotes,
            media=tuple((str(item.path), item.alt) for item in template.media),
            thread=tuple(PartDraft(part.text, part.link) for part in planned.thread),
        )


def decide_slot(
    settings: Settings,
    library: Library,
    account: Account,
    slot: Slot,
    *,
    moment: datetime,
    view: StateView,
    paused: str | None,
    grace: timedelta,
    exclude: frozenset[str] = frozenset(),
    offered: Collection[str] | None = None,
) -> SlotDecision:
    """Decide one slot whose post would go out at ``moment``, over ``view``.

    ``exclude``/``offered`` narrow the posts (``post-now --post``: every other post excluded,
    only that one offered, so a refusal names it). A manual slot is due at ``moment``, so it
    is never missed.
    """
    skip = SlotDecision(account, slot, moment, "skip", view.rehearsal)
    state = view.rotation(account)
    limits = account_limits(settings, account, view.instance_limits(account))
    planned, new_state = plan_slot(
        settings, library, account, slot, state, exclude=exclude, limits=limits
    )
    if isinstance(planned, NothingToPost):
        return replace(skip, reason=planned.reason)
    late = moment - slot.due_at
    if late > grace:
        reason = f"no worker ran at its time; {_duration(late)} late is past the grace window"
        return replace(skip, action="missed", planned=planned, reason=reason)
    if paused is not None:
        return replace(skip, planned=planned, reason=paused, paused=True)
    rules = settings.guards
    zone = slot.nominal.tzinfo
    own = view.counted(own_since(moment, zone, rules), account=account.name)
    others = []
    if rules.distinct_text_days and account.network in rules.distinct_text_networks:
        others = view.counted(others_since(moment, rules), network=account.network)
    start, end = month_bounds(slot.due_at)
    spend = budgets(settings, account, lambda name: view.spent(start, end, name))
    decision = decide(
        (planned, new_state),
        lambda refused: plan_slot(
            settings, library, account, slot, state, exclude=exclude | refused, limits=limits
        ),
        account,
        slot,
        guard_context(account, own, others, spend),
        settings,
        moment=moment,
        offered=offered,
    )
    if decision.planned is None or decision.state is None:
        return replace(
            skip,
            planned=planned,
            cost=decision.cost,
            refused=decision.refused,
            reason=decision.skip_reason or "refused by the guards",
            rule=decision.rule,
        )
    return replace(
        skip,
        action="send",
        planned=decision.planned,
        state=decision.state,
        cost=decision.cost,
        refused=(*_unfit(decision.planned), *decision.refused),
        deferred=view.blocked(account.name, moment),
    )


def _unfit(planned: PlannedPost) -> tuple[Refusal, ...]:
    """The posts passed over for not fitting the account's limits, as refusals to show."""
    return tuple(Refusal("limits", "post", why, post) for post, why in planned.passed_over)
