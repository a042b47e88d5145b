"""The first minutes on the sample config: what the worker says at start, and what status says.

At start the worker says once, briefly, what it works with (config, database with its password
masked, posts valid and left out, which accounts are live and which dry-run) and shows each
account's next post, rendered, recording nothing; status says the same facts.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.check import load
from amplifier.cli import main
from amplifier.cli.database import database_label
from amplifier.config import load_settings
from amplifier.logs import parse_logfmt
from amplifier.schedule import upcoming_slots
from amplifier.store import Store
from amplifier.testing.databases import DatabaseUnavailable, postgres_database

from .conftest import FOREIGN

BASE = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 00:00 in Chicago: nothing due
ACCOUNTS = ["fbt-x", "fbt-mastodon", "fbt-bluesky", "fbt-mastodon-es"]
BROKEN = "---\nid: broken\ncampaign: families-belong-together\nweight: heavy\n---\nText.\n"


@pytest.fixture
def project(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample folder as the working directory, no credentials or overrides set."""
    monkeypatch.chdir(sample)
    for name in list(__import__("os").environ):
        if name.upper().startswith(FOREIGN):
            monkeypatch.delenv(name)
    return sample


def run(now: datetime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: now)
    return code, out.getvalue()


def events(output: str, name: str) -> list[dict[str, str]]:
    """The logfmt lines of one event in a command's output (other lines are left out)."""
    found = []
    for line in output.splitlines():
        if line.startswith("time="):
            fields = parse_logfmt(line)
            if fields["event"] == name:
                found.append(fields)
    return found


def test_start_says_database_and_accounts_once(project: Path) -> None:
    """One start line names the config, the database, the post count and the accounts live
    and dry-run; missing credentials are said once, briefly, for all of them together."""
    code, out = run(BASE, "run", "--once")
    assert code == 0, out
    [starting] = events(out, "starting")
    assert starting["database"] == "sqlite:///amplifier.db"
    assert starting["config"].endswith("config.example.toml")
    assert (starting["posts"], starting["invalid_posts"]) == ("58", "0")
    assert starting["live"] == "none" and starting["dry_run"] == ",".join(ACCOUNTS)
    [missing] = events(out, "credentials-missing")
    assert missing["accounts"] == ",".join(ACCOUNTS)
    assert "amplifier accounts verify" in missing["hint"]
    assert out.count("credentials") == 1  # no line per account, no variable names
    assert "FBT_X_CONSUMER_KEY" not in out
    assert not events(out, "posts-left-out")


def test_forced_dry_run_says_nothing_about_credentials(project: Path) -> None:
    """--dry-run: every account dry-run by choice; no word about credentials."""
    code, out = run(BASE, "run", "--once", "--dry-run")
    assert code == 0
    assert events(out, "starting")[0]["dry_run"] == ",".join(ACCOUNTS)
    assert not events(out, "credentials-missing")


