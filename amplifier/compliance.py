"""Rules that keep accounts in good standing: pure functions over explicit inputs.

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

"Sent" means a delivery that went out or still may: published, sending, deferred or unknown.

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

Substantially similar
---------------------
``normalise(text)``: Unicode NFKC and casefold; remove URLs (what twitter-text finds, bare
domains included, and anything starting with http:// or https://), @mentions, #hashtags and
$cashtags; every other character that is not a letter, a digit or a mark becomes a space; the
rest splits on whitespace into words.

``similarity(a, b) = max(order, shingles)`` over the two word lists:

- order: ``difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()``, i.e. 2 x the words
  that match in order / all words. It catches edits: one word changed in 20 gives 0.95.
- shingles: the Jaccard index (shared / all) of the sets of word 2-shingles (each pair of
  consecutive words; the word itself for a one-word text). It catches reordered sentences,
  which keep every pair but the ones across the seams.

Texts are substantially similar when ``similarity >= similarity_threshold`` (0.8). Texts that
normalise to no word at all (only links or tags) are similar only when equal after casefolding.
So the same text with other hashtags or another link is identical (1.0); two posts sharing a
stock phrase but saying different things score well below 0.8. tests/test_compliance.py lists
pairs on each side of the line.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Generic, Literal, TypeVar

import regex

from amplifier.config import Account, GuardSettings, Settings
from amplifier.content import Library
from amplifier.planner import NothingToPost, PlannedPost
from amplifier.render import hashtags_in
from amplifier.slots import Slot
from amplifier.spend import Budget, Cost, budget_problem, month_bounds, post_cost
from amplifier.store.types import Delivery
from amplifier.twittertext import extract_urls

S = TypeVar("S")
Scope = Literal["post", "account"]

# Deliveries that went out or still may: they count for every rule and every budget.
SENT = ("published", "sending", "deferred", "unknown")
LEGACY_FREE_PER_24H = 17
LEGACY_FREE_PER_MONTH = 500

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# twitter-text's mention rule: not after a word character, @ or a URL path; not an e-mail.
MENTION = regex.compile(
    r"(?<![\p{L}\p{M}\p{Nd}_!#$%&*@＠/=.+-])[@＠]([A-Za-z0-9_]{1,30}(?:@[\w.-]+\w)?)(?![@＠\w]|://)"
)
# twitter-text's cashtag: $ then 1-6 letters (optionally .xx or _xx), after a space or start.
CASHTAG = regex.compile(
    r"(?:^|(?<=\s))\$([A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?)(?=$|\s|[!-/:-@\[-`{-~])"
)
_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{Nd}_&/=])[#＃][\p{L}\p{M}\p{Nd}_]+")
_NOT_WORD = regex.compile(r"[^\p{L}\p{M}\p{Nd}]+")


# -- text rules --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def normalise(text: str) -> tuple[str, ...]:
    """The words similarity compares: no links, mentions, hashtags, cashtags or punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for url in sorted(extract_urls(folded), key=len, reverse=True):
        folded = folded.replace(url, " ")
    folded = _URL.sub(" ", folded)
    folded = MENTION.sub(" ", folded)
    folded = _HASHTAG.sub(" ", folded)
    folded = CASHTAG.sub(" ", folded)
    return tuple(_NOT_WORD.sub(" ", folded).split())


def _shingles(words: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    if len(words) < 2:
        return frozenset({words})
    return frozenset(words[i : i + 2] for i in range(len(words) - 1))


@dataclass(frozen=True)
class Comparable:
    """A text as ``similarity`` sees it, normalised once."""

    text: str
    words: tuple[str, ...]
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, text: str) -> Comparable:
        words = normalise(text)
        return cls(text, words, _shingles(words) if words else frozenset())

    def counted_pairs(self) -> frozenset[tuple[str, str, int]]:
        """Consecutive word pairs with their n-th occurrence: a multiset as a plain set."""
        seen: dict[tuple[str, str], int] = {}
        tokens = []
        for pair in zip(self.words, self.words[1:], strict=False):
            seen[pair] = seen.get(pair, 0) + 1
            tokens.append((*pair, seen[pair]))
        return frozenset(tokens)

    def counted_words(self) -> frozenset[tuple[str, int]]:
        """The words as a set of (word, n-th occurrence): a multiset as a plain set."""
        seen: dict[str, int] = {}
        tokens = []
        for word in self.words:
            seen[word] = seen.get(word, 0) + 1
            tokens.append((word, seen[word]))
        return frozenset(tokens)


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0.0 to 1.0, as the module docstring defines it."""
    return _similarity(Comparable.of(a), Comparable.of(b))


def _similarity(a: Comparable, b: Comparable) -> float:
    if not a.words or not b.words:
        return 1.0 if a.text.strip().casefold() == b.text.strip().casefold() else 0.0
    order = difflib.SequenceMatcher(None, a.words, b.words, autojunk=False).ratio()
    shingles = len(a.shingles & b.shingles) / len(a.shingles | b.shingles)
    return max(order, shingles)


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair ``(i, j, score)``, i < j, of ``texts`` with ``similarity >= threshold``:
    exactly what comparing every pair gives, found without comparing them all
    (``amplifier.neardup``)."""
    from amplifier.neardup import similar_pairs as search  # neardup builds on this module

    return search(texts, threshold)


