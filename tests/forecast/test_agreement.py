"""The forecast comes true: predict slots on every network, run them, compare post by post.

Accounts on X (two, under distinct text and an X budget), Mastodon, Bluesky and a dry-run
Mastodon account; a day of stored history, a post-now beforehand, guards that refuse some
posts (a daily cap, no repeats, a post that @mentions, near-duplicates, the budget), and a
rate-limit window still shut. ``predict`` runs over that state; then ``Worker.run_pending``
runs at each predicted slot's time (and the window's reset) on an injected clock against
MemoryNetwork accounts, and every slot's row must be what the forecast said: the same post,
the same text to the character, the same skip and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import Settings
from amplifier.content import Library
from amplifier.errors import RateLimited
from amplifier.forecast import Forecast, SlotForecast, predict, slot_key
from amplifier.networks.base import RateLimitWindow
from amplifier.networks.dryrun import DryRunNetwork
from amplifier.networks.links import shown_link
from amplifier.networks.memory import MemoryNetwork
from amplifier.schedule import seed_key, slot_spec, slots_between
from amplifier.store import Delivery, Store
from amplifier.worker import Worker

NY = ZoneInfo("America/New_York")
REHEARSAL = {"d1": "dry run (no credentials: D1_TOKEN not set): logged, not sent"}

CONFIG = """
database_url = "sqlite:///{db}"
seed = "agreement"
[worker]
grace_minutes = 30
lookback_hours = 24
[guards]
daily_cap = 2
no_repeat_days = 2
distinct_text_days = 7
[campaigns.c]
language = "en"
{attribution}
[campaigns.c.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "EndFamilySeparation", "RefugeesWelcome"]
per_post = 1
[schedules.three]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:00"]
random_offset_minutes = 10
[schedules.two]
timezone = "America/Chicago"
times = ["08:00", "15:30"]
random_offset_minutes = 5
[[accounts]]
name = "x1"
network = "x"
campaigns = ["c"]
schedule = "three"
monthly_budget_usd = 0.5
[[accounts]]
name = "x2"
network = "x"
campaigns = ["c"]
schedule = "two"
[[accounts]]
name = "m1"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["c"]
schedule = "three"
[[accounts]]
name = "b1"
network = "bluesky"
handle = "b1.example"
campaigns = ["c"]
schedule = "two"
[[accounts]]
name = "d1"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["c"]
schedule = "three"
"""

POSTS = {
    "asylum": "Seeking asylum is a legal right under US and international law.",
    "courts": "Families released with a caseworker came to nearly every court date.",
    "cost": "Detaining a family costs far more than supporting it in the community.",
    "call": "Call your member of Congress and ask them to stop funding family detention.",
    "call-again": "Please call your member of Congress and ask them to stop funding family "
    "detention.",
    "doctors": "Pediatricians warn that detention harms children even after a short stay.",
    "thanks": "Thank you @ana for standing with families at the hearing.",
    "read": "Read the report on family detention at https://example.org/report today.",
    "donate": "Support the legal teams at https://example.org/give this week.",
}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


class Deployment:
    """One database, MemoryNetwork accounts (d1 a dry run), a worker on an injected clock."""

    def __init__(
        self,
        tmp_path: Path,
        start: datetime,
        *,
        attribution: str = "",
        links: dict[str, str] | None = None,
    ) -> None:
        folder = tmp_path / "posts"
        folder.mkdir()
        for post_id, text in POSTS.items():
            link = f"link: {links[post_id]}\n" if links and post_id in links else ""
            (folder / f"{post_id}.md").write_text(
                f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n{link}---\n{text}\n"
            )
        config = CONFIG.format(db=tmp_path / "state.db", attribution=attribution)
        (tmp_path / "config.toml").write_text(config)
        loaded: tuple[Settings, Library] = load(tmp_path / "config.toml", None)
        self.settings, self.library = loaded
        self.clock = Clock(start)
        self.store = Store(self.settings.sqlalchemy_url, clock=self.clock)
        self.store.migrate()
        self.printed: list[str] = []
        self.nets: dict[str, MemoryNetwork | DryRunNetwork] = {
            a.name: MemoryNetwork(a.name, a.network) for a in self.settings.accounts
        }
        self.nets["d1"] = DryRunNetwork("d1", "mastodon", write=self.printed.append)
        self.worker = Worker(
            self.settings,
            self.library,
            self.store,
            lambda account: self.nets[account.name],
            worker_id="w",
            clock=self.clock,
            sleep=lambda seconds: None,
            rehearsals=REHEARSAL,
        )

    def run_at(self, moment: datetime) -> None:
        self.clock.now = moment
        self.worker.run_pending()

    def forecast(self, count: int) -> Forecast:
        return predict(
            self.settings, self.library, self.store, self.clock.now, rehearsals=REHEARSAL,
            count=count,
        )  # fmt: skip

    def row(self, account: str, predicted: SlotForecast) -> Delivery:
        key = slot_key(predicted.slot.key, rehearsal=account in REHEARSAL)
        found = self.store.get(account, key)
        assert found is not None, f"no row for {account} {key}"
        return found


def _history(deployment: Deployment) -> None:
    """A day of posting through the worker, then a post-now on m1 and on x1."""
    day = datetime(2026, 11, 23, tzinfo=NY)
    for half_hour in range(0, 48):
        deployment.run_at((day + timedelta(minutes=30 * half_hour + 17)).astimezone(UTC))
    deployment.clock.now = datetime(2026, 11, 24, 7, 40, tzinfo=NY).astimezone(UTC)
    deployment.worker.post_now("m1")
    deployment.worker.post_now("x1")


def _compare(deployment: Deployment, forecast: Forecast) -> dict[str, int]:
    """Every predicted slot against its row; counts of what the forecast exercised."""
    seen = {"sent": 0, "replaced": 0, "skipped": 0, "deferred": 0, "rehearsed": 0}
    for account in forecast.accounts:
        name = account.account.name
        for predicted in account.slots:
            if predicted.recorded is not None:
                continue  # due before the forecast, already recorded: nothing to predict
            decision = predicted.decision
            assert decision is not None
            row = deployment.row(name, predicted)
            where = (name, predicted.slot.key, row.status, row.last_error)
            if decision.action == "send":
                assert decision.planned is not None
                expected = "rehearsed" if decision.rehearsal else "published"
                assert row.status == expected, where
                assert row.template_id == decision.planned.template.id, where
                assert row.text == decision.planned.rendered.text, where
                seen["sent"] += 1
                seen["replaced"] += bool(decision.replaced)
                seen["deferred"] += decision.deferred is not None
                seen["rehearsed"] += decision.rehearsal
            else:
                assert decision.action == "skip", where
                prefix = "dry run: " if decision.rehearsal else ""
                assert (row.status, row.last_error) == ("skipped", prefix + (decision.reason or ""))
                seen["skipped"] += 1
    return seen


@pytest.mark.parametrize("count", [4, 9])
def test_preview_then_run_agree_on_every_network(tmp_path: Path, count: int) -> None:
    """Predicted N slots per account, then run: every row is the predicted post, text by
    text, or the predicted skip with its reason; the networks received exactly those texts."""
    deployment = Deployment(tmp_path, datetime(2026, 11, 23, 0, 5, tzinfo=NY).astimezone(UTC))
    _history(deployment)
    # b1's write window is shut until after its next slot: its post waits for the reset.
    reset = datetime(2026, 11, 24, 9, 20, tzinfo=NY).astimezone(UTC)
    deployment.store.save_rate_limits("b1", [RateLimitWindow("1h", 100, 0, reset)])
    sent_before = {name: len(getattr(net, "sent", [])) for name, net in deployment.nets.items()}
    forecast = deployment.forecast(count)

    # The worker's jobs fire at each slot's due time (every account's, up to the last slot
    # predicted); the window's reset is a pass too.
    horizon = max(p.slot.due_at for a in forecast.accounts for p in a.slots)
    moments = {reset}
    for account in deployment.settings.accounts:
        spec, key = slot_spec(deployment.settings, account), seed_key(deployment.settings, account)
        moments |= {s.due_at for s in slots_between(spec, key, forecast.now, horizon)}
        moments.add(horizon)
    for moment in sorted(m for m in moments if m > forecast.now):
        deployment.run_at(moment)
    seen = _compare(deployment, forecast)
    print(f"\nforecast of {count} slots per account came true: {seen}")

    assert seen["sent"] > 0 and seen["skipped"] > 0 and seen["replaced"] > 0
    assert seen["deferred"] == 1 and seen["rehearsed"] > 0
    for account in forecast.accounts:
        name = account.account.name
        net = deployment.nets[name]
        if isinstance(net, MemoryNetwork):
            predicted_texts = [
                p.decision.planned.rendered.text
                for p in account.slots
                if p.decision is not None
                and p.decision.action == "send"
                and p.decision.planned is not None
            ]
            # (later slots of the account, up to the last one predicted, went out after these)
            sent = [post.text for post in net.sent[sent_before[name] :]]
            assert sent[: len(predicted_texts)] == predicted_texts
    # Each rehearsal printed once, however many passes went by.
    rehearsed = deployment.store.history(account="d1", limit=1000, statuses=["rehearsed"])
    assert len(deployment.printed) == len(rehearsed)


def test_preview_counts_the_post_now_before_it(tmp_path: Path) -> None:
    """After post-now sends a post, the forecast's next slot for that account is another one,
    and the slot then sends exactly that (issue 12: preview named the post-now's post again)."""
    deployment = Deployment(tmp_path, datetime(2026, 11, 24, 7, 0, tzinfo=NY).astimezone(UTC))
    deployment.run_at(deployment.clock.now)  # the deployment starts
    first = deployment.forecast(1).accounts[2]
    assert first.account.name == "m1" and first.slots[0].decision is not None
    planned = first.slots[0].decision.planned
    assert planned is not None
    wanted = planned.template.id
    deployment.clock.now += timedelta(minutes=5)
    deployment.worker.post_now("m1", wanted)
    after = deployment.forecast(1).accounts[2].slots[0]
    assert after.decision is not None and after.decision.planned is not None
    assert after.decision.planned.template.id != wanted
    deployment.run_at(after.slot.due_at)
    row = deployment.row("m1", after)
    assert (row.template_id, row.text) == (
        after.decision.planned.template.id,
        after.decision.planned.rendered.text,
    )


SMALL = """
database_url = "sqlite:///{db}"
seed = "small"
[guards]
no_repeat_days = 2
[campaigns.c]
language = "en"
[schedules.daily]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "m1"
network = "mastodon"
instance = "https://mastodon.example"
campaigns = ["c"]
schedule = "daily"
"""


def test_a_stored_deferral_is_expected_at_its_retry(tmp_path: Path) -> None:
    """A post deferred by a 429 when the forecast runs is expected to go out at its retry
    time, not to stay pending for ever: the no-repeat window then runs from that moment, so
    two posts, a slot a day and a 2-day window give send, send, skip, then the deferred post
    again on the third day, as the worker then does."""
    folder = tmp_path / "posts"
    folder.mkdir()
    for post_id in ("asylum", "courts"):
        (folder / f"{post_id}.md").write_text(
            f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n---\n{POSTS[post_id]}\n"
        )
    (tmp_path / "config.toml").write_text(SMALL.format(db=tmp_path / "state.db"))
    settings, library = load(tmp_path / "config.toml", None)
    clock = Clock(datetime(2026, 11, 23, 8, tzinfo=UTC))
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    net = MemoryNetwork("m1", "mastodon")
    worker = Worker(settings, library, store, lambda a: net, worker_id="w", clock=clock,
                    sleep=lambda s: None)  # fmt: skip
    worker.run_pending()
    retry = datetime(2026, 11, 23, 12, tzinfo=UTC)
    net.enqueue(RateLimited("429", retry_at=retry, window="5m"))
    clock.now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    worker.run_pending()
    first = store.get("m1", "2026-11-23T09:00")
    assert first is not None and first.status == "deferred"

    clock.now = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    forecast = predict(settings, library, store, clock.now, rehearsals={}, count=3)
    (recorded, *coming) = forecast.accounts[0].slots
    assert recorded.recorded is not None and recorded.recorded.status == "deferred"
    decisions = [slot.decision for slot in coming]
    assert [d.action if d else None for d in decisions] == ["send", "skip", "send"]
    third = decisions[2]
    assert third is not None and third.planned is not None
    assert third.planned.template.id == first.template_id  # 69 h after its retry at 12:00
    for moment in (retry, *(s.slot.due_at for s in coming)):
        clock.now = moment
        worker.run_pending()
    for predicted in coming:
        decision = predicted.decision
        assert decision is not None
        row = store.get("m1", predicted.slot.key)
        assert row is not None
        if decision.planned is not None and decision.action == "send":
            assert (row.status, row.template_id) == ("published", decision.planned.template.id)
        else:
            assert (row.status, row.last_error) == ("skipped", decision.reason)


LINKS = {
    "asylum": "https://example.org/asylum?lang=en#rights",
    "courts": "https://example.org/courts",
    "cost": "https://example.org/cost?utm_source=newsletter",  # tagged by hand: as written
    "call": "https://example.org/call",
    "call-again": "https://example.org/call",
    "doctors": "https://example.org/doctors",
}


@pytest.mark.parametrize(
    "attribution", ['attribution = "utm"', 'attribution = "refcode={network}_{post}"']
)
def test_tagged_links_agree_on_every_network(tmp_path: Path, attribution: str) -> None:
    """With the campaign tagging links: the forecast's text and link are the row's and what
    each network received; X and Mastodon carry the tagged address in the text, Bluesky
    shows it short and hands the whole address over for its facet."""
    deployment = Deployment(
        tmp_path,
        datetime(2026, 11, 24, 0, 5, tzinfo=NY).astimezone(UTC),
        attribution=attribution,
        links=LINKS,
    )
    forecast = deployment.forecast(3)
    horizon = max(p.slot.due_at for a in forecast.accounts for p in a.slots)
    moments = {horizon}
    for account in deployment.settings.accounts:
        spec, key = slot_spec(deployment.settings, account), seed_key(deployment.settings, account)
        moments |= {s.due_at for s in slots_between(spec, key, forecast.now, horizon)}
    for moment in sorted(moments):
        deployment.run_at(moment)
    assert _compare(deployment, forecast)["sent"] > 0
    tagged = 0
    networks: set[str] = set()
    for account in forecast.accounts:
        name, network = account.account.name, account.account.network
        net = deployment.nets[name]
        sent = {post.idempotency_key: post for post in getattr(net, "sent", [])}
        for predicted in account.slots:
            decision = predicted.decision
            if decision is None or decision.action != "send" or decision.planned is None:
                continue
            rendered, template = decision.planned.rendered, decision.planned.template
            row = deployment.row(name, predicted)
            assert (row.text, row.link) == (rendered.text, rendered.link)
            if row.idempotency_key in sent:
                post = sent[row.idempotency_key]
                assert (post.text, post.link) == (rendered.text, rendered.link)
            if template.link is None:
                assert rendered.link is None
                continue
            assert rendered.link is not None
            if template.id == "cost" and "utm" in attribution:
                assert rendered.link == template.link
                continue
            code = f"refcode={network}_{template.id}" if "refcode" in attribution else (
                f"utm_source={network}&utm_medium=social&utm_campaign=c&utm_content={template.id}"
            )  # fmt: skip
            assert code in rendered.link and rendered.link.startswith(template.link.split("#")[0])
            if network == "bluesky":
                assert rendered.link not in rendered.text
                assert shown_link(rendered.link) in rendered.text
            else:
                assert rendered.link in rendered.text
            tagged += 1
            networks.add(network)
    assert tagged > 0 and networks == {"x", "mastodon", "bluesky"}
