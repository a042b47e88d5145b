"""The rules that read what was sent: caps per day and tier, no-repeat, X duplicates, distinct text.

The worker (and the forecast) gathers the account's own recent deliveries and, for networks
under the distinct-text rule, the other accounts' ones, into a ``GuardContext``; the rules here
are pure functions over it. Every window runs between send times: from the moment the new post
would go out back to the moment each earlier one went out (``Sent.at``), never between due
times, since a post goes out up to ``grace_minutes`` after its slot, and a deferred one later.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
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
# A dry run counts, for its own rehearsal only, what went out live and what it rehearsed.
REHEARSAL_SENT = (*SENT, "rehearsed")
LEGACY_FREE_PER_24H = 17
LEGACY_FREE_PER_MONTH = 500


PENDING = ("sending", "deferred")  # not out yet; may go out at any moment


@dataclass(frozen=True)
class Sent:
    """A delivery that went out or still may, and when it went out (or is expected to).

    Every window rule measures from the moment the new post would go out back to when this
    one did (``when``). One not out by then (``at`` None or later, or 'sending' or
    'deferred') counts as going out with the new post: inside every window and on its day.
    An 'unknown' one counts at the moment it became unknown, the latest it can have gone out.
    """

    account: str
    post_id: str  # the version sent (a translation has its own id)
    text: str
    at: datetime | None  # when it went out, or is expected to; None: at any moment
    original_id: str = ""  # the post it is a version of; "" when post_id is the original
    status: str = "published"

    @property
    def original(self) -> str:
        return self.original_id or self.post_id

    def out_by(self, moment: datetime) -> bool:
        """Whether it has gone out (or may have) by ``moment``."""
        if self.at is None or self.at > moment:
            return False
        return self.status not in PENDING or self.at < moment

    def when(self, moment: datetime) -> datetime:
        """When it counts for a post going out at ``moment``: not out by then, at ``moment``."""
        return self.at if self.at is not None and self.out_by(moment) else moment

    def went(self, moment: datetime, where: str = "") -> str:
        """'went out<where> 5 h ago', 'is still to go out<where> (deferred)', or for an
        'unknown' one 'may have gone out<where> 2 h ago'."""
        if self.at is None or not self.out_by(moment):
            return f"is still to go out{where} ({self.status})"
        ago = _ago(moment, self.at)
        verb = "may have gone out" if self.status == "unknown" else "went out"
        return f"{verb}{where} {ago} ago"

    def of(self, moment: datetime) -> str:
        """'of 5 h ago', 'still to go out (deferred)', 'that may have gone out 2 h ago'."""
        if self.at is None or not self.out_by(moment):
            return f"still to go out ({self.status})"
        ago = _ago(moment, self.at)
        return f"that may have gone out {ago} ago" if self.status == "unknown" else f"of {ago} ago"


@dataclass(frozen=True)
class GuardContext:
    """Everything the rules need beyond the post itself, gathered by the worker per slot."""

    own: Sequence[Sent]  # this account's, sent since ``own_since`` or not yet out
    others: Sequence[Sent]  # other accounts' on the same network, since ``others_since``
    budgets: Sequence[Budget] = ()


def sent_moment(row: Delivery, now: datetime) -> datetime | None:
    """When a stored row went out, or is expected to, as ``Sent.at`` wants it, read at ``now``.

    Published and rehearsed: its ``sent_at``. Unknown: when it became unknown. Deferred: its
    retry time, or now if that has passed (it goes with the next pass); sending: now.
    """
    if row.status in ("published", "rehearsed"):
        return row.sent_at or row.updated_at
    if row.status == "unknown":
        return row.updated_at
    if row.status == "deferred" and row.retry_at is not None:
        return max(row.retry_at, now)
    return now


def sent_rows(rows: Iterable[Delivery], library: Library, now: datetime) -> list[Sent]:
    """Store rows read at ``now`` as the rules see them; a translation knows its original."""
    originals = {
        version.id: original
        for original, versions in library.translations.items()
        for version in versions.values()
    }
    return [
        Sent(
            r.account,
            r.template_id,
            r.text,
            sent_moment(r, now),
            originals.get(r.template_id, ""),
            r.status,
        )
        for r in rows
    ]


def guard_context(
    account: Account,
    own: Iterable[Sent],
    others: Iterable[Sent],
    budgets: Sequence[Budget],
) -> GuardContext:
    """A context from what counts: the account's own, and other accounts' of its network."""
    theirs = [item for item in others if item.account != account.name]
    return GuardContext(own=list(own), others=theirs, budgets=budgets)


def own_since(moment: datetime, zone: tzinfo | None, rules: GuardSettings) -> datetime:
    """How far back the account's own sends matter for a post going out at ``moment``."""
    local = moment.astimezone(zone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, rules.no_repeat_days, rules.x_duplicate_days)
    since = min(day_start, moment - timedelta(days=days))
    if rules.x_legacy_free_tier:
        since = min(since, month_bounds(moment)[0])
    return since


def others_since(moment: datetime, rules: GuardSettings) -> datetime:
    """How far back other accounts' sends matter (the distinct-text window)."""
    return moment - timedelta(days=rules.distinct_text_days)


