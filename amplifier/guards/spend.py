"""What X charges for a post, and the monthly budget that keeps the bill from surprising anyone.

X bills per post since 2026-02-06: a post costs ``post`` ($0.015), or ``post_with_url``
($0.200) instead when it contains a link, plus ``media_metadata`` ($0.005) per image, since
amplifier sets every image's alt text. Prices come from ``[guards.x_prices]``.

A post "contains a link" when twitter-text (the library X itself publishes) finds a URL in the
final text, bare domains such as ``example.org`` included: X turns those into links too.

Money is counted in whole micro-dollars (``MICROS`` per dollar) so sums never drift; a month is
a calendar month in UTC. Only X costs anything: Mastodon and Bluesky are free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from amplifier.config import Account, Settings, XPrices
from amplifier.content import Library, Template, extract_urls, render_parts, split_parts
from amplifier.errors import RenderError
from amplifier.networks.base import NetworkName
from amplifier.schedule import candidates, seed_key, slot_spec, slots_between

MICROS = 1_000_000


def to_micros(dollars: float) -> int:
    """Dollars as whole micro-dollars ($0.015 -> 15000)."""
    return round(dollars * MICROS)


def usd(micros: int, places: int = 2) -> str:
    """'$9.80' (at least ``places`` decimals, more when needed to be exact: '$9.805')."""
    sign = "-" if micros < 0 else ""
    whole, rest = divmod(abs(micros), MICROS)
    digits = f"{rest:06d}".rstrip("0")
    return f"{sign}${whole}.{digits.ljust(places, '0')}"


def has_url(text: str) -> bool:
    """Whether X would find a link in this text (and bill the post as one with a URL)."""
    return bool(extract_urls(text))


@dataclass(frozen=True)
class Cost:
    """One post's price and how it is made up."""

    micros: int
    with_url: bool
    images: int
    parts: int = 1  # a thread: every part is a post, billed as one

    def describe(self) -> str:
        base = "post with a link" if self.with_url else "post"
        extra = f" + {self.images} image(s)" if self.images else ""
        if self.parts > 1:
            base = f"thread of {self.parts} posts" + (", a link" if self.with_url else "")
        return f"{usd(self.micros, 3)} ({base}{extra})"


