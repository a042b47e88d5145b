"""The command line's arguments: every command, its options and its help text."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from amplifier import __version__


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
        help="show what the worker will do with each account's next slots",
        description=(
            "Show what the worker will do with each account's next slots, from what is stored "
            "(rotation, guard history, spend, pause): the post each sends, rendered exactly as "
            "it will go out with its length against the network's limit, the post it replaces "
            "and the rule that refused it, or why the slot is skipped. Each predicted post "
            "counts for the next slot's guards, rotation and spend. Nothing is sent or recorded."
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
        "environment print their posts instead (dry run), recorded as 'rehearsed', which no "
        "live count, guard, spend or rotation ever takes for a post. Run exactly one worker "
        "per database; a second one is safe but pointless.",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="print every post, send nothing (rehearsed)"
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="one pass now (settle, retry, publish what is due), print what was done, exit",
    )
    schedule = add(
        "schedule",
        "list each account's upcoming slots",
        "List each enabled account's upcoming slots in its own timezone (and UTC), from the "
        "config (times, days, random offset, campaign dates and blackout dates applied), each "
        "with what the worker will do with it, as amplifier preview predicts it.",
    )
    schedule.add_argument("--account", metavar="NAME", help="only this account")
    schedule.add_argument("-n", type=int, default=5, metavar="N", help="slots per account")
    history = add(
        "history",
        "what went out (with links), what failed and why",
        "List recorded deliveries, newest slot first: published ones with their link, and "
        "every other state with its reason. States: published, deferred (retried at the time "
        "shown), failed, unknown (needs review), missed (no worker ran in time), skipped, "
        "sending (under way), rehearsed (a dry run printed it; never sent, never counted).",
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
        "Publish the account's next post in rotation (or --post ID) right away, if the guards "
        "allow it. It is claimed like a slot under a key of its own (manual-<UTC time>-<random>), "
        "so it is recorded and never sent twice; each run of the command is a post of its own.",
    )
    post_now.add_argument("account", metavar="ACCOUNT", help="the account's name")
    post_now.add_argument("--post", metavar="ID", help="this post instead of the next in rotation")
    post_now.add_argument(
        "--dry-run",
        action="store_true",
        help="print the post, send nothing; recorded as 'rehearsed', which nothing counts",
    )
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
