"""preview, schedule and post-now as an operator runs them: predictions come true, dry runs
leave no trace, every post-now is its own, and every refusal says what and why."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.guards import SENT
from amplifier.networks.base import RateLimitWindow
from amplifier.store import Store
from amplifier.testing.fake_mastodon import FakeMastodon

ENV = (
    "AMPLIFIER_CONFIG",
    "AMPLIFIER_DATABASE_URL",
    "DATABASE_URL",
    "AMPLIFIER_DRY_RUN",
    "FBT_MASTODON_ACCESS_TOKEN",
    "FBT_X_CONSUMER_KEY",
    "FBT_X_CONSUMER_SECRET",
    "FBT_X_ACCESS_TOKEN",
    "FBT_X_ACCESS_TOKEN_SECRET",
    "FBT_BLUESKY_APP_PASSWORD",
    "FBT_MASTODON_ES_ACCESS_TOKEN",
)
CONFIG = """
posts_dir = "posts"
seed = "forecast-cli"
[campaigns.families-belong-together]
language = "en"
[campaigns.families-belong-together.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "EndFamilySeparation"]
per_post = 1
[schedules.day]
timezone = "America/Chicago"
times = ["09:00", "13:00", "18:30"]
[[accounts]]
name = "fbt-mastodon"
network = "mastodon"
instance = "{base}"
campaigns = ["families-belong-together"]
schedule = "day"
[accounts.secrets_from_env]
access_token = "FBT_MASTODON_ACCESS_TOKEN"
[[accounts]]
name = "fbt-x"
network = "x"
campaigns = ["families-belong-together"]
schedule = "day"
monthly_budget_usd = 5.00
[accounts.secrets_from_env]
consumer_key = "FBT_X_CONSUMER_KEY"
consumer_secret = "FBT_X_CONSUMER_SECRET"
access_token = "FBT_X_ACCESS_TOKEN"
access_token_secret = "FBT_X_ACCESS_TOKEN_SECRET"
"""
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 08:00 in Chicago


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


@pytest.fixture
def project(
    tmp_path: Path, repo_root: Path, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The sample posts, a config whose Mastodon account is live (on a local fake server)
    and whose X account has no credentials (a dry run)."""
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    (tmp_path / "config.toml").write_text(CONFIG.format(base=mastodon.base_url))
    monkeypatch.chdir(tmp_path)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", mastodon.settings.token)
    return tmp_path


def run(now: datetime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: now)
    return code, out.getvalue()


def store(project: Path) -> Store:
    return Store(f"sqlite:///{project / 'amplifier.db'}")


def predicted(out: str) -> list[tuple[str, str, str]]:
    """(local time, verb, post id) of each slot line a preview showed."""
    found = re.findall(r"^  \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d) \w+  (\w+) (\S+)", out, re.M)
    return [(when, verb, post) for when, verb, post in found]


def previewed_text(block: str) -> str:
    """The post text of one slot's block of preview output (indented six spaces)."""
    lines: list[str] = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("      "):
            break
        if not line.startswith(("      instead of ", "      waits: ", "      link: ", "      [")):
            lines.append(line[6:])
    return "\n".join(lines).strip("\n")


def test_preview_after_post_now_names_what_then_goes_out(
    project: Path, mastodon: FakeMastodon
) -> None:
    """Issue 12: after post-now sends the rotation's next post, preview names other posts (it
    named the same one again), and each slot then sends exactly the post previewed for it,
    with exactly the previewed text."""
    code, out = run(NOW, "post-now", "fbt-mastodon")
    assert code == 0, out
    (first,) = store(project).history(account="fbt-mastodon")
    code, out = run(NOW + timedelta(minutes=1), "preview", "--account", "fbt-mastodon", "-n", "3")
    assert code == 0, out
    next_slot = next(line for line in out.splitlines() if re.match(r"  \w{3} 2026-", line))
    assert first.template_id not in next_slot.split(), out
    slots = predicted(out)
    assert len(slots) == 3 and all(verb == "sends" for _, verb, _ in slots), out
    texts = [previewed_text(block) for block in re.split(r"\n  (?=\w{3} \d{4})", out)[1:4]]
    for index, due in enumerate(("2026-11-23T15:00", "2026-11-23T19:00", "2026-11-24T00:30")):
        moment = datetime.fromisoformat(due).replace(tzinfo=UTC) + timedelta(seconds=20)
        code, out = run(moment, "run", "--once")
        assert code == 0, out
        assert mastodon.statuses[index + 1].text == texts[index]
    rows = store(project).history(account="fbt-mastodon", statuses=["published"])
    assert [row.template_id for row in reversed(rows)] == [first.template_id] + [
        post for _, _, post in slots
    ]


