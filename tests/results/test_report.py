"""`amplifier results` over a fixture of known counts: every grouping's numbers, the formats,
the definitions in --help, and the mistakes a user can make."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.cli.results_arguments import GROUPINGS as CLI_GROUPINGS
from amplifier.results import COLUMNS, GROUPINGS
from amplifier.store import GONE, DeliveryDraft, Snapshot, Store

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
CONFIG = """
database_url = "sqlite:///{db}"
posts_dir = "{posts}"
[campaigns.fbt]
language = "en"
[campaigns.other]
language = "en"
[schedules.ny]
timezone = "America/New_York"
times = ["09:00"]
[[accounts]]
name = "masto"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["fbt", "other"]
schedule = "ny"
[[accounts]]
name = "bsky"
network = "bluesky"
handle = "a.example"
campaigns = ["fbt"]
schedule = "ny"
"""

# (account, network, template, language, text, hours after T0, [(age, likes, reposts, replies)])
POSTS = [
    ("masto", "mastodon", "tpl-a", "en", "One #Vigil #Asylum", 0,
     [("1h", 1, 0, 0), ("24h", 10, 2, 1), ("7d", 12, 3, 1)]),
    ("masto", "mastodon", "tpl-a", "en", "Two #Vigil", 24, [("1h", 2, 0, 0), ("24h", 4, 0, 0)]),
    ("bsky", "bluesky", "tpl-b", "es", "Tres #Asylum", 0, [("1h", 0, 0, 0), ("7d", 1, 1, 1)]),
    ("bsky", "bluesky", "tpl-b", "es", "Cuatro", 48, []),
    ("masto", "mastodon", "tpl-c", "en", "Five #Vigil", 2, [("1h", 5, 5, 5), (GONE, 0, 0, 0)]),
]  # fmt: skip
SECONDS = {"1h": 3600, "24h": 86400, "7d": 604800, GONE: 0}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "posts").mkdir()
    db = tmp_path / "state.db"
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=db, posts=tmp_path / "posts"))
    store = Store(f"sqlite:///{db}")
    store.migrate()
    for n, (account, network, tpl, lang, text, hours, snaps) in enumerate(POSTS):
        sent = T0 + timedelta(hours=hours)
        store._clock = lambda sent=sent: sent  # type: ignore[misc]
        campaign = "other" if tpl == "tpl-c" else "fbt"
        draft = DeliveryDraft(account, network, f"s{n}", sent, tpl, campaign, text, language=lang)
        row = store.claim_slot(draft, worker_id="w")
        assert row is not None
        store.mark_published(row.id, worker_id="w", remote_id=f"r{n}", url=None)
        store.record_snapshots(
            [
                Snapshot(row.id, account, network, age, SECONDS[age], sent + timedelta(
                    seconds=SECONDS[age]), {} if age == GONE else
                    {"likes": likes, "reposts": reposts, "replies": replies, "quotes": None})
                for age, likes, reposts, replies in snaps
            ]
        )  # fmt: skip
    store.close()
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["results", "--config", str(config), *args], out=out)
    return code, out.getvalue()


def rows(config: Path, *args: str) -> dict[str, dict[str, object]]:
    code, text = run(config, "--format", "json", *args)
    assert code == 0, text
    return {group["group"]: group for group in json.loads(text)["groups"]}


def test_by_template_sums_latest_snapshots_and_means_per_send(config: Path) -> None:
    found = rows(config, "--by", "template")
    a = found["tpl-a"]
    # post 1's latest is 7d (12 + 3 + 1 = 16), post 2's is 24h (4): 20 over 2 sends.
    assert (a["posts"], a["counted"], a["likes"], a["engagements"], a["per_post"]) == (
        2, 2, 16, 20, 10.0
    )  # fmt: skip
    assert a["young"] == 1  # post 2 has no 7d reading yet
    b = found["tpl-b"]
    assert (b["posts"], b["counted"], b["engagements"], b["per_post"], b["young"]) == (
        2, 1, 3, 3.0, 1
    )  # fmt: skip
    c = found["tpl-c"]
    assert (c["gone"], c["young"], c["engagements"]) == (1, 0, 15)  # its last reading counts
    assert list(found) == ["tpl-c", "tpl-a", "tpl-b"]  # best per post first
    assert a["quotes"] == 0 and a["impressions"] is None


def test_other_groupings(config: Path) -> None:
    assert rows(config, "--by", "network")["mastodon"]["engagements"] == 35
    assert rows(config, "--by", "account")["bsky"]["posts"] == 2
    assert rows(config, "--by", "language")["es"]["engagements"] == 3
    tags = rows(config, "--by", "hashtag")
    assert (tags["#vigil"]["posts"], tags["#vigil"]["engagements"]) == (3, 35)
    assert (tags["#asylum"]["posts"], tags["#asylum"]["engagements"]) == (2, 19)
    assert tags["-"]["posts"] == 1
    hours = rows(config, "--by", "hour")  # local New York hours
    assert hours["09:00"]["posts"] == 4 and hours["11:00"]["posts"] == 1
    assert len(rows(config, "--by", "post")) == 5


def test_same_age_comparison_campaign_and_since(config: Path) -> None:
    at_1h = rows(config, "--by", "template", "--age", "1h")
    assert at_1h["tpl-a"]["likes"] == 3 and at_1h["tpl-a"]["engagements"] == 3
    only_fbt = rows(config, "--by", "template", "--campaign", "fbt")
    assert set(only_fbt) == {"tpl-a", "tpl-b"}
    later = rows(config, "--by", "template", "--since", "2026-11-03")
    assert later["tpl-a"]["posts"] == 1 and set(later) == {"tpl-a", "tpl-b"}


def test_table_and_csv(config: Path) -> None:
    code, table = run(config, "--by", "network")
    assert code == 0
    assert table.splitlines()[0].split()[:3] == ["network", "posts", "counted"]
    assert "interactions, not reach" in table
    code, text = run(config, "--by", "network", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert {r["network"]: r["engagements"] for r in parsed} == {"mastodon": "35", "bluesky": "3"}


def test_report_is_the_same_command(config: Path) -> None:
    """``amplifier report`` (the name organizers may know) prints what ``results`` prints."""
    for by in ("template", "hashtag"):
        for form in ("table", "csv", "json"):
            expected = run(config, "--by", by, "--format", form)
            out = io.StringIO()
            args = ["report", "--config", str(config), "--by", by, "--format", form]
            assert (main(args, out=out), out.getvalue()) == expected
    assert expected[0] == 0


def test_mistakes_say_what_to_do(config: Path) -> None:
    code, text = run(config, "--campaign", "fbtt")
    assert code == 2 and "did you mean 'fbt'" in text
    code, text = run(config, "--age", "3d")
    assert code == 2 and "1h, 24h, 7d" in text
    code, text = run(config, "--since", "yesterday")
    assert code == 2 and "2026-11-01" in text


def test_help_explains_the_numbers() -> None:
    out = io.StringIO()
    assert main(["results", "--help"], out=out) == 0
    text = " ".join(out.getvalue().split())
    for words in ("not reach", "too young to judge", "per post", "engagements / counted"):
        assert words in text
    assert CLI_GROUPINGS == GROUPINGS


def test_status_says_what_is_read_and_what_x_reads_cost(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    accounts = "".join(
        f'[[accounts]]\nname = "{name}"\nnetwork = "x"\ncampaigns = ["fbt"]\nschedule = "ny"\n'
        + extra
        for name, extra in (("x-on", "results = true\n"), ("x-off", ""))
    )
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(db=tmp_path / "s.db", posts=tmp_path / "posts").split("[[accounts]]")[0]
        + accounts
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    draft = DeliveryDraft("x-on", "x", "s", T0, "tpl", "fbt", "text")
    row = store.claim_slot(draft, worker_id="w")
    assert row is not None
    store.record_snapshots([Snapshot(row.id, "x-on", "x", "1h", 3600, T0, {"likes": 1}, 15000)])
    store.close()
    out = io.StringIO()
    assert main(["status", "--config", str(path)], out=out, clock=lambda: T0) == 0
    text = out.getvalue()
    assert "results:      read at 1h, 24h, 7d after each post; $0.015 of reads this month" in text
    assert "results:      off (X bills $0.005 a post read" in text


@pytest.mark.parametrize("by", sorted(COLUMNS))
@pytest.mark.parametrize("age", [None, "1h"])
def test_database_sums_equal_the_rows_report(config: Path, by: str, age: str | None) -> None:
    """The groupings the database sums give exactly what build_report gives from the rows."""
    from amplifier.results import build_report, report_from_totals

    store = Store(f"sqlite:///{config.parent / 'state.db'}")
    try:
        rows = store.results_rows(campaign=None, since=None, age=age)
        from_rows = build_report(rows, by, final_age_seconds=604800,
                                 gone=store.gone_deliveries(), age=age)  # fmt: skip
        totals = store.results_totals(COLUMNS[by], campaign=None, since=None, age=age,
                                      final_age_seconds=604800)  # fmt: skip
        from_sql = report_from_totals(totals, by, age)
    finally:
        store.close()
    assert [g.as_dict() for g in from_sql.groups] == [g.as_dict() for g in from_rows.groups]
    assert from_rows.groups
