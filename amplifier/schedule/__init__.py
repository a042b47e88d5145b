"""Schedule: when each account posts, and which post (plan).

``slots.py`` turns a ``[schedules.NAME]`` section into concrete ``Slot`` instants in the
account's own timezone (daylight saving, blackout dates and a reproducible random offset
included); ``rotation.py`` picks fairly and reproducibly from weighted items over explicit
state; ``planner.py`` combines them: ``plan_slot`` chooses the account's next post for a slot
and renders it for its network, returning the new rotation state for the caller to store.
Everything here is pure: no clock, no store, no network.
"""

from __future__ import annotations

from amplifier.schedule.planner import (
    AccountState,
    NothingToPost,
    PlannedPost,
    candidates,
    plan_slot,
    seed_key,
    slot_spec,
    upcoming_slots,
)
from amplifier.schedule.reasons import why_no_post, why_not_post
from amplifier.schedule.rotation import RotationState, next_items
from amplifier.schedule.slots import Slot, SlotSpec, next_slots, schedule_spec, slots_between

__all__ = [
    "AccountState",
    "NothingToPost",
    "PlannedPost",
    "RotationState",
    "Slot",
    "SlotSpec",
    "candidates",
    "next_items",
    "next_slots",
    "plan_slot",
    "schedule_spec",
    "seed_key",
    "slot_spec",
    "slots_between",
    "upcoming_slots",
    "why_no_post",
    "why_not_post",
]
