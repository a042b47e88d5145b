"""The operator's commands: history, status, pause, resume, review.

Like the rest of the CLI they decide nothing: each opens the store (running its migrations),
reads or writes it, and prints.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable, Collection
from datetime import UTC, datetime, tzinfo
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from amplifier.check import load
from amplifier.cli.common import CommandError, accounts_named, closest, dry_run_accounts
from amplifier.cli.database import database_label, opened
from amplifier.config import Account, Settings
from amplifier.content import Library
from amplifier.guards import (
    SENT,
    budgets,
    month_bounds,
    month_projection,
    month_summary,
    to_micros,
    usd,
)
from amplifier.networks.post_links import not_a_post_link, remote_id_of
from amplifier.results import collects
from amplifier.schedule import upcoming_slots
from amplifier.store import Delivery, Store, credentials_confirmed

Clock = Callable[[], datetime]
SPENT = ("published", "unknown")  # billed, or may have been
PENDING = ("sending", "deferred")  # claimed, not sent yet


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "operator"


def _when(settings: Settings, account: str, moment: datetime | None) -> str:
    """A moment in the account's own timezone (UTC for accounts no longer configured)."""
    if moment is None:
        return "-"
    try:
        zone: tzinfo = ZoneInfo(settings.schedules[settings.account(account).schedule].timezone)
    except KeyError:
        zone = UTC
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def history_line(settings: Settings, row: Delivery, cost: int | None = None) -> str:
    detail = row.url or row.last_error or ""
    if row.ambiguous_since is not None and row.status in ("deferred", "unknown", "sending"):
        # An attempt may have landed: say since when, as these lines always have.
        stamp = row.ambiguous_since.astimezone(UTC).isoformat(timespec="seconds")
        detail = f"{detail} [ambiguous since {stamp.replace('+00:00', 'Z')}]"
    if row.status == "deferred":
        detail = f"retry at {_when(settings, row.account, row.retry_at)}: {detail}"
    if cost is not None and row.status in SENT:
        detail = f"{usd(cost, 3)}  {detail}"
    post = row.template_id or "-"
    width = max((len(account.name) for account in settings.accounts), default=0)
    return (
        f"#{row.id:<5} {_when(settings, row.account, row.due_at)}  {row.account:<{width}}  "
        f"{row.status:<9} {post}  {detail}".rstrip()
    )


