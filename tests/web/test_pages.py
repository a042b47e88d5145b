"""Each page through real HTTP requests to the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar
from starlette.testclient import TestClient

from amplifier.config import WebAccess
from amplifier.networks.base import RateLimitWindow
from amplifier.schedule import upcoming_slots
from amplifier.store import Store
from amplifier.web import Console, create_app, open_console
from amplifier.web.render import when

from .conftest import CALENDAR_TOKEN, START, VIEWER_PASSWORD, Clock, sign_in, write_deployment
from .rows import draft, many_skipped, published, skipped, unknown


def test_healthz_needs_no_session_and_reports_the_newest_heartbeat(
    client: TestClient, console: Console, clock: Clock
) -> None:
    """/healthz answers without signing in: the database is reachable, no worker yet; after a
    heartbeat, its age in seconds."""
    first = client.get("/healthz")
    assert first.status_code == 200
    assert first.json() == {
        "database": "ok", "newest_heartbeat_age_seconds": None, "worker_alive": False,
    }  # fmt: skip
    console.store.heartbeat("worker-1")
    clock.now = START + timedelta(seconds=20)
    assert client.get("/healthz").json()["newest_heartbeat_age_seconds"] == 20
    assert client.get("/healthz").json()["worker_alive"] is True


def test_healthz_is_503_when_the_database_cannot_be_reached(
    console: Console, access: WebAccess
) -> None:
    """A database that does not answer is a 503 naming nothing about it (no host, no user)."""
    gone = Store("postgresql+psycopg://someone:pw@127.0.0.1:1/nothing?connect_timeout=1")
    broken = Console(console.settings, console.library, console.report, gone, access)
    with TestClient(create_app(broken)) as client:
        answer = client.get("/healthz")
    gone.close()
    assert answer.status_code == 503
    assert answer.json() == {"database": "unreachable"}
    assert "127.0.0.1" not in answer.text and "someone" not in answer.text


def test_calendar_shows_each_slot_rendered_with_its_length_and_both_times(
    viewer: TestClient,
) -> None:
    """The calendar lists the next 14 days: posts as they go out, with lengths against the
    limit, the account's time and the organizer's (Europe/Madrid), Spanish marked as such."""
    page = viewer.get("/")
    assert page.status_code == 200
    html = page.text
    assert "sends " in html
    assert re.search(r"\d+/280 characters", html)  # x1 on X
    assert re.search(r"\d+/500 characters", html)  # m1 on Mastodon
    assert "Your time:" in html and ("CET" in html)
    assert 'lang="es"' in html and "Pedir asilo" in unescape(html)
    assert '<html lang="en">' in html


def test_calendar_filters_and_week_view(viewer: TestClient) -> None:
    """Filtering by account leaves only that account's slots; the week view shows 7 days."""
    only = viewer.get("/", params={"account": "m1"}).text
    assert 'data-account="m1"' in only and 'data-account="x1"' not in only
    week = viewer.get("/", params={"view": "week", "week": "2"}).text
    assert len(re.findall(r'<section class="day"', week)) == 7
    assert viewer.get("/", params={"campaign": "c"}).status_code == 200


def test_history_pages_by_keyset_through_every_row_once(
    viewer: TestClient, console: Console
) -> None:
    """120 rows come back 50, 50 and 20, newest first, each once, by following 'Older'."""
    rows = many_skipped(console.store, "x1", START - timedelta(days=1), 120)
    seen: list[int] = []
    url: str | None = "/history"
    pages = 0
    while url is not None:
        html = viewer.get(url).text
        seen += [int(n) for n in re.findall(r"<tr class=\"\w+\">\s*<td>(\d+)</td>", html)]
        older = re.search(r'<a href="(/history\?[^"]+)">Older</a>', html)
        url = unescape(older[1]) if older else None
        pages += 1
    assert pages == 3
    assert seen == [row.id for row in rows]  # made newest first


