"""Worker: the process that runs the whole flow for every account's due slots, exactly once.

load -> plan -> render -> guard -> claim -> publish -> record, whatever happens on the way.

``Worker.run_pending(now)`` (passes.py) is one pass: heartbeat, crashed and deferred rows
settled (delivery's ``Settler``), then each due slot of each account through ``SlotFlow``
(slot.py: plan with the schedule stage, guard with the guards, claim in the store, deliver
with the delivery stage). ``run_forever`` (scheduler.py) drives passes with APScheduler 3 and
handles SIGTERM (and runs the alerts' sender thread and watch, alerting.py); ``run_once``
(once.py) is one pass, stoppable the same way. This is the
one stage that imports all the others below it.
"""

from __future__ import annotations

from amplifier.worker.once import run_once
from amplifier.worker.passes import Worker, make_worker_id, utc_now
from amplifier.worker.scheduler import build_scheduler, run_forever

__all__ = ["Worker", "build_scheduler", "make_worker_id", "run_forever", "run_once", "utc_now"]
