"""The calendar shows what ``amplifier preview`` predicts, and that comes true: after reading
the calendar, the worker (``Worker.run_pending`` at each slot's time, on an injected clock,
MemoryNetwork accounts) sends each slot's post, to the character, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from amplifier.cli import main
from amplifier.config import Account
from amplifier.networks.memory import MemoryNetwork
from amplifier.web import Console
from amplifier.worker import Worker

from .conftest import Clock
from .rows import published


class Slots(HTMLParser):
    """Each calendar slot's data attributes and its post's text."""

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[dict[str, str]] = []
        self._quote = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "article" and "data-account" in found:
            self.slots.append({**found, "text": ""})
        self._quote = tag == "blockquote" and bool(self.slots)

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._quote = False

    def handle_data(self, data: str) -> None:
        if self._quote:
            self.slots[-1]["text"] += data


def calendar(client: TestClient) -> list[dict[str, str]]:
    parser = Slots()
    parser.feed(client.get("/").text)
    return parser.slots


def test_calendar_is_previews_prediction_and_the_worker_then_sends_it(
    viewer: TestClient, console: Console, clock: Clock
) -> None:
    """Every slot the calendar shows is one preview prints (same account, time, post); then
    the worker, run at each slot's due time, records exactly the calendar's post and text."""
    published(console.store, "x1", clock.now - timedelta(hours=5), post="asylum")
    slots = calendar(viewer)
    sends = [s for s in slots if s["data-kind"] == "sends"]
    assert len(sends) >= 15 and {s["data-account"] for s in sends} == {"x1", "m1"}
    assert any(s["data-kind"] == "skipped" for s in slots)  # the guards hold some back

    out = io.StringIO()
    config = str(console.settings.config_path)
    argv = ["preview", "--days", "14", "--config", config, "--posts", str(console.posts_path)]
    assert main(argv, out=out, clock=clock) == 0
    printed = set(re.findall(r"^  (\w{3} \S+ \S+ \S+)  sends (\S+) ", out.getvalue(), re.M))
    zones = {a.name: ZoneInfo(console.settings.schedules[a.schedule].timezone)
             for a in console.settings.accounts}  # fmt: skip
    shown = {
        (datetime.fromisoformat(s["data-due"]).astimezone(zones[s["data-account"]])
         .strftime("%a %Y-%m-%d %H:%M %Z"), s["data-post"])
        for s in sends
    }  # fmt: skip
    assert shown == printed

    networks = {a.name: MemoryNetwork(a.name, a.network) for a in console.settings.accounts}

    def network(account: Account) -> MemoryNetwork:
        return networks[account.name]

    worker = Worker(
        console.settings, console.library, console.store, network, worker_id="w",
        clock=clock, sleep=lambda seconds: None, rehearsals=console.rehearsals,
    )  # fmt: skip
    for due in sorted({datetime.fromisoformat(s["data-due"]) for s in slots}):
        clock.now = due
        worker.run_pending()
    for slot in slots:
        due = datetime.fromisoformat(slot["data-due"])
        [row] = [r for r in console.store.history(account=slot["data-account"], limit=500)
                 if r.due_at == due]  # fmt: skip
        if slot["data-kind"] == "sends":
            assert (row.status, row.template_id) == ("published", slot["data-post"])
            assert row.text == unescape(slot["text"])
        else:
            assert row.status == slot["data-kind"], slot
