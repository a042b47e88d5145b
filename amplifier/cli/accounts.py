"""``amplifier accounts verify``: each account's credentials checked, nothing posted."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from amplifier.accounts import describe, verify_accounts
from amplifier.cli.common import accounts_named
from amplifier.config import load_settings

Clock = Callable[[], datetime]


def cmd_accounts_verify(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings = load_settings(args.config)
    accounts_named(settings, args.account)  # an unknown name: the closest one offered
    results = verify_accounts(settings, only=args.account)
    for result in results:
        for line in describe(result):
            print(line, file=out)
    return 0 if all(result.ok for result in results) else 1
