"""Databases for scenarios: a SQLite file, or a fresh schema on a PostgreSQL server.

An unreachable PostgreSQL server raises ``DatabaseUnavailable`` (with the URL's password
masked); the caller decides what that means: the process tests skip (or fail under CI), the
soak script stops with a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL_VARIABLE = "AMPLIFIER_TEST_POSTGRES_URL"  # where callers look for another server


class DatabaseUnavailable(Exception):
    """The PostgreSQL server cannot be reached; the message says which one (no password)."""


def sqlite_database(directory: Path) -> str:
    return f"sqlite:///{directory / 'state.db'}"


@contextmanager
def postgres_database(base_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """A URL to a fresh schema on the PostgreSQL server at ``base_url``, dropped afterwards."""
    engine = create_engine(
        base_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sql("SELECT 1"))
    except SQLAlchemyError as error:
        engine.dispose()
        first = str(getattr(error, "orig", error)).strip().splitlines()[0]
        masked = make_url(base_url).render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"PostgreSQL at {masked} is unreachable ({first})") from None
    schema = f"proc_{uuid.uuid4().hex[:16]}"
    with engine.connect() as conn:
        conn.execute(sql(f'CREATE SCHEMA "{schema}"'))
    # application_name marks the workers' sessions, so teardown can end any that linger.
    query = {"options": f"-csearch_path={schema}", "application_name": schema}
    try:
        yield make_url(base_url).update_query_dict(query).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(
                sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": schema},
            )  # fmt: skip
            conn.execute(sql(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def database(kind: str, directory: Path, postgres_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """``postgres_database()`` ("postgresql") or ``sqlite_database()`` ("sqlite") by name."""
    if kind == "sqlite":
        yield sqlite_database(directory)
    elif kind == "postgresql":
        with postgres_database(postgres_url) as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}: sqlite or postgresql")
