"""deliver() and crash recovery on X after an ambiguous attempt: the real XNetwork (tweepy)
against the fake X, whose timeline the lookup reads before sending again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.delivery import DeliveryContext, RecoveryRules, Settler
from amplifier.delivery.attempt import outgoing_post
from amplifier.delivery.publish import (
    CONFIRMED_BY_DUPLICATE,
    CONFIRMED_BY_LOOKUP,
    DeliveryPolicy,
    deliver,
)
from amplifier.delivery.retry import RetryPolicy
from amplifier.guards import SENT, month_bounds
from amplifier.networks.base import HttpSettings
from amplifier.networks.x import XNetwork
from amplifier.store import Delivery, DeliveryDraft, Store
from amplifier.testing.fake_x import FakeX, make_fake_x
from amplifier.testing.fake_x_timeline import timeline_fault
from amplifier.testing.fakeserver import Fault

WORKER = "host:1:aaaaaa"
DEAD = "host:2:dead00"
POST_PRICE = 15_000  # what claim_slot records for the post itself
READ_PRICE = 5_000
POLICY = DeliveryPolicy(
    retry=RetryPolicy(max_attempts=3, initial_wait=1, max_wait=5, total_timeout=60, jitter=0),
    max_attempts_total=6,
    read_price_micros=READ_PRICE,
)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeX]:
    with make_fake_x() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeX) -> FakeX:
    fake_server.reset()
    return fake_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    opened.migrate()
    opened.heartbeat(WORKER)
    return opened


def x_network(fake: FakeX) -> XNetwork:
    return XNetwork("bird", consumer_key="ck", consumer_secret="cs", access_token="at",
                    access_token_secret="ats", api_base=fake.base_url, upload_base=fake.base_url,
                    http=HttpSettings(connect_timeout=2.0, read_timeout=2.0))  # fmt: skip


def claim(store: Store, clock: FakeClock, *, worker: str = WORKER) -> Delivery:
    draft = DeliveryDraft(
        account="bird", network="x", slot_key="2026-12-06T09:00", due_at=clock(),
        template_id="march", campaign="fbt", language="en",
        text="March with us Saturday & bring a friend: https://example.org/march #FBT",
    )  # fmt: skip
    row = store.claim_slot(draft, worker_id=worker, cost_micros=POST_PRICE)
    assert row is not None
    return row


def run(store: Store, fake: FakeX, row: Delivery, clock: FakeClock) -> Delivery:
    return deliver(store, x_network(fake), row, worker_id=WORKER, policy=POLICY, clock=clock,
                   sleep=clock.sleep)  # fmt: skip


def x_spend(store: Store, clock: FakeClock) -> int:
    start, end = month_bounds(clock())
    return store.spend_micros(start, end, statuses=SENT, account="bird", network="x")


def test_a_post_whose_answer_was_lost_is_found_with_its_id_and_published_once(
    store: Store, fake: FakeX, clock: FakeClock
) -> None:
    """X stores the post, the answer is dropped; the next attempt reads the timeline first
    and records the post with its id and URL, without sending it again."""
    fake.add_fault(Fault("POST", "/2/tweets", drop=True, after_work=True))
    done = run(store, fake, claim(store, clock), clock)
    [posted] = fake.posts
    assert done.status == "published"
    assert done.remote_id == posted.id
    assert done.url == f"https://x.com/i/web/status/{posted.id}"
    assert done.last_error == CONFIRMED_BY_LOOKUP
    assert [r.method for r in fake.received if r.path == "/2/tweets"] == ["POST"]


def test_the_reads_cost_is_in_the_months_x_spend(
    store: Store, fake: FakeX, clock: FakeClock
) -> None:
    """X bills the posts the lookup read: the month's X spend is the post plus those reads."""
    fake.add_fault(Fault("POST", "/2/tweets", drop=True, after_work=True))
    done = run(store, fake, claim(store, clock), clock)
    assert fake.returned == 1
    assert store.delivery_costs([done.id]) == {done.id: POST_PRICE + READ_PRICE}
    assert x_spend(store, clock) == POST_PRICE + READ_PRICE


def test_a_failing_lookup_falls_back_to_the_duplicate_answer(
    store: Store, fake: FakeX, clock: FakeClock
) -> None:
    """The timeline answers 500: the post is sent again, X's duplicate refusal says it went
    out, and it is recorded published without an id, as before; nothing extra is billed."""
    fake.add_fault(Fault("POST", "/2/tweets", drop=True, after_work=True))
    fake.add_fault(timeline_fault(500))
    done = run(store, fake, claim(store, clock), clock)
    assert len(fake.posts) == 1
    assert done.status == "published"
    assert done.remote_id is None and done.last_error == CONFIRMED_BY_DUPLICATE
    assert x_spend(store, clock) == POST_PRICE


def test_a_dead_workers_x_post_that_landed_is_found_by_recovery(
    store: Store, fake: FakeX, clock: FakeClock
) -> None:
    """A worker counted its attempt, X stored the post, the worker died before recording it:
    recovery looks the post up and records it with its id, sending nothing."""
    store.heartbeat(DEAD)
    row = claim(store, clock, worker=DEAD)
    started = store.begin_attempt(row.id, worker_id=DEAD)
    assert started is not None
    x_network(fake).publish(outgoing_post(started))
    clock.now += timedelta(minutes=5)
    context = DeliveryContext(store=store, worker_id=WORKER, policy=POLICY, clock=clock,
                              sleep=clock.sleep)  # fmt: skip
    settler = Settler(context, lambda account: x_network(fake), RecoveryRules())
    [done] = settler.settle_orphans(clock())
    [posted] = fake.posts
    assert done.status == "published" and done.remote_id == posted.id
    assert done.last_error == CONFIRMED_BY_LOOKUP
    assert [r.method for r in fake.received if r.path == "/2/tweets"] == ["POST"]
