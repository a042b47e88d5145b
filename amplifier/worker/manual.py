"""``post-now``: one post for one account right away, decided and claimed like a slot.

The slot is due now, under a key of its own (``manual_slot_key``); the decision is the
forecast's ``decide_slot`` like any slot's, with the pool narrowed to the post asked for, so a
refusal names that post and its rule. A post that cannot be asked for at all says why: no
such id, an invalid file (where), or not eligible for this account today (why).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

from amplifier.errors import AmplifierError, StateMoved
from amplifier.forecast import SlotDecision
from amplifier.schedule import Slot, candidates, slot_spec, why_not_post
from amplifier.store import Delivery
from amplifier.worker.slot import DECISION_TRIES

if TYPE_CHECKING:
    from amplifier.worker.passes import Worker


def manual_slot_key(now: datetime) -> str:
    """'manual-20261123T160500.123456Z-1f2e3d': unique per call, even within one second."""
    return f"manual-{now.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{uuid4().hex[:6]}"


class ManualPost:
    """One ``post-now`` call of ``worker`` for account ``name`` (``post_id``: that post)."""

    def __init__(self, worker: Worker, name: str, post_id: str | None) -> None:
        self.worker = worker
        self.name = name
        self.post_id = post_id

    def run(self) -> Delivery:
        worker, name = self.worker, self.name
        paused = worker.pause_reason()
        if paused is not None:
            raise AmplifierError(f"{paused}; run amplifier resume first")
        account = worker.account(name)
        held = None if worker.rehearsing(name) else worker.store.open_thread(name)
        if held is not None:  # nothing else on the account between two parts of a thread
            raise AmplifierError(
                f"not posted on {name}: its thread {held.template_id!r} is unfinished (part "
                f"{held.thread_part} of {held.thread_size} is {held.status}); nothing else "
                "goes out on the account until it is done: try again after it"
            )
        now = worker.clock()
        zone = slot_spec(worker.settings, account).zone
        # One key per call, kept across its re-decisions: a retry of this call is this slot.
        slot = Slot(due_at=now, nominal=now.astimezone(zone), key=manual_slot_key(now))
        exclude: frozenset[str] = frozenset()
        offered: frozenset[str] | None = None
        if self.post_id is not None:
            day = slot.nominal.date()
            pool = candidates(worker.settings, worker.library, account, day)
            wanted = frozenset(key for key, t in pool.items() if self.post_id in (key, t.id))
            if not wanted:
                raise AmplifierError(
                    why_not_post(worker.settings, worker.library, account, self.post_id, day)
                )
            exclude, offered = frozenset(pool) - wanted, wanted
        rehearsal = worker.rehearsing(name)
        flow = worker.flow
        for _ in range(DECISION_TRIES):
            with worker.acting(), worker.turn(name).taken(wait=True):
                worker.heartbeat()
                view = flow.view(rehearsal=rehearsal, now=now)
                decision = flow.decide(
                    account, slot, now, None, view, exclude=exclude, offered=offered
                )
                if decision.action != "send":
                    raise AmplifierError(self.refused(decision))
                try:
                    row = flow.act(decision, view, now)
                except StateMoved:
                    continue
            if row is None:
                raise AmplifierError(f"slot {slot.key} of {name} was claimed by another worker")
            return row
        raise AmplifierError(
            f"not posted on {name}: another worker or post-now kept posting for it meanwhile; "
            "try again"
        )

    def refused(self, decision: SlotDecision) -> str:
        """Why nothing went out: the post asked for and its rule, or the account's rule."""
        last = decision.refused[-1] if decision.refused else None
        if self.post_id is not None and last is not None and last.scope == "post":
            first = next(r for r in decision.refused if r.scope == "post")
            return f"post {self.post_id!r} cannot go out on {self.name} now: {first}"
        if last is not None:
            return f"not posted on {self.name}: {decision.reason}"
        return f"nothing to post on {self.name}: {decision.reason}"
