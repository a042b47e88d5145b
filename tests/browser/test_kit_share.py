"""The share kit in Chromium: every share button of every post, in both languages, opens its
network's composer with exactly the card's text; copy; the Mastodon server asked once and
remembered; nothing requested from another origin; the pages without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from amplifier.content import extract_urls
from amplifier.content.length import bluesky_length, mastodon_length, utf8_bytes, x_length
from amplifier.networks.links import shown_link

from .kit_site import PAGES, Outside, build_sample, served, shared_text, target
from .support import LAPTOP, new_page

COMPOSERS = {
    "x": ("https", "x.com", "/intent/post"),
    "bluesky": ("https", "bsky.app", "/intent/compose"),
    "threads": ("https", "www.threads.net", "/intent/post"),
    "mastodon": ("https", "social.example", "/share"),
}
LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "threads": 500}
CAMPAIGN_PAGES = PAGES[1:3]
SERVER_KEY = "amplifier-kit.mastodon-server"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("kit") / "site"
    build_sample(out)
    with served(out) as origin:
        yield origin


def _length(network: str, text: str) -> int:
    if network == "x":
        return x_length(text)
    if network == "mastodon":
        return mastodon_length(text)
    if network == "bluesky":  # the app counts a link as it shows it
        for url in extract_urls(text):
            text = text.replace(url, shown_link(url))
    return bluesky_length(text)  # Threads: graphemes, a link at its full length


def _remember_server(page: Page, kit: str, host: str) -> None:
    page.goto(f"{kit}/mastodon.en.html")
    page.evaluate("([key, host]) => localStorage.setItem(key, host)", [SERVER_KEY, host])


@pytest.mark.parametrize("name", CAMPAIGN_PAGES)
def test_every_share_button_opens_its_composer_with_the_cards_text(
    page: Page, kit: str, name: str
) -> None:
    """Each button of each card, in each version: the navigation goes to the network's
    composer (Mastodon: the remembered server) and its text, decoded, is the text shown above
    the button, within the network's limit."""
    _remember_server(page, kit, "social.example")
    outside = Outside(kit).attach(page)
    page.goto(f"{kit}/{name}")
    clicked: dict[str, int] = {}
    done: set[str] = set()
    cards = page.locator("article.card")
    assert cards.count() == (45 if name.endswith(".en.html") else 12)
    for index in range(cards.count()):
        card = cards.nth(index)
        choices = card.locator("fieldset.versions label")
        for choice in range(max(1, choices.count())):
            if choices.count():
                choices.nth(choice).click()
            for link in card.locator("a[data-network]:visible").element_handles():
                network, text_id, expected = link.evaluate(
                    "a => { const text = a.closest('.share').querySelector('p.text');"
                    " return [a.dataset.network, text.id, text.textContent]; }"
                )
                if (text_id, network) in done:
                    continue
                with page.expect_request(lambda r: not r.url.startswith(kit)) as request:
                    link.click(no_wait_after=True)
                url = request.value.url
                assert target(url) == COMPOSERS[network], url
                assert shared_text(url) == expected
                assert expected and 0 < _length(network, expected) <= LIMITS[network]
                assert network != "bluesky" or utf8_bytes(expected) <= 3000
                assert page.url == f"{kit}/{name}"  # the kit stays where it was
                done.add((text_id, network))
                clicked[network] = clicked.get(network, 0) + 1
    assert set(clicked) == set(COMPOSERS)
    assert min(clicked.values()) >= cards.count()
    # Nothing but the clicks left the kit: each request outside was a composer's.
    assert {target(url) for url in outside.urls} <= set(COMPOSERS.values())


def test_copy_puts_the_exact_text_on_the_clipboard(browser: Browser, kit: str) -> None:
    """The copy button of a text copies that text, newlines and hashtags included, and says
    so; in English and in Spanish."""
    with new_page(browser, LAPTOP, permissions=["clipboard-read", "clipboard-write"]) as page:
        for name in CAMPAIGN_PAGES:
            page.goto(f"{kit}/{name}")
            buttons = page.locator("button.copy:visible")
            assert buttons.count() > 20
            for index in (0, 1, buttons.count() - 1):
                button = buttons.nth(index)
                expected = page.locator(f"#{button.get_attribute('data-copy')}").text_content()
                button.click()
                page.wait_for_function("() => document.getElementById('status').textContent !== ''")
                assert page.evaluate("navigator.clipboard.readText()") == expected
                assert "\n\n#" in (expected or "")
                page.evaluate("document.getElementById('status').textContent = ''")
            status = "Copiado" if name.endswith(".es.html") else "Copied"
            button.click()
            page.wait_for_function(
                "s => document.getElementById('status').textContent === s", arg=status
            )