def test_history_filters_by_state_account_campaign_post_and_date(
    viewer: TestClient, console: Console
) -> None:
    """Each filter narrows the rows; a live post links to itself."""
    store = console.store
    done = published(store, "x1", START - timedelta(hours=3), post="cost")
    held = skipped(store, "m1", START - timedelta(days=3))
    html = viewer.get("/history", params={"state": "published"}).text
    assert f"<td>{done.id}</td>" in html and f"<td>{held.id}</td>" not in html
    assert f'href="https://example.org/p/{done.id}"' in html
    by_account = viewer.get("/history", params={"account": "m1"}).text
    assert f"<td>{held.id}</td>" in by_account and f"<td>{done.id}</td>" not in by_account
    by_post = viewer.get("/history", params={"post": "cost"}).text
    assert f"<td>{done.id}</td>" in by_post and f"<td>{held.id}</td>" not in by_post
    day = (START - timedelta(days=3)).date().isoformat()
    by_date = viewer.get("/history", params={"from": day, "to": day}).text
    assert f"<td>{held.id}</td>" in by_date and f"<td>{done.id}</td>" not in by_date
    assert "guard daily-cap" in by_date  # the reason
    assert f"<td>{done.id}</td>" in viewer.get("/history", params={"campaign": "c"}).text


def test_history_escapes_every_stored_value(viewer: TestClient, console: Console) -> None:
    """The rows are built in Python, not by Jinja2's autoescape: a reason, a post id and a
    link holding markup and quotes still come out as text, in the element and the attribute;
    a deferral's retry and its ambiguity in the account's time (New York for x1)."""
    hostile = "<script>alert(\"x\")</script> & 'q'"
    skipped(console.store, "x1", START - timedelta(hours=3), reason=hostile)
    row = console.store.claim_slot(draft("m1", START - timedelta(hours=2), 'a"<b>'), worker_id="w")
    assert row is not None
    link = 'https://example.org/p?a=1&b="2"><script>'
    assert console.store.mark_published(row.id, worker_id="w", remote_id="r", url=link)
    waiting = console.store.claim_slot(draft("x1", START - timedelta(hours=1)), worker_id="w")
    assert waiting is not None and console.store.begin_attempt(waiting.id, worker_id="w")
    assert console.store.mark_deferred(
        waiting.id, worker_id="w", retry_at=START + timedelta(minutes=30), reason="503",
        ambiguous_since=START - timedelta(minutes=59),
    )  # fmt: skip
    html = viewer.get("/history").text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;" in html
    assert 'href="https://example.org/p?a=1&amp;b=&#34;2&#34;&gt;&lt;script&gt;"' in html
    assert '<td data-label="Post">a&#34;&lt;b&gt;</td>' in html
    assert (
        "Retry at Mon 23 Nov 2026 08:30 EST. 503 [ambiguous since Mon 23 Nov 2026 07:01 EST]"
        in html
    )


def test_status_shows_accounts_workers_and_counts(viewer: TestClient, console: Console) -> None:
    """Per account: mode, last post, next slot, deferred and unknown counts, X spend; the
    workers' heartbeats."""
    published(console.store, "x1", START - timedelta(hours=2), post="cost")
    unknown(console.store, "m1", START - timedelta(hours=1))
    console.store.heartbeat("worker-7")
    html = viewer.get("/status").text
    assert "x1" in html and "m1" in html and "live" in html
    assert "worker-7" in html and "alive" in html
    assert re.search(r"<dt>Needs review</dt><dd>1", html)
    assert "spent this month" in html  # x1's spend line
    assert "Posting is on" in html


