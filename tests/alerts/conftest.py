"""The alerts tests' fixtures: both databases (as tests/store), a worker harness, receivers.

PostgreSQL comes from AMPLIFIER_TEST_POSTGRES_URL (default: the local trust-auth server). Each
test gets its own schema, dropped afterwards. Unreachable PostgreSQL skips locally and fails
in CI (CI=true), so a broken CI database can never pass silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from amplifier.alerts import AlertSender, Timeouts, rules_for, url_secrets
from amplifier.check import load
from amplifier.networks.memory import MemoryNetwork
from amplifier.store import Store
from amplifier.testing.receivers import WebhookReceiver
from amplifier.worker import Worker

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    now: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def _postgres_url() -> str:
    return os.environ.get("AMPLIFIER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | str]:
    """An AUTOCOMMIT engine on the test server, or the reason it cannot be reached."""
    url = _postgres_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        engine.dispose()
        masked = make_url(url).render_as_string(hide_password=True)
        first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
        yield f"PostgreSQL at {masked} is unreachable ({first_line})"
        return
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | str
) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    if isinstance(postgres_admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_admin + "; CI must run the PostgreSQL tests")
        pytest.skip(postgres_admin + "; set AMPLIFIER_TEST_POSTGRES_URL to run these tests")
    schema = f"t_{uuid.uuid4().hex}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = make_url(_postgres_url())
    # synchronous_commit=off only skips the wait for fsync: locking and visibility are unchanged.
    options = f"{base.query.get('options', '')} -csearch_path={schema} -csynchronous_commit=off"
    url = base.update_query_dict({"options": options.strip()})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_store(database_url: str, clock: FakeClock) -> Iterator[Callable[[], Store]]:
    """Opens more Store instances on the same database (separate engines, like processes)."""
    opened: list[Store] = []

    def make() -> Store:
        store = Store(database_url, clock=clock)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# -- a worker over MemoryNetworks, with alerts on ------------------------------------------------

NY = ZoneInfo("America/New_York")
SECRET_TOKEN = "tok-SECRET-abcdef123456"  # an account credential the alerts must never show
HOOK_SECRET = "hooksecret-9f8e7d6c5b4a"  # a secret part of the alert URL

CONFIG = """
posts_dir = "posts"
seed = "test"

[worker]
grace_minutes = 30
max_attempts_total = 1

[worker.retry]
max_attempts = 1
initial_wait = 1
max_wait = 1

[guards]
x_monthly_budget_usd = 0.05

[campaigns.fbt]
language = "en"

[schedules.ny]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:30"]

[alerts]
urls_from_env = "TEST_ALERT_URLS"
timezone = "America/New_York"
digest_at = "20:00"
rate_limited_longer_than_minutes = 60
heartbeat_silent_longer_than_minutes = 10
QUIET

[[accounts]]
name = "t-x"
network = "x"
campaigns = ["fbt"]
schedule = "ny"

[accounts.secrets_from_env]
oauth2_user_token = "TEST_X_TOKEN"

[[accounts]]
name = "t-masto"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["fbt"]
schedule = "ny"
"""


def ny(day: str, clock_time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock_time}").replace(tzinfo=NY).astimezone(UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    """A project folder, a state database, a MemoryNetwork per account, alerts to ``urls``."""

    def __init__(
        self, tmp_path: Path, url: str, urls: list[str], *, quiet: str = "", config: str = CONFIG
    ) -> None:
        (tmp_path / "posts").mkdir()
        for number in range(1, 7):
            link = "https://example.org/fbt" if number % 2 else ""
            (tmp_path / "posts" / f"post-{number}.md").write_text(
                f"---\nid: post-{number}\ncampaign: fbt\nlanguage: en\nsource: fixture\n"
                + (f"link: {link}\n" if link else "")
                + f"---\nFamilies belong together, reason number {number}."
                + (" {link}" if link else "")
                + "\n"
            )
        quiet_line = f'quiet_hours = "{quiet}"' if quiet else ""
        (tmp_path / "config.toml").write_text(config.replace("QUIET", quiet_line))
        self.env = {"TEST_ALERT_URLS": " ".join(urls), "TEST_X_TOKEN": SECRET_TOKEN}
        os.environ.update(self.env)
        self.settings, self.library = load(tmp_path / "config.toml", None)
        self.urls = urls
        self.url = url
        self.clock = Clock(ny("2026-11-23", "08:00"))
        self.store = Store(url, clock=self.clock)
        self.store.migrate()
        self.nets = {a.name: MemoryNetwork(a.name, a.network) for a in self.settings.accounts}
        self.secrets = [SECRET_TOKEN, HOOK_SECRET, *url_secrets(urls)]
        self.rules = rules_for(self.settings, urls, self.secrets)

    def worker(self, worker_id: str = "w1", **extra: Any) -> Worker:
        return Worker(
            self.settings,
            self.library,
            Store(self.url, clock=self.clock),
            lambda account: self.nets[account.name],
            worker_id=worker_id,
            clock=self.clock,
            sleep=self.clock.sleep,
            alerts=self.rules,
            **extra,
        )

    def sender(
        self, sender_id: str = "s1", store: Store | None = None, **extra: Any
    ) -> AlertSender:
        return AlertSender(
            store or Store(self.url, clock=self.clock),
            self.urls,
            self.settings.alerts,
            sender_id=sender_id,
            secrets=self.secrets,
            clock=self.clock,
            timeouts=Timeouts(connect=1, read=1),
            **extra,
        )

    def events(self) -> list[str]:
        return [row.event for row in self.store.alerts()]


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def harness(tmp_path: Path, hook: WebhookReceiver) -> Iterator[Harness]:
    saved = dict(os.environ)
    made = Harness(
        tmp_path, f"sqlite:///{tmp_path / 'state.db'}", [hook.url + f"?token={HOOK_SECRET}"]
    )
    yield made
    os.environ.clear()
    os.environ.update(saved)
