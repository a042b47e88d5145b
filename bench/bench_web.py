"""The console's pages with 1,000 vs 1,000,000 deliveries stored, and against their bare SQL.

The same history as bench_history.py (its loaders: the last 30 days of 10 accounts, then
older rows of 100 accounts up to the total), on SQLite (a temp file) and PostgreSQL (a fresh
schema, dropped afterwards). The console (``create_app`` over ``open_console``) is signed in
once per database and runs on one event loop throughout, as under uvicorn; then each page is
requested in turn, interleaved across the databases; its time is the app's own (the
Server-Timing header the app sends: from the request reaching the app to the response
starting), median of the repeats. Beside each history, review and status page, the bare SQL
that produces its rows (for history and review the statement the store runs, its columns and
join, literal values in place of bound ones), run through the connection the page reads with
(on SQLite the store that never waits) and fetched.

    .venv/bin/python bench/bench_web.py [--quick] [--repeats N] [--rows N]
    PostgreSQL: $BENCH_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
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
from bench_history import DEFAULT_POSTGRES, load_postgres, load_sqlite, options, postgres_schema

GROWTH_GOAL = 1.5
SQL_GOAL = 3.0
PASSWORD = "bench-organizer-password"
ORDER = "ORDER BY due_at DESC, id DESC"
# What the store's statements read (amplifier/store/console.py): a history page's columns, its
# cost joined in; the review page's columns.
COLUMNS_SQL = (
    "SELECT d.id, d.account, d.status, d.template_id, d.due_at, d.url, d.retry_at, "
    "d.last_error, d.ambiguous_since, c.cost_micros FROM deliveries AS d "
    "LEFT OUTER JOIN delivery_costs AS c ON c.delivery_id = d.id"
)
REVIEW_SQL = (
    "SELECT id, account, template_id, due_at, attempts, ambiguous_since, last_error, language, "
    "text, url FROM deliveries"
)
HISTORY_ORDER = "ORDER BY d.due_at DESC, d.id DESC"
LAST_SQL = (
    "SELECT * FROM deliveries WHERE account = '{account}' AND status = 'published' "
    "ORDER BY sent_at DESC, id DESC LIMIT 1"
)
# Each page, and the bare SQL that produces its rows (None: it has no one query).
PAGES: dict[str, tuple[str, list[str] | None]] = {
    "history": ("/history", [f"{COLUMNS_SQL} {HISTORY_ORDER} LIMIT 51"]),
    "history, state published": (
        "/history?state=published",
        [f"{COLUMNS_SQL} WHERE d.status = 'published' {HISTORY_ORDER} LIMIT 51"],
    ),
    "history, one account": (
        "/history?account=bench-x",
        [f"{COLUMNS_SQL} WHERE d.account = 'bench-x' {HISTORY_ORDER} LIMIT 51"],
    ),
    "history, one campaign": (
        f"/history?campaign={CAMPAIGN}",
        [f"{COLUMNS_SQL} WHERE d.campaign = '{CAMPAIGN}' {HISTORY_ORDER} LIMIT 51"],
    ),
    "history, an older page": ("/history?before={cursor}", None),  # filled in per database
    "review": ("/review", [f"{REVIEW_SQL} WHERE status = 'unknown' {ORDER} LIMIT 200"]),
    "status": (
        "/status",
        [
            "SELECT account, status, count(*) FROM deliveries WHERE status IN "
            "('deferred', 'unknown') GROUP BY account, status",
            LAST_SQL.format(account="bench-x"),
            LAST_SQL.format(account="bench-mastodon"),
        ],
    ),
    "calendar (14 days)": ("/", None),
    "posts": ("/posts", None),
}


@dataclass
class Site:
    label: str
    backend: str
    rows: int
    client: Any
    console: Any
    cursor_sql: list[str]
    cursor: str
    pages: dict[str, list[float]] = field(default_factory=dict)
    sql: dict[str, list[float]] = field(default_factory=dict)
    driver: dict[str, list[float]] = field(default_factory=dict)


def server_time(response: Any) -> float:
    found = re.search(r"app;dur=([\d.]+)", response.headers.get("server-timing", ""))
    if response.status_code != 200 or found is None:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return float(found[1]) / 1000


def build(label: str, backend: str, url: str, size: int, start: datetime, args: Any,
          base: Path) -> Site:  # fmt: skip
    from starlette.testclient import TestClient

    from amplifier.config import web_access
    from amplifier.store import Store
    from amplifier.web import create_app, open_console
    from amplifier.web.params import write_cursor

    store = Store(url)
    store.migrate()
    if backend == "sqlite":
        loaded = load_sqlite(Path(url.removeprefix("sqlite:///")), size, start, args.load_budget)
    else:
        loaded = load_postgres(store.engine, size, start, args.load_budget)
    store.close()
    config = write_config(
        base / f"{label.replace(' ', '-')}.toml",
        database_url=url,
        accounts=[
            {"name": "bench-x", "network": "x", "api_base": "http://127.0.0.1:9"},
            {"name": "bench-mastodon", "network": "mastodon", "instance": "http://127.0.0.1:9"},
        ],
        times=["06:00", "14:00", "22:00"],
    )
    access = web_access({"AMPLIFIER_WEB_ORGANIZER_PASSWORD": PASSWORD})
    console = open_console(config, None, access, clock=lambda: start)
    # Entered: one event loop in one thread for every request, as uvicorn runs the app (and
    # its lifespan). Without it each request would start a thread and an event loop of its
    # own, and the page's time would hold that start, the client's thread contending for
    # the GIL meanwhile, and a fresh thread pool's first worker: no server pays those.
    client = TestClient(create_app(console), base_url="http://bench").__enter__()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert token is not None
    client.post("/signin", data={"csrf": token[1], "password": PASSWORD})
    # An older page from the middle of the table: the keyset marker of row number size // 2.
    with console.store.engine.connect() as conn:
        middle = conn.exec_driver_sql(
            f"SELECT due_at, id FROM deliveries {ORDER} LIMIT 1 OFFSET {loaded // 2}"
        ).one()
    due = middle[0] if isinstance(middle[0], datetime) else datetime.fromisoformat(middle[0])
    due = due.replace(tzinfo=UTC) if due.tzinfo is None else due
    cursor = write_cursor(due, int(middle[1]))
    stamp = due.strftime("%Y-%m-%d %H:%M:%S.%f") if backend == "sqlite" else due.isoformat()
    cursor_sql = [
        f"{COLUMNS_SQL} WHERE d.due_at <= '{stamp}' AND NOT (d.due_at = '{stamp}' AND d.id >= "
        f"{int(middle[1])}) {HISTORY_ORDER} LIMIT 51"
    ]
    return Site(label, backend, loaded, client, console, cursor_sql, cursor)


def measure(site: Site, sql_first: bool = False) -> None:
    """Each page once (its server time) and beside it its bare SQL once, through the
    connection the page reads with (on SQLite the store that never waits, reads.py).

    ``sql_first``: the SQL before its page. Rounds alternate, so neither side is always the
    one that comes first after the other databases' turn (colder caches: the first page of a
    round was the slowest of all, its SQL right after it warm)."""
    loop_reads = getattr(site.console, "loop_reads", None)  # older consoles: none
    engine = (site.console.store if loop_reads is None else loop_reads.store).engine
    for name, (path, sql) in PAGES.items():
        statements = site.cursor_sql if "{cursor}" in path else sql

        def bare(statements: list[str] | None = statements, name: str = name) -> None:
            if statements is None:
                return
            started = time.perf_counter()
            with engine.connect() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement).fetchall()
            site.sql.setdefault(name, []).append(time.perf_counter() - started)
            # For context, barer still: the driver's cursor of a pooled connection, no
            # SQLAlchemy execution (how the pages' reads now run: store/prepared.py).
            started = time.perf_counter()
            with engine.connect() as conn:
                cursor = conn.connection.dbapi_connection.cursor()
                for statement in statements:
                    cursor.execute(statement)
                    cursor.fetchall()
                cursor.close()
            site.driver.setdefault(name, []).append(time.perf_counter() - started)

        if sql_first:
            bare()
        answer = site.client.get(path.format(cursor=site.cursor))
        site.pages.setdefault(name, []).append(server_time(answer))
        if not sql_first:
            bare()


def main() -> int:
    args = parse_args(__doc__ or "", repeats=11, quick_repeats=2, options=options)
    postgres_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    scrub_own_environment()
    small, large = 1_000, args.rows or (20_000 if args.quick else 1_000_000)
    header(f"the console's pages with {small:,} vs {large:,} deliveries", args.quick, args.repeats)
    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    start += timedelta(days=1)
    sites: list[Site] = []
    cleanups: list[Callable[[], None]] = []
    notes: list[str] = []
    with temp_dir("web") as base:
        try:
            for backend in ("sqlite", "postgresql"):
                for size in (small, large):
                    if backend == "sqlite":
                        url = f"sqlite:///{base / f'web-{size}.db'}"
                    else:
                        made = postgres_schema(postgres_url)
                        if isinstance(made, str):
                            notes.append(f"postgresql: {made}; not measured")
                            break
                        url, drop = made
                        cleanups.append(drop)
                    sites.append(
                        build(f"{backend} {size:,}", backend, url, size, start, args, base)
                    )
            for site in sites:  # warm-up: templates compiled, caches filled
                measure(site)
                site.pages.clear()
                site.sql.clear()
            for round_number in range(args.repeats):
                for site in sites if round_number % 2 == 0 else sites[::-1]:
                    measure(site, sql_first=round_number % 2 == 1)
        finally:
            for site in sites:
                site.client.__exit__(None, None, None)
                site.console.close()
            for cleanup in cleanups:
                cleanup()
    return report(sites, notes, small, large)


def quartiles(pages: list[float], sql: list[float]) -> str:
    """The lower and upper quartile of page/SQL over the rounds, each round's own pair."""
    ratios = sorted(page / bare for page, bare in zip(pages, sql, strict=True))
    if len(ratios) < 4:
        return f"{ratios[0]:.1f}-{ratios[-1]:.1f}"
    cuts = statistics.quantiles(ratios, n=4)
    return f"{cuts[0]:.1f}-{cuts[2]:.1f}"


