"""How many X posts may be read now without taking money a post will need this month.

Reads and posts share the month's X spend (``Store.spend_micros`` counts both) and every
budget that applies (the account's own, all X accounts'). A read may only spend what is left
once the rest of the month's posts are set aside at the rotation's expected cost
(``guards.month_projection``): publishing has priority, so reads stop well before a budget
would refuse a post.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.guards import SENT, budgets, month_bounds, month_projection, to_micros
from amplifier.store import Store


def read_price_micros(settings: Settings) -> int:
    return to_micros(settings.guards.x_prices.post_read)


def affordable_reads(
    settings: Settings, library: Library, store: Store, account: Account, now: datetime
) -> int | None:
    """Posts this X account may have read now (None: no budget limits it)."""
    price = read_price_micros(settings)
    if price == 0:
        return None
    start, end = month_bounds(now)

    def spent(name: str | None) -> int:
        return store.spend_micros(start, end, statuses=SENT, account=name, network="x")

    reserve: Callable[[list[Account]], int] = lambda accounts: sum(  # noqa: E731
        month_projection(settings, library, a, now, 0).projected_micros for a in accounts
    )
    room: int | None = None
    for budget in budgets(settings, account, spent):
        if budget.scope.startswith("account "):
            kept = reserve([account])
        else:
            kept = reserve([a for a in settings.accounts if a.enabled and a.network == "x"])
        left = max(0, budget.limit_micros - budget.spent_micros - kept)
        room = left // price if room is None else min(room, left // price)
    return room
