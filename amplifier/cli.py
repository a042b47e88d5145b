"""The command line: parse arguments, call the functions that do the work, print.

Every command reads ``--config FILE``, else ``$AMPLIFIER_CONFIG``, else ``config.toml``, else
``config.example.toml``; the posts folder is the one the config names unless ``--posts``.
Exit codes: 0 ok, 1 problems found or an operation failed, 2 unusable input (bad config).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from amplifier import __version__
from amplifier.accounts import describe, verify_accounts
from amplifier.check import display_path, format_problem, load, run_check, summary_lines
from amplifier.cli_worker import WORKER_COMMANDS, spend_line, store_spend
from amplifier.config import Account, Settings, load_settings
from amplifier.content import Library
from amplifier.errors import AmplifierError, ConfigError, StoreError
from amplifier.guards import post_cost, text_refusals, usd
from amplifier.schedule import NothingToPost, PlannedPost, preview, upcoming_slots
from amplifier.store import Store

LOGGER = logging.getLogger("amplifier.cli")

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amplifier",
        description=(
            "Publish a campaign's rotating posts and hashtags to X, Mastodon and Bluesky "
            "on a schedule, exactly once."
        ),
        epilog=(
            "Start with 'amplifier check' (is everything valid?) and 'amplifier preview' "
            "(what will go out?). Config: --config FILE, else $AMPLIFIER_CONFIG, else "
            "config.toml, else config.example.toml."
        ),
    )
    parser.add_argument("--version", action="version", version=f"amplifier {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--config", metavar="FILE", help="config file (TOML)")
        sub.add_argument("--posts", metavar="DIR", help="posts folder (default: the config's)")

    check = commands.add_parser(
        "check",
        help="validate the config and every post; exit 1 if anything is invalid",
        description=(
            "Validate the config and every post file. Each problem prints as file:line: "
            "message; checking goes on after a bad file, and a summary counts valid and "
            "invalid posts per campaign and network. Exit status 1 if anything is invalid."
        ),
    )
    common(check)
    check.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="'github' prints GitHub Actions annotations, so a pull request shows errors inline",
    )

    show = commands.add_parser(
        "preview",
        help="show what each account would post in its next slots",
        description=(
            "Show what each account would post in its next slots: time, post id, the rendered "
            "text with its hashtags, and its length against the network's limit. Nothing is sent."
        ),
    )
    common(show)
    show.add_argument("--account", metavar="NAME", help="only this account")
    show.add_argument("-n", type=int, default=5, metavar="N", help="slots per account (default 5)")
    show.add_argument("--days", type=int, metavar="D", help="every slot in the next D days")

    accounts = commands.add_parser(
        "accounts",
        help="check the configured accounts' credentials (read-only)",
        description="Commands about the configured accounts.",
    )
    account_commands = accounts.add_subparsers(dest="accounts_command", metavar="ACTION")
    verify = account_commands.add_parser(
        "verify",
        help="check each account's credentials without posting",
        description=(
            "Check each enabled account's credentials read-only (nothing is posted): who it "
            "is, whether a Mastodon account carries the bot flag, and reminders such as X's "
            "'Automated' label. Exit status 1 if any account fails or lacks credentials."
        ),
    )
    verify.add_argument("--config", metavar="FILE", help="config file (TOML)")
    verify.add_argument("--account", metavar="NAME", help="only this account")
    _worker_commands(commands, common)
    return parser


def _worker_commands(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    def add(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=summary, description=description
        )
        common(sub)
        return sub

    run = add(
        "run",
        "the worker: publish every slot when it comes, until stopped",
        "Run the worker: publish each account's slots as they come, exactly once, until "
        "SIGTERM or Ctrl-C (the post in flight is finished or handed back first). State lives "
        "in the database (database_url / DATABASE_URL). Accounts without credentials in the "
        "environment print their posts instead (dry run). Run exactly one worker per database; "
        "a second one is safe but pointless.",
    )
    run.add_argument("--dry-run", action="store_true", help="print every post, send nothing")
    run.add_argument(
        "--once",
        action="store_true",
        help="one pass now (settle, retry, publish what is due), print what was done, exit",
    )
    schedule = add(
        "schedule",
        "list each account's upcoming slots",
        "List each enabled account's upcoming slots in its own timezone (and UTC), from the "
        "config: times, days, random offset, campaign dates and blackout dates applied.",
    )
    schedule.add_argument("--account", metavar="NAME", help="only this account")
    schedule.add_argument("-n", type=int, default=5, metavar="N", help="slots per account")
    history = add(
        "history",
        "what went out (with links), what failed and why",
        "List recorded deliveries, newest slot first: published ones with their link, and "
        "every other state with its reason. States: published, deferred (retried at the time "
        "shown), failed, unknown (needs review), missed (no worker ran in time), skipped, "
        "sending (under way).",
    )
    history.add_argument("--account", metavar="NAME", help="only this account")
    history.add_argument("--limit", type=int, default=30, metavar="N", help="rows (default 30)")
    history.add_argument(
        "--status", action="append", metavar="S", help="only this state (repeatable)"
    )
    add(
        "status",
        "per account: last post, next slot, rate limits, what needs review",
        "Show whether posting is paused, and per account: the last post, the next slot, "
        "rate-limit windows, deferred posts and deliveries that need review.",
    )
    pause = add(
        "pause",
        "stop all posting (stored in the database) until 'amplifier resume'",
        "Stop all posting without a redeploy: the running worker reads the switch on every "
        "pass (within tick_seconds) and records due slots as skipped.",
    )
    pause.add_argument("--reason", metavar="TEXT", help="why; shown by status and history")
    add("resume", "undo 'amplifier pause'", "Resume posting from the next slot on.")
    post_now = add(
        "post-now",
        "publish one post for an account right away",
        "Publish the account's next post in rotation (or --post ID) right away. It is "
        "claimed like a slot (key manual-<UTC time>), so it is recorded and never sent twice.",
    )
    post_now.add_argument("account", metavar="ACCOUNT", help="the account's name")
    post_now.add_argument("--post", metavar="ID", help="this post instead of the next in rotation")
    post_now.add_argument("--dry-run", action="store_true", help="print the post, send nothing")
    review = add(
        "review",
        "list deliveries that may or may not have gone out; settle one",
        "Without arguments: list deliveries in state 'unknown' (the worker was interrupted and "
        "could not tell whether the network got the post). Check the account, then record "
        "what you found: amplifier review ID --published (or --not-published).",
    )
    review.add_argument("id", nargs="?", type=int, metavar="ID", help="the delivery to settle")
    verdict = review.add_mutually_exclusive_group()
    verdict.add_argument("--published", action="store_true", help="it is on the account")
    verdict.add_argument(
        "--not-published", action="store_true", help="it is not on the account (failed)"
    )
    review.add_argument("--note", metavar="TEXT", help="what you checked")


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    clock: Clock = _now,
) -> int:
    stream = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(stream)
        return 0
    try:
        if args.command == "check":
            return cmd_check(args, stream)
        if args.command == "preview":
            return cmd_preview(args, stream, clock)
        if args.command == "accounts":
            if args.accounts_command != "verify":
                parser.parse_args(["accounts", "--help"])
            return cmd_accounts_verify(args, stream)
        if args.command in WORKER_COMMANDS:
            return WORKER_COMMANDS[args.command](args, stream, clock)
    except ConfigError as exc:
        for problem in exc.problems:
            print(format_problem(problem, "text"), file=stream)
        print("The config is invalid; fix it and try again (amplifier check).", file=stream)
        return 2
    except AmplifierError as exc:
        print(f"error: {exc}", file=stream)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    report = run_check(args.config, args.posts)
    for problem in report.problems:
        print(format_problem(problem, args.format), file=out)
    for line in summary_lines(report):
        print(line, file=out)
    if report.settings is None:
        return 2
    return 0 if report.ok else 1


def cmd_preview(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings, library = load(args.config, args.posts)
    if library.problems:
        print(
            f"note: {len(library.problems)} problem(s) in posts; those posts are left out "
            "(run amplifier check)",
            file=out,
        )
    accounts = [a for a in settings.accounts if a.enabled]
    if args.account:
        accounts = [a for a in accounts if a.name == args.account]
        if not accounts:
            names = ", ".join(a.name for a in settings.accounts)
            print(f"error: no account {args.account!r}; accounts: {names}", file=out)
            return 1
    now = clock()
    for account in accounts:
        schedule = settings.schedules[account.schedule]
        print(
            f"{account.name} ({account.network}) · schedule {account.schedule!r} "
            f"in {schedule.timezone}",
            file=out,
        )
        slots = upcoming_slots(settings, account, now, count=args.n, days=args.days)
        if not slots:
            print("  no slots ahead (campaign ended, or no days/times left)", file=out)
        for planned in preview(settings, library, account, slots):
            print(_preview_block(planned, settings), file=out)
        if account.network == "x":
            print(f"  spend: {_spend_so_far(settings, library, account, now)}", file=out)
        print(file=out)
    return 0


def _spend_so_far(settings: Settings, library: Library, account: Account, now: datetime) -> str:
    """The account's month from the state database, read-only; preview works without one."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        # Opening it would create it, and nothing can have been spent without it.
        return spend_line(settings, library, account, now, lambda _name, _statuses: 0)
    store = Store(settings.sqlalchemy_url)
    try:
        return spend_line(settings, library, account, now, store_spend(store, now))
    except StoreError:
        return "unknown: the state database cannot be read (run amplifier status)"
    finally:
        store.close()