def report(sites: list[Site], notes: list[str], small: int, large: int) -> int:
    print("\n".join(notes))
    growth: dict[str, float] = {}
    versus: dict[str, float] = {}
    rows = []
    for backend in ("sqlite", "postgresql"):
        pair = [s for s in sites if s.backend == backend]
        if len(pair) != 2:
            continue
        low, high = pair
        for name in PAGES:
            a, b = median(low.pages[name]), median(high.pages[name])
            growth[f"{backend}: {name}"] = b / a
            bare = median(high.sql[name]) if name in high.sql else None
            driver = median(high.driver[name]) if name in high.driver else None
            spread = "-"
            if bare is not None:
                versus[f"{backend}: {name}"] = b / bare
                spread = quartiles(high.pages[name], high.sql[name])
            rows.append([
                f"{backend}: {name}", seconds(a), seconds(b), f"{b / a:.2f}",
                seconds(bare) if bare is not None else "-",
                f"{b / bare:.1f}" if bare is not None else "-", spread,
                f"{b / driver:.1f}" if driver is not None else "-",
            ])  # fmt: skip
    print(
        f"page server time (median); bare SQL at {large:,} rows; page/SQL of each round "
        "(page and SQL one after the other, each first in turn): lower-upper quartile; "
        "for context, page/driver: the same SQL on the driver's cursor, no SQLAlchemy execution"
    )
    table(["page", f"{small:,} rows", f"{large:,} rows", "large/small", "bare SQL",
           "page/SQL", "per round", "page/driver"], rows)  # fmt: skip
    if not growth:
        print("ratio: nan (nothing measured) FAIL")
        return 1
    worst_sql = max(versus, key=lambda key: versus[key])
    print(
        f"page/SQL: worst {versus[worst_sql]:.2f} ({worst_sql}; goal <= {SQL_GOAL:.2f}) "
        + ("PASS" if versus[worst_sql] <= SQL_GOAL else "FAIL")
    )
    worst = max(growth, key=lambda key: growth[key])
    print(ratio_line(growth[worst], GROWTH_GOAL, f"worst of {len(growth)}: {worst}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
