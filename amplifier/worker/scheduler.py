"""APScheduler wiring: one scheduler per process, jobs in memory, passes run by the Worker.

The database is the source of truth, so the scheduler holds nothing worth persisting: one date
job per account at its next slot (re-armed after it fires), a housekeeping pass every
tick_seconds (settle crashes, deferred posts, catch-up), a heartbeat, and results collection
on an executor of its own every ``[results] interval_seconds`` (``Worker.collect_results``).
SIGTERM and SIGINT set the worker's stop event: no new attempt starts, the attempt in flight
gets at most IN_FLIGHT_GRACE_SECONDS to be answered and recorded, and a row still in flight
then is handed back (deferred, marked as may have landed) for the next worker to settle by
looking first.
"""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from amplifier.logs import log_event, log_exception
from amplifier.worker.cards import STAGE_LEAD, refresh_link_cards_safely, stage_slot_card_safely
from amplifier.worker.passes import Worker

# Heroku sends SIGKILL 30 s after SIGTERM. A request in flight gets this long to be answered
# and recorded; a server that hangs longer (the read timeout is 20 s) has it handed back.
IN_FLIGHT_GRACE_SECONDS = 5.0
# Slot jobs and the housekeeping job each run a pass, which skips groups another pass holds:
# enough threads that a slot job still runs while passes wait on hanging servers.
SCHEDULER_THREADS = 8
HANDED_BACK = "worker stopped while this request was unanswered; the next worker looks first"


