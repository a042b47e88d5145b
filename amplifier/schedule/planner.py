"""Plan and render: which post an account publishes in a slot, and its exact text.

Pure over explicit state: the caller passes the account's rotation state in and gets the new
state back; the worker stores it with its claim, and the forecast (``amplifier.forecast``)
carries it from one predicted slot to the next over the stored state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from amplifier.config import Account, AccountLimits, Settings, account_limits
from amplifier.content import (
    Library,
    RenderedPost,
    Template,
    limits_for_post,
    media_refusal,
    post_link,
    render_parts,
)
from amplifier.errors import RenderError
from amplifier.networks.base import Replies
from amplifier.schedule.reasons import why_no_post
from amplifier.schedule.rotation import RotationExhausted, RotationState, next_item, next_items
from amplifier.schedule.slots import Slot, SlotSpec, next_slots, schedule_spec, slots_between


@dataclass(frozen=True)
class AccountState:
    """What rotation remembers for one account: templates and hashtags, each its own cycle."""

    templates: RotationState = field(default_factory=RotationState)
    hashtags: Mapping[str, RotationState] = field(default_factory=dict)  # per campaign

    def to_dict(self) -> dict[str, object]:
        return {
            "templates": self.templates.to_dict(),
            "hashtags": {name: state.to_dict() for name, state in self.hashtags.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AccountState:
        templates = data.get("templates") or {}
        hashtags = data.get("hashtags") or {}
        if not isinstance(templates, Mapping) or not isinstance(hashtags, Mapping):
            raise ValueError("account state must hold 'templates' and 'hashtags' objects")
        return cls(
            templates=RotationState.from_dict(templates),
            hashtags={str(k): RotationState.from_dict(v) for k, v in hashtags.items()},
        )


@dataclass(frozen=True)
class PlannedPost:
    """One slot's post for one account, rendered for its network.

    ``passed_over``: (post id, why) of the posts the rotation offered first that do not fit
    this account's limits (too long for its server, images it does not take).
    """

    account: str
    slot: Slot
    template: Template
    rendered: RenderedPost
    passed_over: tuple[tuple[str, str], ...] = ()
    replies: Replies = "everyone"  # the post's, else its campaign's
    quotes: bool = True
    # A thread's parts after the first, in order (``rendered`` is the first); () for a post.
    thread: tuple[RenderedPost, ...] = ()

    @property
    def parts(self) -> tuple[RenderedPost, ...]:
        """Every part as rendered, in order: the post alone unless it is a thread."""
        return (self.rendered, *self.thread)


@dataclass(frozen=True)
class NothingToPost:
    """A slot with no post, and why (no active campaign, no eligible template...).

    ``too_long``: posts passed over because they do not fit this network's limit here
    (an instance with a lower limit than the check used), one message each.
    """

    account: str
    slot: Slot
    reason: str
    too_long: tuple[str, ...] = ()


def seed_key(settings: Settings, account: Account) -> str:
    """What makes an account's shuffles and slot offsets its own, and reproducible."""
    return f"{settings.seed}:{account.name}"


def slot_spec(settings: Settings, account: Account) -> SlotSpec:
    """The account's schedule bounded by the union of its campaigns' dates."""
    campaigns = [settings.campaigns[name] for name in account.campaigns]
    starts = [c.start for c in campaigns]
    ends = [c.end for c in campaigns]
    start = None if any(s is None for s in starts) else min(s for s in starts if s)
    end = None if any(e is None for e in ends) else max(e for e in ends if e)
    return schedule_spec(settings.schedules[account.schedule], start, end)


def upcoming_slots(
    settings: Settings, account: Account, after: datetime, *, count: int | None, days: int | None
) -> list[Slot]:
    spec = slot_spec(settings, account)
    key = seed_key(settings, account)
    if days is not None:
        return slots_between(spec, key, after, after + timedelta(days=days))
    return next_slots(spec, key, after, count or 5)