def cmd_accounts_verify(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings(args.config)
    results = verify_accounts(settings, only=args.account)
    if args.account and not results:
        print(f"error: no enabled account {args.account!r}", file=out)
        return 1
    for result in results:
        for line in describe(result):
            print(line, file=out)
    return 0 if all(result.ok for result in results) else 1


def _preview_block(planned: PlannedPost | NothingToPost, settings: Settings) -> str:
    when = planned.slot.due_at.astimezone(planned.slot.nominal.tzinfo).strftime(
        "%a %Y-%m-%d %H:%M %Z"
    )
    if isinstance(planned, NothingToPost):
        return f"  {when}  (nothing: {planned.reason})"
    rendered = planned.rendered
    header = (
        f"  {when}  {planned.template.id} ({planned.template.language}) "
        f"{rendered.length}/{rendered.limit} · {display_path(planned.template.path)}"
    )
    if rendered.network == "x":
        images = len(planned.template.media)
        cost = post_cost("x", rendered.text, images, settings.guards.x_prices)
        header += f" · {usd(cost.micros, 3)}"
    body = "\n".join(f"      {line}".rstrip() for line in rendered.text.splitlines())
    refusals = text_refusals(
        rendered.text,
        rendered.network,
        allow_mentions=planned.template.allow_mentions,
        max_hashtags=settings.networks.limits(rendered.network).max_hashtags,
        rules=settings.guards,
    )
    for refusal in refusals:  # the worker sends the next post in rotation instead
        body += f"\n      ! refused by the guards: {refusal}"
    return f"{header}\n{body}"


# -- the worker and the operator's commands -------------------------------------------------
