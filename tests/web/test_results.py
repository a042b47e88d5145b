"""The results page and its CSV through real HTTP requests, on SQLite and PostgreSQL: the
figures of a fixture of known snapshot counts, equal to ``build_report``'s and to the CSV
``amplifier results`` writes; the filters; a 400 for each bad parameter; a session."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from amplifier.results import build_report, configured_ages
from amplifier.results.formats import as_csv
from amplifier.store import GONE, DeliveryDraft, Snapshot, Store
from amplifier.web import Console

from .conftest import START, Clock

SECONDS = {"1h": 3600, "24h": 86400, "7d": 604800, GONE: 0}
# (account, template, campaign, days after START, text, readings (age, likes, reposts, replies))
POSTS = [
    ("x1", "asylum", "c", 0, "Asylum #Rights #FBT", [("1h", 2, 1, 0), ("24h", 10, 4, 2)]),
    ("m1", "asylum", "c", 1, "Asilo #FBT", [("1h", 1, 0, 0), ("24h", 3, 1, 0), ("7d", 5, 2, 1)]),
    ("m1", "courts", "c", 2, "Courts #fbt", [("1h", 7, 0, 1), (GONE, 0, 0, 0)]),
    ("x1", "cost", "c", 3, "Cost", []),  # published, never read yet
    ("m1", "courts", "other", 4, "Elsewhere #FBT", [("24h", 50, 50, 50)]),  # another campaign
]


def fill(store: Store, clock: Clock) -> None:
    for n, (account, post, campaign, days, text, readings) in enumerate(POSTS):
        sent = START + timedelta(days=days)
        clock.now = sent
        network = "x" if account == "x1" else "mastodon"
        draft = DeliveryDraft(account, network, f"s{n}", sent, post, campaign, text, language="en")
        row = store.claim_slot(draft, worker_id="w")
        assert row is not None
        assert store.mark_published(row.id, worker_id="w", remote_id=f"r{n}", url=None)
        store.record_snapshots([
            Snapshot(row.id, account, network, age, SECONDS[age],
                     sent + timedelta(seconds=SECONDS[age]),
                     {} if age == GONE else {"likes": likes, "reposts": reposts,
                                             "replies": replies, "quotes": None})
            for age, likes, reposts, replies in readings
        ])  # fmt: skip
    clock.now = START + timedelta(days=30)


@pytest.fixture
def filled(viewer: TestClient, console: Console, clock: Clock) -> TestClient:
    fill(console.store, clock)
    return viewer


def table(html: str) -> dict[str, list[str]]:
    """The results table's rows: group -> the cells after it, as shown."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        group = unescape(re.search(r'<th scope="row">(.*?)</th>', row, re.S)[1])  # type: ignore[index]
        found[group] = [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return found


def expected(console: Console, by: str, **filters: object) -> str:
    """The report ``build_report`` makes of the same rows, as CSV."""
    rows = console.store.results_rows(
        campaign=filters.get("campaign"),  # type: ignore[arg-type]
        since=filters.get("since"),  # type: ignore[arg-type]
        age=filters.get("age"),  # type: ignore[arg-type]
    )
    final = configured_ages(console.settings)[-1][1]
    report = build_report(rows, by, final_age_seconds=final, gone=console.store.gone_deliveries())
    return as_csv(report)


def test_results_by_template_shows_the_known_counts(filled: TestClient) -> None:
    """By template over every campaign: asylum's two sends (16 at 24h on X, 8 at 7d on
    Mastodon: 24 over 2 = 12.0), courts' gone post (8) and the other campaign's (150)."""
    page = filled.get("/results")
    assert page.status_code == 200
    rows = table(page.text)
    cells = ("posts", "counted", "young", "gone", "likes", "reposts", "replies", "quotes",
             "engagements", "per_post", "impressions")  # fmt: skip
    asylum = dict(zip(cells, rows["asylum"], strict=True))
    assert asylum == {
        "posts": "2", "counted": "2", "young": "1", "gone": "0", "likes": "15", "reposts": "6",
        "replies": "3", "quotes": "0", "engagements": "24", "per_post": "12.0",
        "impressions": "-",
    }  # fmt: skip
    courts = dict(zip(cells, rows["courts"], strict=True))
    assert (courts["posts"], courts["counted"], courts["gone"], courts["engagements"]) == (
        "2", "2", "1", "158")  # fmt: skip
    cost = dict(zip(cells, rows["cost"], strict=True))
    assert (cost["posts"], cost["counted"], cost["young"], cost["per_post"]) == ("1", "0", "1", "-")
    assert list(rows) == ["courts", "asylum", "cost"]  # best per post first


@pytest.mark.parametrize(
    "query",
    [
        {"by": "template"},
        {"by": "post"},
        {"by": "hashtag", "campaign": "c"},
        {"by": "network", "age": "24h"},
        {"by": "account", "since": "2026-11-25"},
        {"by": "language", "campaign": "c", "age": "1h", "since": "2026-11-24"},
    ],
)
def test_csv_equals_build_report_on_the_same_filters(
    filled: TestClient, console: Console, query: dict[str, str]
) -> None:
    """/results.csv with each grouping and filter is build_report's CSV of the same rows, and
    the page shows the same groups."""
    answer = filled.get("/results.csv", params=query)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    filters: dict[str, object] = {k: v for k, v in query.items() if k in ("campaign", "age")}
    if "since" in query:  # a day of the organizers' timezone (Europe/Madrid)
        filters["since"] = datetime.combine(
            date.fromisoformat(query["since"]), time(), ZoneInfo("Europe/Madrid")
        )
    want = expected(console, query["by"], **filters)
    assert answer.text == want
    groups = [row[0] for row in list(csv.reader(io.StringIO(want)))[1:]]
    assert list(table(filled.get("/results", params=query).text)) == groups


def test_filters_narrow_the_rows(filled: TestClient) -> None:
    """The campaign leaves out the other campaign's send; since leaves out the earlier ones;
    age 7d counts only the post read at 7 days."""
    everything = table(filled.get("/results").text)
    assert everything["courts"][0] == "2"
    own = table(filled.get("/results", params={"campaign": "c"}).text)
    assert own["courts"][:2] == ["1", "1"] and own["courts"][8] == "8"
    late = table(filled.get("/results", params={"since": "2026-11-26"}).text)
    assert list(late) == ["courts", "cost"]  # sent on the 26th and 27th
    week = table(filled.get("/results", params={"age": "7d", "campaign": "c"}).text)
    assert week["asylum"][:2] == ["2", "1"] and week["asylum"][8] == "8"
    tags = table(filled.get("/results", params={"by": "hashtag", "campaign": "c"}).text)
    assert tags["#fbt"][0] == "3" and tags["#rights"][0] == "1" and tags["-"][0] == "1"


def test_since_is_a_day_of_the_organizers_timezone(
    viewer: TestClient, console: Console, clock: Clock
) -> None:
    """Sent at 23:30 UTC on the 25th is 00:30 on the 26th in Madrid, the organizers' zone:
    the page's since-date counts it from the 26th on, as the history page's dates would."""
    late = START.replace(day=25, hour=23, minute=30)
    clock.now = late
    draft = DeliveryDraft("x1", "x", "late", late, "late", "c", "Late one", language="en")
    row = console.store.claim_slot(draft, worker_id="w")
    assert row is not None and console.store.mark_published(row.id, worker_id="w",
                                                             remote_id="r", url=None)  # fmt: skip
    clock.now = late + timedelta(days=3)
    page = viewer.get("/results", params={"since": "2026-11-26"}).text
    assert list(table(page)) == ["late"]
    assert "Sent since (date, Europe/Madrid)" in page
    assert "No published posts match" in viewer.get("/results", params={"since": "2026-11-27"}).text
    csv_rows = viewer.get("/results.csv", params={"since": "2026-11-26"}).text.splitlines()
    assert [line.split(",")[0] for line in csv_rows[1:]] == ["late"]


def test_chart_is_an_accessible_svg_with_the_table_numbers(filled: TestClient) -> None:
    """One bar per group with something counted, named by a title and a description that
    carry the figures; the CSV link keeps the filters; the menu links the page."""
    html = filled.get("/results", params={"campaign": "c"}).text
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg[0] and 'aria-labelledby="chart-title chart-desc"' in svg[0]
    assert len(re.findall(r"<rect ", svg[0])) == 2  # asylum and courts; cost has no reading
    assert "asylum: 12" in unescape(svg[0]) and "courts: 8" in unescape(svg[0])
    assert "<script" not in html and "style=" not in html
    assert 'href="/results.csv?campaign=c"' in html
    assert '<a href="/results" aria-current="page">Results</a>' in html


def test_no_posts_yet_says_so(viewer: TestClient) -> None:
    html = viewer.get("/results").text
    assert "nothing to report yet" in html and "<svg" not in html


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"by": "colour"}, "by 'colour' is not one of"),
        ({"campaign": "nope"}, "campaign 'nope' is not one of: c"),
        ({"age": "3h"}, "age '3h' is not one of: 1h, 24h, 7d"),
        ({"since": "yesterday"}, "since must be a date written YYYY-MM-DD"),
        ({"since": "2026-02-30"}, "since must be a date"),
        ({"page": "2"}, "unknown parameter 'page'"),
        ({"by": "post\x00"}, "control characters"),
    ],
)
@pytest.mark.parametrize("path", ["/results", "/results.csv"])
def test_bad_parameters_are_a_400_page(
    viewer: TestClient, path: str, query: dict[str, str], words: str
) -> None:
    answer = viewer.get(path, params=query)
    assert answer.status_code == 400
    assert words in unescape(answer.text)


def test_repeated_parameter_is_a_400(viewer: TestClient) -> None:
    answer = viewer.get("/results?by=post&by=hour")
    assert answer.status_code == 400 and "more than once" in answer.text


@pytest.mark.parametrize("path", ["/results", "/results.csv?by=post"])
def test_results_need_a_session(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=%2Fresults")
