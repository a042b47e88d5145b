"""One slot of one account: plan -> render -> guard -> claim -> deliver, every outcome recorded.

``SlotFlow.settle`` is what a pass does with a due slot that has no row yet:

    nothing to post                     recorded 'skipped' with the planner's reason
    older than the grace window         recorded 'missed', never sent: no flood after downtime
    paused                              recorded 'skipped' ("paused by X since T")
    refused by the guards               recorded 'skipped' with the rule and its figure
    otherwise                           claimed (row and new rotation state in one
                                        transaction; None means another worker has it),
                                        then delivered; while the account's rate-limit window
                                        is shut the claimed post is deferred to its reset
                                        without calling the network
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.delivery import DeliveryContext
from amplifier.errors import AmplifierError
from amplifier.guards import (
    SENT,
    Cost,
    Decision,
    budgets,
    by_rule,
    decide,
    guard_context,
    month_bounds,
    others_since,
    own_since,
)
from amplifier.logs import log_event
from amplifier.networks.base import Network
from amplifier.schedule import AccountState, NothingToPost, PlannedPost, Slot, plan_slot
from amplifier.store import Delivery, DeliveryDraft


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def draft_for(account: Account, slot: Slot, planned: PlannedPost | None) -> DeliveryDraft:
    """The row to record for a slot; without a planned post (nothing to post) the text is empty."""
    if planned is None:
        return DeliveryDraft(
            account=account.name,
            network=account.network,
            slot_key=slot.key,
            due_at=slot.due_at,
            template_id="",
            campaign=account.campaigns[0],
            text="",
        )
    template = planned.template
    return DeliveryDraft(
        account=account.name,
        network=account.network,
        slot_key=slot.key,
        due_at=slot.due_at,
        template_id=template.id,
        campaign=template.campaign,
        text=planned.rendered.text,
        language=template.language,
        link=planned.rendered.link,
        content_warning=template.content_warning,
        media=tuple((str(item.path), item.alt) for item in template.media),
    )


class SlotFlow:
    """The steps of one slot, over one worker's settings, posts, store and networks."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        context: DeliveryContext,
        network_for: Callable[[str], Network],
        *,
        grace: timedelta,
    ) -> None:
        self.settings = settings
        self.library = library
        self.context = context
        self.store = context.store
        self.worker_id = context.worker_id
        self.logger = context.logger
        self.network_for = network_for
        self.grace = grace

    def settle(
        self, account: Account, slot: Slot, now: datetime, paused: str | None
    ) -> Delivery | None:
        state = self.rotation(account)
        planned, new_state = plan_slot(self.settings, self.library, account, slot, state)
        late = now - slot.due_at
        where = {"account": account.name, "slot": slot.key}
        if isinstance(planned, NothingToPost):
            log_event(self.logger, "skipped", **where, reason=planned.reason)
            return self.store.record_skipped(draft_for(account, slot, None), planned.reason)
        draft = draft_for(account, slot, planned)
        if late > self.grace:
            reason = f"no worker ran at its time; {_duration(late)} late is past the grace window"
            log_event(self.logger, "missed", logging.WARNING, **where, reason=reason)
            return self.store.record_missed(draft, reason)
        if paused is not None:
            log_event(self.logger, "skipped", **where, reason=paused)
            return self.store.record_skipped(draft, paused)
        decision = self.guard(account, slot, (planned, new_state), state)
        if decision.planned is None or decision.state is None:
            reason = decision.skip_reason or "refused by the guards"
            log_event(self.logger, "skipped", **where, rule=decision.rule, reason=reason)
            return self.store.record_skipped(draft, reason)
        draft = draft_for(account, slot, decision.planned)
        return self.claim_and_deliver(account, draft, decision.state, now, decision.cost)

    def guard(
        self,
        account: Account,
        slot: Slot,
        first: tuple[PlannedPost | NothingToPost, AccountState],
        state: AccountState,
        exclude: frozenset[str] = frozenset(),
    ) -> Decision[AccountState]:
        """The guard step: the compliance rules over what the store knows, each refusal logged."""
        rules, store = self.settings.guards, self.store
        own = store.deliveries_since(own_since(slot, rules), account=account.name, statuses=SENT)
        others: list[Delivery] = []
        if rules.distinct_text_days and account.network in rules.distinct_text_networks:
            since = others_since(slot, rules)
            others = store.deliveries_since(since, network=account.network, statuses=SENT)
        start, end = month_bounds(slot.due_at)

        def spent(name: str | None) -> int:
            return store.spend_micros(start, end, statuses=SENT, account=name, network="x")

        limits = budgets(self.settings, account, spent)
        context = guard_context(account, own, others, limits, self.library)
        decision = decide(
            first,
            lambda refused: plan_slot(
                self.settings, self.library, account, slot, state, exclude=exclude | refused
            ),
            account,
            slot,
            context,
            self.settings,
        )
        for rule, group in by_rule(decision.refused).items():  # one line per rule
            posts = ",".join(refusal.post for refusal in group if refusal.post) or None
            where = {"account": account.name, "slot": slot.key, "rule": rule}
            log_event(self.logger, "guard", **where, posts=posts, reason=group[0].detail)
        return decision

    def rotation(self, account: Account) -> AccountState:
        stored = self.store.load_rotation(account.name)
        try:
            return AccountState.from_dict(stored or {})
        except ValueError as error:
            log_event(
                self.logger,
                "rotation-reset",
                logging.WARNING,
                account=account.name,
                reason=str(error),
            )
            return AccountState()

    def claim_and_deliver(
        self,
        account: Account,
        draft: DeliveryDraft,
        state: AccountState,
        now: datetime,
        cost: Cost | None = None,
    ) -> Delivery | None:
        row = self.store.claim_slot(
            draft,
            worker_id=self.worker_id,
            rotation=(account.name, state.to_dict()),
            cost_micros=cost.micros if cost is not None and cost.micros else None,
        )
        if row is None:
            log_event(self.logger, "claimed-elsewhere", account=account.name, slot=draft.slot_key)
            return None
        log_event(
            self.logger,
            "claimed",
            account=account.name,
            slot=draft.slot_key,
            post=draft.template_id,
            id=row.id,
            cost=cost.describe() if cost is not None and cost.micros else None,
        )
        blocked = self.store.blocked_until(account.name, now)
        if blocked is not None:
            # Never send before the platform's reset: hand the post to that time.
            windows = [
                w.window
                for w in self.store.rate_limits(account.name)
                if w.remaining == 0 and w.reset_at == blocked
            ]
            at = blocked.astimezone(UTC).isoformat(timespec="seconds")
            reason = f"rate limit window {', '.join(windows) or 'unknown'} until {at}"
            self.store.mark_deferred(
                row.id, worker_id=self.worker_id, retry_at=blocked, reason=reason
            )
            log_event(
                self.logger,
                "deferred",
                logging.WARNING,
                account=account.name,
                slot=draft.slot_key,
                retry_at=at,
                reason=reason,
            )
            return self.store.get_by_id(row.id) or row
        try:
            network = self.network_for(account.name)
        except AmplifierError as error:
            self.store.mark_failed(row.id, worker_id=self.worker_id, reason=str(error))
            return self.store.get_by_id(row.id) or row
        return self.context.deliver(network, row)