def cmd_history(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (settings, store):
        rows = store.history(account=args.account, limit=args.limit, statuses=args.status)
        if args.account and not rows and args.account not in {a.name for a in settings.accounts}:
            # A removed account's rows still show; a name with none is most likely a typo.
            names = [account.name for account in settings.accounts]
            raise CommandError(
                f"no account {args.account!r} in the config and no deliveries recorded for it"
                f"{closest(args.account, names)} Accounts: {', '.join(names) or 'none'}"
            )
        costs = store.delivery_costs([row.id for row in rows])
        for row in rows:
            print(history_line(settings, row, costs.get(row.id)), file=out)
        if not rows:
            print(_nothing_recorded(args, bool(store.history(limit=1))), file=out)
    return 0


def _nothing_recorded(args: argparse.Namespace, any_recorded: bool) -> str:
    if not any_recorded:
        return "no deliveries recorded yet"
    wanted = []
    if args.account:
        wanted.append(f"account {args.account}")
    if args.status:
        wanted.append("state " + " or ".join(args.status))
    return f"no deliveries of {' in '.join(wanted)} (amplifier history without options shows all)"


def cmd_status(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (settings, store):
        now = clock()
        _, library = load(args.config, args.posts)
        print(f"config:   {settings.config_path}", file=out)
        print(f"database: {database_label(settings)}", file=out)
        print(f"posts:    {posts_line(library)}", file=out)
        paused, by, since = store.paused()
        state = f"PAUSED by {by} since {since:%Y-%m-%d %H:%M} UTC" if paused and since else "no"
        print(f"paused: {state}", file=out)
        accounts = accounts_named(settings, None)
        _, dry = dry_run_accounts(settings, accounts, forced=False)
        checks = store.credentials_checks()
        for account in accounts:
            print(f"{account.name} ({account.network})", file=out)
            print(f"  mode:         {_mode(settings, account.name in dry)}", file=out)
            last = store.last_published(account.name)
            if last is not None:
                link = last.url or last.remote_id or ""
                shown = f"{_when(settings, account.name, last.due_at)}  {last.template_id}  {link}"
            else:
                shown = "none yet"
            print(f"  last post:    {shown}", file=out)
            upcoming = upcoming_slots(settings, account, now, count=1, days=None)
            nxt = _when(settings, account.name, upcoming[0].due_at) if upcoming else "none"
            print(f"  next slot:    {nxt}", file=out)
            windows = [
                f"{w.window} {w.remaining}/{w.limit if w.limit is not None else '?'} "
                f"until {_when(settings, account.name, w.reset_at)}"
                for w in store.rate_limits(account.name)
                if w.reset_at is None or w.reset_at > now
            ]
            blocked = store.blocked_until(account.name, now)
            limits = "; ".join(windows) or "no window reported"
            if blocked is not None:
                limits = f"BLOCKED until {_when(settings, account.name, blocked)} ({limits})"
            print(f"  rate limits:  {limits}", file=out)
            waiting = store.history(account=account.name, limit=100, statuses=["deferred"])
            print(f"  deferred:     {len(waiting)}", file=out)
            review = store.history(account=account.name, limit=100, statuses=["unknown"])
            hint = "  (run amplifier review)" if review else ""
            print(f"  needs review: {len(review)}{hint}", file=out)
            if account.network == "x":
                line = spend_line(settings, library, account, now, store_spend(store, now))
                print(f"  spend:        {line}", file=out)
            confirmed = credentials_confirmed(
                checks.get(account.name), last.sent_at if last is not None else None
            )
            if confirmed is not None:
                when = f"{_when(settings, account.name, confirmed[0])} ({confirmed[1]})"
            else:
                when = "never recorded (run amplifier accounts verify)"
            print(f"  credentials:  last confirmed {when}", file=out)
            print(f"  results:      {results_line(settings, store, account, now)}", file=out)
        deployment = settings.guards.x_monthly_budget_usd
        if deployment is not None:
            spent = store_spend(store, now)(None, SENT)
            print(
                f"all X accounts: {usd(spent)} spent or pending this month of the "
                f"{usd(to_micros(deployment))} budget (guards.x_monthly_budget_usd)",
                file=out,
            )
        if getattr(args, "alert", False):
            from amplifier.cli.alerting import status_alert  # Apprise only when sending

            status_alert(settings, store, clock, out)
    return 0


def results_line(settings: Settings, store: Store, account: Account, now: datetime) -> str:
    """Whether the account's posts' counts are read back, when, and on X at what cost."""
    ages = ", ".join(settings.results.ages)
    price = usd(to_micros(settings.guards.x_prices.post_read), 3)
    if not settings.results.enabled:
        return "not collected ([results] enabled = false)"
    if not collects(account):
        if account.network == "x":
            return f"off (X bills {price} a post read; results = true under the account reads)"
        return "off (results = false under the account)"
    line = f"read at {ages} after each post"
    if account.network == "x":
        start, end = month_bounds(now)
        spent = usd(store.read_spend_micros(start, end, account.name), 3)
        line += f"; {spent} of reads this month at {price} a post, in the spend above"
    return line


def posts_line(library: Library) -> str:
    """'45 valid, 2 invalid and left out (amplifier check shows why)'."""
    valid = sum(1 for result in library.files if result.ok)
    invalid = sum(1 for result in library.files if not result.ok)
    errors = sum(1 for problem in library.problems if problem.severity == "error")
    if not invalid and errors:  # a problem with no file of its own: the folder itself
        return f"{valid} valid; {errors} problem(s) (amplifier check shows them)"
    if not invalid:
        return f"{valid} valid, 0 invalid"
    return f"{valid} valid, {invalid} invalid and left out (amplifier check shows why)"


def _mode(settings: Settings, dry: bool) -> str:
    if not dry:
        return "live"
    if settings.dry_run:
        return "dry-run (dry_run is on: posts are logged, not sent)"
    return "dry-run (credentials not set; amplifier accounts verify names them)"


SpendReader = Callable[[str | None, Collection[str]], int]


def store_spend(store: Store, now: datetime) -> SpendReader:
    """(account or None for all X accounts, statuses) -> this UTC month's X spend in micros."""
    start, end = month_bounds(now)

    def read(account: str | None, statuses: Collection[str]) -> int:
        return store.spend_micros(start, end, statuses=statuses, account=account, network="x")

    return read


def spend_line(
    settings: Settings, library: Library, account: Account, now: datetime, read: SpendReader
) -> str:
    """An X account's month: spent, pending, projected, against its budgets."""
    spent = read(account.name, SPENT)
    pending = read(account.name, PENDING)
    projection = month_projection(settings, library, account, now, spent)
    limits = budgets(settings, account, lambda name: read(name, SENT))
    return month_summary(projection, pending, limits)


def cmd_pause(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (settings, store):
        by = _operator() + (f" ({args.reason})" if args.reason else "")
        store.set_paused(True, by=by)
        seconds = settings.worker.tick_seconds
        print(f"paused by {by}; a running worker stops posting within {seconds} s", file=out)
    return 0


def cmd_resume(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (_, store):
        store.set_paused(False, by=_operator())
        print("resumed: posting goes on from the next slot", file=out)
    return 0


def cmd_review(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    with opened(args, clock) as (settings, store):
        if args.id is None:
            rows = store.history(limit=1000, statuses=["unknown"])
            for row in rows:
                print(history_line(settings, row), file=out)
                print(f"        text: {row.text[:100]!r}", file=out)
            if rows:
                print(
                    "Look for each post on its account, then: amplifier review ID --published "
                    "or --not-published [--note TEXT]",
                    file=out,
                )
            else:
                print("nothing needs review", file=out)
            return 0
        status: Literal["published", "failed"] = "published" if args.published else "failed"
        note = args.note or ("found on the account" if args.published else "not on the account")
        settled = store.get_by_id(args.id)
        remote_id = None
        if args.url and settled is not None:
            remote_id = remote_id_of(settled.network, args.url)
            if remote_id is None:
                print(f"error: {not_a_post_link(settled.network, args.url)}", file=out)
                return 2
        done = settled is not None and store.resolve(
            args.id, status=status, by=_operator(), note=note, remote_id=remote_id,
            url=args.url if remote_id else None,
        )  # fmt: skip
        if not done:
            print(f"error: delivery #{args.id} is not awaiting review", file=out)
            return 1
        print(f"delivery #{args.id} recorded as {status}", file=out)
    return 0


OPERATOR_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, Clock], int]] = {
    "history": cmd_history,
    "status": cmd_status,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "review": cmd_review,
}