def post_cost(network: str, text: str, images: int, prices: XPrices) -> Cost:
    """What publishing this text (with ``images`` pictures) costs on ``network``."""
    if network != "x":
        return Cost(0, with_url=False, images=images)
    with_url = has_url(text)
    base = prices.post_with_url if with_url else prices.post
    micros = to_micros(base) + images * to_micros(prices.media_metadata)
    return Cost(micros, with_url=with_url, images=images)


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """[first instant of moment's UTC month, first instant of the next)."""
    utc = moment.astimezone(UTC)
    start = datetime(utc.year, utc.month, 1, tzinfo=UTC)
    end = datetime(utc.year + utc.month // 12, utc.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True)
class Budget:
    """One monthly budget and what is already spent (or committed) against it."""

    scope: str  # "account fbt-x" or "all X accounts"
    limit_micros: int
    spent_micros: int

    def exceeded_by(self, cost: int) -> str | None:
        """None if ``cost`` fits; else the figures, e.g. 'spend $9.80 + $0.200 would exceed…'."""
        if self.spent_micros + cost <= self.limit_micros:
            return None
        return (
            f"spend {usd(self.spent_micros)} + {usd(cost, 3)} would exceed the "
            f"{usd(self.limit_micros)} monthly budget of {self.scope}"
        )


def budgets(
    settings: Settings, account: Account, spent: Callable[[str | None], int]
) -> list[Budget]:
    """The budgets an X account's next post must fit: its own, then all X accounts'.

    ``spent(name)`` is the month's spend of that account, ``spent(None)`` of all X accounts.
    """
    if account.network != "x":
        return []
    found: list[Budget] = []
    if account.monthly_budget_usd is not None:
        limit = to_micros(account.monthly_budget_usd)
        found.append(Budget(f"account {account.name}", limit, spent(account.name)))
    deployment = settings.guards.x_monthly_budget_usd
    if deployment is not None:
        found.append(Budget("all X accounts", to_micros(deployment), spent(None)))
    return found


def budget_problem(cost: Cost, budgets: Iterable[Budget]) -> str | None:
    """The first budget this post would break, with the figures; None when it fits them all."""
    if cost.micros == 0:
        return None
    for budget in budgets:
        problem = budget.exceeded_by(cost.micros)
        if problem is not None:
            return problem
    return None


def expected_cost(costs: Iterable[tuple[int, int]]) -> int:
    """Mean cost of the next post from (cost, weight) pairs: the rotation's long-run mix."""
    pairs = list(costs)
    total_weight = sum(weight for _, weight in pairs)
    if total_weight <= 0:
        return 0
    return round(sum(cost * weight for cost, weight in pairs) / total_weight)


def projected(spent_micros: int, remaining_slots: int, expected_micros: int) -> int:
    """Spend by the month's end if every remaining slot posts at the expected cost."""
    return spent_micros + remaining_slots * expected_micros


def thread_cost(network: str, texts: Sequence[str], images: int, prices: XPrices) -> Cost:
    """What publishing these parts in order costs: each part is a post of its own (X bills
    each), the images going with the first."""
    costs = [
        post_cost(network, text, images if i == 0 else 0, prices) for i, text in enumerate(texts)
    ]
    return Cost(
        sum(cost.micros for cost in costs),
        with_url=any(cost.with_url for cost in costs),
        images=images,
        parts=len(costs),
    )


# -- what a rotation is expected to cost ---------------------------------------------------------


def template_cost(template: Template, network: NetworkName, settings: Settings) -> Cost:
    """What this post costs on ``network`` as rendered (its link placed, no hashtags added)."""
    try:
        texts = [
            part.text
            for part in render_parts(
                template.text_for(network),
                network=network,
                limits=settings.networks.limits(network),
                link=template.link,
                hashtags=(),
            )
        ]
    except RenderError:  # not sendable there anyway; price it by its parts
        texts = [part.text for part in split_parts(template.text_for(network))]
        texts[0] = f"{texts[0]} {template.link or ''}"
    return thread_cost(network, texts, len(template.media), settings.guards.x_prices)


@dataclass(frozen=True)
class Projection:
    """One account's month: spent so far, slots left, and the spend if they all go out."""

    spent_micros: int
    remaining_slots: int
    expected_micros: int  # mean cost of one post from the rotation's mix

    @property
    def projected_micros(self) -> int:
        return projected(self.spent_micros, self.remaining_slots, self.expected_micros)


def month_projection(
    settings: Settings, library: Library, account: Account, now: datetime, spent_micros: int
) -> Projection:
    """Spend so far plus every remaining slot of the UTC month at the mix's expected cost."""
    _, end = month_bounds(now)
    slots = slots_between(slot_spec(settings, account), seed_key(settings, account), now, end)
    per_day = Counter(slot.nominal.date() for slot in slots)
    cap = settings.guards.daily_cap
    remaining = sum(min(count, cap) if cap else count for count in per_day.values())
    pool = candidates(settings, library, account, now.date())
    mix = expected_cost(
        (template_cost(template, account.network, settings).micros, template.weight)
        for template in pool.values()
    )
    return Projection(spent_micros, remaining, mix)


def month_summary(projection: Projection, pending_micros: int, limits: Iterable[Budget]) -> str:
    """'$0.45 spent this month (+$0.015 pending), projected $2.10; budget $5.00 (account x)'."""
    text = f"{usd(projection.spent_micros)} spent this month"
    if pending_micros:
        text += f" (+{usd(pending_micros, 3)} pending)"
    total = projection.projected_micros + pending_micros
    each = usd(round(projection.expected_micros, -3), 3)
    text += (
        f", projected {usd(round(total, -4))} by month end "
        f"({projection.remaining_slots} slots left at ~{each})"
    )
    shown = [f"{usd(b.limit_micros)} for {b.scope}" for b in limits]
    return text + ("; budget " + ", ".join(shown) if shown else "; no budget set")
