"""/healthz: is the database reachable, and how long ago did a worker last beat. No auth."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from amplifier.errors import StoreError
from amplifier.store import Store
from amplifier.web.guard import console


async def healthz(request: Request) -> Response:
    current = console(request)
    try:
        beats = await run_in_threadpool(_read, current.store)
    except StoreError:
        # No detail: the error names the database host, which is nobody's business here.
        return JSONResponse({"database": "unreachable"}, status_code=503)
    now = current.clock()
    newest = max((seen for _, seen in beats), default=None)
    age = None if newest is None else round((now - newest).total_seconds())
    stale = current.settings.worker.stale_worker_seconds
    return JSONResponse(
        {
            "database": "ok",
            "newest_heartbeat_age_seconds": age,
            "worker_alive": age is not None and age <= stale,
        }
    )


def _read(store: Store) -> list[tuple[str, datetime]]:
    store.ping()
    return list(store.heartbeats())
