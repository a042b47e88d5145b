"""``run --once``: one pass now, then exit, stoppable as the long-running worker is.

The pass runs on its own thread so SIGTERM and SIGINT are heard while a request hangs: they
set the worker's stop event (no new attempt starts), the attempt in flight gets at most
IN_FLIGHT_GRACE_SECONDS, and a row still in flight then is handed back for the next worker,
marked as may have landed. Heroku Scheduler and cron run it, and stop it the same way.
"""

from __future__ import annotations

import threading

from amplifier.logs import log_event
from amplifier.store import Delivery
from amplifier.worker.cards import refresh_link_cards_safely
from amplifier.worker.passes import Worker
from amplifier.worker.scheduler import (
    IN_FLIGHT_GRACE_SECONDS,
    hand_back_in_flight,
    install_signal_handlers,
    restore_signal_handlers,
)


def run_once(worker: Worker, *, install_signals: bool = True) -> tuple[list[Delivery], bool]:
    """One pass at once; (the rows it created or changed, whether it finished).

    Not finished means a stop came while a request still hung (its row handed back): its
    thread may only end with its read timeout, so the caller should exit at once
    (``os._exit``) rather than wait for it at interpreter exit.
    """
    previous = install_signal_handlers(worker.stop) if install_signals else {}
    done: list[Delivery] = []
    failed: list[BaseException] = []

    def one_pass() -> None:
        try:
            refresh_link_cards_safely(worker)  # a one-shot run has no slot to read ahead of
            done.extend(worker.run_pending())
        except BaseException as error:  # raised again on the caller's thread
            failed.append(error)

    thread = threading.Thread(target=one_pass, name="once", daemon=True)
    finished = settled = True
    try:
        names = ",".join(account.name for account in worker.accounts)
        log_event(worker.logger, "started", worker=worker.worker_id, accounts=names, once=True)
        thread.start()
        while thread.is_alive() and not worker.stop.wait(0.1):
            pass
        if thread.is_alive():
            log_event(worker.logger, "stopping", worker=worker.worker_id)
            thread.join(IN_FLIGHT_GRACE_SECONDS)
            finished = not thread.is_alive()
            settled = finished or hand_back_in_flight(worker)
    finally:
        restore_signal_handlers(previous)
        worker.close(settled=settled)
    if failed:
        raise failed[0]
    return done, finished