def test_post_now_speaks_only_of_its_account(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """post-now touches one account: the start lines name that one only, live or not."""
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", "not-used-in-dry-run")
    code, out = run(BASE, "post-now", "fbt-x")
    assert code == 0, out
    [starting] = events(out, "starting")
    assert (starting["live"], starting["dry_run"]) == ("none", "fbt-x")
    assert events(out, "credentials-missing")[0]["accounts"] == "fbt-x"
    assert "fbt-mastodon" not in out


def test_next_posts_shown_at_start_are_what_goes_out_and_nothing_is_recorded(
    project: Path,
) -> None:
    """At start each account's next post is logged, rendered, with its slot in its own zone;
    nothing is written (no delivery, no rotation state); when the slot comes, the worker
    sends exactly that text. After a post, the next one shown follows the stored rotation."""
    code, out = run(BASE, "run", "--once")
    assert code == 0
    shown = {line["account"]: line for line in events(out, "next-post")}
    assert sorted(shown) == sorted(ACCOUNTS)
    settings, _ = load(None, None)
    for name, line in shown.items():
        account = settings.account(name)
        slot = upcoming_slots(settings, account, BASE, count=1, days=None)[0]
        assert datetime.fromisoformat(line["due"]) == slot.due_at.replace(second=0)
        assert line["zone"] == settings.schedules[account.schedule].timezone
        assert "#FamiliesBelongTogether" in line["text"] and "/" in line["length"]
    store = Store(settings.sqlalchemy_url)
    try:
        assert store.history(limit=10) == []
        assert all(store.load_rotation(name) is None for name in ACCOUNTS)
    finally:
        store.close()

    due = datetime.fromisoformat(shown["fbt-x"]["due"]).astimezone(UTC) + timedelta(minutes=2)
    code, out = run(due, "run", "--once")
    # The slot is due and unrecorded: it is the one shown, and its text is what goes out.
    [pending] = [line for line in events(out, "next-post") if line["account"] == "fbt-x"]
    [sent] = [line for line in events(out, "dry-run") if line["account"] == "fbt-x"]
    assert pending["text"] == sent["text"] == shown["fbt-x"]["text"]
    assert pending["due"] == shown["fbt-x"]["due"]

    code, out = run(due + timedelta(minutes=1), "run", "--once")
    [following] = [line for line in events(out, "next-post") if line["account"] == "fbt-x"]
    assert following["text"] != sent["text"]  # the stored rotation moved on
    later = datetime.fromisoformat(following["due"]) + timedelta(minutes=2)
    code, out = run(later, "run", "--once")
    [then] = [line for line in events(out, "dry-run") if line["account"] == "fbt-x"]
    assert then["text"] == following["text"]


def test_invalid_posts_are_said_at_start_and_in_status(project: Path) -> None:
    """A broken post beside good ones: the worker publishes the good ones and says, once at
    start, how many it leaves out and that `amplifier check` shows why; status counts them."""
    (project / "posts" / "broken.md").write_text(BROKEN, encoding="utf-8")
    code, out = run(BASE, "run", "--once")
    assert code == 0
    [left_out] = events(out, "posts-left-out")
    assert left_out["level"] == "warning"
    assert left_out["invalid_posts"] == "1" and left_out["hint"] == "amplifier check shows why"
    assert "broken.md" in left_out["first"]
    assert events(out, "starting")[0]["invalid_posts"] == "1"
    code, status = run(BASE, "status")
    assert "posts:    58 valid, 1 invalid and left out (amplifier check shows why)" in status


def test_status_says_database_and_which_accounts_are_live(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """status names the config and database it reads, and per account live or dry-run."""
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", "token-value-1234")
    code, out = run(BASE, "status")
    assert code == 0
    assert "database: sqlite:///amplifier.db" in out
    assert "posts:    58 valid, 0 invalid" in out
    mastodon = out.split("fbt-mastodon (mastodon)\n", 1)[1]
    assert mastodon.startswith("  mode:         live\n")
    x = out.split("fbt-x (x)\n", 1)[1]
    assert x.startswith("  mode:         dry-run (credentials not set; amplifier accounts verify")
    monkeypatch.setenv("AMPLIFIER_DRY_RUN", "true")
    code, out = run(BASE, "status")
    assert out.split("fbt-mastodon (mastodon)\n", 1)[1].startswith(
        "  mode:         dry-run (dry_run"
    )


def test_database_password_is_masked(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL URL with a password: the start line and status show *** in its place."""
    try:
        with postgres_database() as base:
            url = base.replace("postgres@", "postgres:pw-9f8e7d6c@", 1)  # trust ignores it
            monkeypatch.setenv("DATABASE_URL", url)
            _, out = run(BASE, "run", "--once")
            _, status = run(BASE, "status")
    except DatabaseUnavailable as error:
        pytest.skip(str(error))
    assert "postgres:***@127.0.0.1" in events(out, "starting")[0]["database"]
    assert "database: postgresql+psycopg://postgres:***@127.0.0.1" in status
    assert "pw-9f8e7d6c" not in out + status


def test_database_label_of_an_unparsable_url(project: Path) -> None:
    """A URL that cannot be parsed is never shown (it may hold a password)."""
    (project / "c.toml").write_text('database_url = "x y z"\n', encoding="utf-8")
    assert database_label(load_settings(project / "c.toml")) == "(a URL that cannot be parsed)"


IMPOSSIBLE = (
    "---\nid: impossible-date\ncampaign: families-belong-together\nlanguage: en\n"
    'source: "A volunteer\'s notes"\nvalid_from: 2026-13-01\n---\nText.\n'
)


def test_an_impossible_date_stops_no_account(project: Path) -> None:
    """One volunteer's typo (valid_from: 2026-13-01): check names it at its line, no
    traceback, exit 1; run --once still sends every account's due post (exit 0) and says
    one post is left out."""
    (project / "posts" / "typo.md").write_text(IMPOSSIBLE, encoding="utf-8")
    code, out = run(BASE, "check")
    assert code == 1, out
    assert "posts/typo.md:6: valid_from: 2026-13-01 is not a date (month 13)" in out
    assert "Traceback" not in out
    code, out = run(BASE, "run", "--once")
    assert code == 0, out
    assert events(out, "posts-left-out")[0]["invalid_posts"] == "1"
    shown = {line["account"]: line for line in events(out, "next-post")}
    assert sorted(shown) == sorted(ACCOUNTS)
    sent: set[str] = set()
    for due in sorted(datetime.fromisoformat(line["due"]) for line in shown.values()):
        code, out = run(due.astimezone(UTC) + timedelta(minutes=2), "run", "--once")
        assert code == 0, out
        sent |= {line["account"] for line in events(out, "dry-run")}
    assert sent == set(ACCOUNTS)


def test_broken_links_are_named_by_check_and_counted_by_the_worker(project: Path) -> None:
    """A link to a moved post and a link to itself: check names each (no traceback, in
    either format), exit 1; the worker and status count them as invalid posts."""
    (project / "posts" / "moved.md").symlink_to("gone.md")
    (project / "posts" / "self.md").symlink_to("self.md")
    code, out = run(BASE, "check")
    assert code == 1, out
    assert "posts/moved.md: a link to gone.md, which does not exist" in out
    assert "posts/self.md: a link that loops back on itself (through self.md)" in out
    code, out = run(BASE, "check", "--format", "github")
    assert "::error file=posts/self.md::a link that loops back on itself" in out
    code, out = run(BASE, "run", "--once")
    assert code == 0, out
    assert events(out, "posts-left-out")[0]["invalid_posts"] == "2"
    code, status = run(BASE, "status")
    assert "posts:    58 valid, 2 invalid and left out (amplifier check shows why)" in status
