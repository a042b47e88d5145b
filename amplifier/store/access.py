"""The console's shared state: failed sign-ins (the throttle) and credentials checks.

Failed sign-ins live in the database, not in a web process's memory, so two web processes
and a restart share one count per client. A credentials check records only when and how an
account was confirmed, never anything the check used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select

from amplifier.store.base import StoreBase, aware, upsert
from amplifier.store.schema import UTCDateTime, account_checks, sign_in_failures

_FAILURES = (
    select(sign_in_failures.c.failed_at)
    .where(
        (sign_in_failures.c.client == bindparam("client"))
        & (sign_in_failures.c.failed_at > bindparam("since", type_=UTCDateTime))
    )
    .order_by(sign_in_failures.c.failed_at)
)


class AccessState(StoreBase):
    """Sign-in failures by client, and when each account's credentials were last confirmed."""

    def sign_in_failures(self, client: str, since: datetime) -> list[datetime]:
        """When this client failed to sign in after ``since``, oldest first."""
        with self._read("sign_in_failures") as conn:
            found = conn.execute(_FAILURES, {"client": client, "since": aware("since", since)})
            return [row[0] for row in found]

    def record_sign_in_failure(self, client: str, at: datetime, forget_before: datetime) -> None:
        """Record a failed sign-in; failures older than ``forget_before`` (anyone's) are
        dropped in the same transaction, so the table holds one window's worth."""
        with self._write("record_sign_in_failure") as conn:
            conn.execute(
                delete(sign_in_failures).where(
                    sign_in_failures.c.failed_at <= aware("forget_before", forget_before)
                )
            )
            conn.execute(insert(sign_in_failures).values(client=client, failed_at=aware("at", at)))

    def clear_sign_in_failures(self, client: str) -> None:
        """Forget this client's failures (it signed in)."""
        with self._write("clear_sign_in_failures") as conn:
            conn.execute(delete(sign_in_failures).where(sign_in_failures.c.client == client))

    def record_credentials_check(self, account: str, at: datetime, how: str) -> None:
        """The account's credentials were confirmed at ``at`` (``how``: by what)."""
        values = {"account": account, "verified_at": aware("at", at), "how": how}
        with self._write("record_credentials_check") as conn:
            upsert(conn, account_checks, values, ["account"])

    def credentials_checks(self) -> dict[str, tuple[datetime, str]]:
        """{account: (when its credentials were last confirmed, by what)}."""
        query = select(account_checks.c.account, account_checks.c.verified_at, account_checks.c.how)
        with self._read("credentials_checks") as conn:
            return {row[0]: (row[1], row[2]) for row in conn.execute(query)}


def credentials_confirmed(
    check: tuple[datetime, str] | None, last_post_sent: datetime | None
) -> tuple[datetime, str] | None:
    """When an account's credentials were last shown to work, and how: the latest of its
    recorded check and its last published post (a post only goes out with working ones)."""
    if last_post_sent is not None and (check is None or last_post_sent > check[0]):
        return (last_post_sent, "a post published")
    return check
