"""Delivery: claim -> publish -> record for one row, retries, and settling what crashes left.

``DeliveryContext.deliver`` publishes a row the worker has claimed and records the outcome
with a compare-and-set (publish.py: the table of outcomes); each network call goes through
``GuardedNetwork`` (attempt.py: still ours, counted, never inside a shut rate-limit window)
and the tenacity policy for transient errors (retry.py); the record step is record.py.
``Settler`` (recovery.py) takes over rows a dead worker left 'sending' and deferred rows now
due, and settles each by the network's rules. Nothing here plans or guards: the worker does,
and hands this stage a claimed row.
"""

from __future__ import annotations

from amplifier.delivery.publish import (
    CONFIRMED_BY_DUPLICATE,
    CONFIRMED_BY_LOOKUP,
    Clock,
    DeliveryContext,
    DeliveryPolicy,
    Sleep,
    deliver,
)
from amplifier.delivery.recovery import RecoveryRules, Settler
from amplifier.delivery.retry import RetryPolicy

__all__ = [
    "CONFIRMED_BY_DUPLICATE",
    "CONFIRMED_BY_LOOKUP",
    "Clock",
    "DeliveryContext",
    "DeliveryPolicy",
    "RecoveryRules",
    "RetryPolicy",
    "Settler",
    "Sleep",
    "deliver",
]