def build_scheduler(worker: Worker) -> Any:
    """An APScheduler 3 BackgroundScheduler with the worker's jobs added, not yet started."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    rules = worker.settings.worker
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # In memory: the database is the source of truth, and two workers must never share a
        # persistent job store (APScheduler's FAQ: unsafe).
        jobstores={"default": MemoryJobStore()},
        # Heartbeat, housekeeping and slot jobs run side by side; passes share out the groups.
        # The heartbeat has a thread of its own: nothing a pass does may delay it, or another
        # worker would take this live worker's deliveries for orphans and send them again.
        executors={
            "default": ThreadPoolExecutor(SCHEDULER_THREADS),
            "heartbeat": ThreadPoolExecutor(1),
            # Results collection never takes a thread a slot job could need.
            "results": ThreadPoolExecutor(1),
            # Link cards are read on a thread of their own: a slow page never holds a slot.
            "cards": ThreadPoolExecutor(1),
        },
        job_defaults={
            # The default of 1 s silently drops a job that starts late (a busy thread, a slow
            # start): allow the same grace window as the pass itself.
            "misfire_grace_time": max(1, rules.grace_minutes * 60),
            "coalesce": True,  # a job that fell behind runs once, not once per missed time
            "max_instances": 1,  # never two runs of one job at once
        },
    )

    def arm() -> None:
        now = worker.clock()
        for account in worker.accounts:
            slot = worker.next_slot(account, now)
            if slot is not None:
                # One id per slot: a fired date job is removed by the scheduler thread, which
                # could race with re-adding the same id from inside the job.
                job_id = f"slot:{account.name}:{slot.key}"
                if scheduler.get_job(job_id) is None:
                    log_event(
                        worker.logger,
                        "next-slot",
                        account=account.name,
                        slot=slot.key,
                        due=slot.due_at.isoformat(timespec="seconds"),
                    )
                scheduler.add_job(
                    fire, DateTrigger(run_date=slot.due_at), id=job_id, replace_existing=True
                )
                staged_at = slot.due_at - STAGE_LEAD
                if rules.link_cards and account.network == "bluesky" and staged_at > now:
                    scheduler.add_job(stage_slot_card_safely, DateTrigger(run_date=staged_at),
                                      args=[worker, account, slot], id=f"stage:{job_id}",
                                      executor="cards", replace_existing=True)  # fmt: skip

    def fire() -> None:
        _guarded_pass(worker)
        if not worker.stop.is_set():
            arm()

    # Check in three times per stale limit, on its own job, whatever the passes are doing.
    beat = IntervalTrigger(seconds=max(1.0, rules.stale_worker_seconds / 3))
    scheduler.add_job(worker.heartbeat, beat, id="heartbeat", executor="heartbeat")
    # The first housekeeping pass runs at once: settle crashes, catch up within grace.
    tick = IntervalTrigger(seconds=rules.tick_seconds)
    scheduler.add_job(fire, tick, id="housekeeping", next_run_time=datetime.now(UTC))
    if worker.settings.results.enabled:
        every = IntervalTrigger(seconds=worker.settings.results.interval_seconds)
        scheduler.add_job(
            _guarded_collection, every, args=[worker], id="results", executor="results"
        )
    if rules.link_cards:
        every = IntervalTrigger(minutes=rules.link_card_minutes)
        scheduler.add_job(refresh_link_cards_safely, every, args=[worker], id="cards",
                          executor="cards", next_run_time=datetime.now(UTC))  # fmt: skip
    # Alerts' watch (a silent worker, the digest) on a job of its own, never in a pass.
    scheduler.add_job(worker.watch, tick, id="alerts-watch")
    arm()
    return scheduler


def run_forever(worker: Worker, *, install_signals: bool = True) -> bool:
    """Run passes on APScheduler until ``worker.stop`` is set (SIGTERM and SIGINT set it).

    Returns whether every pass finished; False when a request still hangs (its row handed
    back): its thread may only end with its read timeout, so the caller should exit at once
    (``os._exit``) rather than wait for it at interpreter exit.
    """
    heard: list[str] = []
    previous = install_signal_handlers(worker.stop, heard) if install_signals else {}
    scheduler = None
    failure: str | None = None
    try:
        worker.heartbeat()
        names = ",".join(account.name for account in worker.accounts)
        log_event(worker.logger, "started", worker=worker.worker_id, accounts=names)
        scheduler = build_scheduler(worker)
        scheduler.start()
        worker.alerting.start(worker.stop)  # the sender's own thread (none without a channel)
        worker.stop.wait()
        log_event(worker.logger, "stopping", worker=worker.worker_id)
    except BaseException as error:
        failure = f"on an error ({type(error).__name__})"
        raise
    finally:
        worker.stop.set()
        # shutdown(wait=True) would hold the job store's lock while waiting for jobs, and a job
        # re-arming its slot needs that lock: a deadlock. Stop the scheduler without waiting,
        # then wait (bounded) for the pass in flight, which sees the stop event and records.
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        finished = worker.wait_for_pass(timeout=IN_FLIGHT_GRACE_SECONDS)
        settled = finished or hand_back_in_flight(worker)
        worker.alerting.join(timeout=IN_FLIGHT_GRACE_SECONDS)
        restore_signal_handlers(previous)
        how = failure or (f"on {heard[0]}" if heard else "on request")
        worker.close(settled=settled, stopped=how)
    return finished


def hand_back_in_flight(worker: Worker) -> bool:
    """The rows of the requests still in flight, deferred for the next worker; False if the
    store refused (the rows then stay ours until our heartbeat goes stale)."""
    try:
        worker.hand_back(HANDED_BACK)
    except Exception:
        log_exception(worker.logger, "hand-back-failed", worker=worker.worker_id)
        return False
    return True


def _guarded_pass(worker: Worker) -> None:
    try:
        worker.run_pending_if_idle()
    except Exception:
        # One bad pass (a database hiccup) must not kill the worker; the next tick retries.
        log_exception(worker.logger, "pass-failed", worker=worker.worker_id)


def _guarded_collection(worker: Worker) -> None:
    try:
        worker.collect_results()
    except Exception:
        # Results are housework: a failed round is logged, the next one tries again.
        log_exception(worker.logger, "results-failed", worker=worker.worker_id)


def install_signal_handlers(
    stop: threading.Event, heard: list[str] | None = None
) -> dict[int, Any]:
    """SIGTERM and SIGINT set ``stop``; each signal's name is appended to ``heard``."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum: int, frame: FrameType | None) -> None:
        if heard is not None:
            heard.append(signal.Signals(signum).name)
        stop.set()

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handle)
    return previous


def restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
