"""``amplifier preview`` and ``amplifier schedule``: what the worker will do, slot by slot.

Both print ``forecast.predict``: the worker's own decision run over the stored state (rotation,
guard history, spend, pause, rate limits, slots already recorded), each predicted send counted
for the next slot. ``preview`` shows each post as it will go out, what it replaces and why, or
why the slot is skipped; ``schedule`` one line per slot. Nothing is sent or recorded; a state
database that does not exist yet is not created (it reads as empty).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from amplifier.cards import card_for, card_links, fetch_card, refresh_cards
from amplifier.check import display_path, load
from amplifier.cli.common import CommandError, accounts_named
from amplifier.cli.database import UNREACHABLE_HINT, usable_database
from amplifier.cli.operator import spend_line, store_spend
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.errors import StoreError
from amplifier.forecast import UNFORESEEABLE, SlotForecast, predict, rehearsals
from amplifier.guards import usd
from amplifier.networks.base import LinkCard
from amplifier.schedule import slot_spec
from amplifier.store import Store

Clock = Callable[[], datetime]


@contextmanager
def state_store(settings: Settings, *, keeps_state: bool) -> Iterator[Store | None]:
    """The state database, migrated, or None when it does not exist yet (nothing is made).

    Checked as every command checks it (``cli.database``): a prediction over a database it
    could not read would show what the worker will not do. ``keeps_state=False`` (preview,
    which needs no database) also reads SQLite on Heroku, which only a store of state minds.
    """
    checked = (
        settings if keeps_state else settings.model_copy(update={"allow_sqlite_on_heroku": True})
    )
    try:
        url = make_url(settings.sqlalchemy_url)
    except ArgumentError:
        usable_database(checked)  # says the URL cannot be parsed, without repeating it
        raise
    if keeps_state:
        usable_database(checked)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        yield None
        return
    usable_database(checked)
    store = Store(settings.sqlalchemy_url)
    try:
        try:
            store.migrate()
        except StoreError as error:
            message = f"the database cannot be used: {error}. {UNREACHABLE_HINT}"
            raise CommandError(message, 1) from None
        yield store
    finally:
        store.close()


def cmd_preview(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings, library = load(args.config, args.posts)
    if library.problems:
        print(
            f"note: {len(library.problems)} problem(s) in posts; those posts are left out "
            "(run amplifier check)",
            file=out,
        )
    accounts = accounts_named(settings, args.account)
    now = clock()
    with state_store(settings, keeps_state=False) as store:
        cards = _card_notes(settings, library, store, fetch=args.fetch_cards, clock=clock)
        forecast = predict(
            settings,
            library,
            store,
            now,
            rehearsals=rehearsals(settings),
            accounts=[a.name for a in accounts],
            count=args.n,
            days=args.days,
        )
        if forecast.paused:
            print(f"PAUSED ({forecast.paused}): every slot is skipped until resume", file=out)
        for account in forecast.accounts:
            print(_account_header(settings, account.account), file=out)
            if account.rehearsal:
                print(f"  {account.rehearsal}", file=out)
            if not account.slots:
                print(f"  no slots ahead: {_no_slots(settings, account.account, now)}", file=out)
            for slot in account.slots:
                print(_preview_block(slot, settings, cards), file=out)
            if account.account.network == "x" and not account.rehearsal:
                print(
                    f"  spend: {_spend(settings, library, account.account, now, store)}", file=out
                )
            print(file=out)
    print("Not foreseen (docs/operators.md, 'What preview predicts'):", file=out)
    for case in UNFORESEEABLE:
        print(f"  - {case}", file=out)
    return 0


def _account_header(settings: Settings, account: Account) -> str:
    schedule = settings.schedules[account.schedule]
    return (
        f"{account.name} ({account.network}) · schedule {account.schedule!r} in {schedule.timezone}"
    )


def _no_slots(settings: Settings, account: Account, now: datetime) -> str:
    spec = slot_spec(settings, account)
    if spec.end is not None and spec.end < now.astimezone(spec.zone).date():
        return f"its campaigns ended on {spec.end}"
    return "its schedule has no slot in the next 400 days (days, blackout dates, campaign dates)"


def _spend(
    settings: Settings, library: Library, account: Account, now: datetime, store: Store | None
) -> str:
    if store is None:  # nothing can have been spent without a database
        return spend_line(settings, library, account, now, lambda _name, _statuses: 0)
    return spend_line(settings, library, account, now, store_spend(store, now))


def _in_zone(zone: tzinfo | None) -> Callable[[datetime], str]:
    """Writes a moment in the slot's own time, UTC beside it: '2026-11-23 09:10 CST (15:10
    UTC)', as the slot line itself reads."""

    def written(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M} UTC)"

    return written


def _when(forecast: SlotForecast) -> str:
    slot = forecast.slot
    text = slot.due_at.astimezone(slot.nominal.tzinfo).strftime("%a %Y-%m-%d %H:%M %Z")
    return f"{text} (due, next pass)" if forecast.overdue and forecast.recorded is None else text


