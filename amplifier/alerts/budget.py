"""The X budget's alerts: 80 % and 100 % of each monthly budget, once per month each.

Read with the claim that spends (the month's spend before it, from the store), enqueued in
the claim's transaction; a post the budget refuses reports the 100 % one (the same key, so
whichever comes first is the one sent).
"""

from __future__ import annotations

from datetime import datetime

from amplifier.alerts.events import AlertRules
from amplifier.config import Account, Settings
from amplifier.guards import SENT, budgets, month_bounds
from amplifier.store import AlertDraft, Store


def budget_alerts(
    rules: AlertRules,
    settings: Settings,
    store: Store,
    account: Account,
    due_at: datetime,
    cost_micros: int,
    *,
    refused: bool,
) -> list[AlertDraft]:
    """The thresholds this post's ``cost_micros`` crosses (``refused``: the budget refused it)."""
    if account.network != "x" or not cost_micros or not rules.wants("x-spend"):
        return []
    start, end = month_bounds(due_at)
    month = f"{start:%Y-%m}"

    def spent(name: str | None) -> int:
        return store.spend_micros(start, end, statuses=SENT, account=name, network="x")

    drafts: list[AlertDraft] = []
    for budget in budgets(settings, account, spent):
        before, limit = budget.spent_micros, budget.limit_micros
        if refused:
            if budget.exceeded_by(cost_micros) is not None:
                drafts += rules.budget_refused(budget.scope, month, before, limit)
        else:
            drafts += rules.spend(budget.scope, month, before, before + cost_micros, limit)
    return drafts
