"""Collection inside the worker, through the real SDKs against the fakes, on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from amplifier.store import GONE

from .conftest import Project, Servers, ny

DAY = "2026-11-23"


@pytest.fixture
def project(tmp_path: Path, servers: Servers) -> Iterator[Project]:
    made = Project(tmp_path, servers)
    yield made
    made.close()


def ages_of(project: Project) -> dict[str, list[str]]:
    rows = project.store.results_rows(campaign=None, since=None, age=None)
    ids = [int(d["id"]) for d, _ in rows]
    found: dict[str, list[str]] = {}
    for snap in project.store.snapshots_of(ids):
        found.setdefault(snap.account, []).append(snap.age)
    return found


def test_snapshots_come_at_each_age_and_once(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    assert project.worker.collect_results(project.at(ny(DAY, "09:59"))).requests == 0
    project.servers.mastodon.statuses[0].favourites = 3
    project.servers.bluesky.records[0].likes = 5
    first = project.worker.collect_results(project.at(ny(DAY, "10:00")))
    assert first.requests == 2 and first.read == 2  # one per free network; X is off
    assert ages_of(project) == {"masto": ["1h"], "bsky": ["1h"]}
    snaps = project.store.snapshots_of([1, 2, 3])
    likes = {s.account: s.counts["likes"] for s in snaps}
    assert likes == {"masto": 3, "bsky": 5}
    assert all(s.counts["impressions"] is None for s in snaps)  # neither network gives it
    again = project.worker.collect_results(project.at(ny(DAY, "10:30")))
    assert again.requests == 0  # never asked twice for one age
    for time in ("13:00", "18:30"):
        project.worker.run_pending(project.at(ny(DAY, time)))
    project.worker.run_pending(project.at(ny("2026-11-24", "09:00")))
    project.worker.collect_results(project.at(ny("2026-11-24", "09:05")))
    first_posts = {s.age for s in project.store.snapshots_of([1, 2])}
    assert first_posts == {"1h", "24h"}
    assert project.reads()["x"] == 0  # X reads are off unless an account turns them on


def test_worker_down_past_an_age_takes_the_next_one_only(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    # Back 25 hours later: the 1 h reading is not taken late and mislabelled; 24 h is.
    project.worker.run_pending(project.at(ny("2026-11-24", "10:00")))
    project.worker.collect_results(project.at(ny("2026-11-24", "10:00")))
    assert {s.age for s in project.store.snapshots_of([1, 2])} == {"24h"}


def test_a_deleted_post_is_recorded_gone_once_and_never_asked_again(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    project.servers.mastodon.statuses[0].deleted = True
    project.worker.collect_results(project.at(ny(DAY, "10:00")))
    masto = [s for s in project.store.snapshots_of([1, 2, 3]) if s.account == "masto"]
    assert [s.age for s in masto] == [GONE]
    before = project.reads()["mastodon"]
    for time in ("13:00", "18:30"):
        project.worker.run_pending(project.at(ny(DAY, time)))
    project.worker.run_pending(project.at(ny("2026-11-24", "09:00")))
    project.worker.collect_results(project.at(ny("2026-11-24", "09:01")))
    asked = [
        r.query.get("id[]", [])
        for r in project.servers.mastodon.server.received
        if r.path == "/api/v1/statuses" and r.method == "GET"
    ][1:]
    assert project.reads()["mastodon"] == before + 1  # the later posts, in one request
    deleted_id = project.servers.mastodon.statuses[0].id
    assert all(deleted_id not in ids for ids in asked)
    # The first day's posts (ids 1 to 3, whichever account's pass claimed first): still gone.
    masto = [s for s in project.store.snapshots_of([1, 2, 3]) if s.account == "masto"]
    assert [s.age for s in masto] == [GONE]


def test_collection_yields_to_a_due_slot(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    # 12:59:30: the 13:00 slot is due within [results] yield_seconds (60): no batch starts.
    report = project.worker.collect_results(project.at(ny(DAY, "12:59") + timedelta(seconds=30)))
    assert report.requests == 0 and report.yielded == "slot 2026-11-23T13:00 of masto is due"
    # 13:00, the slot due and not yet published: still nothing.
    assert project.worker.collect_results(project.at(ny(DAY, "13:00"))).requests == 0
    assert project.reads() == {"mastodon": 0, "bluesky": 0, "x": 0}
    project.worker.run_pending(project.at(ny(DAY, "13:00")))
    report = project.worker.collect_results(project.at(ny(DAY, "13:00")))
    assert report.yielded is None and report.requests == 2


def test_collection_yields_to_a_pass_at_work(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    with project.worker.acting():  # what a pass holds while it runs
        report = project.worker.collect_results(project.at(ny(DAY, "10:00")))
    assert report.requests == 0 and report.yielded == "a pass is publishing"


def test_collection_waits_while_paused(project: Project) -> None:
    project.worker.run_pending(project.at(ny(DAY, "09:00")))
    project.store.set_paused(True, by="test")
    assert project.worker.collect_results(project.at(ny(DAY, "10:00"))).requests == 0


def test_the_worker_schedules_collection_on_an_executor_of_its_own(project: Project) -> None:
    from amplifier.worker import build_scheduler

    scheduler = build_scheduler(project.worker)
    job = scheduler.get_job("results")
    assert job is not None and job.executor == "results"
    assert job.trigger.interval.total_seconds() == project.settings.results.interval_seconds
    slot_jobs = [j for j in scheduler.get_jobs() if j.id.startswith("slot:")]
    assert slot_jobs and all(j.executor == "default" for j in slot_jobs)


def test_no_collection_job_when_results_are_off(tmp_path: Path, servers: Servers) -> None:
    from amplifier.worker import build_scheduler

    made = Project(tmp_path, servers, extra="[results]\nenabled = false")
    try:
        assert build_scheduler(made.worker).get_job("results") is None
        made.worker.run_pending(made.at(ny(DAY, "09:00")))
        assert made.worker.collect_results(made.at(ny(DAY, "10:00"))).requests == 0
    finally:
        made.close()
