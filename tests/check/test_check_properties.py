"""`amplifier check` as a whole never raises on what a volunteer writes (Hypothesis).

Any text in an otherwise valid post goes through every step of the check (the library's
checks, the guards' warnings: rendering with hashtags, mentions, cashtags, similarity, the
campaign-wide warnings) and the summary: problems and lines, never an exception.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amplifier.check import run_check, summary_lines

CONFIG = """
[campaigns.c]
language = "en"
[campaigns.c.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "EndFamilySeparation"]
per_post = 1
[schedules.s]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "a-x"
network = "x"
campaigns = ["c"]
schedule = "s"
[[accounts]]
name = "a-bluesky"
network = "bluesky"
handle = "a.bsky.social"
campaigns = ["c"]
schedule = "s"
"""
HEAD = '---\nid: {id}\ncampaign: c\nlanguage: en\nsource: "A report"\n{extra}---\n'
_text = st.text(st.characters(blacklist_characters="\x00"), max_size=300)


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "posts").mkdir()
        (root / "config.toml").write_text(CONFIG, encoding="utf-8")
        yield root


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=_text,
    second=_text,
    extra=st.sampled_from(["", "link: https://example.org/a\n", "hashtags: [Vote]\n"]),
)
def test_any_post_text_checks_without_raising(
    project: Path, first: str, second: str, extra: str
) -> None:
    """Two posts of any text: the check and its summary run to the end, problems at lines."""
    posts = project / "posts"
    for post_id, text in (("one", first), ("two", second)):
        head = HEAD.format(id=post_id, extra=extra)
        (posts / f"{post_id}.md").write_text(head + text, encoding="utf-8", errors="replace")
    report = run_check(project / "config.toml", posts)
    assert summary_lines(report)[-1].startswith(("ok: 2 files", "FAILED: 2 files"))
    for problem in report.problems:
        assert problem.line is not None, problem
