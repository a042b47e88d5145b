"""preview shows each network's link as the worker will send it: tagged where the campaign
asks, in the text on X and Mastodon, and on Bluesky (where the text shows it short) on a
line of its own."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from amplifier.cli import main

CONFIG = """
posts_dir = "posts"
database_url = "sqlite:///{db}"
[campaigns.fbt]
language = "en"
attribution = "{attribution}"
[schedules.day]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "on-x"
network = "x"
campaigns = ["fbt"]
schedule = "day"
[[accounts]]
name = "on-mastodon"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["fbt"]
schedule = "day"
[[accounts]]
name = "on-bluesky"
network = "bluesky"
handle = "fbt.example"
campaigns = ["fbt"]
schedule = "day"
"""
POST = """---
id: sign
campaign: fbt
language: en
source: test
link: https://example.org/sign?ref=mail#form
---
Sign the petition today: {link}
"""


def _preview(tmp_path: Path, attribution: str) -> str:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "sign.md").write_text(POST, encoding="utf-8")
    config = CONFIG.format(db=tmp_path / "state.db", attribution=attribution)
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    out = io.StringIO()
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    code = main(["preview", "--config", str(tmp_path / "config.toml"), "-n", "1"], out=out,
                clock=lambda: now)  # fmt: skip
    assert code == 0, out.getvalue()
    return out.getvalue()


def _tagged(network: str) -> str:
    return (
        f"https://example.org/sign?ref=mail&utm_source={network}&utm_medium=social"
        "&utm_campaign=fbt&utm_content=sign#form"
    )


def test_preview_shows_the_tagged_links(tmp_path: Path) -> None:
    out = _preview(tmp_path, "utm")
    assert f"      Sign the petition today: {_tagged('x')}\n" in out, out
    assert f"      Sign the petition today: {_tagged('mastodon')}\n" in out, out
    assert "      Sign the petition today: example.org/sign?ref=mai...\n" in out, out
    assert f"      link: {_tagged('bluesky')}\n" in out, out


def test_preview_without_attribution_shows_links_as_written(tmp_path: Path) -> None:
    out = _preview(tmp_path, "none")
    assert out.count("      Sign the petition today: https://example.org/sign?ref=mail#form\n") == 3
    assert "utm_" not in out and "link:" not in out
