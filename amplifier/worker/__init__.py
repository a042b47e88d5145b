"""Worker: the process that runs the whole flow for every account's due slots, exactly once.

load -> plan -> render -> guard -> claim -> publish -> record, whatever happens on the way.

``Worker.run_pending(now)`` (passes.py) is one pass: heartbeat, crashed and deferred rows
settled (delivery's ``Settler``), then each due slot of each account through ``SlotFlow``
(slot.py: plan with the schedule stage, guard with the guards, claim in the store, deliver
with the delivery stage). ``run_forever`` (scheduler.py) drives passes with APScheduler 3 and
handles SIGTERM (and runs the alerts' sender thread and watch, alerting.py); ``run_once``
(once.py) is one pass, stoppable the same way. This is the
one stage that imports all the others below it. ``run_once``, ``run_forever`` and
``build_scheduler`` load on first use: ``post-now`` builds a ``Worker`` and schedules nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from amplifier.worker.passes import Worker, make_worker_id, utc_now

if TYPE_CHECKING:
    from amplifier.worker.once import run_once
    from amplifier.worker.scheduler import build_scheduler, run_forever

_DRIVERS = {
    "run_once": "amplifier.worker.once",
    "run_forever": "amplifier.worker.scheduler",
    "build_scheduler": "amplifier.worker.scheduler",
}


def __getattr__(name: str) -> Any:
    if name in _DRIVERS:
        return getattr(import_module(_DRIVERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Worker", "build_scheduler", "make_worker_id", "run_forever", "run_once", "utc_now"]
