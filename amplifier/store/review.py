"""An operator's verdict on a delivery whose outcome was unknown: ``amplifier review ID`` and
the console's review buttons."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, literal, update

from amplifier.errors import StoreError
from amplifier.store.base import StoreBase
from amplifier.store.schema import deliveries


class Reviews(StoreBase):
    """Settles 'unknown' rows as published (with the post found, when given) or failed."""

    def resolve(
        self,
        delivery_id: int,
        *,
        status: Literal["published", "failed"],
        by: str,
        note: str,
        remote_id: str | None = None,
        url: str | None = None,
    ) -> bool:
        """An operator settles an 'unknown' row; False if the row is not 'unknown'.

        ``remote_id`` and ``url``: the post found by hand (published only), which a thread's
        next part then replies to."""
        if status not in ("published", "failed"):
            raise StoreError(f"an unknown delivery resolves to published or failed, not {status}")
        # Keep the reason it became unknown after the operator's note.
        earlier = func.coalesce(literal(" (was: ") + deliveries.c.last_error + literal(")"), "")
        # Found published: it went out before it was marked unknown, its last attempt by then.
        sent_at = deliveries.c.updated_at if status == "published" else None
        found = {"remote_id": remote_id, "url": url} if status == "published" and remote_id else {}
        with self._write("resolve") as conn:
            result = conn.execute(
                update(deliveries)
                .where((deliveries.c.id == delivery_id) & (deliveries.c.status == "unknown"))
                .values(
                    status=status,
                    last_error=literal(f"resolved as {status} by {by}: {note}") + earlier,
                    sent_at=sent_at,
                    updated_at=self._now(),
                    **found,
                )
            )
        return result.rowcount == 1
