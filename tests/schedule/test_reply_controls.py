"""Reply and quote controls: a campaign's setting, a post's own overriding it, carried by the
planned post into the claimed row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from amplifier.check import load
from amplifier.forecast import SlotDecision
from amplifier.schedule import AccountState, PlannedPost, Slot, plan_slot
from amplifier.store import Store

CONFIG = """
database_url = "sqlite:///{db}"
[campaigns.c]
language = "en"
replies = "following"
quotes = false
[schedules.daily]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "sky"
network = "bluesky"
handle = "a.test"
campaigns = ["c"]
schedule = "daily"
"""
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _plan(tmp_path: Path, front: str) -> PlannedPost:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "p.md").write_text(
        f"---\nid: p\ncampaign: c\nlanguage: en\nsource: a report\n{front}---\nText\n"
    )
    (tmp_path / "config.toml").write_text(CONFIG.format(db=tmp_path / "s.db"))
    settings, library = load(tmp_path / "config.toml", folder)
    assert library.problems == ()
    slot = Slot(due_at=T0, nominal=T0, key="k")
    planned, _ = plan_slot(settings, library, settings.account("sky"), slot, AccountState())
    assert isinstance(planned, PlannedPost)
    return planned


def test_the_campaign_sets_the_controls(tmp_path: Path) -> None:
    """A post that says nothing takes its campaign's replies and quotes."""
    planned = _plan(tmp_path, "")
    assert (planned.replies, planned.quotes) == ("following", False)


def test_a_post_overrides_its_campaign_and_the_row_keeps_it(tmp_path: Path) -> None:
    """The post's own replies/quotes win, and the claimed row carries them."""
    planned = _plan(tmp_path, "replies: nobody\nquotes: true\n")
    assert (planned.replies, planned.quotes) == ("nobody", True)
    settings, _ = load(tmp_path / "config.toml", tmp_path / "posts")
    decision = SlotDecision(settings.account("sky"), planned.slot, T0, "send", False, planned)
    store = Store(settings.sqlalchemy_url)
    store.migrate()
    row = store.claim_slot(decision.draft(), worker_id="w")
    assert row is not None and (row.replies, row.quotes) == ("nobody", True)
    store.close()


def test_a_reply_setting_not_known_is_a_problem(tmp_path: Path) -> None:
    """replies: anyone is refused with the four values to write."""
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "p.md").write_text(
        "---\nid: p\ncampaign: c\nlanguage: en\nsource: a report\nreplies: anyone\n---\nText\n"
    )
    (tmp_path / "config.toml").write_text(CONFIG.format(db=tmp_path / "s.db"))
    _, library = load(tmp_path / "config.toml", folder)
    [problem] = library.problems
    assert problem.line == 6
    assert "write everyone, following, mentioned or nobody" in problem.message
