"""One slot of one account: decide (the forecast's ``decide_slot``), then act on the decision.

``SlotFlow.settle`` is what a pass does with a due slot that has no row yet. The decision is
``forecast.decide_slot`` over the stored state, the very function ``amplifier preview``
chains, so a prediction and the worker agree by construction. Acting on it:

    skip                                recorded 'skipped' with the reason (nothing to post,
                                        paused, a guard's rule and figure)
    missed                              recorded 'missed', never sent: no flood after downtime
    send, live                          claimed (row, new rotation state and cost in one
                                        transaction, only if the rotation is still the one the
                                        decision read; None means another worker has the
                                        slot), then delivered; while the account's rate-limit
                                        window is shut the post is deferred to its reset
                                        without calling the network
    send, dry run (rehearsal)           recorded 'rehearsed' under the rehearsal key with the
                                        rehearsal's own rotation, then logged: counted by no
                                        live guard, spend or rotation

When the stored rotation moved between the decision and the claim (``StateMoved``: a
``post-now`` or another worker decided for the account meanwhile), the slot is decided again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amplifier.alerts import budget_alerts
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.delivery import DeliveryContext
from amplifier.errors import AmplifierError, StateMoved
from amplifier.forecast import SlotDecision, StoreView, decide_slot
from amplifier.guards import by_rule
from amplifier.logs import log_event
from amplifier.networks.base import MediaItem, Network, OutgoingPost, replies_of
from amplifier.schedule import Slot
from amplifier.store import AlertDraft, Delivery, DeliveryDraft, RotationWrite, part_slot_key

DECISION_TRIES = 3  # decisions of one slot in a pass when the rotation keeps moving


def shown_post(row: Delivery) -> OutgoingPost:
    """A rehearsed row as the dry-run network shows it (one event=dry-run line)."""
    return OutgoingPost(
        account=row.account,
        text=row.text,
        idempotency_key=row.idempotency_key,
        language=row.language,
        link=row.link,
        media=tuple(MediaItem(path=Path(path), alt=alt) for path, alt in row.media),
        content_warning=row.content_warning,
        due_at=row.due_at,
        sensitive=row.sensitive,
        replies=replies_of(row.replies),
        quotes=row.quotes,
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
        rehearsal_note: Callable[[str], str],
    ) -> None:
        self.settings = settings
        self.library = library
        self.context = context
        self.store = context.store
        self.worker_id = context.worker_id
        self.logger = context.logger
        self.network_for = network_for
        self.grace = grace
        self.rehearsal_note = rehearsal_note

    def view(self, *, rehearsal: bool, now: datetime) -> StoreView:
        return StoreView(self.store, self.library, rehearsal=rehearsal, now=now, logger=self.logger)

    def decide(
        self,
        account: Account,
        slot: Slot,
        now: datetime,
        paused: str | None,
        view: StoreView,
        *,
        exclude: frozenset[str] = frozenset(),
        offered: frozenset[str] | None = None,
    ) -> SlotDecision:
        if not view.rehearsal:
            self.refresh_limits(account)
        decision = decide_slot(
            self.settings,
            self.library,
            account,
            slot,
            moment=now,
            view=view,
            paused=paused,
            grace=self.grace,
            exclude=exclude,
            offered=offered,
        )
        for rule, group in by_rule(decision.refused).items():  # one line per rule
            posts = ",".join(refusal.post for refusal in group if refusal.post) or None
            where = {"account": account.name, "slot": slot.key, "rule": rule}
            log_event(self.logger, "guard", **where, posts=posts, reason=group[0].detail)
        return decision

    def _budget_alerts(
        self, account: Account, draft: DeliveryDraft, cost: int, *, refused: bool
    ) -> list[AlertDraft]:
        rules = self.context.alerts
        return budget_alerts(
            rules, self.settings, self.store, account, draft.due_at, cost, refused=refused
        )

    def refresh_limits(self, account: Account) -> None:
        """Have a Mastodon account's adapter read its server's limits into the store when the
        stored ones are older than a day (``MAX_AGE``), so the decision measures with them.
        Any failure there means the defaults (the adapter logs it), never a failed post."""
        if account.network != "mastodon":
            return  # only Mastodon servers have limits of their own; building another
            # account's adapter here would load its SDK at start instead of at its first post
        try:
            read = getattr(self.network_for(account.name), "instance_limits", None)
        except AmplifierError:  # an adapter refused for this account: its delivery says why
            return
        if not callable(read):
            return
        try:
            read()
        except Exception as error:  # never a reason to fail a post
            log_event(self.logger, "instance-limits", logging.WARNING, account=account.name,
                      error=type(error).__name__)  # fmt: skip

    def settle(
        self, account: Account, slot: Slot, now: datetime, paused: str | None, *, rehearsal: bool
    ) -> Delivery | None:
        for _ in range(DECISION_TRIES):
            view = self.view(rehearsal=rehearsal, now=now)
            decision = self.decide(account, slot, now, paused, view)
            try:
                return self.act(decision, view, now)
            except StateMoved as moved:
                log_event(self.logger, "decide-again", account=account.name, slot=slot.key,
                          reason=str(moved))  # fmt: skip
        return None  # the next pass decides it again

    def act(self, decision: SlotDecision, view: StoreView, now: datetime) -> Delivery | None:
        """Record, claim and deliver what the decision says; ``StateMoved`` if it is stale."""
        account, draft = decision.account, decision.draft()
        where = {"account": account.name, "slot": decision.slot.key}
        reason = decision.reason or ""
        if decision.rehearsal and decision.action != "send":
            reason = f"dry run: {reason}"
        if decision.action == "skip":
            log_event(self.logger, "skipped", **where, rule=decision.rule, reason=reason)
            spend = decision.cost.micros if decision.cost is not None else 0
            refused = decision.rule == "x-budget" and not decision.rehearsal
            alerts = self._budget_alerts(account, draft, spend, refused=True) if refused else []
            return self.store.record_skipped(draft, reason, alerts)
        if decision.action == "missed":
            log_event(self.logger, "missed", logging.WARNING, **where, reason=reason)
            return self.store.record_missed(draft, reason)
        assert decision.state is not None  # a send always carries its new rotation state
        rotation = view.rotation_write(account, decision.state)
        cost = decision.cost.micros if decision.cost is not None and decision.cost.micros else None
        if decision.rehearsal:
            return self.rehearse(decision, draft, rotation, cost)
        return self.claim_and_deliver(decision, draft, rotation, now, cost)

    def rehearse(
        self,
        decision: SlotDecision,
        draft: DeliveryDraft,
        rotation: RotationWrite,
        cost: int | None,
    ) -> Delivery | None:
        """Record the rehearsal first (a pass never shows it twice), then show it."""
        name = decision.account.name
        note = self.rehearsal_note(name)
        row = self.store.record_rehearsed(draft, note, rotation=rotation, cost_micros=cost)
        if row is None:
            log_event(self.logger, "claimed-elsewhere", account=name, slot=draft.slot_key)
            return None
        log_event(
            self.logger, "rehearsed", account=name, slot=decision.slot.key, post=row.template_id,
            id=row.id, note=note,
        )  # fmt: skip
        parts = [row] + [  # a thread: its later parts were rehearsed with it
            later
            for part in range(2, (row.thread_size or 1) + 1)
            if (later := self.store.get(name, part_slot_key(row.slot_key, part))) is not None
        ]
        try:
            for part_row in parts:
                self.network_for(name).publish(shown_post(part_row))
        except AmplifierError as error:  # showing it never undoes the recorded rehearsal
            log_event(
                self.logger, "dry-run-failed", logging.WARNING, account=name, reason=str(error)
            )
        return row

    def claim_and_deliver(
        self,
        decision: SlotDecision,
        draft: DeliveryDraft,
        rotation: RotationWrite,
        now: datetime,
        cost_micros: int | None,
    ) -> Delivery | None:
        account = decision.account
        alerts = self._budget_alerts(account, draft, cost_micros or 0, refused=False)
        row = self.store.claim_slot(
            draft,
            worker_id=self.worker_id,
            rotation=rotation,
            cost_micros=cost_micros,
            alerts=alerts,
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
            cost=decision.cost.describe() if cost_micros and decision.cost is not None else None,
        )
        blocked = self.view(rehearsal=False, now=now).blocked(account.name, now)
        if blocked is not None:
            # Never send before the platform's reset: hand the post to that time.
            until, reason = blocked.until, blocked.reason()
            self.store.mark_deferred(
                row.id, worker_id=self.worker_id, retry_at=until, reason=reason
            )
            at = until.astimezone(UTC).isoformat(timespec="seconds")
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
            alerts = self.context.alerts.failed(row, str(error))
            self.store.mark_failed(
                row.id, worker_id=self.worker_id, reason=str(error), alerts=alerts
            )
            return self.store.get_by_id(row.id) or row
        return self.context.deliver(network, row)
