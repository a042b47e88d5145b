"""``check --fetch-cards`` and ``preview --fetch-cards``: each Bluesky link read on request,
under the worker's own rules (the default policy: loopback refused, as in production)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.check import card_report, load
from amplifier.cli import main
from amplifier.store import Store
from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page

CONFIG = """
database_url = "sqlite:///state.db"
[campaigns.c]
language = "en"
[schedules.daily]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "sky"
network = "bluesky"
handle = "amplifier.test"
campaigns = ["c"]
schedule = "daily"
[accounts.secrets_from_env]
app_password = "T_CARDS_SKY_PASSWORD"
"""
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def pages() -> Iterator[FakePages]:
    with FakePages() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, pages: FakePages, monkeypatch: pytest.MonkeyPatch) -> Path:
    link = pages.page("/sign", og_page("Sign the petition", "Families", ""))
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "sign.md").write_text(
        f"---\nid: sign\ncampaign: c\nlanguage: en\nsource: test\nlink: {link}\n---\n"
        "Sign the petition: {link}\n"
    )
    (tmp_path / "config.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: NOW)
    return code, out.getvalue()


def test_check_fetch_cards_warns_at_the_link_line(project: Path, pages: FakePages) -> None:
    """The loopback page is refused by the worker's own rules: a warning at the post's link:
    line saying why and what follows; the check still passes. Without the flag nothing is read."""
    code, out = run("check")
    assert code == 0 and "card" not in out and pages.received == []
    code, out = run("check", "--fetch-cards")
    assert code == 0, out
    assert "posts/sign.md:6: warning: no Bluesky link card for http://127.0.0.1:" in out
    assert "not a public address" in out and "plain link" in out
    assert pages.received == []  # refused before any connection
    assert not (project / "state.db").exists()  # check stores nothing


def test_card_report_names_the_card(project: Path) -> None:
    """With the tests' loopback policy the same report shows the page's card."""
    settings, library = load(project / "config.toml", None)
    problems, lines = card_report(settings, library, LOOPBACK)
    assert problems == []
    assert lines == [f"card {library.originals['sign'].link}: 'Sign the petition' (no thumbnail)"]


def test_preview_shows_the_stored_card_or_reads_it(project: Path) -> None:
    """preview shows each Bluesky post's card as stored; --fetch-cards reads it now and stores
    the outcome for the worker."""
    code, out = run("preview", "-n", "1")
    assert code == 0 and "[card: not read yet (--fetch-cards reads it now)]" in out
    store = Store("sqlite:///state.db")
    store.migrate()
    store.close()
    code, out = run("preview", "-n", "1", "--fetch-cards")
    assert code == 0 and "[plain link on Bluesky: " in out and "not a public address" in out
    code, out = run("preview", "-n", "1")
    assert "[plain link on Bluesky: " in out  # as stored by the run before