def outcome(forecast: SlotForecast) -> str:
    """One slot's outcome in a few words: 'sends call-congress', 'skipped: guard daily-cap…'."""
    if forecast.recorded is not None:
        row = forecast.recorded
        return f"already {row.status}: {row.template_id or '-'}"
    decision = forecast.decision
    assert decision is not None
    if decision.action == "send" and decision.planned is not None:
        verb = "rehearses" if decision.rehearsal else "sends"
        return f"{verb} {decision.planned.template.id}"
    return f"{'missed' if decision.action == 'missed' else 'skipped'}: {decision.reason}"


def _card_notes(
    settings: Settings, library: Library, store: Store | None, *, fetch: bool, clock: Clock
) -> dict[str, str]:
    """Each Bluesky link's card as preview shows it: read now with ``fetch`` (and stored for
    the worker when there is a database), else as stored."""
    links = card_links(library, settings)
    found: dict[str, tuple[LinkCard | None, str | None]] = {}
    if fetch and store is not None:
        outcomes = refresh_cards(store, links, clock=clock, force=True)
        found = {o.url: (o.card, o.failure) for o in outcomes}
    elif fetch:
        found = {url: (o.card, o.failure) for url in links for o in [fetch_card(url)]}
    elif store is not None:
        found = {url: card_for(store, url) for url in links}
    notes = {}
    for url, (card, failure) in found.items():
        if card is None:
            notes[url] = f"plain link on Bluesky: {failure}"
        else:
            image = f"thumbnail {len(card.thumb)} bytes" if card.thumb else "no thumbnail"
            notes[url] = f"card: {card.title!r} ({image})"
    return notes


def _preview_block(forecast: SlotForecast, settings: Settings, cards: dict[str, str]) -> str:
    when = _when(forecast)
    decision = forecast.decision
    if decision is None or decision.action != "send" or decision.planned is None:
        return f"  {when}  {outcome(forecast)}"
    planned = decision.planned
    rendered = planned.rendered
    verb = "rehearses" if decision.rehearsal else "sends"
    header = (
        f"  {when}  {verb} {planned.template.id} ({planned.template.language}) "
        f"{rendered.length}/{rendered.limit} · {display_path(planned.template.path)}"
    )
    if planned.thread:
        header += f" · a thread of {len(planned.parts)} posts"
    if rendered.network == "x" and decision.cost is not None:
        header += f" · {usd(decision.cost.micros, 3)}"
    lines = [header]
    for refusal in decision.replaced:  # the posts the rotation offered first
        lines.append(f"      instead of {refusal.post!r}, refused by {refusal}")
    if decision.deferred is not None:
        written = _in_zone(forecast.slot.nominal.tzinfo)
        lines.append(f"      waits: {decision.deferred.reason(written)}")
    lines += [f"      {line}".rstrip() for line in rendered.text.splitlines()]
    if rendered.link is not None and rendered.link not in rendered.text:
        # Bluesky shows a tagged link short; say where it goes.
        lines.append(f"      link: {rendered.link}")
    for number, part in enumerate(planned.thread, 2):  # a thread: each part a reply
        lines.append(f"      -- part {number}/{len(planned.parts)}, a reply: "
                     f"{part.length}/{part.limit}")  # fmt: skip
        lines += [f"      {line}".rstrip() for line in part.text.splitlines()]
        if part.link is not None and part.link not in part.text:
            lines.append(f"      link: {part.link}")
    template = planned.template
    if rendered.network == "bluesky" and template.link and not template.media:
        note = cards.get(template.link, "card: not read yet (--fetch-cards reads it now)")
        lines.append(f"      [{note}]")
    return "\n".join(lines)


def cmd_schedule(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings, library = load(args.config, args.posts)
    accounts = accounts_named(settings, args.account)
    now = clock()
    with state_store(settings, keeps_state=True) as store:
        forecast = predict(
            settings,
            library,
            store,
            now,
            rehearsals=rehearsals(settings),
            accounts=[a.name for a in accounts],
            count=args.n,
        )
    if forecast.paused:
        print(f"PAUSED ({forecast.paused}): these slots are skipped until resume", file=out)
    for account in forecast.accounts:
        zone = settings.schedules[account.account.schedule].timezone
        name, network = account.account.name, account.account.network
        print(f"{name} ({network}) · {account.account.schedule} in {zone}", file=out)
        for slot in account.slots:
            local = slot.slot.due_at.astimezone(slot.slot.nominal.tzinfo)
            print(
                f"  {local:%Y-%m-%d %H:%M %Z}  ({slot.slot.due_at:%Y-%m-%d %H:%M} UTC)  "
                f"slot {slot.slot.key}  {outcome(slot)}",
                file=out,
            )
        if not account.slots:
            print(f"  no slots ahead: {_no_slots(settings, account.account, now)}", file=out)
    return 0
