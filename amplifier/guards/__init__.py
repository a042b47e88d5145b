"""Guards: the rules that keep accounts in good standing; pure functions over explicit inputs.

The worker's guard step (plan -> render -> **guard** -> claim) gathers what the store knows
into a ``GuardContext`` and calls ``decide``. Every rule is tuned under ``[guards]``; 0 turns
a window or a cap off.

    rule           scope     refuses a post when                                   default
    hashtag-cap    post      the final text holds more hashtags than the network's  X 2, Mastodon 4,
                               cap (networks.<name>.max_hashtags)                    Bluesky 3
    cashtags       post      an X post holds more than x_max_cashtags $cashtags     1
    mentions       post      the text @mentions someone and the post file does not  on
                               say allow_mentions: true (mentions_need_allow)
    no-repeat      post      this account sent the same post in the last            3 days
                               no_repeat_days
    x-duplicate    post      this X account sent the very same text (case and       14 days
                               spacing aside) in the last x_duplicate_days: X
                               refuses duplicate content
    distinct-text  post      another account of the same network sent a            7 days, 0.8,
                               substantially similar text in the last                X only
                               distinct_text_days (distinct_text_networks)
    daily-cap      account   the account already has daily_cap posts on the slot's  8
                               local day
    x-free-tier    account   x_legacy_free_tier: 17 posts in the last 24 h, or 500  off
                               this month, on the account
    x-budget       account   the post's cost would take a monthly budget over      none set
                               (spend.py; accounts' monthly_budget_usd and
                               guards.x_monthly_budget_usd)

"Sent" means a delivery that went out or still may: published, sending, deferred or unknown
(a dry run's own rehearsal also counts what it rehearsed; nothing live ever does). Every
window runs between send times: from the moment the new post would go out back to the moment
each earlier one went out; one not out yet (sending, deferred) counts as going out with it.

The mentions rule holds on every network (a bot's @mention notifies someone who did not ask);
the others are as named.

A post-level refusal excludes that post and asks the rotation again, so the slot gets the next
post in rotation; the refused post stays due in its cycle. Posts certain to be refused (sent
by this account within no_repeat_days, or by another account within distinct_text_days) are
set aside together the first time one comes up, since rendering is what a re-plan costs.
When every eligible post is refused,
the slot is recorded 'skipped' with the count per rule and one example figure. An
account-level refusal records the slot 'skipped' with the rule and the figure. Skipped, not
deferred: a post held to the next day or month would go out late and in a burst, and the
worker gives up on deferred rows older than its lookback anyway; the next slot after the
cap or budget resets posts normally.

Modules: text.py (rules on the text alone), history.py (rules over what was sent),
similarity.py (substantially similar texts), spend.py (X's prices and monthly budgets),
decision.py (the guard step), refusals.py (what a rule says when it says no).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amplifier.guards.decision import Decision, decide
from amplifier.guards.history import (
    REHEARSAL_SENT,
    SENT,
    GuardContext,
    Sent,
    guard_context,
    others_since,
    own_since,
    sent_rows,
)
from amplifier.guards.refusals import Refusal, by_rule
from amplifier.guards.spend import (
    Budget,
    Cost,
    budgets,
    expected_cost,
    month_bounds,
    month_projection,
    month_summary,
    post_cost,
    template_cost,
    to_micros,
    usd,
)
from amplifier.guards.text import text_refusals

if TYPE_CHECKING:
    from amplifier.guards.neardup import Cluster, clusters, similar_pairs

# The near-duplicate search is `amplifier check`'s (and the kit's): a worker deciding a slot
# never needs it, so it is imported when first asked for.
_NEARDUP = {"Cluster", "clusters", "similar_pairs"}


def __getattr__(name: str) -> Any:
    if name in _NEARDUP:
        from amplifier.guards.neardup import Cluster, clusters, similar_pairs

        found: dict[str, Any] = {
            "Cluster": Cluster,
            "clusters": clusters,
            "similar_pairs": similar_pairs,
        }
        return found[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REHEARSAL_SENT",
    "SENT",
    "Budget",
    "Cluster",
    "Cost",
    "Decision",
    "GuardContext",
    "Refusal",
    "Sent",
    "budgets",
    "by_rule",
    "clusters",
    "decide",
    "expected_cost",
    "guard_context",
    "month_bounds",
    "month_projection",
    "month_summary",
    "others_since",
    "own_since",
    "post_cost",
    "sent_rows",
    "similar_pairs",
    "template_cost",
    "text_refusals",
    "to_micros",
    "usd",
]
