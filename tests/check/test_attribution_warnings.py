"""check warns, at the file and line, about a link a tagging campaign would send untagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from amplifier.check import run_check

CONFIG = """
posts_dir = "posts"
[campaigns.fbt]
language = "en"
attribution = "{attribution}"
"""
WRITTEN = """---
id: written
campaign: fbt
language: en
source: test
variants:
  mastodon: |
    On Mastodon too:
    see https://example.org/m.
---
First line.
Read https://example.org/report, then act.
"""
TAGGED = """---
id: tagged
campaign: fbt
language: en
source: test
link: https://example.org/sign
---
Sign: {link}
"""


def _messages(tmp_path: Path, attribution: str) -> list[str]:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "written.md").write_text(WRITTEN, encoding="utf-8")
    (tmp_path / "posts" / "tagged.md").write_text(TAGGED, encoding="utf-8")
    (tmp_path / "config.toml").write_text(CONFIG.format(attribution=attribution))
    report = run_check(tmp_path / "config.toml", None)
    assert report.ok
    return [str(problem).split("posts/", 1)[-1] for problem in report.problems]


@pytest.mark.parametrize("attribution", ["utm", "source={network}"])
def test_links_written_in_the_text_are_named_at_their_lines(
    tmp_path: Path, attribution: str
) -> None:
    messages = [m for m in _messages(tmp_path, attribution) if "untagged" in m]
    assert messages == [
        "written.md:9: warning: the link https://example.org/m is written in the text, so it "
        "goes out untagged (campaign 'fbt' tags only the post's link: setting); move it to "
        "link: and write {link} where it goes",
        "written.md:12: warning: the link https://example.org/report is written in the text, "
        "so it goes out untagged (campaign 'fbt' tags only the post's link: setting); move it "
        "to link: and write {link} where it goes",
    ]


def test_nothing_to_say_when_links_are_not_tagged(tmp_path: Path) -> None:
    assert not [m for m in _messages(tmp_path, "none") if "untagged" in m]
