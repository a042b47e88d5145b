"""bench_delivery's part (c): delivery with alerts on and a channel that never answers, against
alerts off.

Three stores (SQLite files), one Mastodon account on the same local fake. "on": the
deployment's rules enabled and a sender thread draining 50 pending alerts to a webhook that
reads each request and never answers (1 s read timeout, no backoff: it claims, hangs, renews,
releases and claims again all along, writing to the same database as the deliveries; with the
deployed backoff it would try after 30 s, 1 min, 2 min ...). "rules alone": the rules on, no
sender, to tell the rules' own cost from the sender's. "off": no rules, no sender. Each timed
post is claim -> publish -> record, as in part (a).

Robust to a noisy, shared machine: many short rounds, each timing a batch of every arm back
to back (the order cycling), and the verdict read from the paired ratios
(on / off within a round, so load that drifts over seconds hits both sides of a pair
alike): their median with a distribution-free 95 % confidence interval (order statistics),
their quartiles, and each side's median and quartiles. PASS only if the whole interval is
within the goal, FAIL only if it is wholly above, else UNSETTLED: the noise is larger than
the question. The process's CPU time per post (every thread: the sender's included) is
shown beside the wall time, as it does not count the time other processes take the cores.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ALERTS_ON = "alerts on, channel never answers"
ALERTS_RULES = "alerts on, no sender (the rules alone)"
ALERTS_OFF = "alerts off"
ARMS = (ALERTS_OFF, ALERTS_ON, ALERTS_RULES)
ALERTS_GOAL = 1.05
# Each round times every arm once, in an order that cycles through all six, so no arm is
# always first or last after another.
ORDERS = [list(order) for order in itertools.permutations(ARMS)]


@dataclass
class AlertsRun:
    """Per round: seconds of wall and CPU time per post, on each side."""

    rounds: int
    batch: int
    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    hung: int  # requests the sender made to the channel that never answers

    def ratios(self, kind: str = "wall", arm: str = ALERTS_ON) -> list[float]:
        times = self.wall if kind == "wall" else self.cpu
        return [on / off for on, off in zip(times[arm], times[ALERTS_OFF], strict=True)]


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile)."""
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, middle, high