def candidates(
    settings: Settings, library: Library, account: Account, day: date
) -> dict[str, Template]:
    """Every template the account may post on this day, by original id."""
    found: dict[str, Template] = {}
    for name in account.campaigns:
        campaign = settings.campaigns[name]
        if (campaign.start and day < campaign.start) or (campaign.end and day > campaign.end):
            continue
        language = account.language or campaign.language
        found.update(
            library.eligible(
                campaign=name,
                patterns=campaign.posts,
                network=account.network,
                language=language,
                day=day,
            )
        )
    return found


def plan_slot(
    settings: Settings,
    library: Library,
    account: Account,
    slot: Slot,
    state: AccountState,
    *,
    exclude: frozenset[str] = frozenset(),
    limits: AccountLimits | None = None,
) -> tuple[PlannedPost | NothingToPost, AccountState]:
    """Choose and render the next post for this slot; posts that do not fit the account's
    ``limits`` (its server's own, as stored; default: the configured ones) are passed over."""
    day = slot.nominal.date()
    pool = candidates(settings, library, account, day)
    if not pool:
        return NothingToPost(
            account.name, slot, why_no_post(settings, library, account, day)
        ), state
    weights = {post_id: template.weight for post_id, template in pool.items()}
    refused = set(exclude)
    too_long: list[str] = []
    passed_over: list[tuple[str, str]] = []
    kinds: set[str] = set()
    limits = limits or account_limits(settings, account)
    while True:
        try:
            post_id, template_state = next_item(
                state.templates, weights, seed_key(settings, account), exclude=refused
            )
        except RotationExhausted:
            if too_long and not (refused - {post for post, _ in passed_over}):
                what = " or ".join(sorted(kinds))
                reason = f"every eligible post {what}: " + "; ".join(too_long)
            else:
                reason = "every eligible post was refused"
            return NothingToPost(account.name, slot, reason, tuple(too_long)), state
        template = pool[post_id]
        tags, hashtag_states = _choose_hashtags(settings, account, template, state)
        try:
            link = post_link(settings, template, account.network)
            first, *thread = render_parts(
                template.text_for(account.network),
                network=account.network,
                limits=limits_for_post(limits.text, account.network, template.content_warning),
                link=link.url if link else None,
                hashtags=tags,
                shown_link=link.shown if link else None,
            )
            unfit = media_refusal(template.media, limits.media, account.network)
            if unfit is not None:
                kinds.add("has images it does not take")
        except RenderError as error:
            unfit = str(error)  # e.g. an instance with a lower limit than the check used
            kinds.add("is too long for this network")
        if unfit is not None:
            refused.add(post_id)
            too_long.append(f"{post_id!r}: {unfit}")
            passed_over.append((post_id, unfit))
            continue
        new_state = AccountState(templates=template_state, hashtags=hashtag_states)
        campaign = settings.campaigns.get(template.campaign)
        replies = template.replies or (campaign.replies if campaign else "everyone")
        quotes = (
            template.quotes
            if template.quotes is not None
            else bool(campaign is None or campaign.quotes)
        )
        planned = PlannedPost(account.name, slot, template, first, tuple(passed_over),
                              replies, quotes, tuple(thread))  # fmt: skip
        return planned, new_state


def _choose_hashtags(
    settings: Settings, account: Account, template: Template, state: AccountState
) -> tuple[list[str], dict[str, RotationState]]:
    """Priority order: campaign's always-tags, the post's own, then rotated pool tags."""
    campaign = settings.campaigns[template.campaign]
    chosen: list[str] = []
    for tag in (*campaign.hashtags.always, *template.hashtags):
        if tag.lower() not in {t.lower() for t in chosen}:
            chosen.append(tag)
    states = dict(state.hashtags)
    pool = {
        tag: 1 for tag in campaign.hashtags.pool if tag.lower() not in {t.lower() for t in chosen}
    }
    if pool and campaign.hashtags.per_post:
        picked, states[template.campaign] = next_items(
            states.get(template.campaign, RotationState()),
            pool,
            f"{seed_key(settings, account)}:hashtags",
            campaign.hashtags.per_post,
        )
        chosen.extend(picked)
    return chosen, states