def test_status_shows_rate_limit_times_in_the_accounts_and_the_organizers_time(
    viewer: TestClient, console: Console
) -> None:
    """A window's reset, and a shut window's 'blocked until', as the other times on the page:
    the account's own (New York for x1) and the organizer's (Europe/Madrid), never bare UTC."""
    reset = START + timedelta(minutes=45)  # 13:45 UTC: 08:45 in New York, 14:45 in Madrid
    console.store.save_rate_limits(
        "x1", [RateLimitWindow("15m", 50, 0, reset), RateLimitWindow("24h", 100, 7, None)]
    )
    html = viewer.get("/status").text
    block = re.search(r'<h3 id="a\d">x1 .*?</dl>', html, re.S)
    assert block is not None
    limits = re.search(r"<dt>Rate limits</dt><dd>(.*?)</dd>", block[0], re.S)
    assert limits is not None
    assert limits[1] == (
        "BLOCKED until Mon 23 Nov 2026 08:45 EST (your time Mon 23 Nov 2026 14:45 CET). "
        "15m: 0/50 left until Mon 23 Nov 2026 08:45 EST (your time Mon 23 Nov 2026 14:45 CET); "
        "24h: 7/100 left"
    ), limits[1]
    assert "UTC" not in limits[1]


def test_status_next_slot_moves_on_when_the_slot_comes(
    viewer: TestClient, console: Console, clock: Clock
) -> None:
    """The next slot is kept between requests only until it comes; then (and for a clock set
    back) it is worked out again: every moment shows what the schedule says."""
    account = next(a for a in console.settings.accounts if a.name == "x1")
    zone = ZoneInfo("America/New_York")
    shown = []
    for moment in (START, START + timedelta(minutes=5), START + timedelta(hours=2, minutes=30),
                   START + timedelta(days=1), START):  # fmt: skip
        clock.now = moment
        due = upcoming_slots(console.settings, account, moment, count=1, days=None)[0].due_at
        html = viewer.get("/status").text
        found = re.search(r'<h3 id="a\d">x1 .*?<dt>Next slot</dt><dd>([^(]+) \(your', html, re.S)
        assert found is not None and found[1] == when(due, zone), (moment, found)
        shown.append(found[1])
    assert len(set(shown)) == 3 and shown[0] == shown[1] == shown[-1], shown


def test_status_shows_when_each_accounts_credentials_were_last_confirmed(
    viewer: TestClient, console: Console
) -> None:
    """By 'amplifier accounts verify' (recorded), or by a later published post; never by
    anything of the credentials themselves."""
    console.store.record_credentials_check(
        "m1", START - timedelta(days=2), "amplifier accounts verify"
    )
    published(console.store, "x1", START - timedelta(hours=2), post="cost")
    html = viewer.get("/status").text
    blocks = {
        name: block for name, block in re.findall(r'<h3 id="a\d">(\w+) (.*?)</dl>', html, re.S)
    }
    assert re.search(
        r"Credentials last confirmed</dt><dd>Sat 21 Nov 2026 \S+ \S+ \(amplifier accounts verify\)",
        blocks["m1"],
    ), blocks["m1"]
    assert re.search(r"Credentials last confirmed</dt><dd>[^<]+\(a post published\)", blocks["x1"])


def test_review_lists_unknown_deliveries_with_where_to_look(
    viewer: TestClient, console: Console
) -> None:
    """An unknown delivery shows its text, its last error and a link to the account; a
    viewer sees no buttons."""
    row = unknown(console.store, "m1", START - timedelta(hours=1))
    html = viewer.get("/review").text
    assert f"#{row.id}" in html and "the server did not answer" in html
    assert 'href="https://mastodon.example/@m1"' in html
    assert "It is published" not in html


def test_posts_page_shows_every_post_rendered_per_network(viewer: TestClient) -> None:
    """Every post with each version (English, Spanish) per network with length and limit,
    the accounts that may send it, and a link to its history."""
    html = unescape(viewer.get("/posts").text)
    for post in ("asylum", "courts", "cost", "call", "doctors"):
        assert f'id="p-{post}"' in html and f'href="/history?post={post}"' in html
    assert re.search(r"x: <span class=\"fits\">\d+/280", html)
    assert "Language es" in html and "Pedir asilo" in html
    assert "may go out on x1, m1" in html  # asylum has a Spanish version for m1
    assert "may go out on x1 ·" in html  # cost has none


