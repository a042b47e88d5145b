"""The results page in Debian's Chromium, over posts with known readings: the SVG chart is an
image with a name and a description, its numbers are in the table too, the CSV link keeps the
filters; axe-core clean and nothing wider than the screen at phone and laptop width (a
screenshot of each under /tmp/web-shots)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from amplifier.store import DeliveryDraft, Snapshot

from .support import LAPTOP, PHONE, describe, new_page, run_axe
from .test_web_console import SHOTS, sign_in
from .web_server import VIEWER_PASSWORD, Served, served_sample

CAMPAIGN = "families-belong-together"
# (account, network, post, text, likes, reposts, replies) read at 24 hours
SENT = [
    ("fbt-mastodon", "mastodon", "asylum-is-a-right", "Asylum is a right #FBT", 12, 5, 3),
    ("fbt-bluesky", "bluesky", "asylum-is-a-right", "Asylum is a right #FBT", 4, 1, 1),
    ("fbt-mastodon", "mastodon", "alternatives-to-detention", "Alternatives #FBT", 3, 0, 1),
    ("fbt-x", "x", "ala-amicus-aclu", "The ALA filed an amicus brief #Libraries", 1, 0, 0),
]


@pytest.fixture(scope="module")
def results_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    repo = Path(__file__).resolve().parent.parent.parent
    with served_sample(tmp_path_factory.mktemp("results"), repo) as served:
        store = served.console.store
        sent = datetime.now(UTC) - timedelta(days=3)
        for n, (account, network, post, text, likes, reposts, replies) in enumerate(SENT):
            draft = DeliveryDraft(account, network, f"r{n}", sent, post, CAMPAIGN, text, "en")
            row = store.claim_slot(draft, worker_id="browser")
            assert row is not None
            assert store.mark_published(row.id, worker_id="browser", remote_id=f"p{n}", url=None)
            counts: dict[str, int | None] = {
                "likes": likes, "reposts": reposts, "replies": replies, "quotes": None,
            }  # fmt: skip
            store.record_snapshots(
                [Snapshot(row.id, account, network, "24h", 86_400, sent, counts)]
            )
        yield served


@pytest.mark.parametrize("width", ["phone", "laptop"])
def test_results_page_reads_well_with_its_chart(
    browser: Browser, axe: str, results_site: Served, width: str
) -> None:
    viewport = PHONE if width == "phone" else LAPTOP
    options = {"is_mobile": True, "has_touch": True} if width == "phone" else {}
    SHOTS.mkdir(exist_ok=True)
    with new_page(browser, viewport, **options) as page:
        sign_in(page, results_site.url, VIEWER_PASSWORD, name="Vic")
        page.get_by_role("link", name="Results", exact=True).click()
        page.get_by_label("Group by").select_option("template")
        page.get_by_label("Campaign").select_option(CAMPAIGN)
        page.get_by_role("button", name="Show").click()
        chart = page.get_by_role("img", name="Engagements per post, by template")
        assert chart.is_visible()
        assert page.locator("svg.bars rect").count() == 3
        description = page.locator("#chart-desc").text_content() or ""
        assert "asylum-is-a-right: 13" in description  # (20 + 6) over 2 sends
        row = page.get_by_role("row", name="asylum-is-a-right")
        assert "13.0" in (row.text_content() or "")
        link = page.get_by_role("link", name="Download these rows as CSV")
        assert link.get_attribute("href") == f"/results.csv?by=template&campaign={CAMPAIGN}"
        violations = run_axe(page, axe)
        assert violations == [], describe(violations)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"results is {wide}px wide at {width}"
        box = chart.bounding_box()
        assert box is not None and box["width"] <= viewport["width"]
        page.screenshot(path=str(SHOTS / f"results-chart-{width}.png"), full_page=True)
        answer = page.request.get(results_site.url + str(link.get_attribute("href")))
        assert answer.status == 200
        first = answer.text().splitlines()[1]
        assert first.startswith("asylum-is-a-right,2,2,2,0,16,6,4,0,26,13.0")
