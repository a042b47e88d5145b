"""A simulated month of two X accounts on the sample campaign, every guard on.

The worker runs a pass a minute after every slot of either account through December 2026 (UTC)
against MemoryNetwork accounts and a SQLite store, x-one with its own budget, both under a
deployment budget, x-two scheduled more often than the daily cap allows, two 429s on the way.
Then, over what was recorded and what the fakes received: no
identical or near-identical text on the two accounts within the 7-day window, no post repeated
by an account within 3 days, the daily cap never passed, spend never over a budget, and every
slot not published says why.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise, product
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.config import XPrices
from amplifier.errors import DuplicatePost, RateLimited
from amplifier.guards.similarity import similarity
from amplifier.guards.spend import post_cost, to_micros, usd
from amplifier.networks.base import OutgoingPost, Receipt
from amplifier.networks.memory import MemoryNetwork
from amplifier.schedule.planner import seed_key, slot_spec
from amplifier.schedule.slots import slots_between
from amplifier.store import Delivery, Store
from amplifier.worker import Worker

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 12, 1, tzinfo=UTC)  # a budget month is a UTC calendar month
END = datetime(2027, 1, 1, tzinfo=UTC)
DUPLICATE_WINDOW = timedelta(days=7)  # X's own is undocumented; a week is on the safe side
ONE_BUDGET = 1.50
ALL_BUDGET = 3.50
DAILY_CAP = 3

CONFIG = f"""
posts_dir = "{{posts}}"
# In memory: a file would spend most of the run waiting for fsync on each commit.
database_url = "sqlite://"
seed = "month-simulation"

[guards]
daily_cap = {DAILY_CAP}
x_monthly_budget_usd = {ALL_BUDGET}

[campaigns.families-belong-together]
language = "en"
[campaigns.families-belong-together.hashtags]
always = ["FamiliesBelongTogether"]
pool = ["KeepFamiliesTogether", "EndFamilySeparation", "AsylumIsARight", "RefugeesWelcome"]
per_post = 1

[schedules.three]
timezone = "America/Chicago"
times = ["09:00", "13:00", "18:30"]
random_offset_minutes = 12

[schedules.four]
timezone = "America/Chicago"
times = ["08:30", "12:00", "16:00", "20:00"]
random_offset_minutes = 12

[[accounts]]
name = "x-one"
network = "x"
campaigns = ["families-belong-together"]
schedule = "three"
monthly_budget_usd = {ONE_BUDGET}

[[accounts]]
name = "x-two"
network = "x"
campaigns = ["families-belong-together"]
schedule = "four"
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class XPlatform:
    """X as the fakes' outcome: duplicate text refused within DUPLICATE_WINDOW, x-one's 429s.

    MemoryNetwork alone refuses a text it ever held; X compares with recent posts only.
    """

    def __init__(self, clock: Clock, limit_after: set[datetime]) -> None:
        self.clock = clock
        self.limit_after = sorted(limit_after)
        self.sent: dict[tuple[str, str], datetime] = {}
        self.count = 0

    def __call__(self, post: OutgoingPost) -> Receipt:
        now = self.clock()
        if post.account == "x-one" and self.limit_after and now >= self.limit_after[0]:
            self.limit_after.pop(0)
            raise RateLimited("429 from x", retry_at=now + timedelta(hours=1), window="15m")
        earlier = self.sent.get((post.account, post.text))
        if earlier is not None and now - earlier < DUPLICATE_WINDOW:
            raise DuplicatePost("x refused duplicate content (403)", account=post.account)
        self.sent[(post.account, post.text)] = now
        self.count += 1
        return Receipt(f"x-{self.count}", f"https://x.invalid/{post.account}/{self.count}")


@dataclass
class Month:
    rows: list[Delivery]
    costs: dict[int, int]
    nets: dict[str, MemoryNetwork]
    seconds: float


def simulate(tmp_path: Path, posts: Path) -> Month:
    """The month, pass by pass; two 429s (days 9 and 21) defer x-one's next post for an hour."""
    (tmp_path / "config.toml").write_text(CONFIG.format(posts=posts.as_posix()))
    settings, library = load(tmp_path / "config.toml", None)
    clock = Clock(START)
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    nets = {a.name: MemoryNetwork(a.name, a.network) for a in settings.accounts}
    worker = Worker(
        settings,
        library,
        store,
        lambda account: nets[account.name],
        worker_id="sim",
        clock=clock,
        sleep=lambda seconds: None,
    )
    # A pass a minute after every slot of either account (passes every 30 minutes would take
    # ten times longer and find nothing more to do).
    passes = sorted(
        {
            slot.due_at + timedelta(minutes=1)
            for account in settings.accounts
            for slot in slots_between(slot_spec(settings, account), seed_key(settings, account),
                                      START, END)
        }
    )  # fmt: skip
    platform = XPlatform(clock, {START + timedelta(days=day) for day in (8, 20)})
    began = time.perf_counter()
    for moment in passes:
        clock.now = moment
        for net in nets.values():
            while net.queued < 5:
                net.enqueue(platform)
        worker.run_pending()
    seconds = time.perf_counter() - began
    rows = store.history(limit=10_000)
    costs = store.delivery_costs([row.id for row in rows])
    store.close()
    return Month(rows, costs, nets, seconds)