def test_the_mastodon_server_is_asked_once_and_remembered(browser: Browser, kit: str) -> None:
    """Without a server, the Mastodon button opens the kit's chooser with the text; a handle
    or an address is taken for its host, a wrong one refused; the composer opens on that
    server; after reloads, every Mastodon button goes straight there."""
    with new_page(browser, LAPTOP) as page:
        outside = Outside(kit).attach(page)
        page.goto(f"{kit}/families-belong-together.en.html")
        link = page.locator("a[data-network=mastodon]:visible").first
        group = link.locator("xpath=ancestor::div[@class='share'][1]")
        expected = group.locator("p.text").text_content()
        link.click()
        page.wait_for_url(f"{kit}/mastodon.en.html?text=*")
        assert page.locator("#share-text").text_content() == expected
        page.fill("#instance", "not a server")
        page.click("button[type=submit]")
        assert page.get_attribute("#instance", "aria-invalid") == "true"
        assert "not a server address" in (page.text_content("#status") or "")
        assert outside.urls == []
        page.fill("#instance", "@supporter@Social.Example")
        with page.expect_request(lambda request: not request.url.startswith(kit)):
            page.click("button[type=submit]")
        assert [target(url) for url in outside.urls] == [COMPOSERS["mastodon"]]
        assert shared_text(outside.urls[0]) == expected
        for _ in range(2):
            page.goto(f"{kit}/families-belong-together.en.html")
            page.reload()
            assert page.locator("#mastodon-server").is_visible()
            assert page.text_content("#mastodon-server [data-instance]") == "social.example"
            hrefs = page.eval_on_selector_all(
                "a[data-network=mastodon]", "links => links.map(a => a.href)"
            )
            assert hrefs and all(h.startswith("https://social.example/share?text=") for h in hrefs)
        page.goto(f"{kit}/mastodon.en.html")
        assert page.input_value("#instance") == "social.example"
        page.click("#forget")
        page.goto(f"{kit}/families-belong-together.en.html")
        assert page.locator("#mastodon-server").is_hidden()


@pytest.mark.parametrize("name", PAGES)
def test_no_request_leaves_the_kits_origin(page: Page, kit: str, name: str) -> None:
    """Loading any page of the kit (stylesheet, script, images) asks nothing of any other
    origin: no font, no analytics, no tracker."""
    outside = Outside(kit).attach(page)
    page.goto(f"{kit}/{name}", wait_until="networkidle")
    page.mouse.wheel(0, 100_000)
    page.wait_for_load_state("networkidle")
    assert outside.urls == []
    assert any(url.endswith("/kit.css") for url in outside.inside)
    assert any(url.endswith("/kit.js") for url in outside.inside)


def test_without_javascript_links_versions_and_chooser_still_work(
    browser: Browser, kit: str
) -> None:
    """No script: share links are plain links with the text, the versions switch with the
    radio buttons (CSS), copy buttons stay hidden, the chooser says what to do."""
    with new_page(browser, LAPTOP, java_script_enabled=False) as page:
        outside = Outside(kit).attach(page)
        page.goto(f"{kit}/families-belong-together.en.html")
        assert page.locator("button.copy:visible").count() == 0
        card = page.locator("article.card").first
        labels = card.locator("fieldset.versions label")
        assert labels.count() == 3
        for number in (1, 2, 3):
            labels.nth(number - 1).click()
            visible = card.locator("div.version:visible")
            assert visible.count() == 1
            assert visible.get_attribute("data-version") == str(number)
            link = visible.locator("a[data-network]").first
            expected = (
                link.locator("xpath=ancestor::div[@class='share'][1]")
                .locator("p.text")
                .text_content()
            )
            if link.get_attribute("data-network") == "mastodon":
                link.click()
                page.wait_for_url(f"{kit}/mastodon.en.html?text=*")
                assert "Without JavaScript" in page.inner_text("main")
                page.go_back()
                continue
            with page.expect_request(lambda request: not request.url.startswith(kit)):
                link.click()
            assert shared_text(outside.urls[-1]) == expected
        page.goto(f"{kit}/mastodon.en.html")
        assert "Without JavaScript" in page.inner_text("main")
        assert page.locator("#mastodon-form").is_hidden()


def test_versions_rotate_between_visits(browser: Browser, kit: str) -> None:
    """With JavaScript, each visit shows each card in a version drawn anew: over a few
    visits, the first card is shown in more than one."""
    seen = set()
    for _ in range(8):
        with new_page(browser, LAPTOP) as page:
            page.goto(f"{kit}/families-belong-together.en.html")
            seen.add(
                page.locator("article.card").first.locator("input:checked").get_attribute("value")
            )
    assert len(seen) > 1
