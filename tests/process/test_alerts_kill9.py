"""kill -9 a worker while its alert sender hangs on the channel: the next worker sends each
alert once (after the dead worker's heartbeat goes stale); two workers running at once, each
draining the outbox, send each alert once; on SQLite and PostgreSQL, and no alert carries a
secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from amplifier.testing.fakeserver import Fault
from amplifier.testing.receivers import WebhookReceiver

from .harness import POST_PATHS, Rig, Schedule, database, wait_for

SLOTS = 3


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_alerts_survive_kill9_exactly_once(kind: str, tmp_path: Path) -> None:
    """Every Mastodon post refused (422): one delivery-failed alert each. Worker A claims them
    and hangs on the webhook; kill -9. Worker B, once A is stale, sends each one exactly once."""
    schedule = Schedule.minutes_ago(range(1, SLOTS + 1))
    with (
        database(kind, tmp_path) as url,
        WebhookReceiver("hang") as hook,
        Rig(tmp_path, database_url=url, schedule=schedule) as rig,
    ):
        for _ in range(SLOTS):
            rig.fakes.add_fault(
                "mastodon",
                Fault(path_prefix=POST_PATHS["mastodon"], status=422, body={"error": "refused"}),
            )
        rig.env["ALERT_URLS"] = hook.url
        first = rig.spawn("first")

        def failed_and_claimed() -> bool | None:
            alerts = rig.store.alerts(pending=True)
            failed = [a for a in alerts if a.event == "delivery-failed"]
            return (len(failed) == SLOTS and hook.arrived.is_set()) or None

        wait_for(failed_and_claimed, timeout=60, what="three failures and a hanging sender")
        first.kill9()
        assert rig.store.alerts(pending=False) == []  # nothing was sent before the kill
        hook.mode = "ok"
        second = rig.spawn("second")
        wait_for(
            lambda: rig.store.alerts(pending=True) == [] or None,
            timeout=90,
            what="every alert sent by the second worker",
        )
        second.stop()
        failed = [row for row in rig.store.history(limit=100) if row.status == "failed"]
        assert len(failed) == SLOTS
        text = "\n".join(hook.messages())
        for row in failed:
            assert text.count(f"for the slot {row.slot_key} was not published") == 1, text
        for secret in rig.secrets.values():
            assert secret not in text
        assert rig.secret_leaks() == []


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_two_workers_at_once_send_each_alert_once(kind: str, tmp_path: Path) -> None:
    """Two workers started together on one empty database (a deploy overlapping the old
    dyno), both publishing and both draining the outbox: every Mastodon post refused (one
    delivery-failed each) and X's token revoked (one credentials-refused per X post), each
    alert reaches the channel exactly once, whichever worker recorded or sent it."""
    schedule = Schedule.minutes_ago(range(1, SLOTS + 1))
    with (
        database(kind, tmp_path) as url,
        WebhookReceiver() as hook,
        Rig(tmp_path, database_url=url, schedule=schedule) as rig,
    ):
        for _ in range(SLOTS):
            refused = Fault(path_prefix=POST_PATHS["mastodon"], status=422, body={"error": "no"})
            revoked = Fault(path_prefix=POST_PATHS["x"], status=401, body={"title": "Unauthorized"})
            rig.fakes.add_fault("mastodon", refused)
            rig.fakes.add_fault("x", revoked)
        rig.env["ALERT_URLS"] = hook.url
        first, second = rig.spawn("first"), rig.spawn("second")

        def all_alerts_sent() -> bool | None:
            alerts = rig.store.alerts()
            done = len(alerts) >= 2 * SLOTS and all(a.sent_at is not None for a in alerts)
            return done or None

        wait_for(all_alerts_sent, timeout=90, what="every alert sent by one of the two workers")
        exits = [worker.stop() for worker in (first, second)]
        assert [code for code, _ in exits] == [0, 0], f"{first.tail()}\n{second.tail()}"
        rows = rig.store.history(limit=100)
        failed = [row for row in rows if row.status == "failed"]
        assert sorted(row.account for row in failed) == sorted(["pt-mastodon", "pt-x"] * SLOTS)
        events = sorted(a.event for a in rig.store.alerts())
        assert events == sorted(["delivery-failed", "credentials-refused"] * SLOTS), events
        text = "\n".join(hook.messages())
        for row in failed:
            post = f"of {row.account} ({row.network}) for the slot {row.slot_key}"
            assert text.count(post) == 1, text
        senders = {w.name: len(w.events("alert-sent")) for w in (first, second)}
        print(f"\ntwo workers, {kind}: alert messages sent per worker {senders}")
        for secret in rig.secrets.values():
            assert secret not in text
        assert rig.secret_leaks() == []
