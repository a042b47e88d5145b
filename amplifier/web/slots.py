"""The forecast as the calendar and the feed show it: one ``SlotView`` per slot.

Every view is ``forecast.predict`` over the stored state, the prediction ``amplifier preview``
prints: the post as it will go out, what it replaces and why, or why the slot is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from amplifier.config import Account
from amplifier.forecast import Forecast, Pause, SlotForecast, predict
from amplifier.guards import usd
from amplifier.web.console import Console
from amplifier.web.render import when

DAYS = 14


@dataclass(frozen=True)
class PartView:
    """A thread's later part as the calendar shows it (its length where it was measured)."""

    number: int
    text: str
    length: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class SlotView:
    account: Account
    zone: ZoneInfo
    due_at: datetime
    kind: str  # sends, rehearses, skipped, missed, or recorded (the slot has its row already)
    overdue: bool
    post: str | None = None
    campaign: str | None = None
    language: str | None = None
    text: str | None = None
    link: str | None = None  # where the text's link goes, where the text shows it short
    length: int | None = None
    limit: int | None = None
    cost: str | None = None
    reason: str | None = None
    replaced: tuple[str, ...] = ()
    waits: str | None = None
    status: str | None = None  # a recorded row's state
    url: str | None = None
    more: tuple[PartView, ...] = ()  # a thread: the parts after the first, each a reply

    @property
    def parts(self) -> int:
        return 1 + len(self.more)

    @property
    def heading(self) -> str:
        if self.kind in ("sends", "rehearses"):
            return f"{self.kind} {self.post}"
        if self.kind == "recorded":
            return f"already {self.status}: {self.post or '-'}"
        return self.kind


def _hidden_link(text: str, link: str | None) -> str | None:
    """The post's link where its text does not show it whole (a tagged link on Bluesky)."""
    return link if link is not None and link not in text else None


def both_times(zone: tzinfo, organizers: tzinfo) -> Callable[[datetime], str]:
    """How a reason writes a moment: the account's time, then the organizers'."""
    return lambda moment: f"{when(moment, zone)} (your time {when(moment, organizers)})"


def _view(
    console: Console, forecast: SlotForecast, account: Account, pause: Pause | None
) -> SlotView:
    zone = ZoneInfo(console.settings.schedules[account.schedule].timezone)
    written = both_times(zone, console.access.timezone)
    base = SlotView(account, zone, forecast.slot.due_at, "", forecast.overdue)
    row = forecast.recorded
    if row is not None:
        return replace(
            base, kind="recorded", post=row.template_id, campaign=row.campaign,
            language=row.language, text=row.text, status=row.status, url=row.url,
            reason=row.last_error, link=_hidden_link(row.text, row.link),
            more=tuple(PartView(n, p.text) for n, p in enumerate(row.thread_rest, 2)),
        )  # fmt: skip
    decision = forecast.decision
    assert decision is not None
    planned = decision.planned
    if decision.action != "send" or planned is None:
        kind = "missed" if decision.action == "missed" else "skipped"
        reason = decision.reason
        if decision.paused and pause is not None:  # its moment in local times, not UTC
            reason = pause.reason(written)
        return replace(base, kind=kind, reason=reason,
                        post=planned.template.id if planned else None,
                        campaign=planned.template.campaign if planned else None)  # fmt: skip
    rendered = planned.rendered
    cost = usd(decision.cost.micros, 3) if decision.cost and rendered.network == "x" else None
    return replace(
        base,
        kind="rehearses" if decision.rehearsal else "sends",
        post=planned.template.id,
        campaign=planned.template.campaign,
        language=planned.template.language,
        text=rendered.text,
        link=_hidden_link(rendered.text, rendered.link),
        length=rendered.length,
        limit=rendered.limit,
        cost=cost,
        replaced=tuple(f"instead of {r.post!r}, refused by {r}" for r in decision.replaced),
        waits=decision.deferred.reason(written) if decision.deferred else None,
        more=tuple(
            PartView(n, part.text, part.length, part.limit)
            for n, part in enumerate(planned.thread, 2)
        ),
    )


def forecast(console: Console, account: str | None = None) -> Forecast:
    """The next 14 days of every enabled account (or one), as ``preview --days 14``."""
    return predict(
        console.settings,
        console.library,
        console.store,
        console.clock(),
        rehearsals=console.rehearsals,
        accounts=None if account is None else [account],
        count=None,
        days=DAYS,
    )


def slot_views(
    console: Console, account: str | None = None, campaign: str | None = None
) -> tuple[Forecast, list[SlotView]]:
    """Every slot of the next 14 days, soonest first, narrowed to an account or campaign."""
    found = forecast(console, account)
    views = [
        _view(console, slot, item.account, found.pause)
        for item in found.accounts
        if campaign is None or campaign in item.account.campaigns
        for slot in item.slots
    ]
    if campaign is not None:
        views = [v for v in views if v.campaign in (None, campaign)]
    views.sort(key=lambda v: (v.due_at, v.account.name))
    return found, views


def by_day(views: list[SlotView], zone: ZoneInfo, first: date) -> list[tuple[date, list[SlotView]]]:
    """The 14 days from ``first`` (the organizers' days), each with its slots."""
    days: dict[date, list[SlotView]] = {first + timedelta(days=n): [] for n in range(DAYS + 1)}
    for view in views:
        day = view.due_at.astimezone(zone).date()
        days.setdefault(max(day, first), []).append(view)
    return sorted(days.items())
