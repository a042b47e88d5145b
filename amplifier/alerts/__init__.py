"""Alerts: the team hears about failures, revoked tokens, budgets and silent workers, once.

``AlertRules`` (events.py) turns a state change into alerts, which the store writes to its
outbox in the change's own transaction (messages.py: the words); ``AlertSender`` (sender.py)
drains the outbox on its own thread through Apprise (channels.py: imported only to send),
with a lease per claim, retries with backoff, storms coalesced into one message and quiet
hours; ``budget_alerts`` (budget.py) the X budget's thresholds; ``AlertWatch`` (watch.py)
notices a silent worker and the digest's time (digest.py).
The URLs come from the variable ``[alerts] urls_from_env`` names (``config.alert_urls``).
"""

from __future__ import annotations

from amplifier.alerts.budget import budget_alerts
from amplifier.alerts.channels import Timeouts, fingerprint, label, send, url_secrets
from amplifier.alerts.events import AlertRules, rules_for
from amplifier.alerts.messages import test_message
from amplifier.alerts.sender import AlertSender, compose, in_quiet_hours
from amplifier.alerts.watch import AlertWatch, Tomorrow

__all__ = [
    "AlertRules",
    "AlertSender",
    "AlertWatch",
    "Timeouts",
    "Tomorrow",
    "budget_alerts",
    "compose",
    "fingerprint",
    "in_quiet_hours",
    "label",
    "rules_for",
    "send",
    "test_message",
    "url_secrets",
]
