"""Scripted trouble for the fakes' publish endpoints: 429s with resets, 5xx, slowness, drops.

A ``FaultMaker`` draws one outcome for one publish request; a ``FaultFeeder`` keeps a short
queue of drawn outcomes on every fake, so each request meets its own.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from amplifier.testing.fakes import Fakes
from amplifier.testing.fakeserver import Fault
from amplifier.testing.scenario import POST_PATHS

FaultMaker = Callable[[random.Random, str], Fault]  # (rng, network) -> one scripted outcome


@dataclass
class RateLimitFault(Fault):
    """A 429 whose window resets ``seconds`` after it is answered (the feeder keeps it so)."""

    seconds: float = 3.0


def rate_limited(network: str, seconds: float = 3.0) -> RateLimitFault:
    """A 429 answered before the post is stored, its window resetting ``seconds`` from now."""
    reset = time.time() + seconds
    if network == "x":
        headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset) + 1)}
        body: dict[str, Any] = {"title": "Too Many Requests", "status": 429}
    elif network == "mastodon":
        stamp = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = stamp
        body = {"error": "Too many requests"}
    else:
        headers = {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0"}
        headers["RateLimit-Reset"] = str(int(reset) + 1)
        body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    path = POST_PATHS[network]
    return RateLimitFault(path_prefix=path, status=429, headers=headers, body=body, seconds=seconds)


def late_answers(low: float, high: float) -> FaultMaker:
    """Every post is stored at once and answered ``low``..``high`` seconds later."""

    def make(rng: random.Random, network: str) -> Fault:
        delay = rng.uniform(low, high)
        return Fault(path_prefix=POST_PATHS[network], delay=delay, after_work=True)

    return make


def _chaos(rng: random.Random, network: str, roll: float, reset_seconds: float) -> Fault:
    path = POST_PATHS[network]
    if roll < 0.45:  # slow before the post is stored: a kill here leaves nothing on the server
        return Fault(path_prefix=path, delay=rng.uniform(0.05, 0.25))
    if roll < 0.65:  # stored, answered late: a kill here leaves a landed post 'sending'
        return Fault(path_prefix=path, delay=rng.uniform(0.3, 1.0), after_work=True)
    if roll < 0.73:  # stored, answer lost: the worker's own retry must not post it again
        return Fault(path_prefix=path, drop=True, after_work=True)
    if roll < 0.80:  # connection dropped before anything was stored
        return Fault(path_prefix=path, drop=True)
    if roll < 0.90:
        return Fault(path_prefix=path, status=503, body={"error": "Service Unavailable"})
    return rate_limited(network, reset_seconds)


def chaos_fault(rng: random.Random, network: str) -> Fault:
    """One drawn outcome for a publish request; every one of them is slow or troubled."""
    return _chaos(rng, network, rng.random(), 3.0)


def chaos_with_resets(low: float, high: float, limited: float = 0.10) -> FaultMaker:
    """``chaos_fault`` with a share ``limited`` of 429s, each resetting ``low``..``high``
    seconds after it is answered; the rest slow or troubled in ``chaos_fault``'s proportions.

    Resets longer than ``stale_worker_seconds`` let a killed worker's row be taken over while
    its account's window is still shut.
    """

    def make(rng: random.Random, network: str) -> Fault:
        if rng.random() < limited:
            return rate_limited(network, rng.uniform(low, high))
        return _chaos(rng, network, rng.random() * 0.90, 0.0)  # under 0.90: never a 429

    return make


def fault_kind(fault: Fault) -> str:
    if fault.status is not None:
        return str(fault.status)
    if fault.drop:
        return "drop-after-work" if fault.after_work else "drop"
    return "late-answer" if fault.after_work else "slow"


class FaultFeeder:
    """Keeps two scripted outcomes queued on every fake's publish endpoint until stopped.

    The fakes consume one fault per matching request, so a short queue topped up from a seeded
    mix gives each request a drawn outcome. A queued 429 may wait long for its request, and a
    reset already past when it is answered makes adapters fall back to the full window (15 min
    on X): its headers are renewed while it waits.
    """

    def __init__(self, fakes: Fakes, rng: random.Random, make: FaultMaker) -> None:
        self.fakes, self.rng, self.make = fakes, rng, make
        self.drawn: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-feeder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for network, server in self.fakes.servers.items():
                with server.lock:
                    queued = [f for f in server.faults if f.path_prefix == POST_PATHS[network]]
                    for fault in queued:
                        if fault.status == 429:
                            seconds = fault.seconds if isinstance(fault, RateLimitFault) else 3.0
                            fault.headers = rate_limited(network, seconds).headers
                    for _ in range(2 - len(queued)):
                        fault = self.make(self.rng, network)
                        self.drawn[fault_kind(fault)] += 1
                        server.faults.append(fault)
