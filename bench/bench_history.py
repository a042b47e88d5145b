"""History growth: the worker's pass for one due slot with 1,000 vs 1,000,000 deliveries stored.

Each database holds the same last 30 days (10 accounts, 3 posts a day: what the guards read)
and, before that, older deliveries of 100 accounts up to the total. Rows are bulk-loaded
(sqlite3 executemany / PostgreSQL COPY, then ``ANALYZE`` on PostgreSQL as autovacuum would);
a load that would take more than ``--load-budget`` seconds stops early and the count reached
is printed. Then, interleaved across the databases, the clock moves to the next slot and
``Worker.run_pending`` runs for one X account and one Mastodon account (MemoryNetwork: no
HTTP): heartbeat, crash and deferred checks, slot lookups, rotation state, planning, every
guard's store reads, claim, publish, record. Ours at the large size vs ours at the small one,
on SQLite (temp file) and PostgreSQL (a fresh schema, dropped afterwards).

    .venv/bin/python bench/bench_history.py [--quick] [--repeats N] [--rows N]
    PostgreSQL: $BENCH_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    CAMPAIGN,
    header,
    median,
    parse_args,
    ratio_line,
    scrub_own_environment,
    seconds,
    table,
    temp_dir,
    write_config,
)

GROWTH_GOAL = 2.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "account", "network", "slot_key", "due_at", "template_id", "campaign", "text", "language",
    "link", "content_warning", "media", "idempotency_key", "status", "attempts", "remote_id",
    "url", "last_error", "retry_at", "claimed_by", "claimed_at", "created_at", "updated_at",
    "sent_at",
)  # fmt: skip
RECENT_DAYS = 30
PEERS = ["x"] * 3 + ["mastodon"] * 3 + ["bluesky"] * 2
RECENT_ACCOUNTS = [("bench-x", "x"), ("bench-mastodon", "mastodon")]
RECENT_ACCOUNTS += [(f"peer-{n}", network) for n, network in enumerate(PEERS)]
OLD_ACCOUNTS = [(f"old-{n:03d}", ("x", "mastodon", "bluesky")[n % 3]) for n in range(100)]
WORDS = (
    "families", "children", "parents", "border", "asylum", "court", "judge", "detention",
    "reunite", "policy", "congress", "call", "write", "letter", "rally", "library", "community",
    "school", "justice", "rights", "shelter", "home", "hope",
)  # fmt: skip
STATUSES = ["published"] * 30 + ["failed", "skipped", "missed"]
CHUNK = 20_000


def sqlite_text(moment: datetime) -> str:
    """How the store keeps a UTC moment in SQLite (SQLAlchemy's DATETIME text, naive UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def history_rows(total: int, start: datetime, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """The recent 30 days (same in every database), then older rows up to ``total``."""
    number = 0

    def row(account: str, network: str, due: datetime, status: str) -> tuple[Any, ...]:
        nonlocal number
        number += 1
        text = f"History {number}: " + " ".join(rng.choice(WORDS) for _ in range(14))
        published = status == "published"
        return (
            account, network, f"h-{number}", due, f"post-{number % 45}", CAMPAIGN, text, "en",
            None, None, "[]", f"h{number:09d}", status, 1 if status != "skipped" else 0,
            f"r{number}" if published else None, None, None if published else "benchmark row",
            None, None, None, due, due, due if published else None,
        )  # fmt: skip

    for day in range(RECENT_DAYS, 0, -1):
        for hour in (6, 14, 22):
            due = start - timedelta(days=day) + timedelta(hours=hour - start.hour)
            for account, network in RECENT_ACCOUNTS:
                if number >= total:
                    return
                yield row(account, network, due, "published")
    oldest_recent = start - timedelta(days=RECENT_DAYS + 1)
    step = 0
    while number < total:
        due = oldest_recent - timedelta(minutes=20 * step)
        for account, network in OLD_ACCOUNTS:
            if number >= total:
                return
            yield row(account, network, due, rng.choice(STATUSES))
        step += 1


COSTS_SQL = (
    "INSERT INTO delivery_costs (delivery_id, account, network, due_at, cost_micros, created_at) "
    "SELECT id, account, network, due_at, 15000, created_at FROM deliveries "
    "WHERE network = 'x' AND status = 'published'"
)


def load_sqlite(path: Path, total: int, start: datetime, budget: float) -> int:
    """Bulk-load rows into a migrated SQLite file; returns how many went in."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")  # the loader only; the store keeps its own
    marks = ", ".join("?" for _ in COLUMNS)
    statement = f"INSERT INTO deliveries ({', '.join(COLUMNS)}) VALUES ({marks})"
    loaded, began = 0, time.perf_counter()
    rows = history_rows(total, start, random.Random(7))
    try:
        while True:
            chunk = [
                tuple(sqlite_text(v) if isinstance(v, datetime) else v for v in row)
                for row in itertools.islice(rows, CHUNK)
            ]
            if not chunk:
                break
            connection.execute("BEGIN")
            connection.executemany(statement, chunk)
            connection.execute("COMMIT")
            loaded += len(chunk)
            if time.perf_counter() - began > budget:
                break
        connection.execute(COSTS_SQL)
    finally:
        connection.close()
    return loaded


def load_postgres(engine: Any, total: int, start: datetime, budget: float) -> int:
    """Bulk-load rows with COPY into the store's schema, then ANALYZE; returns the count."""
    raw = engine.raw_connection()
    connection = raw.driver_connection
    loaded, began = 0, time.perf_counter()
    rows = history_rows(total, start, random.Random(7))
    try:
        while True:
            chunk = list(itertools.islice(rows, CHUNK))
            if not chunk:
                break
            with connection.cursor() as cursor:
                copy_sql = f"COPY deliveries ({', '.join(COLUMNS)}) FROM STDIN"
                with cursor.copy(copy_sql) as copy:
                    for row in chunk:
                        copy.write_row(row)
            connection.commit()
            loaded += len(chunk)
            if time.perf_counter() - began > budget:
                break
        with connection.cursor() as cursor:
            cursor.execute(COSTS_SQL)
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connection.autocommit = False
    finally:
        raw.close()
    return loaded


@dataclass
class SettableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Database:
    """One store with its history, its clock and the two workers measured on it."""

    label: str
    backend: str
    requested: int
    rows: int
    load_seconds: float
    store: Any
    workers: dict[str, Any]
    clock: SettableClock
    moments: Iterator[datetime]
    passes: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)


