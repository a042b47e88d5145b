"""What the config asks for and the posts cannot give, warned at check time; the summary in
words: counts with the right plural, unreadable files kept out of the campaigns, and how much
a post too long must lose."""

from __future__ import annotations

from pathlib import Path

from amplifier.check import CheckReport, run_check, summary_lines

CONFIG = """
[campaigns.main]
language = "en"

[campaigns.{second}]
language = "en"

[schedules.s]
timezone = "UTC"
times = ["09:00"]

[[accounts]]
name = "main-x"
network = "x"
campaigns = ["main"]
schedule = "s"
monthly_budget_usd = 5

[[accounts]]
name = "main-mastodon-es"
network = "mastodon"
instance = "https://mastodon.example"
visibility = "unlisted"
language = "es"
campaigns = ["main"]
schedule = "s"

[[accounts]]
name = "second-mastodon"
network = "mastodon"
instance = "https://mastodon.example"
visibility = "unlisted"
campaigns = ["{second}"]
schedule = "s"
"""
POST = '---\nid: {id}\ncampaign: {campaign}\nlanguage: en\nsource: "A report"\n---\n{text}\n'


def _check(tmp_path: Path, posts: dict[str, str], second: str = "empty") -> CheckReport:
    folder = tmp_path / "posts"
    folder.mkdir()
    for name, text in posts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "config.toml").write_text(CONFIG.format(second=second), encoding="utf-8")
    return run_check(tmp_path / "config.toml", folder)


def _post(post_id: str, campaign: str = "main", text: str = "Families belong together.") -> str:
    return POST.format(id=post_id, campaign=campaign, text=text)


def _warnings(report: CheckReport) -> list[str]:
    return [
        f"{Path(p.file).name}:{p.line}: {p.message}"
        for p in report.problems
        if p.severity == "warning" and "no_repeat_days" not in p.message
    ]


def test_empty_campaign_and_account_without_a_language_are_warned(tmp_path: Path) -> None:
    """A campaign no post belongs to, and an account whose language no post is written in:
    each a warning at its config line, naming the accounts left with nothing to post."""
    report = _check(
        tmp_path, {"a.md": _post("a"), "b.md": _post("b", text="Asylum is a human right.")}
    )
    assert report.ok
    assert _warnings(report) == [
        "config.toml:5: campaign 'empty' has no posts: no file in the posts folder says "
        "'campaign: empty', so its accounts (second-mastodon) have nothing to post; add "
        "posts, or remove the campaign",
        "config.toml:19: account main-mastodon-es (mastodon) posts campaign 'main' in 'es', "
        "but none of its 2 mastodon posts has a 'es' version: the account has nothing to "
        "post; add translations (translation_of:, language: es) or change the account's "
        "'language'",
    ]


def test_posts_that_all_ended_are_warned(tmp_path: Path) -> None:
    """Every post an account could send ended before today (valid_until): warned, at the
    account's line, with the rule that holds them back."""
    ended = "valid_until: 2020-01-31\n---\n"
    report = _check(
        tmp_path,
        {
            "a.md": _post("a").replace("---\nFam", ended + "Fam"),
            "b.md": _post("b", text="Asylum is a human right.").replace("---\nAsy", ended + "Asy"),
        },
        second="other",
    )
    assert any(
        w.startswith("config.toml:12: account main-x (x) posts campaign 'main', but all 2 of "
                     "its 'en' x posts ended before ")
        and w.endswith("(valid_until): the account has nothing to post; add posts, or move "
                       "valid_until later")
        for w in _warnings(report)
    ), _warnings(report)  # fmt: skip


def test_campaign_whose_posts_are_all_invalid_says_so(tmp_path: Path) -> None:
    """Every post of a campaign invalid: the errors, and one warning that the campaign has
    nothing valid left (one file said in the singular, several counted)."""
    report = _check(
        tmp_path,
        {
            "a.md": _post("a"),
            "one.md": _post("one", "second", "{url}"),
        },
        second="second",
    )
    assert not report.ok
    assert "config.toml:5: campaign 'second' has no valid post: its one post file is invalid " \
        "(the errors above say why), so its accounts (second-mastodon) have nothing to post " \
        "until one is fixed" in _warnings(report)  # fmt: skip
    (tmp_path / "posts" / "two.md").write_text(_post("two", "second", "{oops}"))
    report = run_check(tmp_path / "config.toml", tmp_path / "posts")
    assert any(
        "has no valid post: all 2 of its post files are invalid" in w for w in _warnings(report)
    )


def test_summary_counts_in_words_and_keeps_unreadable_files_out_of_campaigns(
    tmp_path: Path,
) -> None:
    """A file whose front matter cannot be read, and one naming no campaign of the config,
    are counted apart, never under an 'unknown campaign'; every count has its plural."""
    report = _check(
        tmp_path,
        {
            "a.md": _post("a"),
            "broken.md": "---\nid: broken\nsource: [unclosed\n---\nText.\n",
            "whales.md": _post("whales", "save-the-whales"),
        },
    )
    summary = summary_lines(report)
    assert summary[0] == "config: ok (3 accounts, 2 campaigns)"
    assert summary[1] == (
        "campaign empty: 0 valid post files, 0 invalid; valid per network: x 0  mastodon 0  "
        "bluesky 0"
    )
    assert summary[2].startswith("campaign main: 1 valid post file, 0 invalid;")
    assert summary[3] == (
        "in no campaign of the config: 2 invalid post files (campaign unknown or unreadable; "
        "the errors above say why)"
    )
    assert "unknown campaign)" not in "\n".join(summary)
    assert summary[-1].startswith("FAILED: 3 files checked, 2 errors, ")


def test_one_warning_is_singular(tmp_path: Path) -> None:
    """One file, one error, one warning: '1 file checked, 1 error, 1 warning'."""
    report = _check(tmp_path, {"a.md": _post("a", text="{link}")}, second="main2")
    [error] = [p for p in report.problems if p.severity == "error"]
    warning = next(p for p in report.problems if p.severity == "warning")
    single = CheckReport((error, warning), report.settings, report.library)
    assert summary_lines(single)[-1] == "FAILED: 1 file checked, 1 error, 1 warning"


def test_too_long_says_how_much_to_cut_and_that_hashtags_are_not_counted(
    tmp_path: Path,
) -> None:
    """A post over X's limit: the measured length, the limit, how much to cut, and that the
    hashtags the campaign adds are not in the count."""
    report = _check(tmp_path, {"long.md": _post("long", text="a" * 299)})
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert (Path(problem.file).name, problem.line) == ("long.md", 7)
    assert problem.message == (
        "too long for x: 299 of 280 characters, cut at least 19 (X counts URLs as 23, emoji "
        "and CJK as 2; hashtags from 'hashtags:' and the campaign are not counted: they are "
        "added only where they fit)"
    )
