"""How many statements each page sends the database: a page's cost beside its bare SQL is
mostly per-statement work (building, cache-keying, a round trip), so the count is held down
here, on SQLite and PostgreSQL, whatever the number of rows or accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from starlette.testclient import TestClient

from amplifier.web import Console
from amplifier.web.render import templates

from .conftest import START, each_statement
from .rows import published, unknown


@contextmanager
def statements(console: Console) -> Iterator[list[str]]:
    """Every statement the store's engines run meanwhile (BEGIN and the like left out)."""
    seen: list[str] = []

    def record(statement: str) -> None:
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            seen.append(statement)

    with each_statement(console, record):
        yield seen


def test_a_history_page_is_one_statement_costs_included(
    viewer: TestClient, console: Console
) -> None:
    """The rows and their costs come in one statement (a join), not one for each."""
    row = published(console.store, "x1", START - timedelta(hours=2), post="cost", cost=15_000)
    viewer.get("/history")
    with statements(console) as seen:
        html = viewer.get("/history").text
    assert f"<td>{row.id}</td>" in html and "· $0.015" in html  # with its cost
    assert len(seen) == 1, seen


def test_the_status_page_reads_every_account_in_seven_statements(
    viewer: TestClient, console: Console
) -> None:
    """Counts, last posts (all accounts in one), windows, heartbeats, the pause switch, the
    credentials checks and the month's X spend: seven statements, not a dozen per account."""
    published(console.store, "x1", START - timedelta(hours=2), post="cost")
    unknown(console.store, "m1", START - timedelta(hours=1))
    viewer.get("/status")
    with statements(console) as seen:
        html = viewer.get("/status").text
    assert "spent this month" in html and "Needs review</dt><dd>1" in html
    assert len(seen) <= 7, seen


def test_the_review_page_is_one_statement_built_once(viewer: TestClient, console: Console) -> None:
    """The deliveries awaiting review in one statement, only the columns the page shows."""
    row = unknown(console.store, "m1", START - timedelta(hours=1))
    viewer.get("/review")
    with statements(console) as seen:
        html = viewer.get("/review").text
    assert f"#{row.id} · m1 · courts" in html and "the server did not answer" in html
    assert len(seen) == 1 and "text" in seen[0] and "idempotency_key" not in seen[0], seen


def test_templates_are_not_checked_on_disk_per_request() -> None:
    """The templates ship with the package: no stat() of each file on every page."""
    assert templates.auto_reload is False