def always(network: Any) -> Callable[[Any], Any]:
    """A network factory that hands every account the same network."""
    return lambda _account: network


def build(
    label: str, backend: str, url: str, total: int, start: datetime, budget: float, base: Path
) -> Database:
    from amplifier.check import load
    from amplifier.networks.memory import MemoryNetwork
    from amplifier.store import Store
    from amplifier.worker import Worker

    clock = SettableClock(start)
    store = Store(url, clock=clock)
    store.migrate()
    began = time.perf_counter()
    if backend == "sqlite":
        loaded = load_sqlite(Path(url.removeprefix("sqlite:///")), total, start, budget)
    else:
        loaded = load_postgres(store.engine, total, start, budget)
    load_seconds = time.perf_counter() - began
    workers = {}
    for name, network, extra in (
        ("bench-x", "x", {"api_base": "http://127.0.0.1:9", "monthly_budget_usd": 1000}),
        ("bench-mastodon", "mastodon", {"instance": "http://127.0.0.1:9"}),
    ):
        config = write_config(
            base / f"{label}-{name}.toml".replace(" ", "_"),
            database_url=url,
            accounts=[{"name": name, "network": network, **extra}],
            times=["06:00", "14:00", "22:00"],
        )
        settings, library = load(config, None)
        memory = MemoryNetwork(name, "x" if network == "x" else "mastodon")
        workers[network] = Worker(settings, library, store, always(memory), clock=clock)
    # The schedule's slots, 06:00, 14:00 and 22:00 UTC, from ``start`` on.
    moments = (start + timedelta(hours=8 * n) for n in itertools.count())
    return Database(label, backend, total, loaded, load_seconds, store, workers, clock, moments)


def one_pass(database: Database) -> None:
    """Move to the next slot and time each worker's pass; each must publish exactly one post."""
    moment = next(database.moments)
    database.clock.now = moment
    for network, worker in database.workers.items():
        started = time.perf_counter()
        done = worker.run_pending(moment)
        database.passes.setdefault(network, []).append(time.perf_counter() - started)
        if [row.status for row in done] != ["published"]:
            raise RuntimeError(f"{database.label} {network}: pass did {done}")


