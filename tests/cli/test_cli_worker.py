"""The worker's commands as an operator runs them, on the sample config in a fresh folder."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.check import load
from amplifier.cli import main
from amplifier.schedule.planner import upcoming_slots
from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.testing.fake_x import FakeX, make_fake_x

BASE = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ENV = (
    "AMPLIFIER_CONFIG",
    "AMPLIFIER_DATABASE_URL",
    "DATABASE_URL",
    "AMPLIFIER_DRY_RUN",
    "FBT_X_CONSUMER_KEY",
    "FBT_X_CONSUMER_SECRET",
    "FBT_X_ACCESS_TOKEN",
    "FBT_X_ACCESS_TOKEN_SECRET",
    "FBT_MASTODON_ACCESS_TOKEN",
    "FBT_BLUESKY_APP_PASSWORD",
    "FBT_MASTODON_ES_ACCESS_TOKEN",
)


@pytest.fixture
def project(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder holding the sample config and posts, and no credentials."""
    shutil.copy(repo_root / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    monkeypatch.chdir(tmp_path)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(now: datetime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: now)
    return code, out.getvalue()


def first_slot(account: str) -> datetime:
    settings, _ = load(None, None)
    return upcoming_slots(settings, settings.account(account), BASE, count=1, days=None)[0].due_at


def test_run_once_prints_due_posts_once(project: Path) -> None:
    """run --once with no credentials prints each due post (dry run), recorded as rehearsed;
    a second pass prints none."""
    now = first_slot("fbt-x") + timedelta(minutes=1)
    code, out = run(now, "run", "--once")
    assert code == 0, out
    assert re.search(r" event=dry-run account=fbt-x network=x chars=\d+ text=", out)
    assert re.search(r" event=rehearsed account=fbt-x slot=2026-11-23T09:00 ", out)
    assert (project / "amplifier.db").exists()
    code, again = run(now + timedelta(seconds=30), "run", "--once")
    assert code == 0
    assert "event=dry-run " not in again
    code, history = run(now, "history", "--account", "fbt-x", "--status", "rehearsed")
    assert len(history.strip().splitlines()) == 1
    assert "2026-11-23 " in history and "rehearsed" in history
    assert "no credentials: FBT_X_CONSUMER_KEY" in history


def test_run_once_when_nothing_is_due(project: Path) -> None:
    """Between slots, with every earlier slot recorded, run --once says nothing was due."""
    now = first_slot("fbt-x") + timedelta(minutes=1)
    run(now, "run", "--once")
    code, out = run(now + timedelta(minutes=1), "run", "--once")
    assert code == 0
    assert "nothing was due at" in out


def test_schedule_lists_upcoming_slots(project: Path) -> None:
    """schedule -n 2 shows two slots per account, local time and UTC; unknown account: exit 2."""
    code, out = run(BASE, "schedule", "-n", "2")
    assert code == 0
    assert "fbt-x (x) · us-daytime in America/Chicago" in out
    assert "fbt-mastodon-es (mastodon) · spain-evening in Europe/Madrid" in out
    assert len(re.findall(r"^  2026-11-2\d \d\d:\d\d (CST|CET)  \(", out, re.M)) == 8
    code, out = run(BASE, "schedule", "--account", "nobody")
    assert code == 2
    assert "no account 'nobody' in the config" in out


def test_pause_status_resume(project: Path) -> None:
    """pause is stored: status shows it, due slots are skipped; resume lets the next slot out."""
    code, out = run(BASE, "pause", "--reason", "press embargo")
    assert code == 0 and "paused by" in out
    code, status = run(BASE, "status")
    assert re.search(
        r"^paused: PAUSED by .*\(press embargo\) since 2026-11-23 06:00 UTC", status, re.M
    )
    now = first_slot("fbt-x") + timedelta(minutes=1)
    code, out = run(now, "run", "--once")
    assert "event=dry-run " not in out
    code, skipped = run(now, "history", "--account", "fbt-x", "--status", "skipped")
    assert "skipped" in skipped and "press embargo" in skipped
    code, out = run(now, "resume")
    assert code == 0
    code, status = run(now, "status")
    assert "paused: no" in status
    assert "fbt-x (x)\n  mode:         dry-run (credentials not set; " in status
    assert "  last post:    none yet\n  next slot:    2026-11-23 13:" in status


def test_status_after_posting(
    project: Path, fake_x: FakeX, monkeypatch: pytest.MonkeyPatch
) -> None:
    """status names the last post, the next slot, rate limits and what needs review."""
    (project / "config.toml").write_text(X_CONFIG.format(base=fake_x.base_url))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    now = first_slot("fbt-x") + timedelta(minutes=1)
    run(now, "run", "--once")
    code, out = run(now, "status")
    assert code == 0
    block = out.split("fbt-x (x)\n", 1)[1].split("\nfbt-", 1)[0]
    assert re.search(r"last post:    2026-11-23 09:00 CST  \S+  https://", block)
    assert "next slot:    2026-11-24 09:00 CST" in block
    assert "rate limits:  " in block  # what the fake X answered, or none
    assert "needs review: 0" in block


def _unknown_delivery(project: Path) -> tuple[Store, Delivery]:
    """The project's database made by a command, holding one X delivery left 'unknown'."""
    run(BASE, "status")  # creates and migrates amplifier.db
    store = Store(f"sqlite:///{project / 'amplifier.db'}")
    draft = DeliveryDraft("fbt-x", "x", "2026-11-22T09:00", BASE, "p", "fbt", "Call today")
    row = store.claim_slot(draft, worker_id="gone")
    assert row is not None
    store.mark_unknown(row.id, worker_id="gone", reason="may have been published")
    return store, row


def test_review_lists_and_resolves_unknown(project: Path) -> None:
    """review lists 'unknown' deliveries; review ID --published settles one, only once."""
    store, row = _unknown_delivery(project)
    store.close()
    code, out = run(BASE, "review")
    assert code == 0
    assert f"#{row.id}" in out and "unknown" in out and "'Call today'" in out
    code, out = run(BASE, "review", str(row.id))
    assert code == 2 and "--published or --not-published" in out
    code, out = run(BASE, "review", str(row.id), "--published", "--note", "seen on the profile")
    assert code == 0 and "recorded as published" in out
    code, out = run(BASE, "history", "--status", "published")
    assert "resolved as published" in out and "seen on the profile" in out
    code, out = run(BASE, "review", str(row.id), "--not-published")
    assert code == 1 and "not awaiting review" in out
    code, out = run(BASE, "review")
    assert "nothing needs review" in out


def test_review_records_the_link_of_the_post_found(project: Path) -> None:
    """review ID --published --url: the post's id and link are recorded (a thread goes on
    replying to it); a link of another network's post is refused with the shape to copy."""
    store, row = _unknown_delivery(project)
    code, out = run(BASE, "review", str(row.id), "--published", "--url",
                    "https://bsky.app/profile/a.test/post/3lbzqmqmq2c2a")  # fmt: skip
    assert code == 2 and "not the link of a x post" in out and "x.com/<user>/status/" in out
    code, out = run(BASE, "review", str(row.id), "--not-published", "--url", "https://x.com/a")
    assert code == 2 and "--url goes with --published" in out
    link = "https://x.com/families/status/1864000000000000000?s=20"
    code, out = run(BASE, "review", str(row.id), "--published", "--url", link)
    assert code == 0 and "recorded as published" in out
    settled = store.get_by_id(row.id)
    store.close()
    assert settled is not None
    assert (settled.status, settled.remote_id, settled.url) == (
        "published", "1864000000000000000", link,
    )  # fmt: skip


def test_review_and_history_say_since_when_a_post_may_have_landed(project: Path) -> None:
    """An unknown or deferred row's ambiguity time (its own column) shows in review and history
    as it always has, "[ambiguous since ...]", while last_error holds only the reason."""
    run(BASE, "status")  # creates and migrates amplifier.db
    store = Store(f"sqlite:///{project / 'amplifier.db'}")
    since = datetime(2026, 11, 22, 9, 0, 7, tzinfo=UTC)
    unknown = store.claim_slot(
        DeliveryDraft("fbt-x", "x", "2026-11-22T09:00", BASE, "p", "fbt", "Call today"),
        worker_id="gone",
    )
    deferred = store.claim_slot(
        DeliveryDraft("fbt-x", "x", "2026-11-22T18:00", BASE, "q", "fbt", "Write today"),
        worker_id="gone",
    )
    assert unknown is not None and deferred is not None
    store.mark_unknown(unknown.id, worker_id="gone", reason="gave up", ambiguous_since=since)
    store.mark_deferred(
        deferred.id, worker_id="gone", retry_at=BASE, reason="timed out", ambiguous_since=since
    )
    stored = store.get_by_id(unknown.id)
    store.close()
    assert stored is not None and stored.last_error == "gave up"
    _, out = run(BASE, "review")
    assert "gave up [ambiguous since 2026-11-22T09:00:07Z]" in out
    _, out = run(BASE, "history")
    assert "timed out [ambiguous since 2026-11-22T09:00:07Z]" in out


def test_post_now_publishes_chosen_post(project: Path) -> None:
    """post-now ACCOUNT --post ID sends that post at once under a manual slot, recorded (here
    rehearsed: the account has no credentials)."""
    now = datetime(2026, 11, 23, 16, 5, tzinfo=UTC)
    code, out = run(now, "post-now", "fbt-mastodon", "--post", "asylum-is-a-right")
    assert code == 0, out
    assert " event=dry-run account=fbt-mastodon network=mastodon " in out
    assert "Seeking asylum is a right" in out
    code, history = run(now, "history", "--account", "fbt-mastodon")
    assert "rehearsed asylum-is-a-right" in " ".join(history.split())
    code, out = run(now, "post-now", "nobody")
    assert code == 2 and "no account 'nobody' in the config" in out


X_CONFIG = """
posts_dir = "posts"
seed = "secrets-test"
[campaigns.families-belong-together]
[schedules.morning]
timezone = "America/Chicago"
times = ["09:00"]
[[accounts]]
name = "fbt-x"
network = "x"
campaigns = ["families-belong-together"]
schedule = "morning"
api_base = "{base}"
[accounts.secrets_from_env]
consumer_key = "FBT_X_CONSUMER_KEY"
consumer_secret = "FBT_X_CONSUMER_SECRET"
access_token = "FBT_X_ACCESS_TOKEN"
access_token_secret = "FBT_X_ACCESS_TOKEN_SECRET"
"""

SECRETS = {
    "FBT_X_CONSUMER_KEY": "ck-9f8e7d6c5b4a",
    "FBT_X_CONSUMER_SECRET": "cs-0a1b2c3d4e5f6a7b8c9d",
    "FBT_X_ACCESS_TOKEN": "1234567890-at0a1b2c3d4e5f",
    "FBT_X_ACCESS_TOKEN_SECRET": "ats-ffeeddccbbaa99887766",
}


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with make_fake_x() as server:
        yield server


def test_real_run_logs_no_secret(
    project: Path, fake_x: FakeX, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with credentials publishes for real (to a local fake X) and logs no secret value."""
    (project / "config.toml").write_text(X_CONFIG.format(base=fake_x.base_url))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    now = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)  # 09:01 in Chicago
    code, out = run(now, "run", "--once")
    assert code == 0, out
    assert len(fake_x.posts) == 1
    assert re.search(r" event=published account=fbt-x .* url=https://", out)
    assert "dry-run" not in out.replace("dry_run=none", "")
    for value in SECRETS.values():
        assert value not in out
