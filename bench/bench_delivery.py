"""Delivery overhead: our claim -> publish -> record path vs calling Mastodon.py directly.

(a) One Mastodon account on a local FakeMastodon, SQLite store in a temp file, batches of
    posts interleaved:
      ours      store.claim_slot + DeliveryContext.deliver with the real MastodonNetwork
                (claim row, attempt count, publish, record published, save rate limits)
      ours+     Worker.post_now: the same plus planning, rendering and the guards
      baseline  Mastodon(...).status_post(...) with the same text, visibility, language and
                idempotency key on the same server
(c) delivery with alerts on and a channel that never answers (the sender's thread hanging
    on it, retrying all along) against alerts off (bench/_alerts.py): goal <= 1.05, read
    from paired rounds (median ratio and its 95 % interval; UNSETTLED when noise spans the
    goal). --alerts-only runs (c) alone; --alerts-rounds N (default 80 of 25 posts a side).
(b) 1,000 deliveries (100 accounts x 10 slots) against the fake answering every post 50 ms
    late: one worker's passes (one pass per slot time, injected clock) with
    ``[worker] parallel_accounts`` at 1, the default 4 and 10, vs the same posts sent one by
    one with Mastodon.py. Per-account limits stay respected: an account never has two posts
    in flight, and each attempt still checks the account's stored rate-limit window.

    .venv/bin/python bench/bench_delivery.py [--quick] [--repeats N] [--alerts-only]
        [--alerts-rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from _alerts import part_c, report_c
from _common import (
    CAMPAIGN,
    POSTS_DIR,
    SECRETS,
    FakeNetworks,
    header,
    interleaved,
    median,
    parse_args,
    ratio_line,
    scrub_own_environment,
    seconds,
    table,
    temp_dir,
    verdict,
    write_config,
)

from amplifier.config import WorkerSettings

OVERHEAD_GOAL = 1.25
DEFAULT_PARALLEL = WorkerSettings().parallel_accounts
OURS = "ours: claim -> publish -> record"
BASELINE = "baseline: Mastodon.py status_post"
FULL = "ours+: Worker.post_now (plan, guards, claim, publish, record)"
LATENCY = 0.05  # seconds the fake waits before answering each post in (b)
STATUS_PATH = "/api/v1/statuses"
TOKEN = SECRETS["BENCH_MASTODON_TOKEN"]


@dataclass
class FakeClock:
    """A clock the benchmark sets; ``tick`` moves it on at every reading (post_now)."""

    now: datetime
    tick: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        self.now += self.tick
        return self.now


def sdk_client(base_url: str) -> Any:
    from mastodon import Mastodon

    # As plain as a direct caller would make it, minus the two round trips of a version probe.
    return Mastodon(
        access_token=TOKEN,
        api_base_url=base_url,
        ratelimit_method="throw",
        mastodon_version="4.3.0",
        version_check_mode="none",
    )


def sample_texts() -> list[str]:
    from amplifier.config import DEFAULT_LIMITS
    from amplifier.content import load_library, split_parts

    library = load_library(POSTS_DIR, campaigns=[CAMPAIGN], limits=DEFAULT_LIMITS)
    # A thread's parts are posts of their own (each within the limit; the whole is not).
    return [
        part.text for template in library.originals.values() for part in split_parts(template.body)
    ]


# -- (a) one account, no latency ------------------------------------------------------------


def part_a(fakes: FakeNetworks, base: Path, repeats: int, batch: int) -> dict[str, list[float]]:
    from amplifier.accounts import network_factory
    from amplifier.check import load
    from amplifier.delivery import DeliveryContext, DeliveryPolicy
    from amplifier.networks.mastodon import MastodonNetwork
    from amplifier.store import DeliveryDraft, Store
    from amplifier.worker import Worker

    texts = sample_texts()
    numbers = itertools.count()
    account = "bench-mastodon"
    store = Store(f"sqlite:///{base / 'a.db'}")
    store.migrate()
    network = MastodonNetwork(account, instance_url=fakes.mastodon.base_url, access_token=TOKEN)
    context = DeliveryContext(
        store=store,
        worker_id="bench-a",
        policy=DeliveryPolicy(),
        clock=lambda: datetime.now(UTC),
        sleep=time.sleep,
    )
    client = sdk_client(fakes.mastodon.base_url)

    def ours() -> None:
        number = next(numbers)
        draft = DeliveryDraft(
            account=account,
            network="mastodon",
            slot_key=f"bench-{number}",
            due_at=datetime.now(UTC),
            template_id=f"post-{number % len(texts)}",
            campaign=CAMPAIGN,
            text=texts[number % len(texts)],
            language="en",
        )
        row = store.claim_slot(draft, worker_id="bench-a")
        assert row is not None
        done = context.deliver(network, row)
        assert done.status == "published", done

    def baseline() -> None:
        number = next(numbers)
        client.status_post(
            status=texts[number % len(texts)],
            idempotency_key=f"sdk-{number}",
            visibility="unlisted",
            language="en",
        )

    config = write_config(
        base / "a.toml",
        database_url=f"sqlite:///{base / 'a-worker.db'}",
        accounts=[{"name": account, "network": "mastodon", **fakes.where("mastodon")}],
        times=["09:00"],
    )
    settings, library = load(config, None)
    worker_store = Store(settings.sqlalchemy_url)
    worker_store.migrate()
    # Each reading 2 h later: about one post per 8 h, so the 14 days of history the guards
    # read stay the size a real account has (3 posts a day), however many posts are timed.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0), tick=timedelta(hours=2))
    worker = Worker(
        settings, library, worker_store, network_factory(settings, worker_store), clock=clock
    )

    def worker_post() -> None:
        done = worker.post_now(account)
        assert done.status == "published", done

    def per_post(action: Callable[[], None]) -> Callable[[], float]:
        def measure() -> float:
            started = time.perf_counter()
            for _ in range(batch):
                action()
            return (time.perf_counter() - started) / batch

        return measure

    for action in (ours, baseline, worker_post):  # warm-up: connections, caches
        action()
    try:
        return interleaved(
            [
                (OURS, per_post(ours)),
                (BASELINE, per_post(baseline)),
                (FULL, per_post(worker_post)),
            ],
            repeats,
        )
    finally:
        store.close()
        worker_store.close()


def store_calls(base: Path, count: int) -> list[list[str]]:
    """Each store call a delivery makes, timed alone (median over ``count`` deliveries)."""
    from amplifier.networks.base import RateLimitWindow
    from amplifier.store import DeliveryDraft, Store

    store = Store(f"sqlite:///{base / 'calls.db'}")
    store.migrate()
    spent: dict[str, list[float]] = {}

    def timed_call(name: str, call: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = call()
        spent.setdefault(name, []).append(time.perf_counter() - started)
        return result

    window = RateLimitWindow("5m", 300, 299, datetime.now(UTC) + timedelta(minutes=5))
    try:
        for number in range(count + 1):
            draft = DeliveryDraft(
                account="calls",
                network="mastodon",
                slot_key=f"calls-{number}",
                due_at=datetime.now(UTC),
                template_id="t",
                campaign=CAMPAIGN,
                text=f"text {number}",
            )
            rotation = ("calls", {"templates": {"order": list(range(45)), "position": number}})
            claim = partial(store.claim_slot, draft, worker_id="w", rotation=rotation)
            row: Any = timed_call("claim_slot (insert row + rotation state)", claim)
            ident = row.id
            timed_call("begin_attempt", partial(store.begin_attempt, ident, worker_id="w"))
            blocked = partial(store.blocked_until, "calls", datetime.now(UTC))
            timed_call("blocked_until (before each attempt)", blocked)
            mark = partial(
                store.mark_published,
                ident,
                worker_id="w",
                remote_id="1",
                url=None,
                rate_limits=("calls", [window]),
            )
            timed_call("mark_published (+ the answer's rate limits)", mark)
            timed_call("get_by_id (re-read after recording)", partial(store.get_by_id, ident))
    finally:
        store.close()
    rows = [[name, seconds(median(times[1:]))] for name, times in spent.items()]
    rows.append(["sum", seconds(sum(median(times[1:]) for times in spent.values()))])
    return rows


# -- (b) many accounts, 50 ms per post -------------------------------------------------------


def add_latency(fakes: FakeNetworks, count: int) -> None:
    """The next ``count`` posts are answered LATENCY seconds late (one scripted fault each)."""
    from amplifier.testing.fakeserver import Fault

    server = fakes.mastodon.server
    with server.lock:
        server.faults.clear()
        for _ in range(count):
            server.faults.append(Fault(method="POST", path_prefix=STATUS_PATH, delay=LATENCY))


def part_b(
    fakes: FakeNetworks, base: Path, accounts: int, slots: int, widths: Sequence[int]
) -> list[list[str]]:
    from amplifier.accounts import network_factory
    from amplifier.check import load
    from amplifier.store import Store
    from amplifier.worker import Worker

    texts = sample_texts()
    total = accounts * slots
    names = [f"bench-{number:03d}" for number in range(accounts)]
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    due = [start + timedelta(minutes=k) for k in range(slots)]

    def serial() -> float:
        clients = {name: sdk_client(fakes.mastodon.base_url) for name in names}
        add_latency(fakes, total)
        started = time.perf_counter()
        for k in range(slots):
            for number, name in enumerate(names):
                clients[name].status_post(
                    status=texts[(number + k) % len(texts)],
                    idempotency_key=f"serial-{name}-{k}",
                    visibility="unlisted",
                    language="en",
                )
        return time.perf_counter() - started

    def worker(width: int) -> float:
        folder = base / f"parallel-{width}"
        folder.mkdir()
        config = write_config(
            folder / "config.toml",
            database_url=f"sqlite:///{folder / 'state.db'}",
            accounts=[{"name": n, "network": "mastodon", **fakes.where("mastodon")} for n in names],
            times=[moment.strftime("%H:%M") for moment in due],
            worker={"parallel_accounts": width},
            guards={"daily_cap": slots},  # the cap stays on, at exactly the slots of the day
        )
        settings, library = load(config, None)
        clock = FakeClock(due[0])
        store = Store(settings.sqlalchemy_url, clock=clock)
        store.migrate()
        crew = Worker(settings, library, store, network_factory(settings, store), clock=clock)
        add_latency(fakes, total)
        try:
            started = time.perf_counter()
            for moment in due:
                clock.now = moment
                crew.run_pending(moment)
            elapsed = time.perf_counter() - started
            published = store.history(statuses=["published"], limit=total + 1)
            if len(published) != total:
                raise RuntimeError(f"{len(published)} of {total} published, parallel {width}")
        finally:
            store.close()
        return elapsed

    serial_seconds = serial()
    rows = [["baseline: Mastodon.py, one by one", seconds(serial_seconds), "1.00"]]
    for width in widths:
        elapsed = worker(width)
        default = " (the default)" if width == DEFAULT_PARALLEL else ""
        rows.append(
            [
                f"ours: one worker, parallel_accounts = {width}{default}",
                seconds(elapsed),
                f"{elapsed / serial_seconds:.2f}",
            ]
        )
    rows.append(["floor: posts x 50 ms, one at a time", seconds(total * LATENCY), "-"])
    return rows


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alerts-only", action="store_true", help="part (c) alone")
    parser.add_argument("--alerts-rounds", type=int, default=None, help="(c)'s paired rounds")


def main() -> int:
    args = parse_args(__doc__ or "", repeats=7, quick_repeats=1, options=options)
    scrub_own_environment()
    os.environ.update(SECRETS)  # the worker's network factory reads credentials from here
    batch = 5 if args.quick else 100
    accounts, slots = (4, 3) if args.quick else (100, 10)
    widths = (1, 2) if args.quick else (1, DEFAULT_PARALLEL, 10)
    rounds = args.alerts_rounds or (4 if args.quick else 80)
    header("delivery overhead: claim -> publish -> record vs Mastodon.py", args.quick, args.repeats)
    with FakeNetworks() as fakes, temp_dir("delivery") as base:
        if not args.alerts_only:
            results = part_a(fakes, base, args.repeats, batch)
            calls = store_calls(base, 5 if args.quick else 100)
            latency_rows = part_b(fakes, base, accounts, slots, widths)
        alerts = part_c(
            fakes.mastodon.base_url, TOKEN, sample_texts(), base, rounds, 5 if args.quick else 25
        )
    if args.alerts_only:
        goal_c = report_c(alerts, seconds)
        table(["goal", "measured", "verdict"], [goal_c])
        return 0

    ours, baseline, full = (median(results[name]) for name in (OURS, BASELINE, FULL))
    print(f"(a) one account, local fake, {batch} posts per batch: time per post")
    table(
        ["path", "per post (median)", "best", "vs baseline"],
        [
            [name, seconds(median(times)), seconds(min(times)), f"{median(times) / baseline:.2f}"]
            for name, times in results.items()
        ],
    )
    print("the store's part of one delivery: each call timed alone (SQLite file, WAL)")
    table(["store call", "median"], calls)
    print(
        f"(b) {accounts * slots:,} deliveries, {accounts} accounts x {slots} slots, "
        f"every post answered {LATENCY * 1000:.0f} ms late"
    )
    table(["how", "total", "vs one by one"], latency_rows)
    goal_c = report_c(alerts, seconds)
    print(
        "note: within a pass, up to parallel_accounts accounts publish side by side, each\n"
        "account's own posts one after another (X accounts take turns, for the guards).\n"
    )
    table(
        ["goal", "measured", "verdict"],
        [
            [
                f"claim -> publish -> record / direct SDK call <= {OVERHEAD_GOAL}",
                f"{ours / baseline:.2f}",
                verdict(ours / baseline <= OVERHEAD_GOAL),
            ],
            [
                f"Worker.post_now / direct SDK call <= {OVERHEAD_GOAL}",
                f"{full / baseline:.2f}",
                verdict(full / baseline <= OVERHEAD_GOAL),
            ],
            goal_c,
        ],
    )
    print(ratio_line(ours / baseline, OVERHEAD_GOAL, "claim -> publish -> record / SDK call"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
