"""Start-up: whole commands as users run them, each beside a bare baseline in the same run.

- ``amplifier post-now`` to a (fake) Mastodon, the whole process from launch to exit, vs a
  bare Mastodon.py script making the same post (``Mastodon(...)``, ``status_post``). The
  database was migrated by an earlier command, as on any later one. Goal (issue 20): <= 2.
- ``amplifier check`` on the sample posts vs ``python -c pass`` (informational).

And the worker: launch ``amplifier run`` (the venv's console script) with X, Mastodon and Bluesky
accounts pointed at local fakes and no slot due, and read its stdout until the first
``event=next-slot`` line (logged when the scheduler's jobs are armed). The database was
migrated by an earlier run, as on any restart. Baseline: ``python -c "import tweepy, mastodon,
atproto, apscheduler, sqlalchemy"`` until it exits. Also shown: launch to the first
``event=published`` when a slot is due at start (fresh database, posts to the fakes).

    .venv/bin/python bench/bench_startup.py [--quick] [--repeats N]
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import (
    PYTHON,
    ROOT,
    SECRETS,
    FakeNetworks,
    amplifier_command,
    clean_environment,
    compile_bytecode,
    header,
    interleaved,
    median,
    parse_args,
    ratio_line,
    seconds,
    stop_process,
    table,
    temp_dir,
    utc_times,
    write_config,
)

BASELINE = "import tweepy, mastodon, atproto, apscheduler, sqlalchemy"
NETWORKS = ("x", "mastodon", "bluesky")
TIMEOUT = 120.0
POST_NOW_GOAL = 2.0  # issue 20: post-now at most twice a bare SDK script doing the same post
# What a Mastodon.py user writes to make one post: argv = instance, token, text.
BARE_POST = """
import sys
from mastodon import Mastodon
client = Mastodon(access_token=sys.argv[2], api_base_url=sys.argv[1])
client.status_post(sys.argv[3], visibility="unlisted")
"""
# The same script importing the libraries amplifier is built on first: what no code of ours
# can go below while it keeps SQLAlchemy (the store), pydantic-settings and PyYAML (config
# and posts).
FLOOR_IMPORTS = "import sqlalchemy, pydantic_settings, yaml"
POST_NOW = "ours: amplifier post-now to Mastodon (launch to exit)"
FLOOR = f"context: the bare script after {FLOOR_IMPORTS}"
BARE = "baseline: bare Mastodon.py script, status_post"
CHECK = "ours: amplifier check, sample posts"
NOTHING = "baseline: python -c pass"


def until_line(command: list[str], cwd: Path, event: str, count: int) -> float:
    """Seconds from launch until ``count`` stdout lines hold ``event=EVENT``; then SIGTERM."""
    env = clean_environment() | SECRETS
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    seen, elapsed = 0, float("nan")
    # Reading stdout blocks until a line comes: a worker that never logs the event is killed.
    watchdog = threading.Timer(TIMEOUT, process.kill)
    watchdog.start()
    try:
        for raw in process.stdout:  # the worker's log handler flushes every line
            if f"event={event}" in raw.decode("utf-8", "replace").split():
                seen += 1
                if seen >= count:
                    elapsed = time.perf_counter() - started
                    break
    finally:
        watchdog.cancel()
        stop_process(process)
        process.stdout.close()
    if elapsed != elapsed:
        raise RuntimeError(f"no event={event} line within {TIMEOUT:.0f} s from {command}")
    return elapsed


def import_time() -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", BASELINE], env=clean_environment(), check=True)
    return time.perf_counter() - started


def whole_process(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds from launch to exit of a command that must succeed."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode("utf-8", "replace")[-2000:]
        raise RuntimeError(f"{command} exited {done.returncode}: {tail}")
    return elapsed


def main() -> int:
    args = parse_args(__doc__ or "", repeats=7, quick_repeats=1)
    header("start-up: whole commands vs bare baselines", args.quick, args.repeats)
    compile_bytecode()  # amplifier loads compiled, as the libraries it is compared with do
    with FakeNetworks() as fakes, temp_dir("startup") as base:
        accounts = [{"name": f"start-{n}", "network": n, **fakes.where(n)} for n in NETWORKS]
        idle_config = write_config(
            base / "idle.toml",
            database_url=f"sqlite:///{base / 'state.db'}",
            accounts=accounts,
            times=utc_times([360.0]),
        )
        runs = iter(range(1_000_000))

        def ready() -> float:
            command = amplifier_command("run", "--config", str(idle_config))
            return until_line(command, base, "next-slot", 1)

        def first_post() -> float:
            fakes.reset()  # a fresh database sends the same first posts; X refuses repeats
            folder = base / f"due-{next(runs)}"
            folder.mkdir()
            config = write_config(
                folder / "config.toml",
                database_url=f"sqlite:///{folder / 'state.db'}",
                accounts=accounts,
                times=utc_times([-5.0, 360.0]),
            )
            command = amplifier_command("run", "--config", str(config))
            return until_line(command, folder, "published", len(NETWORKS))

        if not args.quick:  # migrates the shared database, warms the file cache; not measured
            ready()
            import_time()
        mastodon = {"name": "start-post-now", "network": "mastodon", **fakes.where("mastodon")}
        post_now_config = write_config(
            base / "post-now.toml",
            database_url=f"sqlite:///{base / 'post-now.db'}",
            accounts=[mastodon],
            times=utc_times([360.0]),
            guards={"daily_cap": 0},  # every repeat is one more post today: no cap to meet
        )
        secrets_env = clean_environment() | SECRETS
        bare_posts = iter(range(1_000_000))

        def post_now() -> float:
            command = amplifier_command(
                "post-now", "start-post-now", "--config", str(post_now_config)
            )
            return whole_process(command, base, secrets_env)

        def bare_post() -> float:
            text = f"Families belong together ({next(bare_posts)})"
            where, token = mastodon["instance"], SECRETS["BENCH_MASTODON_TOKEN"]
            return whole_process([PYTHON, "-c", BARE_POST, where, token, text], base, secrets_env)

        def floor_post() -> float:
            text = f"Families belong together ({next(bare_posts)})"
            where, token = mastodon["instance"], SECRETS["BENCH_MASTODON_TOKEN"]
            code = FLOOR_IMPORTS + "\n" + BARE_POST
            return whole_process([PYTHON, "-c", code, where, token, text], base, secrets_env)

        # The sample config beside no database, as in a fresh clone (with one, check also
        # reads each Mastodon server's stored limits from it, which loads the store).
        sample = (ROOT / "config.example.toml").read_text(encoding="utf-8")
        check_config = base / "check.toml"
        check_config.write_text(
            sample.replace('posts_dir = "posts"', f"posts_dir = {str(ROOT / 'posts')!r}"),
            encoding="utf-8",
        )

        def check() -> float:
            command = amplifier_command("check", "--config", str(check_config))
            return whole_process(command, base, clean_environment())

        def nothing() -> float:
            return whole_process([PYTHON, "-c", "pass"], base, clean_environment())

        post_now()  # migrates its database once, as the first command of a deployment does
        contenders = [
            (POST_NOW, post_now),
            (BARE, bare_post),
            (CHECK, check),
            (NOTHING, nothing),
            ("ours: launch -> first event=next-slot", ready),
            ("baseline: " + BASELINE, import_time),
        ]
        if not args.quick:  # one more worker start per repeat; CI's quick run has no time
            contenders.append(("ours: launch -> 3 posts published (slot due at start)", first_post))
            contenders.insert(2, (FLOOR, floor_post))
        results = interleaved(contenders, args.repeats)
    rows = [[name, seconds(median(times)), seconds(min(times))] for name, times in results.items()]
    table(["measurement", "median", "best"], rows)
    ours = median(results["ours: launch -> first event=next-slot"])
    baseline = median(results["baseline: " + BASELINE])
    print(f"worker start-up: {ours / baseline:.2f} (scheduler ready / SDK import time; no goal)")
    checked = median(results[CHECK]) / median(results[NOTHING])
    print(f"check on the sample posts / python -c pass: {checked:.2f} (no goal)")
    if FLOOR in results:
        floor = median(results[FLOOR]) / median(results[BARE])
        print(f"floor (the libraries alone) / bare script: {floor:.2f} (context)")
    posted = median(results[POST_NOW]) / median(results[BARE])
    note = "post-now to Mastodon / a bare Mastodon.py script posting, whole processes"
    print(ratio_line(posted, POST_NOW_GOAL, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
