"""The organizers' operations: the same store operations as the CLI's pause, review and
post-now, made through the console's forms."""

from __future__ import annotations

import io
from datetime import timedelta

from starlette.testclient import TestClient

from amplifier.cli import main
from amplifier.config import Account
from amplifier.networks.memory import MemoryNetwork
from amplifier.web import Console

from .conftest import START, csrf_of
from .rows import unknown


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/status").text)


def test_pause_and_resume_flip_the_clis_switch(organizer: TestClient, console: Console) -> None:
    """Pause with a reason: the store's switch is on, recorded with who and why, and the
    calendar and the CLI's status say so; resume turns it off."""
    answer = organizer.post(
        "/pause", data={"csrf": _csrf(organizer), "reason": "rally cancelled"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    paused, by, _ = console.store.paused()
    assert paused and by == "Ana (console) (rally cancelled)"
    assert "PAUSED" in organizer.get("/").text
    assert "PAUSED by Ana (console) (rally cancelled)" in organizer.get("/status").text
    out = io.StringIO()
    assert main(["status", "--config", str(console.settings.config_path)], out=out) == 0
    assert "paused: PAUSED by Ana (console) (rally cancelled)" in out.getvalue()
    organizer.post("/resume", data={"csrf": _csrf(organizer)})
    assert console.store.paused()[0] is False
    assert "Posting is on" in organizer.get("/status").text


def test_a_pause_made_by_the_cli_shows_on_the_status_page(
    organizer: TestClient, console: Console
) -> None:
    """The CLI's pause is the same switch: the console shows it and can resume it."""
    out = io.StringIO()
    config = str(console.settings.config_path)
    assert main(["pause", "--reason", "storm", "--config", config], out=out) == 0
    assert "(storm)" in organizer.get("/status").text
    organizer.post("/resume", data={"csrf": _csrf(organizer)})
    assert console.store.paused()[0] is False


def test_review_marks_an_unknown_delivery_once(organizer: TestClient, console: Console) -> None:
    """'It is published' settles the row as the CLI's review does; a second try says the
    row no longer awaits review."""
    row = unknown(console.store, "m1", START - timedelta(hours=1))
    other = unknown(console.store, "x1", START - timedelta(hours=2))
    page = organizer.get("/review").text
    assert "It is published" in page
    token = csrf_of(page)
    done = organizer.post(
        f"/review/{row.id}", data={"csrf": token, "outcome": "published", "note": "seen"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    settled = console.store.get_by_id(row.id)
    assert settled is not None and settled.status == "published"
    assert settled.last_error is not None and "Ana (console)" in settled.last_error
    again = organizer.post(f"/review/{row.id}", data={"csrf": token, "outcome": "published"})
    assert again.status_code == 409
    organizer.post(f"/review/{other.id}", data={"csrf": token, "outcome": "not-published"})
    assert console.store.get_by_id(other.id).status == "failed"  # type: ignore[union-attr]
    assert "Nothing needs review" in organizer.get("/review").text
    bad = organizer.post(f"/review/{other.id}", data={"csrf": token, "outcome": "maybe"})
    assert bad.status_code == 400


def test_review_records_the_link_of_the_post_found(organizer: TestClient, console: Console) -> None:
    """The optional link: the post's id and address are recorded with 'It is published' (a
    thread goes on replying to it); a link of no post of that network is a 400 saying what
    to copy, and nothing is settled."""
    row = unknown(console.store, "m1", START - timedelta(hours=1))
    assert row.network == "mastodon"
    token = csrf_of(organizer.get("/review").text)
    wrong = organizer.post(f"/review/{row.id}", data={
        "csrf": token, "outcome": "published", "url": "https://x.com/a/status/1"})  # fmt: skip
    assert wrong.status_code == 400 and "not the link of a mastodon post" in wrong.text
    assert console.store.get_by_id(row.id).status == "unknown"  # type: ignore[union-attr]
    link = "https://mastodon.example/@families/113500000000000000"
    done = organizer.post(
        f"/review/{row.id}", data={"csrf": token, "outcome": "published", "url": link},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    settled = console.store.get_by_id(row.id)
    assert settled is not None
    assert (settled.status, settled.remote_id, settled.url) == (
        "published", "113500000000000000", link,
    )  # fmt: skip


def test_post_now_goes_through_the_workers_path(organizer: TestClient, console: Console) -> None:
    """Post now of one post to an account: the worker's post_now claims, sends and records
    it; the post went to the network, and the history shows it."""
    networks = {a.name: MemoryNetwork(a.name, a.network) for a in console.settings.accounts}

    def network(account: Account) -> MemoryNetwork:
        return networks[account.name]

    console.network_factory = network
    answer = organizer.post(
        "/post-now", data={"csrf": _csrf(organizer), "account": "x1", "post": "cost"}
    )
    assert answer.status_code == 200, answer.text
    [sent] = networks["x1"].sent
    assert sent.text.startswith("Detaining a family costs")
    [row] = console.store.history(account="x1", statuses=["published"])
    assert row.template_id == "cost" and row.text == sent.text
    assert (
        '<td data-label="Post">cost</td>'
        in organizer.get("/history", params={"account": "x1"}).text
    )
    paused = organizer.post("/pause", data={"csrf": _csrf(organizer)})
    assert paused.status_code == 200
    refused = organizer.post(
        "/post-now", data={"csrf": _csrf(organizer), "account": "x1", "post": "call"}
    )
    assert refused.status_code == 409 and "resume" in refused.text
    assert len(networks["x1"].sent) == 1
    unknown_account = organizer.post("/post-now", data={"csrf": _csrf(organizer), "account": "zz"})
    assert unknown_account.status_code == 400
