"""Every "nothing to post" says why: campaign dates, no valid post, patterns, network,
language, the posts' own dates; and the guards' refusals name each rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from amplifier.check import load
from amplifier.forecast import predict
from amplifier.schedule import AccountState, NothingToPost, Slot, plan_slot

CONFIG = """
[campaigns.c]
language = "en"
{campaign}
[schedules.s]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "acct"
network = "{network}"
{account}
campaigns = ["c"]
schedule = "s"
"""
POST = (
    "---\nid: {id}\ncampaign: c\nlanguage: en\nsource: test\n{extra}---\n"
    "Families belong together.\n"
)
DAY = datetime(2026, 11, 23, 9, tzinfo=UTC)


def reason(tmp_path: Path, *, campaign: str = "", account: str = "", network: str = "x",
           posts: dict[str, str] | None = None) -> str:  # fmt: skip
    """Why the account's slot on DAY has nothing to post, as the planner says it."""
    folder = tmp_path / "posts"
    folder.mkdir()
    for post_id, extra in (posts if posts is not None else {"p1": "", "p2": ""}).items():
        (folder / f"{post_id}.md").write_text(POST.format(id=post_id, extra=extra))
    if network == "mastodon":
        account += '\ninstance = "https://mastodon.example"'
    (tmp_path / "config.toml").write_text(
        CONFIG.format(campaign=campaign, account=account, network=network)
    )
    settings, library = load(tmp_path / "config.toml", None)
    slot = Slot(DAY, DAY, "2026-11-23T09:00")
    planned, _ = plan_slot(settings, library, settings.accounts[0], slot, AccountState())
    assert isinstance(planned, NothingToPost)
    return planned.reason


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"campaign": "start = 2026-12-01\nend = 2026-12-31"},
            "campaign 'c' runs 2026-12-01 to 2026-12-31, not on 2026-11-23",
        ),
        ({"posts": {}}, "campaign 'c' has no posts (no file in the posts folder says campaign: c)"),
        (
            {"posts": {"bad": "weight: many\n"}},
            "campaign 'c' has no valid post: its one post file is invalid "
            "(amplifier check shows why)",
        ),
        (
            {"campaign": 'posts = ["other-*"]'},
            "none of campaign 'c''s 2 posts matches its posts (other-*)",
        ),
        (
            {"posts": {"p1": "networks: [mastodon]\n"}},
            "campaign 'c''s only post is not for x",
        ),
        ({"account": 'language = "fr"'}, "none of campaign 'c''s 2 x posts has a 'fr' version"),
        (
            {"posts": {"p1": "valid_until: 2026-11-01\n"}},
            "campaign 'c''s only 'en' post is not valid on 2026-11-23 (valid_from / valid_until)",
        ),
    ],
)
def test_nothing_to_post_names_its_cause(
    tmp_path: Path, changes: dict[str, object], expected: str
) -> None:
    """Each way an account can run out of posts is named, with its figures."""
    assert reason(tmp_path, **changes) == f"no post to choose from: {expected}"  # type: ignore[arg-type]


def test_forecast_and_skip_say_why(tmp_path: Path) -> None:
    """The forecast (and so the worker's skip) carries the planner's reason word for word."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "p1.md").write_text(POST.format(id="p1", extra=""))
    (tmp_path / "config.toml").write_text(
        CONFIG.format(campaign="", account='language = "es"', network="x")
    )
    settings, library = load(tmp_path / "config.toml", None)
    forecast = predict(settings, library, None, DAY.replace(hour=8), rehearsals={}, count=1)
    decision = forecast.accounts[0].slots[0].decision
    assert decision is not None and decision.action == "skip"
    assert decision.reason == (
        "no post to choose from: campaign 'c''s only x post has no 'es' version"
    )
