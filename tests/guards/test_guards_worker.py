"""The guard step inside the worker: MemoryNetwork accounts, a SQLite store, a fake clock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.errors import AmplifierError, RateLimited
from amplifier.guards import SENT
from amplifier.guards.spend import month_bounds
from amplifier.networks.memory import MemoryNetwork
from amplifier.schedule.planner import AccountState, PlannedPost, plan_slot
from amplifier.schedule.slots import Slot
from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.worker import Worker

NY = ZoneInfo("America/New_York")

ACCOUNTS = """
[[accounts]]
name = "x1"
network = "x"
campaigns = ["c"]
schedule = "morning"
{x1}
[[accounts]]
name = "x2"
network = "x"
campaigns = ["c"]
schedule = "later"
"""

CONFIG = """
seed = "guards"
[guards]
{guards}
[campaigns.c]
language = "en"
[schedules.morning]
timezone = "America/New_York"
times = ["09:00", "13:00", "18:00"]
[schedules.later]
timezone = "America/New_York"
times = ["09:30", "13:30", "18:30"]
"""

DISTINCT_POSTS = {
    "asylum": "Seeking asylum is a legal right under US and international law.",
    "courts": "Families released with a caseworker came to nearly every court date.",
    "cost": "Detaining a family costs far more than supporting it in the community.",
    "call": "Call your member of Congress and ask them to stop funding family detention.",
    "doctors": "Pediatricians warn that detention harms children even after a short stay.",
    "reunite": "Hundreds of separated children were still waiting to see their parents again.",
}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def ny(day: str, at: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{at}").replace(tzinfo=NY).astimezone(UTC)


class Rig:
    """A project folder, a SQLite state database and one MemoryNetwork per account."""

    def __init__(
        self,
        tmp_path: Path,
        posts: dict[str, str],
        *,
        guards: str = "",
        x1: str = "",
        allow: frozenset[str] = frozenset(),
    ) -> None:
        folder = tmp_path / "posts"
        folder.mkdir(parents=True)
        for post_id, text in posts.items():
            extra = "allow_mentions: true\n" if post_id in allow else ""
            (folder / f"{post_id}.md").write_text(
                f"---\nid: {post_id}\ncampaign: c\nlanguage: en\nsource: test\n{extra}---\n{text}\n"
            )
        self.config = tmp_path / "config.toml"
        url = f"sqlite:///{tmp_path / 'state.db'}"
        self.config.write_text(
            f'database_url = "{url}"\n' + CONFIG.format(guards=guards) + ACCOUNTS.format(x1=x1)
        )
        self.settings, self.library = load(self.config, None)
        self.clock = Clock(ny("2026-11-23", "08:00"))
        self.store = Store(url, clock=self.clock)
        self.store.migrate()
        self.nets = {a.name: MemoryNetwork(a.name, a.network) for a in self.settings.accounts}
        self.worker = Worker(
            self.settings,
            self.library,
            self.store,
            lambda account: self.nets[account.name],
            worker_id="w",
            clock=self.clock,
            sleep=lambda seconds: None,
        )
        self.worker.run_pending()  # the deployment starts here: earlier slots are not missed

    def at(self, day: str, at: str) -> list[Delivery]:
        self.clock.now = ny(day, at)
        return self.worker.run_pending()

    def row(self, account: str, key: str) -> Delivery:
        found = self.store.get(account, key)
        assert found is not None, f"no row for {account} {key}"
        return found

    def first_pick(self, account: str, due: datetime) -> str:
        """The post the account's rotation would choose first for a slot, by the planner."""
        local = due.astimezone(NY)
        slot = Slot(due_at=due, nominal=local, key="probe")
        plan, _ = plan_slot(
            self.settings, self.library, self.settings.account(account), slot, AccountState()
        )
        assert isinstance(plan, PlannedPost)
        return plan.template.id


