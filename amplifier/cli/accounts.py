"""``amplifier accounts verify``: each account's credentials checked, nothing posted.

The state database is opened (made and migrated when new), so each Mastodon server's limits,
read afresh, are stored for the worker, ``check`` and ``preview``, and each account confirmed
is recorded as such (when, by this command), for ``status`` and the console."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from amplifier.accounts import describe, verify_accounts
from amplifier.cli.database import opened

Clock = Callable[[], datetime]


def cmd_accounts_verify(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    # An unknown account name is refused (the closest one offered) before the database opens.
    with opened(args, clock, account=args.account) as (settings, store):
        results = verify_accounts(settings, only=args.account, limits_cache=store)
        checked = clock()
        for result in results:
            if result.ok:  # when, and by what: nothing of the credentials themselves
                store.record_credentials_check(
                    result.account.name, checked, "amplifier accounts verify"
                )
            for line in describe(result):
                print(line, file=out)
    return 0 if all(result.ok for result in results) else 1