def test_post_now_dry_run_leaves_no_trace(project: Path, mastodon: FakeMastodon) -> None:
    """post-now --dry-run is recorded 'rehearsed': not published, no last post, nothing the
    guards count, the live rotation untouched; the real post-now of the same post then goes
    out (it was refused as a repeat "0 h ago" before)."""
    code, out = run(NOW, "post-now", "fbt-mastodon", "--post", "asylum-is-a-right", "--dry-run")
    assert code == 0, out
    assert re.search(r" event=dry-run account=fbt-mastodon network=mastodon ", out), out
    assert mastodon.statuses == []
    state = store(project)
    (row,) = state.history()
    assert (row.status, row.template_id) == ("rehearsed", "asylum-is-a-right")
    assert row.slot_key.startswith("rehearsal:manual-") and row.remote_id is None
    assert row.last_error == "dry run (--dry-run): logged, not sent"
    assert state.last_published("fbt-mastodon") is None
    assert state.counted_since(NOW - timedelta(days=30), statuses=SENT) == []
    assert state.load_rotation("fbt-mastodon") is None
    code, status = run(NOW, "status")
    block = status.split("fbt-mastodon (mastodon)\n", 1)[1].split("\nfbt-", 1)[0]
    assert "  last post:    none yet" in block, status
    code, history = run(NOW, "history")
    assert "rehearsed asylum-is-a-right  dry run (--dry-run): logged, not sent" in history
    code, out = run(NOW + timedelta(minutes=1), "post-now", "fbt-mastodon", "--post",
                    "asylum-is-a-right")  # fmt: skip
    assert code == 0, out
    assert len(mastodon.statuses) == 1