def test_second_x_account_gets_another_post(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """x2's rotation wants the post x1 just sent: it is refused and the next one goes out."""
    caplog.set_level(logging.INFO, logger="amplifier")
    rig = Rig(tmp_path, {"a": DISTINCT_POSTS["asylum"], "b": DISTINCT_POSTS["courts"]})
    slot_key = "2026-11-23T09:30"
    wanted = rig.first_pick("x2", ny("2026-11-23", "09:30"))
    rig.clock.now = ny("2026-11-23", "08:30")
    rig.worker.post_now("x1", wanted)  # x1 sends exactly what x2's rotation would pick
    rig.at("2026-11-23", "09:31")
    row = rig.row("x2", slot_key)
    assert row.status == "published"
    assert row.template_id != wanted
    assert rig.nets["x1"].sent[0].text != rig.nets["x2"].sent[0].text
    guard_lines = [r.getMessage() for r in caplog.records if "event=guard " in r.getMessage()]
    assert any(
        f"account=x2 slot={slot_key} rule=distinct-text" in line and "1.00 similar" in line
        for line in guard_lines
    ), guard_lines


def test_near_duplicates_leave_nothing_to_post(tmp_path: Path) -> None:
    """Both posts substantially similar to what x1 sent: x2's slot is skipped, and says why."""
    text = DISTINCT_POSTS["call"]
    rig = Rig(tmp_path, {"a": text, "a2": text.replace("Call", "Please call")})
    rig.at("2026-11-23", "09:01")
    rig.at("2026-11-23", "09:31")
    assert rig.row("x1", "2026-11-23T09:00").status == "published"
    skipped = rig.row("x2", "2026-11-23T09:30")
    assert skipped.status == "skipped"
    reason = skipped.last_error or ""
    assert reason.startswith("every eligible post refused by the guards: distinct-text x2")
    assert "similar to x1's" in reason and "threshold 0.80, window 7 days" in reason
    assert rig.nets["x2"].sent == []


def test_window_over_x2_may_reuse_the_text(tmp_path: Path) -> None:
    """With a 1-day window the text x1 sent may go to x2 a day and a half later."""
    text = DISTINCT_POSTS["call"]
    rig = Rig(tmp_path, {"a": text}, guards="distinct_text_days = 1\nno_repeat_days = 0")
    rig.at("2026-11-23", "09:01")
    rig.at("2026-11-23", "09:31")
    assert rig.row("x2", "2026-11-23T09:30").status == "skipped"
    rig.at("2026-11-24", "18:31")
    assert rig.row("x2", "2026-11-24T18:30").status == "published"


def test_deferred_post_still_blocks_similar_text(tmp_path: Path) -> None:
    """x1's post is deferred by a rate limit, not sent yet: x2 still may not send its text."""
    rig = Rig(tmp_path, {"a": DISTINCT_POSTS["call"]})
    rig.nets["x1"].enqueue(RateLimited("429", retry_at=ny("2026-11-23", "12:00"), window="15m"))
    rig.at("2026-11-23", "09:01")
    assert rig.row("x1", "2026-11-23T09:00").status == "deferred"
    rig.at("2026-11-23", "09:31")
    assert rig.row("x2", "2026-11-23T09:30").status == "skipped"
    assert rig.nets["x2"].attempts == []


def test_small_pool_holds_the_no_repeat_window(tmp_path: Path) -> None:
    """Two posts, three slots a day, 3-day window: the third slot is skipped, never a repeat."""
    rig = Rig(tmp_path, {"a": DISTINCT_POSTS["cost"], "b": DISTINCT_POSTS["doctors"]})
    for at in ("09:01", "13:01", "18:01"):
        rig.at("2026-11-23", at)
    statuses = [rig.row("x1", f"2026-11-23T{t}").status for t in ("09:00", "13:00", "18:00")]
    assert statuses == ["published", "published", "skipped"]
    reason = rig.row("x1", "2026-11-23T18:00").last_error or ""
    assert "no-repeat x2" in reason and "within the 3-day no-repeat window" in reason
    assert len({post.text for post in rig.nets["x1"].sent}) == 2


def test_daily_cap_skips_with_the_figure(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """daily_cap = 2: the third slot of the local day is skipped, the next day posts again."""
    caplog.set_level(logging.INFO, logger="amplifier")
    rig = Rig(tmp_path, DISTINCT_POSTS, guards="daily_cap = 2")
    for at in ("09:01", "13:01", "18:01"):
        rig.at("2026-11-23", at)
    skipped = rig.row("x1", "2026-11-23T18:00")
    assert skipped.status == "skipped"
    assert skipped.last_error == (
        "guard daily-cap: 2 posts already on 2026-11-23 (local), the daily cap is 2"
    )
    assert any(
        "event=skipped account=x1 slot=2026-11-23T18:00 rule=daily-cap" in r.getMessage()
        for r in caplog.records
    )
    rig.at("2026-11-24", "09:01")
    assert rig.row("x1", "2026-11-24T09:00").status == "published"


def test_budget_skips_and_records_each_cost(tmp_path: Path) -> None:
    """A $0.04 budget takes two $0.015 posts; the third is skipped with the figures."""
    rig = Rig(tmp_path, DISTINCT_POSTS, x1="monthly_budget_usd = 0.04")
    for at in ("09:01", "13:01", "18:01"):
        rig.at("2026-11-23", at)
    assert rig.row("x1", "2026-11-23T13:00").status == "published"
    skipped = rig.row("x1", "2026-11-23T18:00")
    assert skipped.status == "skipped"
    assert skipped.last_error == (
        "guard x-budget: spend $0.03 + $0.015 would exceed the $0.04 monthly budget of account x1"
    )
    start, end = month_bounds(rig.clock.now)
    assert rig.store.spend_micros(start, end, statuses=SENT, account="x1") == 30_000
    assert len(rig.nets["x1"].sent) == 2
    rig.at("2026-12-01", "09:01")  # a new month, a new budget
    assert rig.row("x1", "2026-12-01T09:00").status == "published"


def test_deferred_post_counts_against_the_budget(tmp_path: Path) -> None:
    """A claimed post waiting for a retry is committed spend: the budget counts it."""
    rig = Rig(tmp_path, DISTINCT_POSTS, x1="monthly_budget_usd = 0.02")
    rig.at("2026-11-23", "09:01")
    assert rig.row("x1", "2026-11-23T09:00").status == "published"
    # Another worker holds a post of x1's that waits for its retry (as after a 503).
    held = rig.store.claim_slot(
        DeliveryDraft("x1", "x", "manual-held", rig.clock.now, "cost", "c", "held text"),
        worker_id="other",
        cost_micros=15_000,
    )
    assert held is not None
    retry_at = ny("2026-11-24", "09:00")
    rig.store.mark_deferred(held.id, worker_id="other", retry_at=retry_at, reason="503")
    rig.at("2026-11-23", "13:01")
    skipped = rig.row("x1", "2026-11-23T13:00")
    assert skipped.status == "skipped"
    assert "spend $0.03 + $0.015 would exceed the $0.02 monthly budget" in (
        skipped.last_error or ""
    )


def test_deployment_budget_covers_all_x_accounts(tmp_path: Path) -> None:
    """guards.x_monthly_budget_usd = 0.03: x1 and x2 spend it, so x1's next slot waits."""
    rig = Rig(tmp_path, DISTINCT_POSTS, guards="x_monthly_budget_usd = 0.03")
    for at in ("09:01", "09:31", "13:01"):
        rig.at("2026-11-23", at)
    assert rig.row("x2", "2026-11-23T09:30").status == "published"
    skipped = rig.row("x1", "2026-11-23T13:00")
    assert skipped.status == "skipped"
    assert skipped.last_error == (
        "guard x-budget: spend $0.03 + $0.015 would exceed the $0.03 monthly budget of "
        "all X accounts"
    )


def test_mentions_only_with_allow_mentions(tmp_path: Path) -> None:
    """A post that @mentions someone goes out only when its file says allow_mentions: true."""
    posts = {
        "thanks": "Thank you @ana for standing with families at the hearing.",
        "plain": DISTINCT_POSTS["asylum"],
    }
    rig = Rig(tmp_path, posts)
    rig.at("2026-11-23", "09:01")
    rig.at("2026-11-23", "13:01")
    assert all("@" not in post.text for post in rig.nets["x1"].sent)
    reason = rig.row("x1", "2026-11-23T13:00").last_error or ""
    assert "mentions x1 (e.g. mentions @ana but the post does not say allow_mentions" in reason

    allowed = Rig(tmp_path / "allowed", posts, allow=frozenset({"thanks"}))
    allowed.at("2026-11-23", "09:01")
    allowed.at("2026-11-23", "13:01")
    assert any("@ana" in post.text for post in allowed.nets["x1"].sent)


def test_post_now_obeys_the_guards(tmp_path: Path) -> None:
    """post-now of a post x1 just sent is refused for x2, naming that post and the rule (not
    other posts), and claims nothing."""
    rig = Rig(tmp_path, DISTINCT_POSTS)
    rig.clock.now = ny("2026-11-23", "08:10")
    rig.worker.post_now("x1", "call")
    rig.clock.now += timedelta(minutes=5)
    with pytest.raises(AmplifierError) as refused:
        rig.worker.post_now("x2", "call")
    assert str(refused.value) == (
        "post 'call' cannot go out on x2 now: distinct-text: 'call' is 1.00 similar to x1's "
        "'call' of 5 min ago (threshold 0.80, window 7 days)"
    )
    assert [row.account for row in rig.store.history()] == ["x1"]
