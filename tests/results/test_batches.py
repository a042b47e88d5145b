"""Batch sizes, a 429 part way through, X reads off by default, on per account, and kept
behind the posts in the month's budget."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.guards import SENT, month_bounds, to_micros
from amplifier.networks.base import OutgoingPost
from amplifier.store import DeliveryDraft
from amplifier.testing.fakeserver import Fault

from .conftest import Project, Servers, ny

DAY = "2026-11-23"


def published(project: Project, account: str, count: int, at: datetime) -> list[str]:
    """``count`` posts of ``account`` sent at ``at`` through its adapter and stored published."""
    net = project.network(project.worker.account(account))
    project.at(at)
    ids = []
    for n in range(count):
        text = f"Families belong together, batch post {n}. #Asylum"
        receipt = net.publish(OutgoingPost(account, text, f"{account}-{n}", due_at=at))
        draft = DeliveryDraft(
            account, net.network, f"batch-{n}", at, "post-1", "fbt", text, language="en"
        )
        row = project.store.claim_slot(draft, worker_id="w1")
        assert row is not None
        project.store.mark_published(
            row.id, worker_id="w1", remote_id=receipt.remote_id, url=receipt.url
        )
        ids.append(receipt.remote_id)
    return ids


@pytest.fixture
def project(tmp_path: Path, servers: Servers) -> Iterator[Project]:
    # The schedule's slots fall outside these tests' hours (03:00 NY): nothing is due.
    made = Project(tmp_path, servers, start=ny(DAY, "03:00"))
    yield made
    made.close()


def test_rounds_make_the_fewest_requests_the_batch_sizes_allow(project: Project) -> None:
    published(project, "masto", 45, ny(DAY, "03:00"))
    published(project, "bsky", 30, ny(DAY, "03:00"))
    report = project.worker.collect_results(project.at(ny(DAY, "04:00")))
    assert sorted(report.batches) == [5, 5, 25, 40]  # 45 = 40 + 5, 30 = 25 + 5
    assert report.requests == 4 == project.reads()["mastodon"] + project.reads()["bluesky"]
    assert report.read == 75


def test_a_429_part_way_loses_nothing_and_asks_nothing_twice(
    project: Project, servers: Servers
) -> None:
    servers.mastodon.reset(batch_statuses=False)  # one status at a time
    ids = published(project, "masto", 3, ny(DAY, "03:00"))
    reset = ny(DAY, "04:10")
    servers.mastodon.add_fault(
        Fault(
            method="GET",
            path_prefix=f"/api/v1/statuses/{ids[1]}",
            status=429,
            body={"error": "Too many requests"},
            headers={"X-RateLimit-Reset": reset.isoformat(), "X-RateLimit-Remaining": "0"},
        )
    )
    first = project.worker.collect_results(project.at(ny(DAY, "04:00")))
    assert first.read == 1 and "429" in first.held["masto"]
    # Before the reset the account's reads wait; the shared window publishing uses is untouched.
    assert project.worker.collect_results(project.at(ny(DAY, "04:05"))).requests == 0
    assert project.store.blocked_until("masto", ny(DAY, "04:05")) is None
    later = project.worker.collect_results(project.at(ny(DAY, "04:11")))
    assert later.read == 2
    asked = [
        r.path.rsplit("/", 1)[-1]
        for r in servers.mastodon.server.received
        if r.method == "GET" and r.path.startswith("/api/v1/statuses/")
    ]
    # (the fake records the requests its handlers answered: the refused one is not among them)
    assert asked == [ids[0], ids[1], ids[2]]  # each answered once: nothing asked twice
    assert len(project.store.snapshots_of(range(1, 4))) == 3


def test_an_account_whose_publishing_window_is_shut_is_not_read(project: Project) -> None:
    from amplifier.networks.base import RateLimitWindow

    published(project, "masto", 2, ny(DAY, "03:00"))
    window = RateLimitWindow("5m", 300, 0, ny(DAY, "04:03"))
    project.store.save_rate_limits("masto", [window])
    report = project.worker.collect_results(project.at(ny(DAY, "04:00")))
    assert report.requests == 0 and "shut" in report.held["masto"]


def x_project(tmp_path: Path, servers: Servers, *, budget: str = "", on: bool = True) -> Project:
    return Project(
        tmp_path, servers, start=ny(DAY, "03:00"), guards=budget,
        x_extra="results = true" if on else "",
    )  # fmt: skip


def test_x_reads_are_off_by_default(tmp_path: Path, servers: Servers) -> None:
    project = x_project(tmp_path, servers, on=False)
    try:
        published(project, "xa", 3, ny(DAY, "03:00"))
        project.worker.collect_results(project.at(ny(DAY, "04:00")))
        assert project.reads()["x"] == 0 and servers.x.returned == 0
    finally:
        project.close()


def test_x_reads_when_on_are_billed_in_the_month_spend(tmp_path: Path, servers: Servers) -> None:
    project = x_project(tmp_path, servers)
    try:
        published(project, "xa", 3, ny(DAY, "03:00"))
        start, end = month_bounds(ny(DAY, "04:00"))
        before = project.store.spend_micros(start, end, statuses=SENT, network="x")
        report = project.worker.collect_results(project.at(ny(DAY, "04:00")))
        price = to_micros(project.settings.guards.x_prices.post_read)
        assert report.requests == 1 and servers.x.returned == 3
        assert report.cost_micros == 3 * price
        after = project.store.spend_micros(start, end, statuses=SENT, network="x")
        assert after - before == 3 * price  # the same spend the posts' budget guard reads
        assert project.store.read_spend_micros(start, end, "xa") == 3 * price
    finally:
        project.close()


def test_x_reads_never_take_budget_the_months_posts_need(tmp_path: Path, servers: Servers) -> None:
    # Three posts a day at $0.015 from the 23rd to the 30th: ~$0.36 of posts still to come.
    project = x_project(tmp_path, servers, budget="x_monthly_budget_usd = 0.40")
    try:
        published(project, "xa", 20, ny(DAY, "03:00"))
        report = project.worker.collect_results(project.at(ny(DAY, "04:00")))
        # $0.40 - what the 20 posts were charged (none: stored without a cost) - the reserve
        # leaves room for a few reads at $0.005, never all 20.
        assert 0 < report.read < 20, report
        now = ny(DAY, "04:00")
        start, end = month_bounds(now)
        spent = project.store.spend_micros(start, end, statuses=SENT, network="x")
        from amplifier.guards import month_projection

        reserve = month_projection(
            project.settings, project.library, project.worker.account("xa"), now, 0
        ).projected_micros
        assert spent + reserve <= to_micros(0.40)
        again = project.worker.collect_results(project.at(now + timedelta(minutes=1)))
        assert again.requests == 0 and again.held["xa"].startswith("X budget")
    finally:
        project.close()


def test_no_x_reads_at_all_when_the_posts_need_the_whole_budget(
    tmp_path: Path, servers: Servers
) -> None:
    project = x_project(tmp_path, servers, budget="x_monthly_budget_usd = 0.10")
    try:
        published(project, "xa", 3, ny(DAY, "03:00"))
        report = project.worker.collect_results(project.at(ny(DAY, "04:00")))
        assert report.requests == 0 and servers.x.returned == 0
        assert report.held["xa"].startswith("X budget")
    finally:
        project.close()


_ = UTC