def median_interval(values: Sequence[float]) -> tuple[float, float]:
    """A distribution-free ~95 % confidence interval of the median: the order statistics
    around the middle (binomial, normal approximation); the extremes for a few values."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan"), float("nan")
    k = max(0, math.floor((n - 1.96 * math.sqrt(n)) / 2))
    return ordered[k], ordered[n - 1 - k]


def settled(interval: tuple[float, float], goal: float) -> str:
    low, high = interval
    if high <= goal:
        return "PASS"
    if low > goal:
        return "FAIL"
    return "UNSETTLED"


def part_c(
    base_url: str, token: str, texts: list[str], base: Path, rounds: int, batch: int
) -> AlertsRun:
    from amplifier.alerts import AlertRules, AlertSender, Timeouts
    from amplifier.config import AlertSettings
    from amplifier.delivery import DeliveryContext, DeliveryPolicy
    from amplifier.networks.mastodon import MastodonNetwork
    from amplifier.store import AlertDraft, DeliveryDraft, Store
    from amplifier.testing.receivers import WebhookReceiver

    numbers = itertools.count()
    account = "bench-alerts"
    hang = WebhookReceiver("hang")
    stop = threading.Event()
    contexts: dict[str, Any] = {}
    stores: list[Store] = []
    arms = (
        (ALERTS_OFF, AlertRules.off()),
        (ALERTS_ON, AlertRules(AlertSettings())),
        (ALERTS_RULES, AlertRules(AlertSettings())),
    )
    for number, (name, rules) in enumerate(arms):
        store = Store(f"sqlite:///{base / f'c-{number}.db'}")
        store.migrate()
        stores.append(store)
        contexts[name] = DeliveryContext(
            store=store,
            worker_id="bench-c",
            policy=DeliveryPolicy(),
            clock=lambda: datetime.now(UTC),
            sleep=time.sleep,
            alerts=rules,
        )
    on_store = contexts[ALERTS_ON].store
    on_store.enqueue_alerts(
        [AlertDraft("delivery-failed", f"bench:{n}", f"alert {n}", "body") for n in range(50)]
    )
    sender = AlertSender(
        on_store,
        [hang.url],
        AlertSettings(),
        sender_id="bench-sender",
        timeouts=Timeouts(connect=1, read=1),
        backoff=timedelta(0),
    )
    thread = sender.start(stop, every=0.0)
    network = MastodonNetwork(account, instance_url=base_url, access_token=token)

    def post(name: str) -> Callable[[], tuple[float, float]]:
        context = contexts[name]

        def measure() -> tuple[float, float]:
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(batch):
                number = next(numbers)
                draft = DeliveryDraft(
                    account=account,
                    network="mastodon",
                    slot_key=f"bench-c-{number}",
                    due_at=datetime.now(UTC),
                    template_id=f"post-{number % len(texts)}",
                    campaign="bench",
                    text=texts[number % len(texts)],
                    language="en",
                )
                row = context.store.claim_slot(draft, worker_id="bench-c")
                assert row is not None
                done = context.deliver(network, row)
                assert done.status == "published", done
            wall = (time.perf_counter() - started) / batch
            return wall, (time.process_time() - cpu) / batch

        return measure

    try:
        hang.arrived.wait(timeout=10)  # the sender is hanging before the first timed post
        for name in ARMS:  # warm-up: connections, caches, each file
            post(name)()
        wall: dict[str, list[float]] = {name: [] for name in ARMS}
        cpu: dict[str, list[float]] = {name: [] for name in ARMS}
        for round_number in range(rounds):
            for name in ORDERS[round_number % len(ORDERS)]:
                spent, used = post(name)()
                wall[name].append(spent)
                cpu[name].append(used)
        if on_store.alerts(pending=False):
            raise RuntimeError("an alert was sent: the channel was meant never to answer")
        return AlertsRun(rounds, batch, wall, cpu, hang.requests)
    finally:
        stop.set()
        hang.close()
        thread.join(timeout=30)
        for store in stores:
            store.close()


def report_c(run: AlertsRun, seconds: Callable[[float], str]) -> list[list[str]]:
    """Print (c)'s tables; returns its goal row for the summary."""
    from _common import table

    print(
        f"(c) one account, {run.rounds} rounds of {run.batch} posts per arm, paired and "
        f"interleaved; the alert sender hung on the channel {run.hung} time(s) meanwhile"
    )
    rows = []
    for name in ARMS:
        low, middle, high = quartiles(run.wall[name])
        cpu = statistics.median(run.cpu[name])
        rows.append([name, seconds(middle), f"{seconds(low)} - {seconds(high)}", seconds(cpu)])
    table(["path", "wall per post (median)", "quartiles", "CPU per post (median)"], rows)
    lines = []
    for arm, kind in itertools.product((ALERTS_ON, ALERTS_RULES), ("wall", "cpu")):
        ratios = run.ratios(kind, arm)
        low, middle, high = quartiles(ratios)
        interval = median_interval(ratios)
        what = "hanging sender" if arm == ALERTS_ON else "rules alone"
        lines.append(
            [
                f"{what} / off, {kind} time, paired per round",
                f"{middle:.3f}",
                f"{interval[0]:.3f} - {interval[1]:.3f}",
                f"{low:.3f} - {high:.3f}",
                f"{min(ratios):.3f} - {max(ratios):.3f}",
            ]
        )
    table(["ratio", "median", "95 % CI of median", "quartiles", "range"], lines)
    interval = median_interval(run.ratios("wall"))
    middle = statistics.median(run.ratios("wall"))
    return [
        f"delivery, alerts on + hanging channel / alerts off <= {ALERTS_GOAL} (wall, paired)",
        f"{middle:.3f} (95 % CI {interval[0]:.3f} - {interval[1]:.3f})",
        settled(interval, ALERTS_GOAL),
    ]
