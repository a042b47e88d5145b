"""``amplifier preview``: each account's next posts as the worker would send them, and spend."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from amplifier.check import display_path, load
from amplifier.cli.common import accounts_named
from amplifier.cli.operator import spend_line, store_spend
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.errors import StoreError
from amplifier.guards import post_cost, text_refusals, usd
from amplifier.schedule import NothingToPost, PlannedPost, preview, upcoming_slots
from amplifier.store import Store

Clock = Callable[[], datetime]


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
    for account in accounts:
        schedule = settings.schedules[account.schedule]
        print(
            f"{account.name} ({account.network}) · schedule {account.schedule!r} "
            f"in {schedule.timezone}",
            file=out,
        )
        slots = upcoming_slots(settings, account, now, count=args.n, days=args.days)
        if not slots:
            print("  no slots ahead (campaign ended, or no days/times left)", file=out)
        for planned in preview(settings, library, account, slots):
            print(_preview_block(planned, settings), file=out)
        if account.network == "x":
            print(f"  spend: {_spend_so_far(settings, library, account, now)}", file=out)
        print(file=out)
    return 0


def _spend_so_far(settings: Settings, library: Library, account: Account, now: datetime) -> str:
    """The account's month from the state database, read-only; preview works without one."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        # Opening it would create it, and nothing can have been spent without it.
        return spend_line(settings, library, account, now, lambda _name, _statuses: 0)
    store = Store(settings.sqlalchemy_url)
    try:
        return spend_line(settings, library, account, now, store_spend(store, now))
    except StoreError:
        return "unknown: the state database cannot be read (run amplifier status)"
    finally:
        store.close()


def _preview_block(planned: PlannedPost | NothingToPost, settings: Settings) -> str:
    when = planned.slot.due_at.astimezone(planned.slot.nominal.tzinfo).strftime(
        "%a %Y-%m-%d %H:%M %Z"
    )
    if isinstance(planned, NothingToPost):
        return f"  {when}  (nothing: {planned.reason})"
    rendered = planned.rendered
    header = (
        f"  {when}  {planned.template.id} ({planned.template.language}) "
        f"{rendered.length}/{rendered.limit} · {display_path(planned.template.path)}"
    )
    if rendered.network == "x":
        images = len(planned.template.media)
        cost = post_cost("x", rendered.text, images, settings.guards.x_prices)
        header += f" · {usd(cost.micros, 3)}"
    body = "\n".join(f"      {line}".rstrip() for line in rendered.text.splitlines())
    refusals = text_refusals(
        rendered.text,
        rendered.network,
        allow_mentions=planned.template.allow_mentions,
        max_hashtags=settings.networks.limits(rendered.network).max_hashtags,
        rules=settings.guards,
    )
    for refusal in refusals:  # the worker sends the next post in rotation instead
        body += f"\n      ! refused by the guards: {refusal}"
    return f"{header}\n{body}"
