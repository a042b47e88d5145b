"""bench_delivery's part (c): delivery with alerts on and a channel that never answers, against
alerts off.

Two stores (SQLite files), one Mastodon account on the same local fake. "on": the deployment's
rules enabled and a sender thread draining 50 pending alerts to a webhook that reads each
request and never answers (1 s read timeout, no backoff: it claims, hangs, releases and claims
again all along, writing to the same database as the deliveries). "off": no rules, no sender.
Each timed post is claim -> publish -> record, as in part (a).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ALERTS_ON = "alerts on, channel never answers"
ALERTS_OFF = "alerts off"
ALERTS_GOAL = 1.05


def part_c(
    base_url: str, token: str, texts: list[str], base: Path, repeats: int, batch: int
) -> dict[str, list[float]]:
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
    for name, rules in ((ALERTS_OFF, AlertRules.off()), (ALERTS_ON, AlertRules(AlertSettings()))):
        store = Store(f"sqlite:///{base / ('c-on.db' if rules.settings.events else 'c-off.db')}")
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

    def post(name: str) -> Callable[[], float]:
        context = contexts[name]

        def measure() -> float:
            started = time.perf_counter()
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
            return (time.perf_counter() - started) / batch

        return measure

    try:
        hang.arrived.wait(timeout=10)  # the sender is hanging before the first timed post
        post(ALERTS_OFF)()
        post(ALERTS_ON)()
        results: dict[str, list[float]] = {ALERTS_OFF: [], ALERTS_ON: []}
        for round_number in range(repeats):
            order = [ALERTS_OFF, ALERTS_ON] if round_number % 2 == 0 else [ALERTS_ON, ALERTS_OFF]
            for name in order:
                results[name].append(post(name)())
        results["sender requests to the hanging channel"] = [float(hang.requests)]
        return results
    finally:
        stop.set()
        hang.close()
        thread.join(timeout=30)
        for store in stores:
            store.close()
