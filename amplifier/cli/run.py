"""``amplifier run`` and ``amplifier post-now``: the worker, with its log on stdout, redacted."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from amplifier import logs
from amplifier.accounts import network_factory
from amplifier.check import load
from amplifier.cli.operator import LOGGER, history_line, opened
from amplifier.config import Settings, resolve_secrets
from amplifier.logs import log_event
from amplifier.store import Store
from amplifier.worker import Worker, run_forever

Clock = Callable[[], datetime]


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
    args: argparse.Namespace, out: TextIO, clock: Clock, settings: Settings, store: Store
) -> Worker:
    _, library = load(args.config, args.posts)
    dry_run = bool(args.dry_run) or settings.dry_run
    factory = network_factory(settings, store, dry_run=dry_run)
    for message in resolve_secrets(settings)[1]:
        log_event(
            LOGGER, "credentials-missing", reason=f"{message}; its posts are logged, not sent"
        )
    return Worker(settings, library, store, factory, clock=clock)


def cmd_run(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with (
        opened(args, clock) as (settings, store),
        logs.installed(secret_values(settings), stream=out),
    ):
        worker = _worker(args, out, clock, settings, store)
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
        opened(args, clock) as (settings, store),
        logs.installed(secret_values(settings), stream=out),
    ):
        worker = _worker(args, out, clock, settings, store)
        try:
            row = worker.post_now(args.account, args.post)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=out)
            return 1
        finally:
            worker.close()
        print(history_line(settings, row), file=out)
        return 0 if row.status == "published" else 1


RUN_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, Clock], int]] = {
    "run": cmd_run,
    "post-now": cmd_post_now,
}