def test_calendar_feed_with_its_token(client: TestClient) -> None:
    """The feed answers its token only, with the calendar's slots as iCalendar events."""
    assert client.get("/calendar.ics").status_code == 403
    assert client.get("/calendar.ics", params={"token": "wrong-token-123456"}).status_code == 403
    answer = client.get("/calendar.ics", params={"token": CALENDAR_TOKEN})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(answer.content).walk("VEVENT")
    assert len(events) > 20
    assert any("x1: sends" in str(event["summary"]) for event in events)


def test_posts_page_lists_each_problem_at_its_file_and_line(
    tmp_path: Path, access: WebAccess, clock: Clock
) -> None:
    """A post that check refuses shows on the posts page as file:line: message, with the
    counts check gives."""
    config, posts = write_deployment(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    (posts / "broken.md").write_text("---\nid: broken\ncampaign: c\nlanguage: en\n---\n\n")
    console = open_console(config, posts, access, clock=clock)
    try:
        with TestClient(create_app(console)) as client:
            sign_in(client, VIEWER_PASSWORD)
            html = unescape(client.get("/posts").text)
    finally:
        console.close()
    assert re.search(r"broken\.md:\d+: ", html), html[:3000]
    assert "2 error(s)" in html and "missing required field 'source'" in html
    assert 'id="p-broken"' not in html


def test_posts_page_names_each_posts_media_with_its_description(
    tmp_path: Path, access: WebAccess, clock: Clock
) -> None:
    """A post's video and image: each listed by kind and file with its alt text (escaped)."""
    from amplifier.testing import images

    config, posts = write_deployment(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    images.write(posts / "march.mp4", images.mp4(8))
    (posts / "march.md").write_text(
        "---\nid: march\ncampaign: c\nlanguage: en\nsource: test\nmedia:\n"
        '  - file: march.mp4\n    alt: "Marchers <b>crossing</b> the bridge"\n---\n'
        "Families marched today.\n"
    )
    console = open_console(config, posts, access, clock=clock)
    try:
        with TestClient(create_app(console)) as client:
            sign_in(client, VIEWER_PASSWORD)
            html = client.get("/posts").text
    finally:
        console.close()
    assert "video <code>march.mp4</code>, described as:" in html
    assert "Marchers &lt;b&gt;crossing&lt;/b&gt; the bridge" in html


def test_calendar_writes_a_pause_and_a_wait_in_local_times(
    viewer: TestClient, console: Console
) -> None:
    """The reasons the calendar shares with ``amplifier preview`` carry their moment in the
    account's time and the organizer's, as the rest of the console, never in UTC: a pause
    (the banner in the organizer's time, each skipped slot in both) and a shut rate-limit
    window a post waits for."""
    console.store.set_paused(True, by="ana")  # at 13:00 UTC: 08:00 in New York, 14:00 Madrid
    html = unescape(viewer.get("/").text)
    assert "PAUSED (paused by ana since Mon 23 Nov 2026 14:00 CET)" in html
    assert ("Why: paused by ana since Mon 23 Nov 2026 08:00 EST "
            "(your time Mon 23 Nov 2026 14:00 CET)") in html  # x1, New York  # fmt: skip
    assert ("Why: paused by ana since Mon 23 Nov 2026 07:00 CST "
            "(your time Mon 23 Nov 2026 14:00 CET)") in html  # m1, Chicago  # fmt: skip
    assert "UTC" not in html
    console.store.set_paused(False, by="ana")
    reset = START + timedelta(hours=3)  # 16:00 UTC: x1's 09:00 slot waits for it
    console.store.save_rate_limits("x1", [RateLimitWindow("15m", 50, 0, reset)])
    html = unescape(viewer.get("/").text)
    assert ("Waits: rate limit window 15m until Mon 23 Nov 2026 11:00 EST "
            "(your time Mon 23 Nov 2026 17:00 CET)") in html  # fmt: skip
    waits = re.findall(r"Waits: [^<]*", html)
    assert waits and not any("UTC" in line or "+00:00" in line for line in waits)
