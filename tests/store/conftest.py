"""One ``store`` fixture over SQLite and PostgreSQL, so both backends pass the same contract.

PostgreSQL comes from AMPLIFIER_TEST_POSTGRES_URL (default: the local trust-auth server). Each
test gets its own schema, dropped afterwards. Unreachable PostgreSQL skips locally and fails
in CI (CI=true), so a broken CI database can never pass silently.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.store.schema import UTCDateTime
from amplifier.store.types import idempotency_key

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


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    """A migrated store on an empty database."""
    opened = make_store()
    opened.migrate()
    return opened


def claim_on_old_schema(
    store: Store, draft: DeliveryDraft, *, worker_id: str, now: datetime, **columns: object
) -> Delivery:
    """A claimed row as a database before 0006 holds it, written in SQL with the columns of
    0001 (today's store also writes columns an old database does not have yet); ``columns``
    override values (status, last_error ...). Returns the row as today's store should read it.
    """
    values: dict[str, object] = {
        "account": draft.account,
        "network": draft.network,
        "slot_key": draft.slot_key,
        "due_at": draft.due_at,
        "template_id": draft.template_id,
        "campaign": draft.campaign,
        "text": draft.text,
        "language": draft.language,
        "link": draft.link,
        "content_warning": draft.content_warning,
        "media": json.dumps([[path, alt] for path, alt in draft.media]),
        "idempotency_key": idempotency_key(draft.account, draft.slot_key),
        "status": "sending",
        "attempts": 0,
        "remote_id": None,
        "url": None,
        "last_error": None,
        "retry_at": None,
        "claimed_by": worker_id,
        "claimed_at": now,
        "created_at": now,
        "updated_at": now,
        **columns,
    }
    names = ", ".join(values)
    insert = text(
        f"INSERT INTO deliveries ({names}) VALUES ({', '.join(':' + name for name in values)})"
    ).bindparams(
        *(bindparam(name, type_=UTCDateTime) for name, value in values.items()
          if isinstance(value, datetime))
    )  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert, values)
        row_id = conn.exec_driver_sql(
            f"SELECT id FROM deliveries WHERE idempotency_key = '{values['idempotency_key']}'"
        ).scalar_one()
    # Through 0007 a published row takes its updated_at as its send time.
    sent_at = values["updated_at"] if values["status"] == "published" else None
    expected = {**values, "media": draft.media, "ambiguous_since": None, "sent_at": sent_at}
    return Delivery(id=int(row_id), **expected)  # type: ignore[arg-type]
