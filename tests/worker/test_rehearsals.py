"""Dry runs leave no trace in the live state, and decisions never race each other.

Every kind of dry run (the --dry-run flag and the dry_run setting hand the worker a dry-run
network for every account; an account without credentials gets one of its own) is recorded
'rehearsed' under the rehearsal prefix with a rotation of its own, logged once, and counted
by no live guard, spend, rotation or "last post". And a claim only lands on the rotation its
decision read: two deciders for one account never send the same post twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.errors import RateLimited, StateMoved
from amplifier.guards import SENT
from amplifier.networks.base import Network
from amplifier.networks.dryrun import DryRunNetwork
from amplifier.networks.memory import MemoryNetwork
from amplifier.schedule import AccountState, PlannedPost, Slot, plan_slot
from amplifier.store import Store
from amplifier.worker import Worker

NY = ZoneInfo("America/New_York")
CONFIG = """
database_url = "sqlite:///{db}"
seed = "rehearsals"
[guards]
daily_cap = 1
no_repeat_days = 3
x_duplicate_days = 14
distinct_text_days = 7
[campaigns.c]
language = "en"
[schedules.morning]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:30"]
[schedules.later]
timezone = "America/New_York"
times = ["09:30", "13:30", "19:00"]
[[accounts]]
name = "x1"
network = "x"
campaigns = ["c"]
schedule = "morning"
monthly_budget_usd = 0.015
[[accounts]]
name = "x2"
network = "x"
campaigns = ["c"]
schedule = "later"
"""
POSTS = {
    "asylum": "Seeking asylum is a legal right under US and international law.",
    "courts": "Families released with a caseworker came to nearly every court date.",
    "cost": "Detaining a family costs far more than supporting it in the community.",
    "doctors": "Pediatricians warn that detention harms children even after a short stay.",
}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def ny(day: str, at: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{at}").replace(tzinfo=NY).astimezone(UTC)


class Deployment:
    """One database; workers made with each account's network live or dry-run."""

    def __init__(self, tmp_path: Path, *, daily_cap: int = 1) -> None:
        folder = tmp_path / "posts"
        folder.mkdir()
        for post_id, text in POSTS.items():
            (folder / f"{post_id}.md").write_text(
                f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n---\n{text}\n"
            )
        config = CONFIG.format(db=tmp_path / "state.db")
        config = config.replace("daily_cap = 1", f"daily_cap = {daily_cap}")
        (tmp_path / "config.toml").write_text(config)
        loaded: tuple[Settings, Library] = load(tmp_path / "config.toml", None)
        self.settings, self.library = loaded
        self.clock = Clock(ny("2026-11-23", "08:00"))
        self.store = Store(self.settings.sqlalchemy_url, clock=self.clock)
        self.store.migrate()
        self.live = {a.name: MemoryNetwork(a.name, a.network) for a in self.settings.accounts}
        self.printed: list[str] = []

    def worker(self, *dry: str, worker_id: str = "w") -> Worker:
        """A worker whose accounts in ``dry`` get the dry-run network (no credentials)."""

        def network(account: Account) -> Network:
            if account.name in dry:
                return DryRunNetwork(account.name, account.network, write=self.printed.append)
            return self.live[account.name]

        notes = {name: "dry run (test): logged, not sent" for name in dry}
        store = Store(self.settings.sqlalchemy_url, clock=self.clock)
        return Worker(
            self.settings, self.library, store, network, worker_id=worker_id, clock=self.clock,
            sleep=lambda seconds: None, rehearsals=notes,
        )  # fmt: skip

    def at(self, worker: Worker, day: str, at: str) -> None:
        self.clock.now = ny(day, at)
        worker.run_pending()

    def first_pick(self, account: str, due: datetime) -> PlannedPost:
        """What an account's empty rotation would pick first for a slot."""
        slot = Slot(due_at=due, nominal=due.astimezone(NY), key="probe")
        planned, _ = plan_slot(
            self.settings, self.library, self.settings.account(account), slot, AccountState()
        )
        assert isinstance(planned, PlannedPost)
        return planned


