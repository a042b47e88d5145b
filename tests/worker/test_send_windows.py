"""Every window rule holds between send times, through a month of late passes and deferrals.

Each test runs the worker through December 2026 on an injected clock: a pass at each slot's
due time plus a random lateness within the grace window (a worker busy or restarting), some
posts answered with a 429 that defers them by hours (the worker retries at the reset), and
only the rule under test turned on. Then, over the moments the fake X actually received each
post: identical texts at least x_duplicate_days apart, the same post at least no_repeat_days,
near-identical texts on two accounts at least distinct_text_days, never more than daily_cap
posts on a local day, never more than 17 in 24 hours on X's legacy Free tier. Windows used to
be measured between due times, so a late or deferred first send made them shorter by the clock.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from amplifier.check import load
from amplifier.errors import RateLimited
from amplifier.guards.similarity import similarity
from amplifier.networks.base import AccountInfo, NetworkName, OutgoingPost, Receipt
from amplifier.schedule import seed_key, slot_spec, slots_between
from amplifier.store import Store
from amplifier.worker import Worker

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 12, 1, 6, tzinfo=UTC)
END = datetime(2027, 1, 1, 6, tzinfo=UTC)
OFF = (
    "no_repeat_days = 0\nx_duplicate_days = 0\ndistinct_text_days = 0\ndaily_cap = 0\n"
    "x_legacy_free_tier = false\n"
)
TOPICS = [
    "Seeking asylum is a legal right under US and international law",
    "Families released with a caseworker came to nearly every court date",
    "Detaining a family costs far more than supporting it in the community",
    "Call your member of Congress and ask them to stop funding family detention",
    "Pediatricians warn that detention harms children even after a short stay",
    "Hundreds of separated children were still waiting to see their parents again",
    "Volunteer with a legal aid group near you and stand with families",
    "Share the stories of families kept apart and ask your friends to act",
    "Write to your local paper about the families held in detention",
    "Donate to the groups that reunite separated families",
    "Ask your mayor to declare your city a welcoming place for families",
    "Learn the facts about asylum and share them with your neighbours",
]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Platform:
    """X as the worker meets it: some posts answered 429 (deferred hours), the rest landing
    at the clock's moment; what landed, and when, is kept."""

    clock: Clock
    rng: random.Random
    defer_share: float
    landed: list[tuple[str, str, datetime]] = field(default_factory=list)  # account, text, at
    resets: list[datetime] = field(default_factory=list)

    def __call__(self, post: OutgoingPost) -> Receipt:
        now = self.clock()
        if self.rng.random() < self.defer_share:
            reset = now + timedelta(hours=self.rng.uniform(2, 14))
            self.resets.append(reset)
            raise RateLimited("429 from x", retry_at=reset, window="15m")
        self.landed.append((post.account, post.text, now))
        return Receipt(f"x-{len(self.landed)}", None)


@dataclass
class XAccount:
    """One X account of the month: every publish goes to the shared ``Platform``."""

    account: str
    platform: Platform
    network: NetworkName = "x"

    def publish(self, post: OutgoingPost) -> Receipt:
        return self.platform(post)

    def verify(self) -> AccountInfo:
        return AccountInfo(network="x", account=self.account, handle=self.account)


