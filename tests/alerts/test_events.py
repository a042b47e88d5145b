"""Each event is enqueued once, in the transaction of its change, and reaches the channel once.

A worker over MemoryNetworks (scripted answers) with alerts on, passes driven by a fake
clock; the outbox read back, then drained through the real Apprise to a local webhook.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from amplifier.alerts import AlertWatch
from amplifier.errors import AuthFailed, PostRejected, RateLimited, TransientError
from amplifier.guards import SENT
from amplifier.testing.receivers import WebhookReceiver

from .conftest import CONFIG, SECRET_TOKEN, Harness, ny


def drain_all(harness: Harness) -> None:
    sender = harness.sender()
    while sender.drain():
        pass


def test_failed_review_credentials_and_rate_limit_each_alert_once(
    harness: Harness, hook: WebhookReceiver
) -> None:
    """A refused post, an outcome left unknown, a revoked token and a 2-hour rate limit give
    one alert each, whatever the passes after them; each reaches the webhook once."""
    masto = harness.nets["t-masto"]
    masto.enqueue(PostRejected("422 the text is too long"))  # 09:00 failed
    masto.enqueue(TransientError("read timeout", ambiguous=True))  # 13:00 unknown
    until = ny("2026-11-23", "20:30")
    masto.enqueue(RateLimited("429", retry_at=until, window="statuses"))  # 18:30
    harness.nets["t-x"].enqueue(AuthFailed("401 Unauthorized: token revoked"))  # 09:00
    worker = harness.worker()
    for clock_time in ("09:00", "09:05", "13:00", "13:05", "18:30", "18:35", "19:00"):
        harness.clock.now = ny("2026-11-23", clock_time)
        worker.run_pending()
    counts = Counter(harness.events())
    assert counts["delivery-failed"] == 1
    assert counts["needs-review"] == 1
    assert counts["credentials-refused"] == 1
    assert counts["rate-limited"] == 1
    drain_all(harness)
    drain_all(harness)
    texts = hook.messages()
    joined = "\n".join(texts)
    assert joined.count("a post failed\n") == 1
    assert joined.count("needs review\n") == 1
    assert joined.count("credentials refused\n") == 1
    assert joined.count("rate limited for 120 minutes\n") == 1
    assert "amplifier review" in joined and "accounts verify --account t-x" in joined
    assert SECRET_TOKEN not in joined
    assert all(row.sent_at is not None for row in harness.store.alerts())


def test_a_short_rate_limit_is_no_alert(harness: Harness) -> None:
    """A rate limit shorter than rate_limited_longer_than_minutes is waited out in silence."""
    until = ny("2026-11-23", "09:30")
    harness.nets["t-masto"].enqueue(RateLimited("429", retry_at=until, window="statuses"))
    harness.clock.now = ny("2026-11-23", "09:00")
    harness.worker().run_pending()
    assert "rate-limited" not in harness.events()


def test_no_alert_without_the_state_change(harness: Harness) -> None:
    """A move that loses its compare-and-set (the row is another worker's) enqueues nothing:
    the alert lives and dies with its transaction."""
    harness.clock.now = ny("2026-11-23", "09:00")
    harness.worker().run_pending()
    row = harness.store.history(account="t-masto", limit=1)[0]
    drafts = harness.rules.failed(row, "refused")
    assert drafts
    assert not harness.store.mark_failed(
        row.id, worker_id="not-the-owner", reason="x", alerts=drafts
    )
    assert harness.events() == []


def test_x_budget_80_and_100_percent_once_a_month(tmp_path: Path, hook: WebhookReceiver) -> None:
    """The deployment's $0.50 X budget: the claim that crosses $0.40 alerts 80 % once, the
    first post it refuses alerts 100 % once; more refusals and passes add nothing."""
    config = CONFIG.replace("x_monthly_budget_usd = 0.05", "x_monthly_budget_usd = 0.5")
    harness = Harness(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", [hook.url], config=config)
    worker = harness.worker()
    start = ny("2026-11-23", "08:00")
    for step in range(4 * 24 * 6):
        harness.clock.now = start + timedelta(minutes=10 * step)
        worker.run_pending()
    keys = sorted(row.dedup_key for row in harness.store.alerts() if row.event == "x-spend")
    spent = harness.store.spend_micros(
        ny("2026-11-01", "00:00"), ny("2026-12-01", "00:00"), statuses=SENT, network="x"
    )
    assert 400_000 <= spent <= 500_000
    assert keys == ["x-spend:all X accounts:2026-11:100", "x-spend:all X accounts:2026-11:80"]
    refused = [row for row in harness.store.history(account="t-x", limit=100)
               if row.status == "skipped" and "x-budget" in (row.last_error or "")]  # fmt: skip
    assert len(refused) >= 2  # refused again and again, alerted once


def test_check_failed_once_per_set_of_problems(harness: Harness) -> None:
    """The same broken posts at every start alert once; a new set of problems alerts again."""
    for _ in range(3):
        harness.store.enqueue_alerts(harness.rules.check_failed(2, ["a.md:1: bad", "b.md:2: bad"]))
    harness.store.enqueue_alerts(harness.rules.check_failed(1, ["a.md:1: bad"]))
    assert harness.events() == ["check-failed", "check-failed"]
    assert "amplifier check" in harness.store.alerts()[0].body


def test_a_silent_worker_alerts_once_per_silence(harness: Harness) -> None:
    """Another worker unheard of for longer than the threshold: one alert however often any
    process looks; once it beats again and falls silent again, one more."""
    harness.clock.now = ny("2026-11-23", "09:00")
    harness.store.heartbeat("gone")
    live = harness.worker("live")
    harness.clock.now += timedelta(minutes=5)
    live.watch()
    assert harness.events() == []
    for _ in range(3):
        harness.clock.now += timedelta(minutes=10)
        live.watch()
        AlertWatch(harness.store, harness.rules).check(harness.clock.now)  # status --alert
    assert harness.events() == ["heartbeat-silent"]
    harness.store.heartbeat("gone")
    harness.clock.now += timedelta(minutes=30)
    live.watch()
    assert harness.events() == ["heartbeat-silent", "heartbeat-silent"]
    assert harness.store.alerts()[0].urgent


def test_the_digest_once_a_day_at_its_local_time(harness: Harness, hook: WebhookReceiver) -> None:
    """At 20:00 New York: one digest, whichever worker sees it first, with what went out,
    what did not and why, tomorrow's slots and the month's spend."""
    harness.nets["t-masto"].enqueue(PostRejected("422 the text is too long"))
    first, second = harness.worker("a"), harness.worker("b")
    for clock_time in ("09:00", "13:00", "18:30", "19:59"):
        harness.clock.now = ny("2026-11-23", clock_time)
        first.run_pending()
        first.watch()
    assert "digest" not in harness.events()
    for clock_time in ("20:00", "20:10", "21:00"):
        harness.clock.now = ny("2026-11-23", clock_time)
        first.watch()
        second.watch()
    assert harness.events().count("digest") == 1
    drain_all(harness)
    [digest] = [text for text in hook.messages() if "daily digest" in text]
    assert "2026-11-23" in digest
    assert "Went out:" in digest and "t-masto: post-" in digest
    assert "failed: PostRejected" in digest
    assert "Tomorrow:" in digest and "Tue 09:00" in digest
    assert "X spend this month (2026-11): $" in digest
