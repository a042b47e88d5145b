"""The command line as a user runs it: check and preview on the shipped and broken content."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.check import load
from amplifier.cli import main
from amplifier.forecast import predict, rehearsals

DATA = Path(__file__).parent.parent / "data"
FIXED_NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: FIXED_NOW)
    return code, out.getvalue()


def test_check_passes_on_shipped_content(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`amplifier check` with no flags reads config.example.toml and posts/ and passes."""
    monkeypatch.chdir(repo_root)
    monkeypatch.delenv("AMPLIFIER_CONFIG", raising=False)
    code, out = run("check")
    assert code == 0, out
    assert re.search(r"^ok: \d+ files checked, 0 errors", out, re.M)


def test_check_reports_each_broken_file_and_counts_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a mixed folder every broken file is listed as file:line: message; exit status 1."""
    monkeypatch.chdir(DATA)
    code, out = run("check", "--config", "test_config.toml")
    assert code == 1
    problem_lines = [line for line in out.splitlines() if line.startswith("mixed_posts/")]
    assert len(problem_lines) == 17
    assert "mixed_posts/wrong-type.md:6: 'weight'" in out
    assert "campaign fbt: 3 valid post files, " in out
    assert "FAILED" in out


def test_check_github_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    """--format github prints ::error annotations with file and line for a pull request."""
    monkeypatch.chdir(DATA)
    code, out = run("check", "--config", "test_config.toml", "--format", "github")
    assert code == 1
    assert "::error file=mixed_posts/wrong-type.md,line=6::'weight'" in out
    assert "::error file=mixed_posts/binary.md::binary file" in out


def test_check_bad_config_exit_2() -> None:
    """A broken config is reported with its line, and the exit status says 'unusable input'."""
    code, out = run("check", "--config", str(DATA / "bad_settings" / "bad-timezone.toml"))
    assert code == 2
    assert "bad-timezone.toml:5: schedules.us-daytime.timezone: unknown timezone" in out


def test_preview_week_never_repeats_while_unused_remain(repo_root: Path) -> None:
    """Over 7 days of the sample config no account repeats a post while unused ones remain."""
    settings, library = load(repo_root / "config.example.toml", None)
    forecast = predict(
        settings, library, None, FIXED_NOW, rehearsals=rehearsals(settings), days=7, count=None
    )
    for predicted in forecast.accounts:
        account = predicted.account
        decisions = [slot.decision for slot in predicted.slots]
        planned = [d.planned for d in decisions if d is not None and d.action == "send"]
        assert len(planned) == len(predicted.slots) > 0
        ids = [p.template.original_id for p in planned]
        pool = library.eligible(
            campaign="families-belong-together",
            patterns=["*"],
            network=account.network,
            language=account.language or "en",
            day=FIXED_NOW.date(),
        )
        # Round one of a cycle uses every eligible post once: no repeat among the first len(pool).
        first_round = ids[: len(pool)]
        assert len(first_round) == len(set(first_round)), (account.name, ids)
        assert set(ids) <= set(pool)
        for planned_post in planned:
            assert planned_post is not None
            assert planned_post.rendered.length <= planned_post.rendered.limit


def test_preview_command_output(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`amplifier preview --days 7` shows every account with rendered posts and lengths."""
    monkeypatch.chdir(repo_root)
    code, out = run("preview", "--days", "7")
    assert code == 0
    for name in ("fbt-x", "fbt-mastodon", "fbt-bluesky", "fbt-mastodon-es"):
        assert f"{name} (" in out
    assert re.search(r"\d+/280 · posts/", out)
    assert "#FamiliesBelongTogether" in out


def test_preview_unknown_account(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking for an account that does not exist lists the ones that do (a usage error)."""
    monkeypatch.chdir(repo_root)
    code, out = run("preview", "--account", "nobody")
    assert code == 2
    assert "fbt-x" in out


def test_module_entry_point_help() -> None:
    """`python -m amplifier --help` explains the commands."""
    result = subprocess.run(
        [sys.executable, "-m", "amplifier", "--help"], capture_output=True, text=True, check=True
    )
    assert "check" in result.stdout and "preview" in result.stdout
