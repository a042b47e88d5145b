"""The console over a small deployment: real HTTP requests (Starlette's TestClient, httpx) to
the real app, on a SQLite file and on PostgreSQL (a fresh schema per test; unreachable
PostgreSQL skips locally and fails under CI=true, as tests/store does)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.testclient import TestClient

from amplifier.config import WebAccess, hash_password, web_access
from amplifier.web import Console, create_app, open_console

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORGANIZER_PASSWORD = "organizer-secret-7f3a9c"
VIEWER_PASSWORD = "viewer-secret-2b8e41"
SESSION_SECRET = "session-secret-" + "5d0c" * 10
CALENDAR_TOKEN = "calendar-token-9a7e6f1c"
X_TOKEN = "x-user-token-0d9c8b7a"
MASTODON_TOKEN = "mastodon-token-1e2f3a4b"
ENVIRONMENT = {
    "AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH": hash_password(ORGANIZER_PASSWORD),
    "AMPLIFIER_WEB_VIEWER_PASSWORD": VIEWER_PASSWORD,
    "AMPLIFIER_WEB_SESSION_SECRET": SESSION_SECRET,
    "AMPLIFIER_WEB_CALENDAR_TOKEN": CALENDAR_TOKEN,
    "AMPLIFIER_WEB_TIMEZONE": "Europe/Madrid",
}
START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # a Monday, 08:00 in New York

CONFIG = """
database_url = "{url}"
seed = "console"
[worker]
grace_minutes = 30
lookback_hours = 24
[guards]
daily_cap = 3
[campaigns.c]
language = "en"
[campaigns.c.hashtags]
always = ["FamiliesBelongTogether"]
[schedules.three]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:00"]
random_offset_minutes = 10
[schedules.two]
timezone = "America/Chicago"
times = ["08:00", "15:30"]
[[accounts]]
name = "x1"
network = "x"
campaigns = ["c"]
schedule = "three"
[accounts.secrets_from_env]
oauth2_user_token = "CONSOLE_X1_TOKEN"
[[accounts]]
name = "m1"
network = "mastodon"
instance = "https://mastodon.example"
handle = "m1"
campaigns = ["c"]
schedule = "two"
language = "es"
[accounts.secrets_from_env]
access_token = "CONSOLE_M1_TOKEN"
"""

POSTS = {
    "asylum": ("Seeking asylum is a legal right under US and international law.",
               "Pedir asilo es un derecho bajo la ley de EE. UU. y la internacional."),
    "courts": ("Families released with a caseworker came to nearly every court date.",
               "Las familias con un trabajador social fueron a casi todas sus audiencias."),
    "cost": ("Detaining a family costs far more than supporting it in the community.", None),
    "call": ("Call your member of Congress and ask them to stop funding family detention.",
             "Llama a tu representante y pide que deje de financiar la detención de familias."),
    "doctors": ("Pediatricians warn that detention harms children even after a short stay.",
                None),
}  # fmt: skip


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | str]:
    url = os.environ.get("AMPLIFIER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        engine.dispose()
        first = str(getattr(error, "orig", error)).strip().splitlines()[0]
        yield f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} ({first})"
        return
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | str
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    if isinstance(postgres_admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_admin + "; CI must run the PostgreSQL tests")
        pytest.skip(postgres_admin + " is unreachable")
    schema = f"web_{uuid.uuid4().hex}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = make_url(os.environ.get("AMPLIFIER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def write_deployment(folder: Path, url: str) -> tuple[Path, Path]:
    """The config and posts folder of the small deployment, with its database at ``url``."""
    posts = folder / "posts"
    posts.mkdir()
    for post_id, (english, spanish) in POSTS.items():
        (posts / f"{post_id}.md").write_text(
            f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n---\n{english}\n"
        )
        if spanish:
            (posts / f"{post_id}.es.md").write_text(
                f"---\nid: {post_id}-es\ntranslation_of: {post_id}\nlanguage: es\n---\n{spanish}\n"
            )
    config = folder / "config.toml"
    config.write_text(CONFIG.format(url=url))
    return config, posts


@pytest.fixture
def access() -> WebAccess:
    return web_access(ENVIRONMENT)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(
    tmp_path: Path,
    database_url: str,
    access: WebAccess,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Console]:
    """The console over the deployment, both accounts live (their credentials set)."""
    for name in list(os.environ):
        if name.startswith(("AMPLIFIER_", "DATABASE_URL", "DYNO")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONSOLE_X1_TOKEN", X_TOKEN)
    monkeypatch.setenv("CONSOLE_M1_TOKEN", MASTODON_TOKEN)
    config, posts = write_deployment(tmp_path, database_url)
    opened = open_console(config, posts, access, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def client(console: Console) -> Iterator[TestClient]:
    with TestClient(create_app(console), base_url="http://testserver") as found:
        yield found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF token in the page"
    return found[1]


def sign_in(client: TestClient, password: str, name: str = "Ana") -> None:
    """Sign in through the form, as a browser does."""
    token = csrf_of(client.get("/signin").text)
    answer = client.post(
        "/signin",
        data={"csrf": token, "name": name, "password": password, "next": "/status"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/status"


@pytest.fixture
def organizer(client: TestClient) -> TestClient:
    sign_in(client, ORGANIZER_PASSWORD)
    return client


@pytest.fixture
def viewer(client: TestClient) -> TestClient:
    sign_in(client, VIEWER_PASSWORD, name="Vera")
    return client


@contextmanager
def each_statement(console: Console, record: Callable[[str], None]) -> Iterator[None]:
    """``record`` is called with each statement the console's engines run meanwhile: its
    store's and, on SQLite, the store the pages read through on the event loop."""

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        record(statement)

    engines = [console.store.engine]
    if console.loop_reads is not None:
        engines.append(console.loop_reads.store.engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)