def hashtag_count(text: str) -> int:
    """Distinct hashtags in the text, as the networks link them (case-insensitive)."""
    return len({tag.casefold() for tag in hashtags_in(text)})


def cashtags(text: str) -> list[str]:
    """Every $cashtag in the text, in order ($5 is a price, not a cashtag)."""
    return ["$" + match.group(1) for match in CASHTAG.finditer(text)]


def mentions(text: str) -> list[str]:
    """Every @mention in the text (e-mail addresses and URL paths are not mentions)."""
    return ["@" + match.group(1) for match in MENTION.finditer(text)]


@dataclass(frozen=True)
class Refusal:
    """One rule saying no, with the figure that made it say no."""

    rule: str
    scope: Scope
    detail: str
    post: str = ""  # the post refused (its original id); "" for an account-level refusal

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def text_refusals(
    text: str,
    network: str,
    *,
    allow_mentions: bool,
    max_hashtags: int,
    rules: GuardSettings,
) -> list[Refusal]:
    """Every rule that looks at the text alone and refuses it: hashtag cap, cashtags, mentions."""
    found: list[Refusal] = []
    tags = hashtag_count(text)
    if tags > max_hashtags:
        detail = f"{tags} hashtags, the {network} cap is {max_hashtags}"
        found.append(Refusal("hashtag-cap", "post", detail))
    money = cashtags(text)
    if network == "x" and len(money) > rules.x_max_cashtags:
        detail = f"{len(money)} cashtags ({' '.join(money)}), X allows {rules.x_max_cashtags}"
        found.append(Refusal("cashtags", "post", detail))
    named = mentions(text)
    if named and rules.mentions_need_allow and not allow_mentions:
        detail = (
            f"mentions {' '.join(named)} but the post does not say allow_mentions: true "
            "(automated @mentions are treated as spam)"
        )
        found.append(Refusal("mentions", "post", detail))
    return found


# -- what the store knows ----------------------------------------------------------------------


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


# -- the rules -------------------------------------------------------------------------------


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


def by_rule(refusals: Sequence[Refusal]) -> dict[str, list[Refusal]]:
    """Refusals grouped by rule, rules in the order they first refused."""
    grouped: dict[str, list[Refusal]] = {}
    for refusal in refusals:
        grouped.setdefault(refusal.rule, []).append(refusal)
    return grouped


def summarise(refusals: Sequence[Refusal]) -> str:
    """'every eligible post refused: no-repeat x3 (e.g. …); distinct-text x1 (e.g. …)'."""
    parts = [
        f"{rule} x{len(group)} (e.g. {group[0].detail})"
        for rule, group in by_rule(refusals).items()
    ]
    return "every eligible post refused by the guards: " + "; ".join(parts)


# -- the guard step ----------------------------------------------------------------------------

Replan = Callable[[frozenset[str]], tuple[PlannedPost | NothingToPost, S]]


@dataclass(frozen=True)
class Decision(Generic[S]):
    """The guard's answer: a post to claim (with its state and cost), or why the slot is skipped.

    ``refused`` lists every refusal on the way, the posts passed over included.
    """

    planned: PlannedPost | None
    state: S | None
    cost: Cost | None
    refused: tuple[Refusal, ...]
    skip_reason: str | None

    @property
    def rule(self) -> str | None:
        """The rule that decided a skip ('guards' when several posts were refused)."""
        if self.skip_reason is None or not self.refused:
            return None
        return self.refused[-1].rule if self.refused[-1].scope == "account" else "guards"


def decide(
    first: tuple[PlannedPost | NothingToPost, S],
    replan: Replan[S],
    account: Account,
    slot: Slot,
    context: GuardContext,
    settings: Settings,
) -> Decision[S]:
    """Apply every rule to the planned post, re-planning without each post refused."""
    rules = settings.guards
    refusal = account_refusal(account, slot, context.own, rules)
    if refusal is not None:
        return Decision(None, None, None, (refusal,), f"guard {refusal}")
    planned, state = first
    refused: list[Refusal] = []
    excluded: set[str] = set()
    known = known_refusals(account, slot.due_at, context, rules)
    while isinstance(planned, PlannedPost):
        post = planned.template.original_id
        refusal = known.get(post) or post_refusal(planned, account, context, settings)
        if refusal is None:
            break
        if not excluded:
            # Re-planning renders, the slow part: set aside at once every post certain to be
            # refused, so the rotation's next offer is one worth rendering.
            refused.extend(r for r in known.values() if r.post != post)
            excluded.update(known)
        refused.append(refusal)
        excluded.add(post)  # the rotation offers the next one
        planned, state = replan(frozenset(excluded))
    if not isinstance(planned, PlannedPost):
        reason = summarise(refused) if refused else planned.reason
        return Decision(None, None, None, tuple(refused), reason)
    template = planned.template
    cost = post_cost(account.network, planned.rendered.text, len(template.media), rules.x_prices)
    problem = budget_problem(cost, context.budgets)
    if problem is not None:
        refused.append(Refusal("x-budget", "account", problem))
        return Decision(None, None, cost, tuple(refused), f"guard x-budget: {problem}")
    return Decision(planned, state, cost, tuple(refused), None)
