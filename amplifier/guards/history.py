"""The rules that read what was sent: caps per day and tier, no-repeat, X duplicates, distinct text.

The worker gathers the account's own recent deliveries and, for networks under the
distinct-text rule, the other accounts' ones, into a ``GuardContext``; the rules here are pure
functions over it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from amplifier.config import Account, GuardSettings, Settings
from amplifier.content import Library
from amplifier.guards.refusals import Refusal
from amplifier.guards.similarity import similarity
from amplifier.guards.spend import Budget, month_bounds
from amplifier.guards.text import text_refusals
from amplifier.schedule import PlannedPost, Slot

if TYPE_CHECKING:  # rows are only passed in: a check never needs the database
    from amplifier.store import Delivery

# Deliveries that went out or still may: they count for every rule and every budget.
SENT = ("published", "sending", "deferred", "unknown")
LEGACY_FREE_PER_24H = 17
LEGACY_FREE_PER_MONTH = 500


@dataclass(frozen=True)
class Sent:
    """A delivery that went out or still may (published, sending, deferred, unknown)."""

    account: str
    post_id: str  # the version sent (a translation has its own id)
    text: str
    due_at: datetime
    original_id: str = ""  # the post it is a version of; "" when post_id is the original

    @property
    def original(self) -> str:
        return self.original_id or self.post_id


@dataclass(frozen=True)
class GuardContext:
    """Everything the rules need beyond the post itself, gathered by the worker per slot."""

    own: Sequence[Sent]  # this account's, due since ``own_since``
    others: Sequence[Sent]  # other accounts' on the same network, due since ``others_since``
    budgets: Sequence[Budget] = ()


def guard_context(
    account: Account,
    own: Iterable[Delivery],
    others: Iterable[Delivery],
    budgets: Sequence[Budget],
    library: Library,
) -> GuardContext:
    """A context from store rows in ``SENT`` states; translations know their original."""
    originals = {
        version.id: original
        for original, versions in library.translations.items()
        for version in versions.values()
    }

    def sent(rows: Iterable[Delivery]) -> list[Sent]:
        return [
            Sent(r.account, r.template_id, r.text, r.due_at, originals.get(r.template_id, ""))
            for r in rows
        ]

    mine = sent(own)
    theirs = [item for item in sent(others) if item.account != account.name]
    return GuardContext(own=mine, others=theirs, budgets=budgets)


def own_since(slot: Slot, rules: GuardSettings) -> datetime:
    """How far back the account's own deliveries matter for the slot."""
    local = slot.due_at.astimezone(slot.nominal.tzinfo)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, rules.no_repeat_days, rules.x_duplicate_days)
    since = min(day_start, slot.due_at - timedelta(days=days))
    if rules.x_legacy_free_tier:
        since = min(since, month_bounds(slot.due_at)[0])
    return since


def others_since(slot: Slot, rules: GuardSettings) -> datetime:
    return slot.due_at - timedelta(days=rules.distinct_text_days)


def account_refusal(
    account: Account, slot: Slot, own: Sequence[Sent], rules: GuardSettings
) -> Refusal | None:
    """Caps that hold whatever the post: per local day, and X's legacy Free tier."""
    zone = slot.nominal.tzinfo
    day = slot.due_at.astimezone(zone).date()
    today = sum(1 for sent in own if sent.due_at.astimezone(zone).date() == day)
    if rules.daily_cap and today >= rules.daily_cap:
        detail = f"{today} posts already on {day} (local), the daily cap is {rules.daily_cap}"
        return Refusal("daily-cap", "account", detail)
    if account.network == "x" and rules.x_legacy_free_tier:
        last_day = sum(1 for sent in own if slot.due_at - sent.due_at < timedelta(hours=24))
        if last_day >= LEGACY_FREE_PER_24H:
            detail = (
                f"{last_day} posts in the last 24 h, X's legacy Free tier allows "
                f"{LEGACY_FREE_PER_24H}"
            )
            return Refusal("x-free-tier", "account", detail)
        start, _ = month_bounds(slot.due_at)
        this_month = sum(1 for sent in own if sent.due_at >= start)
        if this_month >= LEGACY_FREE_PER_MONTH:
            detail = (
                f"{this_month} posts this month, X's legacy Free tier allows "
                f"{LEGACY_FREE_PER_MONTH}"
            )
            return Refusal("x-free-tier", "account", detail)
    return None


