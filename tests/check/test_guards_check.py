"""`amplifier check` warns about what the guards would refuse; status, preview, history show it."""

from __future__ import annotations

import io
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.check import guard_warnings, load, run_check
from amplifier.cli import main
from amplifier.schedule.planner import upcoming_slots
from amplifier.testing.fake_x import make_fake_x

BASE = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
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
NEAR_DUPLICATE = """---
id: call-congress-again
campaign: families-belong-together
language: en
source: "Families Belong Together action toolkit (MomsRising)"
---
Call your member of Congress now: dial (855) 440-1800 and you will be put through. \
Ask them to speak out against family separation and to stop paying for it.
"""


@pytest.fixture
def project(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder with the sample config and posts, no credentials, no database."""
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


def set_config(project: Path, old: str, new: str) -> None:
    path = project / "config.example.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_check_flags_near_duplicate_posts(project: Path) -> None:
    """A post one word away from another is a warning naming both files and lines; exit 0."""
    (project / "posts" / "call-congress-again.md").write_text(NEAR_DUPLICATE)
    code, out = run(BASE, "check")
    assert code == 0, out
    found = re.search(
        r"^posts/call-congress(?:-again)?\.md:(\d+): warning: text is substantially similar "
        r"to posts/call-congress(?:-again)?\.md:(\d+) \(call-congress(?:-again)?\): "
        r"similarity (0\.\d\d) >= 0\.80 on \w+",
        out,
        re.M,
    )
    assert found is not None, out
    assert (found.group(1), found.group(2)) in {("7", "8"), ("8", "7")}
    assert float(found.group(3)) >= 0.9
    assert re.search(r"^ok: 59 files checked, 0 errors, 1 warning$", out, re.M)
    code, annotated = run(BASE, "check", "--format", "github")
    assert "::warning file=posts/call-congress" in annotated


def test_check_names_a_cluster_of_near_duplicates_once(project: Path) -> None:
    """Three more copies of a post, each a word away, are one warning naming all four files
    and lines and the closest pair, not six pair warnings; still exit 0."""
    for number, word in enumerate(("now", "today", "soon")):
        text = NEAR_DUPLICATE.replace("call-congress-again", f"call-congress-{number}")
        (project / "posts" / f"call-congress-{number}.md").write_text(
            text.replace("Congress now", f"Congress {word}")
        )
    code, out = run(BASE, "check")
    assert code == 0, out
    warnings = [line for line in out.splitlines() if ": warning: " in line]
    assert len(warnings) == 1, out
    found = re.fullmatch(
        r"posts/call-congress-0\.md:7: warning: these 4 posts are alike \(each at least 0\.80 "
        r"similar to another of them\): (.+); closest pair (\S+) and (\S+), 1\.00 on \w+; .+",
        warnings[0],
    )
    assert found is not None, warnings[0]
    assert found.group(1).split(", ") == [
        "posts/call-congress-0.md:7 (call-congress-0)",
        "posts/call-congress-1.md:7 (call-congress-1)",
        "posts/call-congress-2.md:7 (call-congress-2)",
        "posts/call-congress.md:8 (call-congress)",
    ]
    assert re.search(r"^ok: 61 files checked, 0 errors, 1 warning$", out, re.M)


def test_shipped_sample_has_no_guard_warning(project: Path) -> None:
    """The sample campaign's 58 posts (one a thread) are all distinct and its schedules fit
    every rule."""
    settings, library = load(None, None)
    assert guard_warnings(settings, library, TODAY) == []


def test_post_text_rules_warn_at_the_text_line(project: Path) -> None:
    """Mentions, two cashtags and inline hashtags over the X cap are flagged where written."""
    (project / "posts" / "noisy.md").write_text(
        "---\nid: noisy\ncampaign: families-belong-together\nlanguage: en\nsource: test\n"
        "networks: [x]\n---\nThanks @ana! Sell $AAA and $BBB. #One #Two #Three\n"
    )
    report = run_check()
    noisy = [str(p) for p in report.problems if str(p.file).endswith("noisy.md")]
    assert len(noisy) == 1 and report.ok
    assert noisy[0].endswith(
        "noisy.md:8: warning: hashtag-cap: 3 hashtags, the x cap is 2; cashtags: 2 cashtags "
        "($AAA $BBB), X allows 1; mentions: mentions @ana but the post does not say "
        "allow_mentions: true (automated @mentions are treated as spam); the worker never "
        "sends this post to x"
    )


def test_schedule_over_the_caps(project: Path) -> None:
    """Ten slots a day pass the daily cap; 18 pass X's legacy Free tier per day and month."""
    times = ", ".join(f'"{hour:02d}:00"' for hour in range(5, 23))  # 18 slots a day
    set_config(project, 'times = ["09:00", "13:00", "18:30"]', f"times = [{times}]")
    set_config(project, "x_legacy_free_tier = false", "x_legacy_free_tier = true")
    settings, library = load(None, None)
    messages = [p.message for p in guard_warnings(settings, library, TODAY)]
    x_account = [m for m in messages if m.startswith("account fbt-x (x)")]
    assert any("has 18 slots a day, over the daily cap of 8" in m for m in x_account)
    assert any("X's legacy Free tier allows 17 posts per 24 h" in m for m in x_account)
    assert any("up to 558 slots a month, X's legacy Free tier allows 500" in m for m in x_account)
    assert any("may cost up to $" in m and "over the $5.00 monthly budget" in m for m in x_account)
    masto = [m for m in messages if m.startswith("account fbt-mastodon (mastodon)")]
    assert any("over the daily cap of 8" in m for m in masto)
    assert not any("Free tier" in m for m in masto)


def test_pool_too_small_for_the_window(project: Path) -> None:
    """Fewer eligible posts than slots in the no-repeat window is a warning with both figures."""
    set_config(project, 'posts = ["*"]', 'posts = ["call-*", "asylum-*"]')
    settings, library = load(None, None)
    problems = guard_warnings(settings, library, TODAY)
    pool = [p for p in problems if "no-repeat window" in p.message or "no_repeat" in p.message]
    assert pool, [p.message for p in problems]
    assert "account fbt-x (x): 3 eligible posts for up to 9 slots in 3 days" in pool[0].message
    assert str(pool[0].file).endswith("config.example.toml") and pool[0].line is not None
    assert all(p.severity == "warning" for p in problems)


def test_mastodon_public_and_missing_budget(project: Path) -> None:
    """A public Mastodon bot and an X account without any budget are both warned about."""
    set_config(project, 'visibility = "unlisted"', 'visibility = "public"')
    set_config(project, "monthly_budget_usd = 5.00", "")
    settings, library = load(None, None)
    messages = [p.message for p in guard_warnings(settings, library, TODAY)]
    assert any("fbt-mastodon (mastodon): visibility is 'public'" in m for m in messages)
    assert any("fbt-x (x): no monthly budget; X bills every post (about $" in m for m in messages)


def test_status_preview_history_show_spend(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a post: status and preview show the month's spend; history shows each cost.

    fbt-x posts for real (to a local fake X): a dry run spends nothing."""
    fake = make_fake_x()
    server = fake.__enter__()
    try:
        _spend_after_a_post(project, monkeypatch, server.base_url)
    finally:
        fake.__exit__(None, None, None)


def _spend_after_a_post(project: Path, monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    set_config(
        project, "monthly_budget_usd = 5.00", f'api_base = "{base_url}"\nmonthly_budget_usd = 5.00'
    )
    for name in ENV:
        if name.startswith("FBT_X_"):
            monkeypatch.setenv(name, f"test-{name.lower()}")
    settings, _ = load(None, None)
    account = settings.account("fbt-x")
    due = upcoming_slots(settings, account, BASE, count=1, days=None)[0].due_at
    now = due + timedelta(minutes=1)
    code, out = run(now, "run", "--once")
    assert code == 0, out
    assert re.search(r"event=claimed account=fbt-x .* cost=\"\$0\.015 \(post\)\"", out), out
    code, status = run(now, "status")
    block = status.split("fbt-x (x)\n", 1)[1].split("\nfbt-", 1)[0]
    assert re.search(
        r"spend:        \$0\.015 spent this month, projected \$\d+\.\d\d by month end "
        r"\(\d+ slots left at ~\$0\.\d{3}\); budget \$5\.00 for account fbt-x",
        block,
    ), block
    code, history = run(now, "history", "--account", "fbt-x")
    assert re.search(r"published \S+  \$0\.015  https://", history, re.M), history
    code, preview = run(now, "preview", "--account", "fbt-x", "-n", "2")
    assert code == 0
    assert "  spend: $0.015 spent this month, projected $" in preview
    assert re.search(r"\d+/280 · posts/\S+\.md · \$0\.(015|200)$", preview, re.M)


def test_history_explains_a_guard_skip(project: Path) -> None:
    """A slot over the daily cap shows as skipped with the rule and the figure in history."""
    set_config(project, "daily_cap = 8", "daily_cap = 1")
    settings, _ = load(None, None)
    slots = upcoming_slots(settings, settings.account("fbt-x"), BASE, count=2, days=None)
    for slot in slots:
        code, _ = run(slot.due_at + timedelta(minutes=1), "run", "--once")
        assert code == 0
    code, history = run(slots[1].due_at, "history", "--account", "fbt-x", "--status", "skipped")
    assert "guard daily-cap: 1 posts already on 2026-11-23 (local), the daily cap is 1" in history


def test_deployment_budget_line_in_status(project: Path) -> None:
    """With guards.x_monthly_budget_usd set, status prints the all-accounts line."""
    set_config(project, "# x_monthly_budget_usd = 20.00", "x_monthly_budget_usd = 20.00")
    code, status = run(BASE, "status")
    assert code == 0
    assert "all X accounts: $0.00 spent or pending this month of the $20.00 budget" in status


def test_preview_marks_a_post_the_guards_refuse(project: Path) -> None:
    """preview shows a post that @mentions without allow_mentions refused, and what goes instead."""
    (project / "posts" / "thanks.md").write_text(
        "---\nid: thanks\ncampaign: families-belong-together\nlanguage: en\nsource: test\n"
        "---\nThank you @ana for standing with families.\n"
    )
    code, out = run(BASE, "preview", "--account", "fbt-mastodon", "--days", "31")
    assert code == 0
    assert (  # the slot sends the next post in rotation instead, and says why
        "\n      instead of 'thanks', refused by mentions: mentions @ana but the post does not "
        "say allow_mentions: true (automated @mentions are treated as spam)\n"
    ) in out
    assert " rehearses thanks " not in out
