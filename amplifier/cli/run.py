"""``amplifier run`` and ``amplifier post-now``: the worker, with its log on stdout, redacted.

Before the first pass the log says what this worker works with, once and briefly: the config,
the database (password masked), the posts (and how many are invalid and left out), which
accounts are live and which dry-run, and each account's next post, rendered, so a newcomer on
the sample config sees real output at once instead of waiting for the first slot. Nothing of
that is recorded: the next post is the forecast's (what ``amplifier preview`` shows), read-only.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from amplifier import logs
from amplifier.accounts import network_factory
from amplifier.check import load_posts
from amplifier.cli.alerting import alert_rules, alert_sender, secret_values
from amplifier.cli.common import accounts_named, dry_run_accounts
from amplifier.cli.database import database_label, opened
from amplifier.cli.operator import history_line
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.forecast import predict, rehearsals
from amplifier.logs import log_event, log_exception
from amplifier.store import Store
from amplifier.worker import Worker, make_worker_id

Clock = Callable[[], datetime]
LOGGER = logging.getLogger("amplifier.cli")


def _worker(
    args: argparse.Namespace,
    clock: Clock,
    settings: Settings,
    store: Store,
    accounts: list[Account],
) -> Worker:
    library = load_posts(settings, args.posts)  # the settings opened() read
    dry_run = bool(args.dry_run) or settings.dry_run
    log_start(settings, library, accounts, forced=bool(args.dry_run))
    stop = threading.Event()  # one event: it stops the worker and the adapters' waits alike
    factory = network_factory(settings, store, dry_run=dry_run, stop=stop)
    notes = rehearsals(settings, flag=bool(args.dry_run))
    rules = alert_rules(settings)
    worker_id = make_worker_id()
    sender = alert_sender(settings, store, worker_id) if args.command == "run" else None
    if args.command == "run":  # posts that fail the check after a deploy: one alert per set
        errors = [str(problem) for problem in library.problems if problem.severity == "error"]
        invalid = sum(1 for result in library.files if not result.ok)
        store.enqueue_alerts(rules.check_failed(invalid, errors))
    return Worker(
        settings,
        library,
        store,
        factory,
        clock=clock,
        rehearsals=notes,
        worker_id=worker_id,
        alerts=rules,
        alert_sender=sender,
        stop=stop,
    )


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


def log_next_posts(
    settings: Settings,
    library: Library,
    store: Store,
    accounts: list[Account],
    now: datetime,
    *,
    forced: bool,
) -> None:
    """One line per account: the slot it acts on next and what becomes of it, rendered.

    That is the forecast's first slot (``forecast.predict``, what ``amplifier preview`` shows):
    the worker's own decision over the stored state, read-only. A slot already due and not
    recorded comes first: the worker acts on it at once."""
    forecast = predict(
        settings,
        library,
        store,
        now,
        rehearsals=rehearsals(settings, flag=forced),
        accounts=[account.name for account in accounts],
        count=1,
    )
    for account in forecast.accounts:
        coming = [slot for slot in account.slots if slot.recorded is None]
        if not coming or coming[0].decision is None:
            log_event(LOGGER, "next-post", account=account.account.name, reason="no slots ahead")
            continue
        slot, decision = coming[0].slot, coming[0].decision
        fields: dict[str, object] = {
            "account": account.account.name,
            "due": slot.due_at.astimezone(slot.nominal.tzinfo).isoformat(timespec="minutes"),
            "zone": settings.schedules[account.account.schedule].timezone,
        }
        if decision.action != "send" or decision.planned is None:
            log_event(LOGGER, "next-post", **fields, reason=f"{decision.action}: {decision.reason}")
            continue
        rendered = decision.planned.rendered
        log_event(
            LOGGER,
            "next-post",
            **fields,
            post=decision.planned.template.id,
            length=f"{rendered.length}/{rendered.limit}",
            instead_of=",".join(r.post for r in decision.replaced if r.post) or None,
            text=rendered.text,
        )


def cmd_run(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    from amplifier.worker import run_forever, run_once  # the drivers: `run`'s alone

    with (
        opened(args, clock) as (settings, store),
        logs.installed(secret_values(settings), stream=out),
    ):
        accounts = accounts_named(settings, None)
        worker = _worker(args, clock, settings, store, accounts)
        for account in accounts:  # each server's limits first (daily), so the preview uses them
            worker.flow.refresh_limits(account)
        try:
            log_next_posts(
                settings, worker.library, store, accounts, clock(), forced=bool(args.dry_run)
            )
        except Exception:  # a preview must never keep the worker from starting
            log_exception(LOGGER, "next-post-failed", logging.WARNING)
        if not args.once:
            if not run_forever(worker):
                # A request still hangs, its row handed back: exit now, not after its read
                # timeout (interpreter exit would wait for its thread).
                logging.shutdown()
                out.flush()
                os._exit(0)
            return 0
        done, finished = run_once(worker)
        if finished and worker.alerting.sender is not None:
            try:  # what this pass enqueued, sent now (bounded timeouts): no thread outlives it
                worker.alerting.sender.drain()
            except Exception:
                log_exception(LOGGER, "alert-drain-failed", logging.WARNING)
        if not finished:
            logging.shutdown()  # as above: a request still hangs, its row handed back
            out.flush()
            os._exit(0)
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
        return 0 if row.status in ("published", "rehearsed") else 1


RUN_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, Clock], int]] = {
    "run": cmd_run,
    "post-now": cmd_post_now,
}
