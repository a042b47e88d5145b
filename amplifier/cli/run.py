"""``amplifier run`` and ``amplifier post-now``: the worker, with its log on stdout, redacted.

Before the first pass the log says what this worker works with, once and briefly: the config,
the database (password masked), the posts (and how many are invalid and left out), which
accounts are live and which dry-run, and each account's next post, rendered, so a newcomer on
the sample config sees real output at once instead of waiting for the first slot. Nothing of
that is recorded: the next post comes from the planner over the stored rotation, read-only.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from amplifier import logs
from amplifier.accounts import network_factory
from amplifier.check import load
from amplifier.cli.common import accounts_named, dry_run_accounts
from amplifier.cli.database import database_label, opened
from amplifier.cli.operator import history_line
from amplifier.config import Account, Settings, resolve_secrets
from amplifier.content import Library
from amplifier.logs import log_event, log_exception
from amplifier.schedule import (
    AccountState,
    NothingToPost,
    Slot,
    preview,
    seed_key,
    slot_spec,
    slots_between,
    upcoming_slots,
)
from amplifier.store import Store
from amplifier.worker import Worker, run_forever

Clock = Callable[[], datetime]
LOGGER = logging.getLogger("amplifier.cli")


def secret_values(settings: Settings) -> list[str]:
    """Every secret this deployment holds: account credentials and the database password."""
    found, _ = resolve_secrets(settings)
    values = [value for secrets in found.values() for value in secrets.values.values()]
    try:
        password = make_url(settings.sqlalchemy_url).password
    except ArgumentError:
        password = None
    if password:
        values.append(str(password))
    return values


def _worker(
    args: argparse.Namespace,
    clock: Clock,
    settings: Settings,
    store: Store,
    accounts: list[Account],
) -> Worker:
    _, library = load(args.config, args.posts)
    dry_run = bool(args.dry_run) or settings.dry_run
    log_start(settings, library, accounts, forced=bool(args.dry_run))
    factory = network_factory(settings, store, dry_run=dry_run)
    return Worker(settings, library, store, factory, clock=clock)


def log_start(settings: Settings, library: Library, accounts: list[Account], forced: bool) -> None:
    """The start-up lines: what this worker works with, and what it leaves out, said once."""
    live, dry = dry_run_accounts(settings, accounts, forced)
    valid = sum(1 for result in library.files if result.ok)
    invalid = sum(1 for result in library.files if not result.ok)
    log_event(
        LOGGER,
        "starting",
        config=settings.config_path,
        database=database_label(settings),
        posts=valid,
        invalid_posts=invalid,
        live=",".join(live) or "none",
        dry_run=",".join(dry) or "none",
    )
    if dry and not (forced or settings.dry_run):
        log_event(
            LOGGER,
            "credentials-missing",
            accounts=",".join(dry),
            then="their posts are logged, not sent",
            hint="amplifier accounts verify names the variables",
        )
    errors = [problem for problem in library.problems if problem.severity == "error"]
    if invalid or errors:
        log_event(
            LOGGER,
            "posts-left-out",
            logging.WARNING,
            invalid_posts=invalid,
            problems=len(errors),
            first=str(errors[0]) if errors else None,
            hint="amplifier check shows why",
        )


def next_slot(settings: Settings, store: Store, account: Account, now: datetime) -> Slot | None:
    """The slot the worker acts on next: a due one not yet recorded and still inside the
    grace window and the lookback (the worker sends it at once), else the next one ahead.

    Read-only. It follows the worker's rules (worker/slot.py: a slot later than the grace
    window is recorded missed, never sent); the worker's own first-start bound never
    narrows that window further, since the first start is never after now."""
    spec, key = slot_spec(settings, account), seed_key(settings, account)
    back = min(settings.worker.grace_minutes * 60, settings.worker.lookback_hours * 3600)
    end = now + timedelta(microseconds=1)  # slots_between is half-open
    for slot in slots_between(spec, key, now - timedelta(seconds=back), end):
        if store.get(account.name, slot.key) is None:
            return slot
    found = upcoming_slots(settings, account, now, count=1, days=None)
    return found[0] if found else None


def log_next_posts(
    settings: Settings, library: Library, store: Store, accounts: list[Account], now: datetime
) -> None:
    """One line per account: the slot it acts on next and the post it gets, rendered.

    Read-only: the rotation state is read from the store, nothing is written. A guard may
    still hold that post back when the slot comes (the next in rotation goes instead)."""
    paused = store.paused()[0]
    for account in accounts:
        slot = next_slot(settings, store, account, now)
        if slot is None:
            log_event(LOGGER, "next-post", account=account.name, reason="no slots ahead")
            continue
        stored = store.load_rotation(account.name)
        state = AccountState.from_dict(stored) if stored else AccountState()
        planned = preview(settings, library, account, [slot], state)[0]
        fields: dict[str, object] = {
            "account": account.name,
            "due": slot.due_at.astimezone(slot.nominal.tzinfo).isoformat(timespec="minutes"),
            "zone": settings.schedules[account.schedule].timezone,
        }
        if paused:
            log_event(LOGGER, "next-post", **fields, reason="paused (amplifier resume)")
        elif isinstance(planned, NothingToPost):
            log_event(LOGGER, "next-post", **fields, reason=planned.reason)
        else:
            rendered = planned.rendered
            log_event(
                LOGGER,
                "next-post",
                **fields,
                post=planned.template.id,
                length=f"{rendered.length}/{rendered.limit}",
                text=rendered.text,
            )


def cmd_run(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with (
        opened(args, clock) as (settings, store),
        logs.installed(secret_values(settings), stream=out),
    ):
        accounts = accounts_named(settings, None)
        worker = _worker(args, clock, settings, store, accounts)
        try:
            log_next_posts(settings, worker.library, store, accounts, clock())
        except Exception:  # a preview must never keep the worker from starting
            log_exception(LOGGER, "next-post-failed", logging.WARNING)
        if not args.once:
            run_forever(worker)
            return 0
        try:
            done = worker.run_pending()
        finally:
            worker.close()
        for row in done:
            print(history_line(settings, row), file=out)
        if not done:
            print(f"nothing was due at {clock():%Y-%m-%d %H:%M} UTC", file=out)
        return 0


def cmd_post_now(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with (
        opened(args, clock, account=args.account) as (settings, store),
        logs.installed(secret_values(settings), stream=out),
    ):
        accounts = accounts_named(settings, args.account)
        worker = _worker(args, clock, settings, store, accounts)
        try:
            row = worker.post_now(args.account, args.post)
        finally:
            worker.close()
        print(history_line(settings, row), file=out)
        return 0 if row.status == "published" else 1


RUN_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, Clock], int]] = {
    "run": cmd_run,
    "post-now": cmd_post_now,
}