def _rule(reason: str | None) -> str:
    """The rule a skip names: 'guard daily-cap: …' -> daily-cap; all posts refused -> guards."""
    text = reason or ""
    if text.startswith("guard "):
        return text.split()[1].rstrip(":")
    return "guards" if text.startswith("every eligible post refused") else text


@pytest.mark.slow  # about 8 s: 217 passes, and every refused post costs a re-render
def test_a_month_of_two_x_accounts(tmp_path: Path, repo_root: Path) -> None:
    """No near-identical text across the accounts in 7 days; caps, budgets hold; all explained."""
    month = simulate(tmp_path, repo_root / "posts")
    rows, costs, nets = month.rows, month.costs, month.nets
    published = {
        name: sorted((r for r in rows if r.account == name and r.status == "published"),
                     key=lambda r: r.due_at)
        for name in nets
    }  # fmt: skip

    # Every slot of the month has a row and is settled; nothing failed.
    statuses = Counter(row.status for row in rows)
    assert set(statuses) <= {"published", "skipped"}, statuses
    assert len(published["x-one"]) > 40 and len(published["x-two"]) > 40

    # What the fakes received is exactly what the store says was published.
    for name, net in nets.items():
        assert sorted(p.text for p in net.sent) == sorted(r.text for r in published[name])

    # 1. Distinct text across the two X accounts within the 7-day window.
    closest = 0.0
    for one, two in product(published["x-one"], published["x-two"]):
        if abs(one.due_at - two.due_at) < timedelta(days=7):
            score = similarity(one.text, two.text)
            closest = max(closest, score)
            assert score < 0.8, (one.template_id, two.template_id, score)

    # 2. No post repeated by an account within 3 days.
    for ordered in published.values():
        for earlier, later in pairwise(ordered):
            same = [r for r in ordered if r.template_id == later.template_id and r.id != later.id]
            assert all(abs(later.due_at - r.due_at) >= timedelta(days=3) for r in same)
            assert earlier.due_at < later.due_at

    # 3. The daily cap per local day.
    per_day = Counter(
        (r.account, r.due_at.astimezone(CHICAGO).date()) for rs in published.values() for r in rs
    )
    assert max(per_day.values()) <= DAILY_CAP

    # 4. Spend: recorded per post as the cost model says, never over a budget.
    spend = {name: sum(costs[r.id] for r in published[name]) for name in nets}
    for row in (r for rs in published.values() for r in rs):
        assert costs[row.id] == post_cost("x", row.text, len(row.media), XPrices()).micros
    assert spend["x-one"] <= to_micros(ONE_BUDGET)
    assert spend["x-one"] + spend["x-two"] <= to_micros(ALL_BUDGET)

    # 5. Every slot not published says which rule held it back, with the figure.
    reasons: Counter[str] = Counter()
    for row in rows:
        if row.status != "published":
            assert row.last_error, row
            reasons[_rule(row.last_error)] += 1
    assert set(reasons) <= {"x-budget", "daily-cap", "guards"}, reasons
    assert reasons["x-budget"] > 0 and reasons["daily-cap"] > 0
    budget_skips = [r.last_error or "" for r in rows if _rule(r.last_error) == "x-budget"]
    assert all(re.search(r"spend \$[\d.]+ \+ \$0\.\d{3} would exceed", r) for r in budget_skips)
    # The two 429s: each post was deferred to the reset, then sent once.
    assert len(nets["x-one"].attempts) - len(nets["x-one"].sent) == 2

    print(
        f"\nmonth: x-one {len(published['x-one'])} posts, x-two {len(published['x-two'])}; "
        f"closest cross-account similarity within 7 days {closest:.2f}; "
        f"most posts in a local day {max(per_day.values())} (cap {DAILY_CAP}); "
        f"spend x-one {usd(spend['x-one'])} of {usd(to_micros(ONE_BUDGET))}, "
        f"x-two {usd(spend['x-two'])}, all {usd(sum(spend.values()))} of "
        f"{usd(to_micros(ALL_BUDGET))}; skipped by rule {dict(reasons)}; "
        f"{month.seconds:.1f} s"
    )
