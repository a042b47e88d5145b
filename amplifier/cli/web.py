"""``amplifier web``: the organizers' console, served by uvicorn until stopped.

The web package (Starlette, Jinja2, uvicorn) is imported only here, so no other command, and
never the worker, loads it. The port is ``--port``, else ``$PORT`` (Heroku sets it), else 8000.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from amplifier import logs
from amplifier.cli.alerting import alert_rules, alert_sender, secret_values
from amplifier.cli.common import CommandError
from amplifier.cli.database import UNREACHABLE_HINT, usable_database
from amplifier.config import (
    Credential,
    Settings,
    WebAccess,
    hash_password,
    load_settings,
    web_access,
)
from amplifier.errors import StoreError
from amplifier.logs import log_event
from amplifier.store import Store

if TYPE_CHECKING:
    from amplifier.web import ConsoleWatch

Clock = Callable[[], datetime]
LOGGER = logging.getLogger("amplifier.web")
DEFAULT_PORT = 8000
NO_ORGANIZER = "no organizer password"


def _read_password(out: TextIO) -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise CommandError("choose a password of at least 12 characters")
    return password


def _local_access(access: WebAccess, out: TextIO) -> WebAccess:
    """Run locally without an organizer password: a one-time one, printed here only."""
    import secrets

    if access.secure_cookies or not any(p.startswith(NO_ORGANIZER) for p in access.problems):
        return access
    password = secrets.token_urlsafe(12)
    print(
        f"no organizer password is set: sign in with this one-time password: {password}\n"
        "(it lasts until this process stops; docs/operators.md says how to set one)",
        file=out,
    )
    credential = Credential("organizer", password, hashed=False)
    problems = tuple(p for p in access.problems if not p.startswith(NO_ORGANIZER))
    return replace(access, credentials=(credential, *access.credentials), problems=problems)


def console_watch(
    settings: Settings, store: Store, clock: Clock, every: float | None = None
) -> ConsoleWatch | None:
    """The console's silent-worker watch and outbox sender; None without an alert channel.
    Ticks as often as a worker's housekeeping (``[worker] tick_seconds``) unless told."""
    from amplifier.web import ConsoleWatch

    sender_id = f"console:{socket.gethostname()}:{os.getpid()}"
    sender = alert_sender(settings, store, sender_id, worker=False)
    if sender is None:
        return None
    tick = float(settings.worker.tick_seconds) if every is None else every
    return ConsoleWatch(store, alert_rules(settings), sender, clock=clock, every=tick)


def cmd_web(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    if args.hash_password:
        print(hash_password(_read_password(out)), file=out)
        return 0
    access = _local_access(web_access(), out)
    if access.problems:
        raise CommandError("the console cannot start: " + "; ".join(access.problems))
    port = args.port or access.port or DEFAULT_PORT
    host = args.host or ("0.0.0.0" if access.port else "127.0.0.1")
    usable_database(load_settings(args.config))

    import uvicorn

    from amplifier.web import AccessEvents, create_app, open_console

    try:
        console = open_console(args.config, args.posts, access, clock=clock)
    except StoreError as error:
        raise CommandError(f"the database cannot be used: {error}. {UNREACHABLE_HINT}", 1) from None
    secrets = secret_values(console.settings) + access.secret_values()
    try:
        # uvicorn's own lines (errors, one per request) go through the log's handler too: one
        # logfmt line per event, redacted, the feed's token never in a request line.
        with logs.installed(secrets, stream=out, filters=[AccessEvents()]):
            console.watch = console_watch(console.settings, console.store, clock)
            shown = f"[{host}]" if ":" in host else host
            log_event(
                LOGGER,
                "serving",
                url=f"http://{shown}:{port}/",
                hint="open it in a browser; Ctrl-C stops it",
            )
            uvicorn.run(
                create_app(console),
                host=host,
                port=port,
                proxy_headers=access.secure_cookies,  # behind Heroku's router: the client's
                forwarded_allow_ips="*" if access.secure_cookies else None,  # address
                log_config=None,  # no handlers of uvicorn's own: ours, installed above
                log_level="info",
                access_log=True,
                server_header=False,
            )
    finally:
        console.close()
    return 0
