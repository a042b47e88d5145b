"""The organizers' console in Debian's Chromium: sign in, read every page at phone and laptop
width (axe-core: no serious or critical violation; nothing wider than the screen; a
screenshot of each under /tmp/web-shots) as an organizer and as a viewer, pause and resume,
mark a review, post now, sign out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from amplifier.store import DeliveryDraft

from .support import LAPTOP, PHONE, describe, new_page, run_axe
from .web_server import ORGANIZER_PASSWORD, VIEWER_PASSWORD, Served, served_sample

PAGES = {
    "calendar": "/",
    "calendar-week": "/?view=week",
    "history": "/history",
    "status": "/status",
    "review": "/review",
    "posts": "/posts",
    "results": "/results",
}
SHOTS = Path("/tmp/web-shots")


@pytest.fixture(scope="module")
def console_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    repo = Path(__file__).resolve().parent.parent.parent
    with served_sample(tmp_path_factory.mktemp("sample"), repo) as served:
        store = served.console.store
        due = datetime.now(UTC) - timedelta(hours=2)
        draft = DeliveryDraft(
            "fbt-mastodon", "mastodon", "browser-slot", due, "asylum-is-a-right",
            "families-belong-together", "Seeking asylum is a legal right.", language="en",
        )  # fmt: skip
        row = store.claim_slot(draft, worker_id="browser")
        assert row is not None and store.begin_attempt(row.id, worker_id="browser")
        assert store.mark_unknown(row.id, worker_id="browser", reason="no answer in 20 s")
        yield served


def sign_in(page: Page, site: str, password: str, name: str = "Rosa") -> None:
    page.goto(f"{site}/status")
    expect(page).to_have_title("Sign in · amplifier")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Status", level=1)).to_be_visible()


@pytest.mark.parametrize("width", ["phone", "laptop"])
def test_every_page_reads_well_and_passes_axe(
    browser: Browser, axe: str, console_site: Served, width: str
) -> None:
    """Each page after signing in: its heading, no serious or critical axe violation, no
    horizontal scrolling, and a screenshot to look at."""
    SHOTS.mkdir(exist_ok=True)
    viewport = PHONE if width == "phone" else LAPTOP
    options = {"is_mobile": True, "has_touch": True} if width == "phone" else {}
    with new_page(browser, viewport, **options) as page:
        page.goto(f"{console_site.url}/signin")
        assert run_axe(page, axe) == [], describe(run_axe(page, axe))
        page.screenshot(path=str(SHOTS / f"signin-{width}.png"), full_page=True)
        sign_in(page, console_site.url, ORGANIZER_PASSWORD)
        for name, path in PAGES.items():
            page.goto(console_site.url + path)
            assert page.locator("h1").count() == 1
            violations = run_axe(page, axe)
            assert violations == [], f"{name}: {describe(violations)}"
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], f"{name} is {wide}px wide at {width}"
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=False)
        page.goto(console_site.url + "/")
        assert page.locator("article.slot").count() > 10
        assert page.locator('blockquote.post[lang="es"]').count() > 0


def test_pause_and_resume_from_the_status_page(page: Page, console_site: Served) -> None:
    """An organizer pauses with a reason (the store's switch, as the CLI's), sees PAUSED on
    the calendar, and resumes."""
    sign_in(page, console_site.url, ORGANIZER_PASSWORD)
    page.get_by_label("Reason (kept with the pause)").fill("march postponed")
    page.get_by_role("button", name="Pause all posting").click()
    expect(page.get_by_text("PAUSED by Rosa (console) (march postponed)")).to_be_visible()
    assert console_site.console.store.paused()[0] is True
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_text("PAUSED (").first).to_be_visible()
    page.get_by_role("link", name="Status", exact=True).click()
    page.get_by_role("button", name="Resume posting").click()
    expect(page.get_by_text("Posting is on")).to_be_visible()
    assert console_site.console.store.paused()[0] is False


def test_an_organizer_marks_a_review_and_a_viewer_cannot(
    browser: Browser, console_site: Served
) -> None:
    """A viewer sees the unknown delivery without buttons; an organizer marks it published,
    and the store records it so."""
    with new_page(browser) as viewer:
        sign_in(viewer, console_site.url, VIEWER_PASSWORD, name="Vic")
        viewer.get_by_role("link", name="Review", exact=True).click()
        expect(viewer.get_by_text("no answer in 20 s")).to_be_visible()
        assert viewer.get_by_role("button", name="It is published").count() == 0
        viewer.get_by_role("link", name="Status", exact=True).click()
        assert viewer.get_by_role("button", name="Pause all posting").count() == 0
    with new_page(browser) as page:
        sign_in(page, console_site.url, ORGANIZER_PASSWORD)
        page.get_by_role("link", name="Review", exact=True).click()
        page.get_by_label("Note (optional)").fill("seen on the profile")
        page.get_by_role("button", name="It is published").click()
        expect(page.get_by_text("Nothing needs review")).to_be_visible()
    [row] = console_site.console.store.history(statuses=["published"])
    assert row.slot_key == "browser-slot" and "seen on the profile" in (row.last_error or "")


@pytest.mark.parametrize("width", ["phone", "laptop"])
def test_a_viewer_reads_every_page_and_gets_no_buttons(
    browser: Browser, axe: str, console_site: Served, width: str
) -> None:
    """The read-only role at both widths: every page readable (axe, no sideways scrolling),
    no form that changes anything but signing out; then signing out ends the session."""
    viewport = PHONE if width == "phone" else LAPTOP
    options = {"is_mobile": True, "has_touch": True} if width == "phone" else {}
    with new_page(browser, viewport, **options) as page:
        sign_in(page, console_site.url, VIEWER_PASSWORD, name="Vic")
        for name, path in PAGES.items():
            page.goto(console_site.url + path)
            violations = run_axe(page, axe)
            assert violations == [], f"{name}: {describe(violations)}"
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= viewport["width"], f"{name} is {wide}px wide at {width}"
            actions = page.eval_on_selector_all(
                "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))"
            )
            assert actions == ["/signout"], f"{name}: a viewer sees {actions}"
        page.goto(console_site.url + "/status")
        page.screenshot(path=str(SHOTS / f"status-viewer-{width}.png"), full_page=True)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_title("Sign in · amplifier")
        page.goto(console_site.url + "/history")
        expect(page).to_have_title("Sign in · amplifier")


def test_an_organizer_posts_now_from_the_status_page(page: Page, console_site: Served) -> None:
    """Post now of a chosen post (the sample's accounts rehearse: nothing leaves the machine):
    the page says what happened and the history shows it."""
    sign_in(page, console_site.url, ORGANIZER_PASSWORD)
    page.get_by_label("Account").select_option("fbt-mastodon")
    page.get_by_label("Post (empty: the next in rotation)").select_option("ala-2007-library-access")
    page.get_by_role("button", name="Post now").click()
    expect(page.get_by_role("heading", name="Posted", level=1)).to_be_visible()
    expect(page.get_by_text("fbt-mastodon: ala-2007-library-access rehearsed")).to_be_visible()
    page.screenshot(path=str(SHOTS / "posted-laptop.png"), full_page=True)
    page.goto(console_site.url + "/history?account=fbt-mastodon&state=rehearsed")
    expect(page.locator("tbody tr").first).to_contain_text("ala-2007-library-access")