def test_a_rehearsed_day_counts_for_nothing_live(tmp_path: Path) -> None:
    """A dry-run day of x1 (logged once each, rehearsal rotation and guards of its own) then
    credentials arrive: the live account starts from the live rotation, and the very post the
    rehearsal printed today goes out although the daily cap (1), no-repeat, the X duplicate
    rule and the $0.015 budget would all refuse it if the rehearsal counted."""
    deployment = Deployment(tmp_path)
    dry = deployment.worker("x1", "x2")
    deployment.at(dry, "2026-11-23", "08:00")
    deployment.at(dry, "2026-11-23", "09:01")
    deployment.at(dry, "2026-11-23", "09:02")  # a second pass prints nothing again
    deployment.at(dry, "2026-11-23", "13:01")
    store = deployment.store
    first = store.get("x1", "rehearsal:2026-11-23T09:00")
    assert first is not None and first.status == "rehearsed"
    assert first.last_error == "dry run (test): logged, not sent"
    assert first.sent_at == ny("2026-11-23", "09:01")
    capped = store.get("x1", "rehearsal:2026-11-23T13:00")
    assert capped is not None and capped.status == "skipped"
    assert capped.last_error == (  # the rehearsal applies the guards to its own day
        "dry run: guard daily-cap: 1 posts already on 2026-11-23 (local), the daily cap is 1"
    )
    assert len([line for line in deployment.printed if "account=x1 " in line]) == 1
    assert store.load_rotation("x1") is None  # the live rotation never moved
    assert store.load_rotation("rehearsal:x1") is not None
    assert store.history(statuses=list(SENT)) == []
    assert store.last_published("x1") is None
    month = (ny("2026-11-01", "00:00"), ny("2026-12-01", "00:00"))
    assert store.spend_micros(*month, statuses=SENT) == 0

    live = deployment.worker(worker_id="live")
    deployment.at(live, "2026-11-23", "18:31")
    row = store.get("x1", "2026-11-23T18:30")
    assert row is not None and row.status == "published", row
    assert (
        row.template_id == first.template_id == deployment.first_pick("x1", row.due_at).template.id
    )
    assert row.text == first.text
    # Going live started the live account then: its rehearsal day is not recorded as missed.
    assert [r.slot_key for r in store.history(account="x1") if r.slot_key[0].isdigit()] == [
        "2026-11-23T18:30"
    ]


def test_an_account_without_credentials_is_counted_by_no_other(tmp_path: Path) -> None:
    """x1 has no credentials and rehearses (post-now too); x2 is live: x2 may send the very
    post x1 rehearsed minutes before, the distinct-text rule counting only what went out."""
    deployment = Deployment(tmp_path)
    worker = deployment.worker("x1")
    deployment.at(worker, "2026-11-23", "08:00")
    wanted = deployment.first_pick("x2", ny("2026-11-23", "09:30")).template.id
    deployment.clock.now = ny("2026-11-23", "09:20")
    rehearsed = worker.post_now("x1", wanted)
    assert (rehearsed.status, rehearsed.template_id) == ("rehearsed", wanted)
    assert rehearsed.slot_key.startswith("rehearsal:manual-")
    deployment.at(worker, "2026-11-23", "09:31")
    sent = deployment.store.get("x2", "2026-11-23T09:30")
    assert sent is not None and (sent.status, sent.template_id) == ("published", wanted)


def test_live_rows_wait_while_their_account_rehearses(tmp_path: Path) -> None:
    """A live post deferred by a 429 is not "published" by a dry-run worker after its reset:
    it waits, and the next live worker sends it."""
    deployment = Deployment(tmp_path)
    live = deployment.worker(worker_id="live")
    deployment.at(live, "2026-11-23", "08:00")
    reset = ny("2026-11-23", "10:00")
    deployment.live["x1"].enqueue(RateLimited("429", retry_at=reset, window="15m"))
    deployment.at(live, "2026-11-23", "09:01")
    dry = deployment.worker("x1", "x2", worker_id="dry")
    deployment.at(dry, "2026-11-23", "10:01")
    row = deployment.store.get("x1", "2026-11-23T09:00")
    assert row is not None and row.status == "deferred" and row.remote_id is None
    deployment.at(deployment.worker(worker_id="live-again"), "2026-11-23", "10:02")
    row = deployment.store.get("x1", "2026-11-23T09:00")
    assert row is not None and row.status == "published"
    assert len(deployment.live["x1"].sent) == 1


