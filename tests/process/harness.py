"""The process tests' view of amplifier.testing's rig: real `amplifier run` processes against
fake servers (the fault soak in bench/soak.py uses the same code).

Only the database helpers differ: an unreachable PostgreSQL server skips the test with the
reason, or fails it under CI (CI=true), as the store suite does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from amplifier.testing import databases
from amplifier.testing.databases import (
    DEFAULT_POSTGRES_URL,
    POSTGRES_URL_VARIABLE,
    DatabaseUnavailable,
    sqlite_database,
)
from amplifier.testing.fakes import EarlyRequest, Fakes, RateLimitAnswer, RateLimitWitness
from amplifier.testing.faults import (
    FaultFeeder,
    FaultMaker,
    RateLimitFault,
    chaos_fault,
    chaos_with_resets,
    fault_kind,
    late_answers,
    rate_limited,
)
from amplifier.testing.outcome import EXPLAINED, SETTLED, Outcome
from amplifier.testing.rig import (
    Rig,
    RigFailure,
    TimedOut,
    WorkerExited,
    WorkerProcess,
    poll_until,
    wait_for,
)
from amplifier.testing.scenario import (
    ACCOUNTS,
    CAMPAIGN,
    POST_PATHS,
    POSTS_DIR,
    SECRET_NAMES,
    Schedule,
    Timing,
    config_text,
    noon_zone,
)

__all__ = [
    "ACCOUNTS",
    "CAMPAIGN",
    "DEFAULT_POSTGRES_URL",
    "EXPLAINED",
    "POSTS_DIR",
    "POST_PATHS",
    "SECRET_NAMES",
    "SETTLED",
    "EarlyRequest",
    "Fakes",
    "FaultFeeder",
    "FaultMaker",
    "Outcome",
    "RateLimitAnswer",
    "RateLimitFault",
    "RateLimitWitness",
    "Rig",
    "RigFailure",
    "Schedule",
    "TimedOut",
    "Timing",
    "WorkerExited",
    "WorkerProcess",
    "chaos_fault",
    "chaos_with_resets",
    "config_text",
    "database",
    "fault_kind",
    "late_answers",
    "noon_zone",
    "poll_until",
    "postgres_database",
    "postgres_url",
    "rate_limited",
    "sqlite_database",
    "wait_for",
]


def postgres_url() -> str:
    return os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)


def unavailable(error: DatabaseUnavailable) -> NoReturn:
    """Skip with the reason, or fail under CI, which must run the PostgreSQL process tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{error}; CI must run the PostgreSQL process tests")
    pytest.skip(f"{error}; set {POSTGRES_URL_VARIABLE} to run these tests")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A URL to a fresh schema on the test PostgreSQL server, dropped afterwards."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(databases.postgres_database(postgres_url()))
        except DatabaseUnavailable as error:
            unavailable(error)
        yield url


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """``postgres_database()`` or ``sqlite_database()`` by name, for parametrized tests."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(databases.database(kind, tmp_path, postgres_url()))
        except DatabaseUnavailable as error:
            unavailable(error)
        yield url
