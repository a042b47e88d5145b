"""Each alert's words: what happened, to which account, and what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from amplifier.store import Delivery, WorkerStop


def when(moment: datetime) -> str:
    """A moment as alerts show it: UTC, to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _post(row: Delivery) -> str:
    return f"post {row.template_id} of {row.account} ({row.network}) for the slot {row.slot_key}"


def failed(row: Delivery, reason: str) -> tuple[str, str]:
    return (
        f"{row.account}: a post failed",
        f"{_post(row)} was not published: {reason}.\n"
        f"What to do: `amplifier history --account {row.account} --status failed` shows it; "
        "fix the cause (the post, the account), then `amplifier post-now "
        f"{row.account} --post {row.template_id}` sends it if it still matters.",
    )


def needs_review(row: Delivery, reason: str, console_url: str) -> tuple[str, str]:
    where = f" or {console_url.rstrip('/')}/review" if console_url else ""
    return (
        f"{row.account}: a post needs review",
        f"{_post(row)} may or may not have been published: {reason}.\n"
        f"What to do: look at the account; then `amplifier review {row.id} --published` or "
        f"`--not-published`{where}. Until then nothing re-sends it.",
    )


def credentials_refused(row: Delivery, reason: str) -> tuple[str, str]:
    return (
        f"{row.account}: credentials refused",
        f"{row.network} refused the credentials of {row.account} ({reason}); {_post(row)} "
        "failed, and every later post of this account will too.\n"
        "What to do: the token was revoked or the app password changed: make new credentials, "
        "set them in the account's environment variables (docs/operators.md), then "
        f"`amplifier accounts verify --account {row.account}`.",
    )


def rate_limited(account: str, window: str, until: datetime, now: datetime) -> tuple[str, str]:
    minutes = max(0, round((until - now) / timedelta(minutes=1)))
    return (
        f"{account}: rate limited for {minutes} minutes",
        f"the platform limited {account} ({window}) until {when(until)}; its posts wait for "
        "that and go out after it, nothing is lost.\n"
        "What to do: nothing, unless it repeats: then post less often "
        "(the account's schedule) or check what else uses these credentials.",
    )


def x_spend(scope: str, percent: int, spent: str, limit: str, month: str) -> tuple[str, str]:
    if percent >= 100:
        then = (
            "X posts that cost anything are skipped until the month ends.\n"
            "What to do: raise the budget ([guards] x_monthly_budget_usd or the account's "
            "monthly_budget_usd) if that is intended, else nothing."
        )
    else:
        then = (
            "posts go on until the budget is spent, then are skipped.\n"
            "What to do: `amplifier status` shows the projection; raise the budget or post "
            "less on X if the month would run out."
        )
    return (
        f"X spend at {percent}% of the budget of {scope}",
        f"X spend of {scope} in {month} reached {spent} of its {limit} budget ({percent}%): "
        + then,
    )


def check_failed(invalid: int, problems: Sequence[str]) -> tuple[str, str]:
    shown = "\n".join(f"- {problem}" for problem in problems[:5])
    more = f"\n(and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return (
        f"{invalid} post(s) fail the check after a start",
        f"the worker started with {invalid} invalid post file(s), left out of every rotation:"
        f"\n{shown}{more}\nWhat to do: `amplifier check` says why, file by file; fix them "
        "and deploy again.",
    )


def heartbeat_silent(worker: str, seen_at: datetime, now: datetime) -> tuple[str, str]:
    minutes = round((now - seen_at) / timedelta(minutes=1))
    return (
        "a worker went silent",
        f"worker {worker} has not checked in since {when(seen_at)} ({minutes} minutes): it "
        "stopped or hangs, and no post goes out unless another worker runs.\n"
        "What to do: look at the worker's logs and restart it (Heroku: `heroku ps`, "
        "`heroku restart worker`); posts it held are taken over by the next worker.",
    )


def worker_stopped(stop: WorkerStop, since: datetime, now: datetime) -> tuple[str, str]:
    minutes = round((now - since) / timedelta(minutes=1))
    return (
        "no worker is running",
        f"No worker has run for {minutes} minutes: the last one, {stop.worker_id}, stopped "
        f"cleanly {stop.how} at {when(stop.at)}, and none has started since. The campaign is "
        "not paused, and no post goes out until a worker runs.\n"
        "What to do: if this is not meant, start a worker (Heroku: `heroku ps:scale worker=1`; "
        "if it crashes at start, `heroku logs --ps worker` says why). If it is meant, "
        "`amplifier pause` (or leaving worker-stopped out of [alerts] events) keeps this quiet.",
    )


def test_message() -> tuple[str, str]:
    return (
        "amplifier: test alert",
        "This is a test from `amplifier alerts test`: this channel receives amplifier's alerts.",
    )


def coalesced(subjects: Sequence[str]) -> str:
    """The title of one message carrying several alerts."""
    return f"amplifier: {len(subjects)} alerts ({subjects[0]}, ...)"
