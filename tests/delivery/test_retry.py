"""publish_with_retries: what is retried, how long it waits, and what it reports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from amplifier.delivery.retry import PublishResult, RetryEvent, RetryPolicy, publish_with_retries
from amplifier.errors import (
    AuthFailed,
    DuplicatePost,
    NetworkError,
    PostRejected,
    RateLimited,
    TransientError,
)
from amplifier.networks.base import OutgoingPost, Receipt
from amplifier.networks.memory import MemoryNetwork

POST = OutgoingPost(account="fbt-x", text="Fund the buses #transit", idempotency_key="slot-1")
NO_JITTER = RetryPolicy(max_attempts=4, initial_wait=2.0, max_wait=60.0, jitter=0.0)


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def run(
    net: MemoryNetwork,
    policy: RetryPolicy,
    fake_time: FakeTime,
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> PublishResult:
    return publish_with_retries(
        net, POST, policy, sleep=fake_time.sleep, clock=fake_time.clock, on_retry=on_retry
    )


def transient(n: int, *, ambiguous: bool = False) -> TransientError:
    return TransientError(f"503 from x (#{n})", account="fbt-x", network="x", ambiguous=ambiguous)


def test_transient_then_success_takes_two_attempts(fake_time: FakeTime) -> None:
    """One TransientError, then success: two attempts, one wait of initial_wait plus jitter."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1))
    result = run(net, RetryPolicy(), fake_time)
    assert result == PublishResult(
        receipt=Receipt(remote_id="mem-1", url="https://x.invalid/fbt-x/mem-1"), attempts=2
    )
    assert len(fake_time.sleeps) == 1
    assert 2.0 <= fake_time.sleeps[0] <= 3.0
    assert len(net.attempts) == 2


def test_waits_grow_exponentially_with_jitter(fake_time: FakeTime) -> None:
    """Three transient failures give three growing waits, each within its jitter band."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1), transient(2), transient(3))
    result = run(net, RetryPolicy(max_attempts=4, initial_wait=2.0, jitter=1.0), fake_time)
    assert result.attempts == 4
    low = [2.0, 4.0, 8.0]
    assert all(lo <= w <= lo + 1.0 for lo, w in zip(low, fake_time.sleeps, strict=True))
    assert fake_time.sleeps == sorted(fake_time.sleeps)


def test_waits_are_capped_at_max_wait(fake_time: FakeTime) -> None:
    """No wait exceeds max_wait, jitter included."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1), transient(2), transient(3))
    policy = RetryPolicy(max_attempts=4, initial_wait=10.0, max_wait=15.0, jitter=1.0)
    run(net, policy, fake_time)
    assert 10.0 <= fake_time.sleeps[0] <= 11.0
    assert fake_time.sleeps[1:] == [15.0, 15.0]


def test_exhausted_attempts_reraise_the_last_transient_error(fake_time: FakeTime) -> None:
    """After max_attempts transient failures the last TransientError itself is raised."""
    net = MemoryNetwork("fbt-x", "x")
    errors = [transient(n) for n in range(1, 6)]
    net.enqueue(*errors)
    with pytest.raises(TransientError) as caught:
        run(net, NO_JITTER, fake_time)
    assert caught.value is errors[3]
    assert len(net.attempts) == 4
    assert fake_time.sleeps == [2.0, 4.0, 8.0]
    assert net.queued == 1


def test_single_attempt_policy_never_retries(fake_time: FakeTime) -> None:
    """max_attempts=1 means one call and no wait."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1))
    with pytest.raises(TransientError):
        run(net, RetryPolicy(max_attempts=1), fake_time)
    assert len(net.attempts) == 1
    assert fake_time.sleeps == []


def test_rate_limited_propagates_at_once_without_sleeping(fake_time: FakeTime) -> None:
    """RateLimited is raised on the first attempt; nothing sleeps until retry_at."""
    net = MemoryNetwork("fbt-x", "x")
    limited = RateLimited("429 from x", retry_at=datetime(2030, 1, 1, tzinfo=UTC), window="15m")
    net.enqueue(limited)
    with pytest.raises(RateLimited) as caught:
        run(net, RetryPolicy(), fake_time)
    assert caught.value is limited
    assert len(net.attempts) == 1
    assert fake_time.sleeps == []


def test_rate_limited_after_a_transient_stops_retrying(fake_time: FakeTime) -> None:
    """A RateLimited met on a retry also ends the call at once."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(
        transient(1),
        RateLimited("429 from x", retry_at=datetime(2030, 1, 1, tzinfo=UTC), window="24h-user"),
    )
    with pytest.raises(RateLimited):
        run(net, NO_JITTER, fake_time)
    assert len(net.attempts) == 2
    assert fake_time.sleeps == [2.0]