def account_refusal(
    account: Account, slot: Slot, own: Sequence[Sent], rules: GuardSettings, *, moment: datetime
) -> Refusal | None:
    """Caps that hold whatever the post: per local day, and X's legacy Free tier.

    Counted by when posts go out: the day is the local day of ``moment`` (when this post
    would go out), and a post counts on the local day it went out.
    """
    zone = slot.nominal.tzinfo
    day = moment.astimezone(zone).date()
    today = sum(1 for sent in own if sent.when(moment).astimezone(zone).date() == day)
    if rules.daily_cap and today >= rules.daily_cap:
        detail = f"{today} posts already on {day} (local), the daily cap is {rules.daily_cap}"
        return Refusal("daily-cap", "account", detail)
    if account.network == "x" and rules.x_legacy_free_tier:
        last_day = sum(1 for sent in own if moment - sent.when(moment) < timedelta(hours=24))
        if last_day >= LEGACY_FREE_PER_24H:
            detail = (
                f"{last_day} posts in the last 24 h, X's legacy Free tier allows "
                f"{LEGACY_FREE_PER_24H}"
            )
            return Refusal("x-free-tier", "account", detail)
        start, _ = month_bounds(moment)
        this_month = sum(1 for sent in own if sent.when(moment) >= start)
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
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def post_refusal(
    planned: PlannedPost,
    account: Account,
    context: GuardContext,
    settings: Settings,
    *,
    moment: datetime,
) -> Refusal | None:
    """The first rule refusing this rendered post going out at ``moment``, cheapest first."""
    rules = settings.guards
    template = planned.template
    texts = [part.text for part in planned.parts]  # a thread: every part, each on its own
    post = template.original_id
    limits = settings.networks.limits(account.network)
    for text in texts:
        for refusal in text_refusals(
            text,
            account.network,
            allow_mentions=template.allow_mentions,
            max_hashtags=limits.max_hashtags,
            rules=rules,
        ):
            return replace(refusal, post=post)
    if rules.no_repeat_days:
        window = timedelta(days=rules.no_repeat_days)
        for sent in context.own:
            if sent.original == post and moment - sent.when(moment) < window:
                return _repeated(sent, moment, rules)
    if rules.daily_cap and len(texts) > 1:  # every part of a thread counts as a post
        zone = planned.slot.nominal.tzinfo
        day = moment.astimezone(zone).date()
        today = sum(1 for sent in context.own if sent.when(moment).astimezone(zone).date() == day)
        if today + len(texts) > rules.daily_cap:
            detail = (
                f"a thread of {len(texts)} posts after {today} on {day} (local) would pass "
                f"the daily cap of {rules.daily_cap}"
            )
            return Refusal("daily-cap", "post", detail, post)
    if account.network == "x" and rules.x_duplicate_days:
        window = timedelta(days=rules.x_duplicate_days)
        exact = {_exact(text) for text in texts}
        for sent in context.own:
            if moment - sent.when(moment) < window and _exact(sent.text) in exact:
                detail = (
                    f"{template.id!r} would repeat word for word the text of {sent.post_id!r}, "
                    f"which {sent.went(moment, ' on this account')}; X refuses duplicate "
                    f"content (window {rules.x_duplicate_days} days)"
                )
                return Refusal("x-duplicate", "post", detail, post)
    if rules.distinct_text_days and account.network in rules.distinct_text_networks:
        window = timedelta(days=rules.distinct_text_days)
        closest: tuple[float, Sent] | None = None
        for sent in context.others:
            if sent.account == account.name or moment - sent.when(moment) >= window:
                continue
            for text in texts:
                score = similarity(text, sent.text)
                if closest is None or score > closest[0]:
                    closest = (score, sent)
        if closest is not None and closest[0] >= rules.similarity_threshold:
            return _similar(template.id, post, closest[0], closest[1], moment, rules)
    return None


def _repeated(sent: Sent, moment: datetime, rules: GuardSettings) -> Refusal:
    detail = (
        f"{sent.post_id!r} {sent.went(moment, ' on this account')}, "
        f"within the {rules.no_repeat_days}-day no-repeat window"
    )
    return Refusal("no-repeat", "post", detail, sent.original)


def _similar(
    post_id: str, post: str, score: float, sent: Sent, moment: datetime, rules: GuardSettings
) -> Refusal:
    detail = (
        f"{post_id!r} is {score:.2f} similar to {sent.account}'s {sent.post_id!r} "
        f"{sent.of(moment)} (threshold {rules.similarity_threshold:.2f}, "
        f"window {rules.distinct_text_days} days)"
    )
    return Refusal("distinct-text", "post", detail, post)


def known_refusals(
    account: Account, moment: datetime, context: GuardContext, rules: GuardSettings
) -> dict[str, Refusal]:
    """Posts refused whatever their hashtags, by original id, found without rendering them.

    What this account sent within ``no_repeat_days``, and what another account of a
    distinct-text network sent within ``distinct_text_days``: the same post, so the same
    words once hashtags and links are set aside (similarity 1.00).
    """
    found: dict[str, Refusal] = {}
    if rules.no_repeat_days:
        for sent in context.own:
            if moment - sent.when(moment) < timedelta(days=rules.no_repeat_days):
                found.setdefault(sent.original, _repeated(sent, moment, rules))
    if rules.distinct_text_days and account.network in rules.distinct_text_networks:
        window = timedelta(days=rules.distinct_text_days)
        for sent in context.others:
            if sent.account != account.name and moment - sent.when(moment) < window:
                found.setdefault(
                    sent.original, _similar(sent.post_id, sent.original, 1.0, sent, moment, rules)
                )
    return found