def test_a_claim_lands_only_on_the_rotation_its_decision_read(tmp_path: Path) -> None:
    """Two workers (a pass and a post-now, say) decide for one account on the same state: the
    first claim lands; the second raises StateMoved and records nothing, and deciding again
    picks another post. Before, both went out: the same post twice."""
    deployment = Deployment(tmp_path, daily_cap=8)
    one, two = deployment.worker(worker_id="one"), deployment.worker(worker_id="two")
    deployment.at(one, "2026-11-23", "08:00")
    account = deployment.settings.account("x2")
    now = deployment.clock.now
    slots = [Slot(now, now.astimezone(NY), f"manual-{n}") for n in (1, 2)]
    views = [one.flow.view(rehearsal=False, now=now), two.flow.view(rehearsal=False, now=now)]
    first = one.flow.decide(account, slots[0], now, None, views[0])
    second = two.flow.decide(account, slots[1], now, None, views[1])
    assert first.planned is not None and second.planned is not None
    assert first.planned.template.id == second.planned.template.id
    assert one.flow.act(first, views[0], now) is not None
    with pytest.raises(StateMoved):
        two.flow.act(second, views[1], now)
    assert deployment.store.get("x2", "manual-2") is None
    again = two.post_now("x2")
    assert again.template_id != first.planned.template.id
    assert len(deployment.live["x2"].sent) == 2


def test_post_now_twice_in_one_instant(tmp_path: Path) -> None:
    """Two post-now calls at the very same clock reading are two slots, two posts."""
    deployment = Deployment(tmp_path, daily_cap=8)
    worker = deployment.worker()
    deployment.clock.now = ny("2026-11-23", "10:00")
    rows = [worker.post_now("x2"), worker.post_now("x2")]
    assert rows[0].slot_key != rows[1].slot_key
    assert {row.status for row in rows} == {"published"}
    assert rows[0].template_id != rows[1].template_id


def test_a_deployment_starts_with_its_first_worker(tmp_path: Path) -> None:
    """docs/development.md: a brand-new deployment records nothing older than the grace
    window before its first worker start; a slot within it (10 minutes before) still goes
    out, as after any restart."""
    deployment = Deployment(tmp_path)
    deployment.at(deployment.worker(), "2026-11-23", "13:10")
    rows = deployment.store.history()
    assert sorted((r.account, r.slot_key, r.status) for r in rows) == [
        ("x1", "2026-11-23T13:00", "published")
    ]
    assert deployment.store.starts()["live:x1"] == ny("2026-11-23", "13:10")
    assert timedelta(0) < ny("2026-11-23", "13:10") - rows[0].due_at <= timedelta(minutes=30)


def test_a_rehearsal_never_reaches_a_live_network_nor_the_reverse(tmp_path: Path) -> None:
    """Told x1 rehearses while its factory hands it a live network: the slot is rehearsed and
    nothing is sent. Told x1 is live while it gets the dry-run network: the post is failed,
    never recorded published by a network that only prints."""
    deployment = Deployment(tmp_path)
    store = Store(deployment.settings.sqlalchemy_url, clock=deployment.clock)
    told_rehearsal = Worker(
        deployment.settings, deployment.library, store, lambda a: deployment.live[a.name],
        worker_id="a", clock=deployment.clock, sleep=lambda s: None,
        rehearsals={"x1": "dry run (test)", "x2": "dry run (test)"},
    )  # fmt: skip
    deployment.at(told_rehearsal, "2026-11-23", "08:00")
    deployment.at(told_rehearsal, "2026-11-23", "09:01")
    row = deployment.store.get("x1", "rehearsal:2026-11-23T09:00")
    assert row is not None and row.status == "rehearsed"
    assert deployment.live["x1"].attempts == []

    printing = DryRunNetwork("x1", "x", write=deployment.printed.append)
    told_live = Worker(
        deployment.settings, deployment.library, store,
        lambda a: printing if a.name == "x1" else deployment.live[a.name],
        worker_id="b", clock=deployment.clock, sleep=lambda s: None, rehearsals={},
    )  # fmt: skip
    deployment.at(told_live, "2026-11-23", "13:01")
    row = deployment.store.get("x1", "2026-11-23T13:00")
    assert row is not None and row.status == "failed", row
    assert "nothing was sent" in (row.last_error or "")
    assert deployment.printed == []