def run_month(
    tmp_path: Path,
    guards: str,
    times: list[str],
    *,
    accounts: tuple[str, ...] = ("x1",),
    pool: int = len(TOPICS),
    hashtags: str = "",
    seed: int = 7,
) -> tuple[Platform, Store]:
    """December with passes late by 0-29 min (grace 30) and 429s deferring a tenth of posts."""
    folder = tmp_path / "posts"
    folder.mkdir()
    for number, text in enumerate(TOPICS[:pool]):
        (folder / f"p{number}.md").write_text(
            f"---\nid: p{number}\ncampaign: c\nlanguage: en\nsource: test\n---\n{text}.\n"
        )
    listed = "".join(
        f'[[accounts]]\nname = "{name}"\nnetwork = "x"\ncampaigns = ["c"]\nschedule = "s"\n'
        for name in accounts
    )
    (tmp_path / "config.toml").write_text(
        f'database_url = "sqlite://"\nseed = "windows"\n[worker]\ngrace_minutes = 30\n'
        f'lookback_hours = 24\n[guards]\n{guards}\n[campaigns.c]\nlanguage = "en"\n{hashtags}'
        f'[schedules.s]\ntimezone = "America/Chicago"\ntimes = {times!r}\n{listed}'.replace(
            "'", '"'
        )
    )
    settings, library = load(tmp_path / "config.toml", None)
    rng = random.Random(seed)
    clock = Clock(START)
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    platform = Platform(clock, rng, defer_share=0.1)
    nets = {a.name: XAccount(a.name, platform) for a in settings.accounts}
    worker = Worker(
        settings, library, store, lambda account: nets[account.name], worker_id="month",
        clock=clock, sleep=lambda seconds: None,
    )  # fmt: skip
    worker.run_pending()  # the deployment starts
    passes: list[datetime] = []
    for account in settings.accounts:
        spec, key = slot_spec(settings, account), seed_key(settings, account)
        for slot in slots_between(spec, key, START, END):
            passes.append(slot.due_at + timedelta(minutes=rng.randrange(30)))
    heapq.heapify(passes)
    seen_resets = 0
    while passes:
        clock.now = heapq.heappop(passes)
        worker.run_pending()
        for reset in platform.resets[seen_resets:]:  # the housekeeping pass at each reset
            heapq.heappush(passes, reset)
        seen_resets = len(platform.resets)
    return platform, store


def gaps(landed: list[tuple[str, str, datetime]], same: object) -> list[timedelta]:
    """The time between every two landed posts that ``same(a, b)`` pairs."""
    return [
        abs(b[2] - a[2])
        for a, b in combinations(landed, 2)
        if same(a, b)  # type: ignore[operator]
    ]


@pytest.mark.slow
def test_x_duplicate_window_holds_by_the_clock(tmp_path: Path) -> None:
    """Only x_duplicate_days = 14: no text goes out twice on an account within 14 days of
    the moment its first copy went out, however late that was."""
    platform, store = run_month(
        tmp_path, OFF.replace("x_duplicate_days = 0", "x_duplicate_days = 14"),
        ["09:00", "13:00", "18:30"], pool=12,
    )  # fmt: skip
    pairs = gaps(platform.landed, lambda a, b: a[0] == b[0] and a[1] == b[1])
    assert pairs, "the month never repeated a text: the window was never tested"
    assert min(pairs) >= timedelta(days=14), min(pairs)
    assert len(platform.resets) > 3  # deferrals happened
    assert_rows_match(platform, store)


@pytest.mark.slow
def test_no_repeat_window_holds_by_the_clock(tmp_path: Path) -> None:
    """Only no_repeat_days = 3 (hashtags rotate, so texts differ): the same post never goes
    out again on an account within 3 days of when it went out."""
    tags = '[campaigns.c.hashtags]\npool = ["KeepFamiliesTogether", "EndFamilySeparation"]\n'
    platform, store = run_month(
        tmp_path, OFF.replace("no_repeat_days = 0", "no_repeat_days = 3"),
        ["09:00", "13:00", "18:30"], pool=6, hashtags=tags + "per_post = 1\n",
    )  # fmt: skip
    # The post is the text's first line (its hashtags follow on another).
    same = gaps(platform.landed, lambda a, b: a[1].split("\n")[0] == b[1].split("\n")[0])
    assert same and min(same) >= timedelta(days=3), min(same)
    assert_rows_match(platform, store)


@pytest.mark.slow
def test_distinct_text_window_holds_by_the_clock(tmp_path: Path) -> None:
    """Only distinct_text_days = 7, two X accounts on one pool: no substantially similar
    texts on the two accounts within 7 days of each other, by when they went out."""
    platform, store = run_month(
        tmp_path, OFF.replace("distinct_text_days = 0", "distinct_text_days = 7"),
        ["12:00"], accounts=("x1", "x2"), pool=12,
    )  # fmt: skip
    pairs = gaps(platform.landed, lambda a, b: a[0] != b[0] and similarity(a[1], b[1]) >= 0.8)
    assert pairs and min(pairs) >= timedelta(days=7), min(pairs)
    assert_rows_match(platform, store)


