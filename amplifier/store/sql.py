"""The state database: deliveries, rotation state, rate limits, sessions, pause switch, workers.

SQLAlchemy Core over a SQLite file (the default) or PostgreSQL (Heroku's DATABASE_URL). The
database is the single source of truth for "did this slot go out": a delivery row is written,
unique per (account, slot_key), before anything goes over the network, and every later state
move is a compare-and-set UPDATE, so two workers can never both own a row.

On Heroku the URL host is remote and SSL is required: give ``?sslmode=require`` in the URL
(Heroku's DATABASE_URL works once ``postgres://`` becomes ``postgresql+psycopg://``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from amplifier.errors import StoreError
from amplifier.networks.base import RateLimitWindow
from amplifier.store import migrations
from amplifier.store.engine import mask_url, normalise_url, sqlite_engine
from amplifier.store.migrations import (
    deliveries,
    delivery_costs,
    flags,
    rate_limits,
    rotation_state,
    sessions,
    workers,
)
from amplifier.store.types import (
    Delivery,
    DeliveryDraft,
    DeliveryStatus,
    idempotency_key,
    row_to_delivery,
)

_PAUSE_FLAG = "paused"
# The statements every delivery runs, built once with their values bound at execute time:
# SQLAlchemy then neither rebuilds nor re-keys them per call (an insert measured ~2.0 ms
# built per call against ~0.7 ms prebuilt, bench/bench_delivery.py's store table).
_OWNED = (
    (deliveries.c.id == bindparam("owned_id"))
    & (deliveries.c.status == "sending")
    & (deliveries.c.claimed_by == bindparam("owned_by"))
)
_INSERT_DELIVERY = insert(deliveries).returning(*deliveries.c)
_INSERT_COST = insert(delivery_costs)
_BEGIN_ATTEMPT = (
    update(deliveries)
    .where(_OWNED)
    .values(
        attempts=deliveries.c.attempts + 1,
        updated_at=bindparam("now", type_=deliveries.c.updated_at.type),
    )
    .returning(*deliveries.c)
)
_FINISH = update(deliveries).where(_OWNED)  # SET from the names of the values given
_BY_ID = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
_BY_SLOT = select(deliveries).where(
    (deliveries.c.account == bindparam("by_account"))
    & (deliveries.c.slot_key == bindparam("by_slot"))
)
_BLOCKED_UNTIL = select(func.max(rate_limits.c.reset_at)).where(
    (rate_limits.c.account == bindparam("by_account"))
    & (rate_limits.c.remaining == 0)
    & (rate_limits.c.reset_at > bindparam("after", type_=rate_limits.c.reset_at.type))
)
_FIRST_START_FLAG = "first_started"


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Every read and compare-and-set write the worker and the CLI make on the state database."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._url = normalise_url(url)
        self._clock = clock
        if self._url.get_backend_name() == "sqlite":
            self._engine = sqlite_engine(self._url)
        else:
            self._engine = create_engine(self._url, pool_pre_ping=True)
        self._reader = self._engine.execution_options(amplifier_read_only=True)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations tooling and tests)."""
        return self._engine

    @property
    def threads_share_it(self) -> bool:
        """Whether threads see one database: not so for in-memory SQLite (one per connection)."""
        return not (
            self._url.get_backend_name() == "sqlite"
            and self._url.database in (None, "", ":memory:")
        )

    def __repr__(self) -> str:
        return f"Store({mask_url(self._url)!r})"

    def _now(self) -> datetime:
        return _aware("clock()", self._clock())

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn driver errors into StoreError, with no password in the message."""
        try:
            yield
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
            if self._url.password:
                detail = detail.replace(str(self._url.password), "***")
            raise StoreError(
                f"{action} failed on {mask_url(self._url)}: {type(cause).__name__}: {detail}"
            ) from None

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self._reader.connect() as conn:
            yield conn

    def _upsert(
        self, conn: Connection, table: Table, values: Mapping[str, object], keys: Sequence[str]
    ) -> None:
        statement = _upsert_statement(conn.dialect.name, table, tuple(values), tuple(keys))
        conn.execute(statement, dict(values))

    def migrate(self) -> list[str]:
        """Apply pending migrations and return their names; safe from two processes at once."""
        with self._guard("migrate"):
            return migrations.migrate(self._engine, self._now)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    # -- claims and state moves ----------------------------------------------------------------

    def _draft_values(self, draft: DeliveryDraft, now: datetime) -> dict[str, object]:
        return {
            "account": draft.account,
            "network": draft.network,
            "slot_key": draft.slot_key,
            "due_at": _aware("due_at", draft.due_at),
            "template_id": draft.template_id,
            "campaign": draft.campaign,
            "text": draft.text,
            "language": draft.language,
            "link": draft.link,
            "content_warning": draft.content_warning,
            "media": json.dumps([[path, alt] for path, alt in draft.media]),
            "idempotency_key": idempotency_key(draft.account, draft.slot_key),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }

    def _insert_delivery(
        self,
        draft: DeliveryDraft,
        values: Mapping[str, object],
        now: datetime,
        rotation: tuple[str, Mapping[str, object]] | None = None,
        cost_micros: int | None = None,
    ) -> Delivery | None:
        row_values = {**self._draft_values(draft, now), **values}
        with self._guard(f"recording {values['status']} {draft.account} {draft.slot_key}"):
            try:
                with self._engine.begin() as conn:
                    row = conn.execute(_INSERT_DELIVERY, row_values).one()
                    if rotation is not None:
                        # Same transaction: a claim that loses the race leaves rotation as it was.
                        self._save_rotation(conn, rotation[0], rotation[1], now)
                    if cost_micros is not None:
                        cost = {
                            "delivery_id": row.id,
                            "account": draft.account,
                            "network": draft.network,
                            "due_at": row_values["due_at"],
                            "cost_micros": cost_micros,
                            "created_at": now,
                        }
                        conn.execute(_INSERT_COST, cost)
                return row_to_delivery(row)
            except IntegrityError:
                pass  # settled below, outside the failed transaction
        if self.get(draft.account, draft.slot_key) is None:
            raise StoreError(f"delivery {draft.account} {draft.slot_key} violates a constraint")
        return None

    def claim_slot(
        self,
        draft: DeliveryDraft,
        *,
        worker_id: str,
        rotation: tuple[str, Mapping[str, object]] | None = None,
        cost_micros: int | None = None,
    ) -> Delivery | None:
        """Record the slot as 'sending' by this worker; None if the slot already has a row.

        ``rotation=(account, state)`` is saved in the same transaction, so only the winner of
        a race advances the rotation; so is ``cost_micros``, what the post costs (X).
        """
        now = self._now()
        values = {"status": "sending", "claimed_by": worker_id, "claimed_at": now}
        return self._insert_delivery(draft, values, now, rotation, cost_micros)

    def record_missed(self, draft: DeliveryDraft, reason: str) -> Delivery | None:
        """Record a slot that passed while no worker ran; None if the slot already has a row."""
        return self._insert_delivery(draft, {"status": "missed", "last_error": reason}, self._now())

    def record_skipped(self, draft: DeliveryDraft, reason: str) -> Delivery | None:
        """Record a slot a guard held back; None if the slot already has a row."""
        return self._insert_delivery(
            draft, {"status": "skipped", "last_error": reason}, self._now()
        )

    def begin_attempt(self, delivery_id: int, *, worker_id: str) -> Delivery | None:
        """Count one more publish attempt, if this worker still owns the row."""
        owner = {"owned_id": delivery_id, "owned_by": worker_id, "now": self._now()}
        with self._write("begin_attempt") as conn:
            row = conn.execute(_BEGIN_ATTEMPT, owner).one_or_none()
        return None if row is None else row_to_delivery(row)

    def _finish(
        self,
        delivery_id: int,
        worker_id: str,
        rate_limits: tuple[str, Sequence[RateLimitWindow]] | None = None,
        **values: object,
    ) -> bool:
        now = self._now()
        with self._write(f"marking delivery {delivery_id} {values['status']}") as conn:
            changes = {"claimed_by": None, "updated_at": now, **values}
            result = conn.execute(
                _FINISH, {"owned_id": delivery_id, "owned_by": worker_id, **changes}
            )
            if rate_limits is not None:  # what the platform said holds whoever owns the row
                self._save_windows(conn, rate_limits[0], rate_limits[1], now)
        return result.rowcount == 1

    def mark_published(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        remote_id: str | None,
        url: str | None,
        note: str | None = None,
        rate_limits: tuple[str, Sequence[RateLimitWindow]] | None = None,
    ) -> bool:
        """sending -> published, with the platform's id and URL; False if not owned.

        ``rate_limits=(account, windows)`` from the same answer are saved in the same
        transaction (one commit fewer per post), whether or not the row is still ours.
        """
        return self._finish(
            delivery_id,
            worker_id,
            rate_limits,
            status="published",
            remote_id=remote_id,
            url=url,
            last_error=note,
            retry_at=None,
        )

    def mark_deferred(
        self, delivery_id: int, *, worker_id: str, retry_at: datetime, reason: str
    ) -> bool:
        """sending -> deferred until retry_at; False if not owned."""
        when = _aware("retry_at", retry_at)
        return self._finish(
            delivery_id, worker_id, status="deferred", retry_at=when, last_error=reason
        )

    def mark_failed(self, delivery_id: int, *, worker_id: str, reason: str) -> bool:
        """sending -> failed for good; False if not owned."""
        return self._finish(
            delivery_id, worker_id, status="failed", retry_at=None, last_error=reason
        )

    def mark_unknown(self, delivery_id: int, *, worker_id: str, reason: str) -> bool:
        """sending -> unknown (needs an operator's review); False if not owned."""
        return self._finish(
            delivery_id, worker_id, status="unknown", retry_at=None, last_error=reason
        )

    def take_over(
        self,
        delivery_id: int,
        *,
        worker_id: str,
        expected_status: DeliveryStatus,
        expected_claimed_by: str | None,
    ) -> Delivery | None:
        """Claim a due deferred or an orphaned row; exactly one of racing workers gets it."""
        now = self._now()
        with self._write("take_over") as conn:
            row = conn.execute(
                update(deliveries)
                .where(
                    (deliveries.c.id == delivery_id)
                    & (deliveries.c.status == expected_status)
                    & deliveries.c.claimed_by.is_not_distinct_from(expected_claimed_by)
                )
                .values(status="sending", claimed_by=worker_id, claimed_at=now, updated_at=now)
                .returning(*deliveries.c)
            ).one_or_none()
        return None if row is None else row_to_delivery(row)

    def resolve(
        self, delivery_id: int, *, status: Literal["published", "failed"], by: str, note: str
    ) -> bool:
        """An operator settles an 'unknown' row; False if the row is not 'unknown'."""
        if status not in ("published", "failed"):
            raise StoreError(f"an unknown delivery resolves to published or failed, not {status}")
        # Keep the reason it became unknown after the operator's note.
        earlier = func.coalesce(literal(" (was: ") + deliveries.c.last_error + literal(")"), "")
        with self._write("resolve") as conn:
            result = conn.execute(
                update(deliveries)
                .where((deliveries.c.id == delivery_id) & (deliveries.c.status == "unknown"))
                .values(
                    status=status,
                    last_error=literal(f"resolved as {status} by {by}: {note}") + earlier,
                    updated_at=self._now(),
                )
            )
        return result.rowcount == 1

    # -- queries ---------------------------------------------------------------------------------

    def _select(
        self, action: str, where: ColumnElement[bool], *order: Any, limit: int | None = None
    ) -> list[Delivery]:
        query = select(deliveries).where(where).order_by(*order).limit(limit)
        with self._read(action) as conn:
            return [row_to_delivery(row) for row in conn.execute(query)]

    def get(self, account: str, slot_key: str) -> Delivery | None:
        """The row for one account and slot, if any."""
        with self._read("get") as conn:
            row = conn.execute(_BY_SLOT, {"by_account": account, "by_slot": slot_key}).first()
        return None if row is None else row_to_delivery(row)

    def get_by_id(self, delivery_id: int) -> Delivery | None:
        """The row with this id, if any."""
        with self._read("get_by_id") as conn:
            row = conn.execute(_BY_ID, {"delivery_id": delivery_id}).first()
        return None if row is None else row_to_delivery(row)

    def due_deferred(self, now: datetime) -> list[Delivery]:
        """Deferred rows whose retry_at has come, oldest retry first."""
        where = (deliveries.c.status == "deferred") & (deliveries.c.retry_at <= _aware("now", now))
        return self._select("due_deferred", where, deliveries.c.retry_at, deliveries.c.id)

    def orphaned(self, now: datetime, stale_after: timedelta) -> list[Delivery]:
        """'sending' rows whose worker has sent no heartbeat since now - stale_after."""
        cutoff = _aware("now", now) - stale_after
        alive = exists().where(
            (workers.c.worker_id == deliveries.c.claimed_by) & (workers.c.seen_at > cutoff)
        )
        where = (deliveries.c.status == "sending") & ~alive
        return self._select("orphaned", where, deliveries.c.claimed_at, deliveries.c.id)

    def history(
        self,
        *,
        account: str | None = None,
        limit: int = 50,
        statuses: Collection[str] | None = None,
    ) -> list[Delivery]:
        """The latest rows, newest due_at first, optionally for one account or some statuses."""
        where: ColumnElement[bool] = true()
        if account is not None:
            where = where & (deliveries.c.account == account)
        if statuses is not None:
            where = where & deliveries.c.status.in_(list(statuses))
        order = (deliveries.c.due_at.desc(), deliveries.c.id.desc())
        return self._select("history", where, *order, limit=limit)

    def last_published(self, account: str) -> Delivery | None:
        """The account's most recently published row (by when it was marked published)."""
        where = (deliveries.c.account == account) & (deliveries.c.status == "published")
        order = (deliveries.c.updated_at.desc(), deliveries.c.id.desc())
        return next(iter(self._select("last_published", where, *order, limit=1)), None)

    def published_count(self, account: str, since: datetime) -> int:
        """How many of the account's rows were marked published at or after ``since``."""
        query = select(func.count()).where(
            (deliveries.c.account == account)
            & (deliveries.c.status == "published")
            & (deliveries.c.updated_at >= _aware("since", since))
        )
        with self._read("published_count") as conn:
            return int(conn.execute(query).scalar_one())

    def recent_texts(self, network: str, since: datetime) -> list[tuple[str, str]]:
        """(account, text) of the network's published or sending rows touched since ``since``."""
        query = (
            select(deliveries.c.account, deliveries.c.text)
            .where(
                (deliveries.c.network == network)
                & deliveries.c.status.in_(["published", "sending"])
                & (deliveries.c.updated_at >= _aware("since", since))
            )
            .order_by(deliveries.c.updated_at.desc(), deliveries.c.id.desc())
        )
        with self._read("recent_texts") as conn:
            return [(row.account, row.text) for row in conn.execute(query)]

    def deliveries_since(
        self,
        since: datetime,
        *,
        account: str | None = None,
        network: str | None = None,
        statuses: Collection[str] | None = None,
    ) -> list[Delivery]:
        """Rows due at or after ``since``, oldest first, optionally narrowed (for the guards)."""
        where: ColumnElement[bool] = deliveries.c.due_at >= _aware("since", since)
        if account is not None:
            where = where & (deliveries.c.account == account)
        if network is not None:
            where = where & (deliveries.c.network == network)
        if statuses is not None:
            where = where & deliveries.c.status.in_(list(statuses))
        return self._select("deliveries_since", where, deliveries.c.due_at, deliveries.c.id)

    # -- costs ---------------------------------------------------------------------------------

    def spend_micros(
        self,
        start: datetime,
        end: datetime,
        *,
        statuses: Collection[str],
        account: str | None = None,
        network: str | None = None,
    ) -> int:
        """Total cost of the rows due in [start, end) whose status is one of ``statuses``."""
        where = (
            (delivery_costs.c.due_at >= _aware("start", start))
            & (delivery_costs.c.due_at < _aware("end", end))
            & deliveries.c.status.in_(list(statuses))
        )
        if account is not None:
            where = where & (delivery_costs.c.account == account)
        if network is not None:
            where = where & (delivery_costs.c.network == network)
        query = (
            select(func.coalesce(func.sum(delivery_costs.c.cost_micros), 0))
            .select_from(
                delivery_costs.join(deliveries, deliveries.c.id == delivery_costs.c.delivery_id)
            )
            .where(where)
        )
        with self._read("spend_micros") as conn:
            return int(conn.execute(query).scalar_one())

    def delivery_costs(self, delivery_ids: Collection[int]) -> dict[int, int]:
        """Recorded cost of each of these deliveries that has one, by delivery id."""
        if not delivery_ids:
            return {}
        query = select(delivery_costs.c.delivery_id, delivery_costs.c.cost_micros).where(
            delivery_costs.c.delivery_id.in_(list(delivery_ids))
        )
        with self._read("delivery_costs") as conn:
            return {int(row.delivery_id): int(row.cost_micros) for row in conn.execute(query)}

    # -- rotation state ----------------------------------------------------------------------------

    def _save_rotation(
        self, conn: Connection, account: str, state: Mapping[str, object], now: datetime
    ) -> None:
        document = json.dumps(dict(state), sort_keys=True)
        self._upsert(
            conn,
            rotation_state,
            {"account": account, "state": document, "updated_at": now},
            ["account"],
        )

    def load_rotation(self, account: str) -> dict[str, object] | None:
        """The account's rotation state as saved, or None before the first save."""
        query = select(rotation_state.c.state).where(rotation_state.c.account == account)
        with self._read("load_rotation") as conn:
            document = conn.execute(query).scalar_one_or_none()
        if document is None:
            return None
        state = json.loads(document)
        if not isinstance(state, dict):
            raise StoreError(f"rotation state of {account} is not a JSON object")
        return state

    def save_rotation(self, account: str, state: Mapping[str, object]) -> None:
        """Replace the account's rotation state."""
        with self._write("save_rotation") as conn:
            self._save_rotation(conn, account, state, self._now())

    # -- rate limits -------------------------------------------------------------------------------

    def save_rate_limits(self, account: str, windows: Sequence[RateLimitWindow]) -> None:
        """Upsert each window the platform reported, by (account, window)."""
        now = self._now()
        with self._write("save_rate_limits") as conn:
            self._save_windows(conn, account, windows, now)

    def _save_windows(
        self, conn: Connection, account: str, windows: Sequence[RateLimitWindow], now: datetime
    ) -> None:
        for window in windows:
            reset_at = None if window.reset_at is None else _aware("reset_at", window.reset_at)
            values = {
                "account": account,
                "window": window.window,
                "limit_": window.limit,
                "remaining": window.remaining,
                "reset_at": reset_at,
                "updated_at": now,
            }
            self._upsert(conn, rate_limits, values, ["account", "window"])

    def rate_limits(self, account: str) -> list[RateLimitWindow]:
        """The account's last known windows, by window name."""
        query = (
            select(rate_limits)
            .where(rate_limits.c.account == account)
            .order_by(rate_limits.c.window)
        )
        with self._read("rate_limits") as conn:
            return [
                RateLimitWindow(row.window, row.limit_, row.remaining, row.reset_at)
                for row in conn.execute(query)
            ]

    def blocked_until(self, account: str, now: datetime) -> datetime | None:
        """The latest reset among the account's exhausted windows still in the future."""
        bounds = {"by_account": account, "after": _aware("now", now)}
        with self._read("blocked_until") as conn:
            latest: datetime | None = conn.execute(_BLOCKED_UNTIL, bounds).scalar_one()
        return latest

    # -- sessions ------------------------------------------------------------------------------

    def load_session(self, account: str) -> str | None:
        """The stored (already encrypted) session value, if any."""
        query = select(sessions.c.value).where(sessions.c.account == account)
        with self._read("load_session") as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
        return value

    def save_session(self, account: str, value: str) -> None:
        """Store an already encrypted session value (use SealedSessions, never a clear one)."""
        values = {"account": account, "value": value, "updated_at": self._now()}
        with self._write("save_session") as conn:
            self._upsert(conn, sessions, values, ["account"])

    # -- the pause switch ----------------------------------------------------------------------

    def set_paused(self, paused: bool, *, by: str) -> None:
        """Pause or resume all publishing, recording who did it and when."""
        values = {
            "name": _PAUSE_FLAG,
            "value": "true" if paused else "false",
            "by": by,
            "updated_at": self._now(),
        }
        with self._write("set_paused") as conn:
            self._upsert(conn, flags, values, ["name"])

    def paused(self) -> tuple[bool, str | None, datetime | None]:
        """(paused, who last flipped the switch, since when); (False, None, None) if never set."""
        query = select(flags).where(flags.c.name == _PAUSE_FLAG)
        with self._read("paused") as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return (False, None, None)
        return (row.value == "true", row.by, row.updated_at)

    def first_started(self) -> datetime:
        """When a worker first ran on this database (recorded on the first call).

        Slots before it are not "missed": nothing was meant to publish them.
        """
        values = {"name": _FIRST_START_FLAG, "value": "", "by": "worker", "updated_at": self._now()}
        query = select(flags.c.updated_at).where(flags.c.name == _FIRST_START_FLAG)
        with self._write("first_started") as conn:
            if conn.execute(query).one_or_none() is None:
                conn.execute(insert(flags).values(**values))
            started: datetime = conn.execute(query).scalar_one()
        return started

    # -- workers -------------------------------------------------------------------------------

    def heartbeat(self, worker_id: str) -> None:
        """Say this worker is alive now (its claims are not orphaned while it beats)."""
        with self._write("heartbeat") as conn:
            self._upsert(
                conn, workers, {"worker_id": worker_id, "seen_at": self._now()}, ["worker_id"]
            )

    def forget_worker(self, worker_id: str) -> None:
        """Drop the worker's heartbeat on a clean exit."""
        with self._write("forget_worker") as conn:
            conn.execute(delete(workers).where(workers.c.worker_id == worker_id))


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the other named columns; values bound later."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = dialect_insert(table)
    changes = {name: statement.excluded[name] for name in names if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