def _exact(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _ago(now: datetime, then: datetime) -> str:
    hours = max(0, int((now - then).total_seconds() // 3600))
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def post_refusal(
    planned: PlannedPost, account: Account, context: GuardContext, settings: Settings
) -> Refusal | None:
    """The first rule refusing this rendered post, cheapest rules first."""
    rules = settings.guards
    template = planned.template
    text = planned.rendered.text
    post = template.original_id
    limits = settings.networks.limits(account.network)
    for refusal in text_refusals(
        text,
        account.network,
        allow_mentions=template.allow_mentions,
        max_hashtags=limits.max_hashtags,
        rules=rules,
    ):
        return replace(refusal, post=post)
    due = planned.slot.due_at
    if rules.no_repeat_days:
        window = timedelta(days=rules.no_repeat_days)
        for sent in context.own:
            if sent.original == post and due - sent.due_at < window:
                return _repeated(sent, due, rules)
    if account.network == "x" and rules.x_duplicate_days:
        window = timedelta(days=rules.x_duplicate_days)
        exact = _exact(text)
        for sent in context.own:
            if due - sent.due_at < window and _exact(sent.text) == exact:
                detail = (
                    f"{template.id!r} would repeat word for word the text this account sent "
                    f"{_ago(due, sent.due_at)} ago; X refuses duplicate content (window "
                    f"{rules.x_duplicate_days} days)"
                )
                return Refusal("x-duplicate", "post", detail, post)
    if rules.distinct_text_days and account.network in rules.distinct_text_networks:
        window = timedelta(days=rules.distinct_text_days)
        closest: tuple[float, Sent] | None = None
        for sent in context.others:
            if sent.account == account.name or due - sent.due_at >= window:
                continue
            score = similarity(text, sent.text)
            if closest is None or score > closest[0]:
                closest = (score, sent)
        if closest is not None and closest[0] >= rules.similarity_threshold:
            return _similar(template.id, post, closest[0], closest[1], due, rules)
    return None


def _repeated(sent: Sent, due: datetime, rules: GuardSettings) -> Refusal:
    detail = (
        f"{sent.post_id!r} went out on this account {_ago(due, sent.due_at)} ago, "
        f"within the {rules.no_repeat_days}-day no-repeat window"
    )
    return Refusal("no-repeat", "post", detail, sent.original)


def _similar(
    post_id: str, post: str, score: float, sent: Sent, due: datetime, rules: GuardSettings
) -> Refusal:
    detail = (
        f"{post_id!r} is {score:.2f} similar to {sent.account}'s {sent.post_id!r} "
        f"of {_ago(due, sent.due_at)} ago (threshold {rules.similarity_threshold:.2f}, "
        f"window {rules.distinct_text_days} days)"
    )
    return Refusal("distinct-text", "post", detail, post)


def known_refusals(
    account: Account, due: datetime, context: GuardContext, rules: GuardSettings
) -> dict[str, Refusal]:
    """Posts refused whatever their hashtags, by original id, found without rendering them.

    What this account sent within ``no_repeat_days``, and what another account of a
    distinct-text network sent within ``distinct_text_days``: the same post, so the same
    words once hashtags and links are set aside (similarity 1.00).
    """
    found: dict[str, Refusal] = {}
    if rules.no_repeat_days:
        for sent in context.own:
            if due - sent.due_at < timedelta(days=rules.no_repeat_days):
                found.setdefault(sent.original, _repeated(sent, due, rules))
    if rules.distinct_text_days and account.network in rules.distinct_text_networks:
        for sent in context.others:
            if sent.account != account.name and due - sent.due_at < timedelta(
                days=rules.distinct_text_days
            ):
                found.setdefault(
                    sent.original, _similar(sent.post_id, sent.original, 1.0, sent, due, rules)
                )
    return found
