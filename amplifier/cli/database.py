"""The state database as the commands open it: checked first, named without its password.

Every command that reads or writes the store opens it here, so each one refuses the same
unusable databases with the same words: SQLite on Heroku (config's ``database_problem``), a
URL that cannot be parsed, a SQLite file in a folder that is missing or read-only, a server
that cannot be reached.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from amplifier.cli.common import CommandError, accounts_named
from amplifier.config import Settings, database_problem, load_settings
from amplifier.errors import StoreError
from amplifier.store import Store

Clock = Callable[[], datetime]
WHERE = "DATABASE_URL (or database_url in the config)"
UNREACHABLE_HINT = (
    "Is the database server running, and does DATABASE_URL (or database_url in the config) "
    "point at it? 'amplifier check' works without a database."
)


def database_label(settings: Settings) -> str:
    """The database URL with its password masked (``postgresql+psycopg://u:***@host/db``)."""
    try:
        return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a URL that cannot be parsed)"


def usable_database(settings: Settings) -> None:
    """Refuse, with what to do, a database that cannot keep this deployment's state."""
    problem = database_problem(settings)
    if problem is not None:
        raise CommandError(problem)
    try:
        url = make_url(settings.sqlalchemy_url)
    except ArgumentError:
        # The text may hold a password, so it is not repeated.
        raise CommandError(
            f"the database URL ({WHERE}) cannot be parsed; expected sqlite:///path/file.db or "
            "postgresql://user:password@host/database"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise CommandError(
            f"the database URL ({WHERE}) names {url.get_backend_name()}; amplifier works with "
            "SQLite (sqlite:///path/file.db) or PostgreSQL (postgresql://…)"
        )
    if url.get_backend_name() == "sqlite":
        _sqlite_file(url)


def _sqlite_file(url: URL) -> None:
    if url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    folder = path.parent if str(path.parent) else Path(".")
    shown = url.render_as_string(hide_password=True)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise CommandError(
            f"the SQLite database {shown} cannot be opened: its folder {folder} {problem}. "
            f"Create the folder, or set {WHERE} to another place"
        )
    writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK)
    if not writable:
        what = f"the file {path}" if path.exists() else f"the folder {folder}"
        raise CommandError(
            f"the SQLite database {shown} cannot be written: {what} is read-only for this "
            f"user. Make it writable, or set {WHERE} to another place"
        )


@contextmanager
def opened(
    args: argparse.Namespace, clock: Clock, *, account: str | None = None
) -> Iterator[tuple[Settings, Store]]:
    """The settings and the migrated store; every way the database can fail, explained.

    ``account``, when given, must name an enabled account: checked before the database is
    opened (or created), so a typo leaves nothing behind."""
    settings = load_settings(args.config)
    accounts_named(settings, account)
    usable_database(settings)
    store = Store(settings.sqlalchemy_url, clock=clock)
    try:
        try:
            store.migrate()
        except StoreError as error:
            message = f"the database cannot be used: {error}. {UNREACHABLE_HINT}"
            raise CommandError(message, 1) from None
        yield settings, store
    finally:
        store.close()