@pytest.mark.parametrize(
    "error",
    [PostRejected("422 from x", reason="too long"), AuthFailed("401 from x: token revoked")],
    ids=["post-rejected", "auth-failed"],
)
def test_permanent_errors_are_not_retried(fake_time: FakeTime, error: NetworkError) -> None:
    """PostRejected and AuthFailed are raised after one attempt with no wait."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(error)
    with pytest.raises(type(error)) as caught:
        run(net, RetryPolicy(), fake_time)
    assert caught.value is error
    assert len(net.attempts) == 1
    assert fake_time.sleeps == []


def test_duplicate_after_ambiguous_failure_confirms_the_post(fake_time: FakeTime) -> None:
    """Ambiguous TransientError, then X's duplicate answer: the first attempt landed."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1, ambiguous=True))  # the retry then meets X's real duplicate rule
    result = run(net, NO_JITTER, fake_time)
    assert result == PublishResult(receipt=None, attempts=2, confirmed_by_duplicate=True)
    assert len(net.sent) == 1


def test_duplicate_after_plain_transient_is_a_real_duplicate(fake_time: FakeTime) -> None:
    """Without an ambiguous attempt, DuplicatePost on the retry is raised as permanent."""
    net = MemoryNetwork("fbt-x", "x")
    net.publish(POST)  # the same text went out on an earlier day
    net.enqueue(transient(1))
    with pytest.raises(DuplicatePost):
        run(net, NO_JITTER, fake_time)
    assert len(net.attempts) == 3
    assert fake_time.sleeps == [2.0]


def test_duplicate_on_first_attempt_is_raised(fake_time: FakeTime) -> None:
    """A DuplicatePost with no earlier failure in the call is a real duplicate."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(DuplicatePost("x refused duplicate content (403)"))
    with pytest.raises(DuplicatePost):
        run(net, NO_JITTER, fake_time)
    assert len(net.attempts) == 1


def test_retry_logs_one_line_per_retry_and_calls_on_retry(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """Each retry logs one WARNING line (account, attempt, wait, reason) and fires on_retry."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(TransientError("503 from x"), TransientError("timeout", ambiguous=False))
    events: list[RetryEvent] = []
    with caplog.at_level(logging.WARNING, logger="amplifier.delivery.retry"):
        result = run(net, NO_JITTER, fake_time, on_retry=events.append)

    assert result.attempts == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "amplifier.delivery.retry"]
    assert lines == [
        'event=retry account=fbt-x network=x attempt=2/4 wait=2.0s reason="TransientError: 503 '
        'from x"',
        'event=retry account=fbt-x network=x attempt=3/4 wait=4.0s reason="TransientError: '
        'timeout"',
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert events == [
        RetryEvent("fbt-x", "x", 2, 4, "TransientError", "503 from x", 2.0),
        RetryEvent("fbt-x", "x", 3, 4, "TransientError", "timeout", 4.0),
    ]
    assert [e.wait for e in events] == fake_time.sleeps


def test_injected_logger_receives_the_lines(fake_time: FakeTime) -> None:
    """Retry lines go to the logger passed in, not only the module logger."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test_retry.injected")
    logger.addHandler(Collect())
    net = MemoryNetwork("fbt-m", "mastodon")
    net.enqueue(TransientError("502 from mastodon"))
    publish_with_retries(
        net, POST, NO_JITTER, sleep=fake_time.sleep, clock=fake_time.clock, logger=logger
    )
    assert [r.getMessage() for r in records] == [
        "event=retry account=fbt-m network=mastodon attempt=2/4 wait=2.0s "
        'reason="TransientError: 502 from mastodon"'
    ]


def test_no_retry_means_no_log_line(fake_time: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    """A first-time success logs nothing at WARNING."""
    net = MemoryNetwork("fbt-x", "x")
    with caplog.at_level(logging.WARNING, logger="amplifier.delivery.retry"):
        assert run(net, NO_JITTER, fake_time).attempts == 1
    assert caplog.records == []


def test_total_timeout_stops_before_a_wait_that_would_overrun_it(fake_time: FakeTime) -> None:
    """Time spent in attempts and waits counts; no wait starts that would end past total_timeout."""

    def slow_failure(n: int) -> Callable[[OutgoingPost], Receipt]:
        def fail(post: OutgoingPost) -> Receipt:
            fake_time.now += 3.0  # each request hangs 3 s before failing
            raise transient(n)

        return fail

    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(*(slow_failure(n) for n in range(1, 11)))
    policy = RetryPolicy(max_attempts=10, initial_wait=1.0, jitter=0.0, total_timeout=20.0)
    with pytest.raises(TransientError, match="#4"):
        run(net, policy, fake_time)
    # t=3 wait 1, t=7 wait 2, t=12 wait 4 -> t=16; attempt 4 ends at t=19, a wait of 8 overruns.
    assert fake_time.sleeps == [1.0, 2.0, 4.0]
    assert len(net.attempts) == 4
    assert fake_time.now - 1000.0 == 19.0


def test_zero_total_timeout_allows_only_the_first_attempt(fake_time: FakeTime) -> None:
    """total_timeout=0 leaves no room for any retry."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(transient(1))
    with pytest.raises(TransientError):
        run(net, RetryPolicy(total_timeout=0.0), fake_time)
    assert len(net.attempts) == 1
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"initial_wait": -1.0}, {"total_timeout": -5.0}],
    ids=["no-attempts", "negative-wait", "negative-timeout"],
)
def test_policy_rejects_impossible_values(kwargs: dict[str, float]) -> None:
    """A RetryPolicy that could never publish or would wait backwards is refused at once."""
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