def time_queries(database: Database) -> None:
    """Each store read a pass makes, alone (median of 5), for the slow-path table."""
    from amplifier.guards import SENT

    store, now = database.store, database.clock()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    reads: dict[str, Callable[[], object]] = {
        "get(account, slot)": lambda: store.get("bench-x", "2000-01-01T00:00"),
        "orphaned()": lambda: store.orphaned(now, timedelta(seconds=45)),
        "due_deferred()": lambda: store.due_deferred(now),
        "counted_since(14 d, account)": lambda: store.counted_since(
            now - timedelta(days=14), account="bench-x", statuses=SENT
        ),
        "counted_since(7 d, network=x)": lambda: store.counted_since(
            now - timedelta(days=7), network="x", statuses=SENT
        ),
        "spend_micros(month, account)": lambda: store.spend_micros(
            month, month + timedelta(days=31), statuses=SENT, account="bench-x", network="x"
        ),
        "load_rotation()": lambda: store.load_rotation("bench-x"),
        "blocked_until()": lambda: store.blocked_until("bench-x", now),
    }
    for name, read in reads.items():
        spent = []
        for _ in range(5):
            started = time.perf_counter()
            read()
            spent.append(time.perf_counter() - started)
        database.queries[name] = median(spent)


def postgres_schema(url: str) -> tuple[str, Callable[[], None]] | str:
    """(URL of a fresh schema, drop it) or why PostgreSQL cannot be used."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        first = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return f"unreachable ({first})"
    base = make_url(url)
    options = f"{base.query.get('options', '')} -csearch_path={schema}".strip()
    schema_url = base.update_query_dict({"options": options}).render_as_string(False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return schema_url, drop


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=None, help="large history (1,000,000)")
    parser.add_argument(
        "--load-budget", type=float, default=180.0, help="most seconds one bulk load may take"
    )


def main() -> int:
    args = parse_args(__doc__ or "", repeats=15, quick_repeats=2, options=options)
    postgres_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    scrub_own_environment()
    small, large = 1_000, args.rows or (20_000 if args.quick else 1_000_000)
    title = f"history growth: a slot's pass with {small:,} vs {large:,} deliveries stored"
    header(title, args.quick, args.repeats)
    now = datetime.now(UTC)
    start = now.replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=1)
    databases: list[Database] = []
    cleanups: list[Callable[[], None]] = []
    notes: list[str] = []
    with temp_dir("history") as base:
        try:
            for backend in ("sqlite", "postgresql"):
                for size in (small, large):
                    label = f"{backend} {size:,}"
                    if backend == "sqlite":
                        url = f"sqlite:///{base / f'history-{size}.db'}"
                    else:
                        made = postgres_schema(postgres_url)
                        if isinstance(made, str):
                            notes.append(f"postgresql: {made}; not measured")
                            break
                        url, drop = made
                        cleanups.append(drop)
                    database = build(label, backend, url, size, start, args.load_budget, base)
                    databases.append(database)
            for database in databases:  # warm-up: first start, rotation state, caches
                one_pass(database)
            for round_number in range(args.repeats):
                order = databases if round_number % 2 == 0 else databases[::-1]
                for database in order:
                    one_pass(database)
            for database in databases:
                time_queries(database)
        finally:
            for database in databases:
                database.store.close()
            for cleanup in cleanups:
                cleanup()
    return report(databases, notes, small, large)


def report(databases: list[Database], notes: list[str], small: int, large: int) -> int:
    print("history loaded (bulk)")
    table(
        ["database", "rows", "load time"],
        [[d.label, f"{d.rows:,}", seconds(d.load_seconds)] for d in databases],
    )
    for note in notes:
        print(note)
    for database in databases:
        if database.rows < database.requested:
            print(f"note: {database.label} holds {database.rows:,} rows (load budget reached)")
    rows, query_rows, ratios = [], [], {}
    pairs = [[d for d in databases if d.backend == b] for b in ("sqlite", "postgresql")]
    for low, high in (pair for pair in pairs if len(pair) == 2):
        for network in ("x", "mastodon"):
            a, b = median(low.passes[network]), median(high.passes[network])
            ratios[f"{low.backend} {network}"] = b / a
            where = f"{low.backend}, {network} account"
            rows.append([where, seconds(a), seconds(b), f"{b / a:.2f}"])
        for name in low.queries:
            a, b = low.queries[name], high.queries[name]
            query_rows.append([f"{low.backend}: {name}", seconds(a), seconds(b), f"{b / a:.1f}"])
    columns = [f"{small:,} rows", f"{large:,} rows", "large/small"]
    print("one pass for one due slot (median)")
    table(["pass", *columns], rows)
    print("store reads a pass makes, each alone (median of 5)")
    table(["read", *columns], query_rows)
    if not ratios:
        print("ratio: nan (nothing measured) FAIL")
        return 1
    worst = max(ratios, key=lambda key: ratios[key])
    print(ratio_line(ratios[worst], GROWTH_GOAL, f"worst of {len(ratios)}: {worst} pass"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
