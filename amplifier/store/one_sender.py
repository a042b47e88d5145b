"""One sender per account, across workers: the conditions ``Store.begin_attempt`` adds.

An attempt stamps its row's ``attempt_at`` (0009). While a row of the account is 'sending'
with an attempt in flight and its worker is alive, no other worker begins one, and none
begins while a window of the account is shut, read in the begin's own statement. So the
answer of one attempt, a 429 above all, is stored before the next request for the account
leaves. A worker's own rows never hold it up (its turns already order them).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, exists, text

from amplifier.store.schema import deliveries, rate_limits, workers

# Another worker's attempt for the same account, begun and not finished, by a worker still
# alive: while one is in flight no other begins, so a 429 one of them meets is stored before
# the next request for the account goes out (a dead worker's stops counting when it goes stale).
OTHER = deliveries.alias("other")
STALE_AFTER = timedelta(seconds=45)  # [worker] stale_worker_seconds' default
IN_FLIGHT_ELSEWHERE = exists().where(
    (OTHER.c.account == deliveries.c.account)
    & (OTHER.c.id != deliveries.c.id)
    & (OTHER.c.status == "sending")
    & OTHER.c.attempt_at.is_not(None)
    & (OTHER.c.claimed_by != bindparam("owned_by"))
    & exists().where(
        (workers.c.worker_id == OTHER.c.claimed_by)
        & (workers.c.seen_at > bindparam("alive_after", type_=workers.c.seen_at.type))
    )
)
# A shut rate-limit window of the account, read in the begin's own statement: a window stored
# by the attempt that just ended is seen by the one that begins after it (no gap between a
# separate read and the begin).
WINDOW_SHUT = exists().where(
    (rate_limits.c.account == deliveries.c.account)
    & (rate_limits.c.remaining == 0)
    & (rate_limits.c.reset_at > bindparam("now", type_=rate_limits.c.reset_at.type))
)
ACCOUNT_FREE = ~IN_FLIGHT_ELSEWHERE & ~WINDOW_SHUT
# The row's account's lock, held to the end of the transaction (PostgreSQL only).
ACCOUNT_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('amplifier-account:' || account, 0)) "
    "FROM deliveries WHERE id = :owned_id"
)