@pytest.mark.slow
def test_daily_cap_counts_the_day_each_post_went_out(tmp_path: Path) -> None:
    """daily_cap = 2 with a slot at 23:50: a post due before midnight that goes out after it
    counts on the day it went out, and no local day ever sees three."""
    platform, store = run_month(
        tmp_path, OFF.replace("daily_cap = 0", "daily_cap = 2"),
        ["08:00", "15:00", "23:50"],
    )  # fmt: skip
    per_day = Counter((a, at.astimezone(CHICAGO).date()) for a, _, at in platform.landed)
    assert max(per_day.values()) <= 2, per_day.most_common(3)
    crossed = [at for _, _, at in platform.landed if at.astimezone(CHICAGO).hour == 0]
    assert crossed, "no post went out after midnight: the case was never tested"
    assert_rows_match(platform, store)


@pytest.mark.slow
def test_legacy_free_tier_counts_24_hours_by_the_clock(tmp_path: Path) -> None:
    """X's legacy Free tier (17 posts per 24 h): no 24 hours of the clock hold 18 posts."""
    times = [f"{hour:02d}:{minute:02d}" for hour in range(6, 24) for minute in (0,)]  # 18 a day
    platform, store = run_month(
        tmp_path, OFF.replace("x_legacy_free_tier = false", "x_legacy_free_tier = true"),
        times,
    )  # fmt: skip
    moments = sorted(at for _, _, at in platform.landed)
    most = max(
        sum(1 for other in moments if moment <= other < moment + timedelta(hours=24))
        for moment in moments
    )
    assert most <= 17, most
    assert_rows_match(platform, store)


def assert_rows_match(platform: Platform, store: Store) -> None:
    """What the store says went out, and when, is what the fake X received, and when."""
    rows = store.history(limit=10_000, statuses=["published"])
    assert sorted((r.account, r.text, r.sent_at) for r in rows) == sorted(platform.landed)


def test_a_late_first_send_pushes_the_repeat_back(tmp_path: Path) -> None:
    """One post, a slot a day, x_duplicate_days = 14: the first send deferred 12 hours by a
    429 means the text may go out again 14 days after that send, not 14 days after its slot
    (13 d 12 h by the clock, as it did when windows ran between due times)."""
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "only.md").write_text(
        "---\nid: only\ncampaign: c\nlanguage: en\nsource: test\n---\nFamilies belong together.\n"
    )
    (tmp_path / "config.toml").write_text(
        'database_url = "sqlite://"\n[guards]\n'
        + OFF.replace("x_duplicate_days = 0", "x_duplicate_days = 14")
        + '[campaigns.c]\nlanguage = "en"\n[schedules.s]\ntimezone = "UTC"\ntimes = ["09:00"]\n'
        '[[accounts]]\nname = "x1"\nnetwork = "x"\ncampaigns = ["c"]\nschedule = "s"\n'
    )  # fmt: skip
    settings, library = load(tmp_path / "config.toml", None)
    clock = Clock(datetime(2026, 12, 1, 8, tzinfo=UTC))
    store = Store(settings.sqlalchemy_url, clock=clock)
    store.migrate()
    reset = datetime(2026, 12, 1, 21, tzinfo=UTC)
    platform = Platform(clock, random.Random(1), defer_share=0.0)
    net = XAccount("x1", platform)

    def first_answer_429(post: OutgoingPost) -> Receipt:
        net.platform = platform  # every later post lands
        raise RateLimited("429 from x", retry_at=reset, window="24h-user")

    net.platform = first_answer_429  # type: ignore[assignment]
    worker = Worker(settings, library, store, lambda a: net, worker_id="w", clock=clock,
                    sleep=lambda s: None)  # fmt: skip
    worker.run_pending()
    for moment in [datetime(2026, 12, 1, 9, tzinfo=UTC), reset] + [
        datetime(2026, 12, day, 9, tzinfo=UTC) for day in range(2, 18)
    ]:
        clock.now = moment
        worker.run_pending()
    published = store.history(statuses=["published"])
    assert [(r.slot_key, r.sent_at) for r in reversed(published)] == [
        ("2026-12-01T09:00", reset),
        ("2026-12-16T09:00", datetime(2026, 12, 16, 9, tzinfo=UTC)),
    ]
    skipped = store.get("x1", "2026-12-15T09:00")
    assert skipped is not None and skipped.status == "skipped"
    assert "which went out on this account 13 days ago" in (skipped.last_error or "")