def test_dry_run_setting_rehearses_without_a_trace_in_the_live_state(
    project: Path, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AMPLIFIER_DRY_RUN=true: every slot rehearsed (logged once, never again), no published
    row, no spend, no live rotation; then going live starts from the live rotation with no
    rehearsal counted: the first live post is the one the first rehearsal logged."""
    monkeypatch.setenv("AMPLIFIER_DRY_RUN", "true")
    first = datetime(2026, 11, 23, 15, 0, 30, tzinfo=UTC)  # 09:00 in Chicago
    code, out = run(first, "run", "--once")
    assert code == 0, out
    assert len(re.findall(r" event=dry-run ", out)) == 2  # both accounts, logged
    code, again = run(first + timedelta(seconds=40), "run", "--once")
    assert " event=dry-run " not in again
    state = store(project)
    rows = state.history()
    assert {row.status for row in rows} == {"rehearsed"}
    assert all("AMPLIFIER_DRY_RUN" in (row.last_error or "") for row in rows)
    assert state.load_rotation("fbt-mastodon") is None and state.load_rotation("fbt-x") is None
    month = (first - timedelta(days=30), first + timedelta(days=30))
    assert state.spend_micros(*month, statuses=SENT, network="x") == 0
    code, preview = run(first, "preview", "--account", "fbt-x", "-n", "1")
    assert "spend:" not in preview  # a rehearsing X account spends nothing
    rehearsed = {row.account: row.template_id for row in rows}

    monkeypatch.delenv("AMPLIFIER_DRY_RUN")
    live = datetime(2026, 11, 23, 19, 0, 30, tzinfo=UTC)  # 13:00 in Chicago
    code, out = run(live, "run", "--once")
    assert code == 0, out
    published = state.history(account="fbt-mastodon", statuses=["published"])
    assert [row.template_id for row in published] == [rehearsed["fbt-mastodon"]]
    assert [row.slot_key for row in published] == ["2026-11-23T13:00"]  # 09:00 not recorded


def test_rapid_post_nows_are_each_their_own(project: Path, mastodon: FakeMastodon) -> None:
    """Two post-now calls in the same second both go out, under keys of their own, with two
    different posts (the second one's rotation counts the first)."""
    codes = [run(NOW, "post-now", "fbt-mastodon") for _ in range(2)]
    assert [code for code, _ in codes] == [0, 0], codes
    rows = store(project).history(account="fbt-mastodon")
    assert len({row.slot_key for row in rows}) == 2
    assert all(
        re.fullmatch(r"manual-20261123T140000\.000000Z-[0-9a-f]{6}", r.slot_key) for r in rows
    )
    assert len({row.template_id for row in rows}) == 2 and len(mastodon.statuses) == 2


def test_post_now_says_why_a_post_cannot_go_out(project: Path, mastodon: FakeMastodon) -> None:
    """A missing id, an invalid file, a post of another language, and a refused post are each
    named with their cause, never as "cannot go out today; eligible: ..."."""
    code, out = run(NOW, "post-now", "fbt-mastodon", "--post", "no-such-post")
    assert code == 1
    assert "no post has the id 'no-such-post'" in out and "eligible" not in out
    code, out = run(NOW, "post-now", "fbt-mastodon", "--post", "asylum-is-a-rigth")
    assert "did you mean 'asylum-is-a-right'" in out
    (project / "posts" / "broken.md").write_text("---\nid: broken\nweight: many\n---\nText\n")
    code, out = run(NOW, "post-now", "fbt-mastodon", "--post", "broken")
    assert code == 1
    assert "post 'broken' cannot be used: its file is invalid: " in out
    assert re.search(r"posts/broken\.md:\d+: ", out), out
    code, out = run(NOW, "post-now", "fbt-mastodon", "--post", "seven-children-died-es")
    assert code == 1
    assert (
        "post 'seven-children-died-es' is the 'es' version of 'seven-children-died'; "
        "fbt-mastodon posts in 'en': ask for 'seven-children-died'"
    ) in out
    run(NOW, "post-now", "fbt-mastodon", "--post", "seven-children-died")
    code, out = run(NOW + timedelta(minutes=3), "post-now", "fbt-mastodon", "--post",
                    "seven-children-died")  # fmt: skip
    assert code == 1
    assert out.strip().splitlines()[-1] == (
        "error: post 'seven-children-died' cannot go out on fbt-mastodon now: no-repeat: "
        "'seven-children-died' went out on this account 3 min ago, within the 3-day "
        "no-repeat window"
    )


def test_schedule_shows_what_each_slot_will_do(project: Path) -> None:
    """schedule lists each slot with the forecast's outcome for it."""
    code, out = run(NOW, "schedule", "-n", "2")
    assert code == 0, out
    assert re.search(r"^  2026-11-23 09:00 CST  \(2026-11-23 15:00 UTC\)  slot "
                     r"2026-11-23T09:00  sends \S+$", out, re.M), out  # fmt: skip
    assert re.search(r"slot 2026-11-23T13:00  rehearses \S+$", out, re.M), out


def test_preview_words_a_rate_limit_wait_in_the_slots_own_time(project: Path) -> None:
    """A slot that will wait for a shut window says until when in the account's time (the
    time its slot line reads), UTC beside it, not in UTC alone."""
    made = store(project)
    made.migrate()
    reset = datetime(2026, 11, 23, 15, 10, tzinfo=UTC)  # 09:10 in Chicago, after the 09:00 slot
    made.save_rate_limits("fbt-mastodon", [RateLimitWindow("5m", 300, 0, reset)])
    made.close()
    code, out = run(NOW, "preview", "--account", "fbt-mastodon", "-n", "1")
    assert code == 0, out
    assert "      waits: rate limit window 5m until 2026-11-23 09:10 CST (15:10 UTC)" in out, out
