"""Idle footprint: resident memory and CPU of a real ``amplifier run`` worker doing nothing.

Ours: ``amplifier run`` with X, Mastodon and Bluesky accounts whose credentials are set and whose
servers are local fakes. Its schedule has one slot five minutes ago (published at start, so
every SDK is loaded and every client built, as in a worker that has been running for a while)
and the next one hours away. Once each account has published and logged its next slot, RSS
is sampled. Baseline: a bare ``python -c "import tweepy, mastodon, atproto"`` that stays alive.
The same for a Mastodon-only deployment against ``import mastodon``, plus a probe of which
SDKs a Mastodon-only deployment loads, and the CPU time all of them use while idle. For
context (not with --quick), the floor: the bare SDKs after importing the libraries amplifier
is built on, having made with the SDKs alone the posts the worker's first pass makes.

    .venv/bin/python bench/bench_idle.py [--quick] [--repeats N]
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    BLUESKY_HANDLE,
    PYTHON,
    ROOT,
    SECRETS,
    FakeNetworks,
    WorkerProcess,
    clean_environment,
    compile_bytecode,
    cpu_seconds,
    header,
    median,
    mib,
    parse_args,
    ratio_line,
    rss_kib,
    stop_process,
    table,
    temp_dir,
    utc_times,
    verdict,
    wait_until,
    write_config,
)

FLOOR_NAME = "floor: bare SDKs + libraries, posted with the SDKs"
MEMORY_GOAL = 1.30  # our RSS at most 30% over the bare SDK imports
CPU_GOAL = 0.6  # CPU seconds per idle minute: 1% of one core, i.e. no busy polling
SDK_MODULES = ("tweepy", "mastodon", "atproto", "atproto_client")
NETWORKS_ALL = ("x", "mastodon", "bluesky")
# Where a worker's own memory goes: its heavier dependencies, then amplifier without any SDK.
BREAKDOWN = (
    "",
    "sqlalchemy",
    "pydantic_settings",
    "apscheduler.schedulers.background",
    "twitter_text",  # the whole package; amplifier loads its parts only as texts need them
    "amplifier.cli.run",  # what `amplifier run` loads: every stage (a command loads its own)
)

# The bare baselines print "ready" once imported, then wait on stdin until closed.
BARE = "import sys\n{imports}print('ready', flush=True)\nsys.stdin.read()\n"
# Context: the floor under any worker built on these libraries. The bare SDKs and the libraries
# amplifier is built on, having made with the SDKs alone what the worker's first pass makes:
# a Mastodon post, a Bluesky login and post, an X client (argv: Mastodon URL, token, PDS URL).
FLOOR_LIBRARIES = "sqlalchemy, pydantic_settings, apscheduler.schedulers.background, yaml"
FLOOR = f"""
import sys
import tweepy, mastodon, atproto
import {FLOOR_LIBRARIES}
from atproto import Client, models
mastodon.Mastodon(access_token=sys.argv[2], api_base_url=sys.argv[1]).status_post(
    "floor", visibility="unlisted"
)
client = Client(base_url=sys.argv[3] + "/xrpc")
password = {SECRETS["BENCH_BLUESKY_APP_PASSWORD"]!r}
client.login({BLUESKY_HANDLE!r}, password, fetch_bsky_profile=False)
record = models.AppBskyFeedPost.Record(text="floor", created_at=client.get_current_time_iso())
client.app.bsky.feed.post.create(client._session.did, record)
tweepy.Client(consumer_key="k", consumer_secret="s", access_token="t", access_token_secret="ts")
print("ready", flush=True)
sys.stdin.read()
"""

PROBE = f"""
import sys
SDK_MODULES = {SDK_MODULES!r}
from amplifier.config import Account, AccountSecrets
from amplifier.networks.base import MemorySessionStore
from amplifier.accounts import build_network
account = Account(name="m", network="mastodon", campaigns=["c"], schedule="s",
                  instance="http://127.0.0.1:9")
build_network(account, AccountSecrets("m", {{"access_token": "t"}}), sessions=MemorySessionStore())
print(" ".join(m for m in SDK_MODULES if m in sys.modules))
"""


@dataclass
class Contender:
    """One kind of process: how to start it, and its samples across repeats."""

    name: str
    start: Callable[[Path], tuple[subprocess.Popen[bytes], Callable[[], None]]]
    rss: list[int] = field(default_factory=list)
    cpu_per_minute: list[float] = field(default_factory=list)


def bare(imports: str) -> Callable[[Path], tuple[subprocess.Popen[bytes], Callable[[], None]]]:
    code = BARE.format(imports=f"import {imports}\n" if imports else "")

    def start(folder: Path) -> tuple[subprocess.Popen[bytes], Callable[[], None]]:
        out = folder / "bare.out"
        with out.open("wb") as handle:
            process = subprocess.Popen(
                [PYTHON, "-c", code],
                cwd=folder,
                env=clean_environment(),
                stdin=subprocess.PIPE,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

        def ready() -> None:
            wait_until(lambda: "ready" in out.read_text(), 60, f"bare python ({imports})")

        return process, ready

    return start


Starter = Callable[[Path], tuple[subprocess.Popen[bytes], Callable[[], None]]]


def floor(fakes: FakeNetworks) -> Starter:
    def start(folder: Path) -> tuple[subprocess.Popen[bytes], Callable[[], None]]:
        out = folder / "floor.out"
        where = [fakes.mastodon.base_url, SECRETS["BENCH_MASTODON_TOKEN"], fakes.bluesky.base_url]
        with out.open("wb") as handle:
            process = subprocess.Popen(
                [PYTHON, "-c", FLOOR, *where],
                cwd=folder,
                env=clean_environment(),
                stdin=subprocess.PIPE,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

        def ready() -> None:
            def seen() -> bool:
                text = out.read_text(errors="replace")
                if process.poll() is not None and "ready" not in text:
                    raise RuntimeError(f"the floor script exited: {text[-2000:]}")
                return "ready" in text

            wait_until(seen, 60, "the floor script")

        return process, ready

    return start


def worker(
    fakes: FakeNetworks, networks: tuple[str, ...], published_at_start: bool
) -> Callable[[Path], tuple[subprocess.Popen[bytes], Callable[[], None]]]:
    def start(folder: Path) -> tuple[subprocess.Popen[bytes], Callable[[], None]]:
        # One slot 5 minutes ago (inside the grace window: sent at start), the next in 6 h.
        minutes = [-5.0, 360.0] if published_at_start else [360.0]
        accounts = [{"name": f"idle-{n}", "network": n, **fakes.where(n)} for n in networks]
        config = write_config(
            folder / "config.toml",
            database_url=f"sqlite:///{folder / 'state.db'}",
            accounts=accounts,
            times=utc_times(minutes),
        )
        process = WorkerProcess(config, folder)

        def ready() -> None:
            process.wait_for("next-slot", len(networks), 60)
            if published_at_start:
                process.wait_for("published", len(networks), 60)
            time.sleep(0.5)  # let the first housekeeping pass finish

        return process.popen, ready

    return start


def import_breakdown() -> list[list[str]]:
    """RSS of a bare python importing each of the worker's heavier dependencies alone."""
    rows = []
    for module in BREAKDOWN:
        code = f"import {module}\n" if module else ""
        code += "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"
        out = subprocess.run(
            [PYTHON, "-c", code], env=clean_environment(), capture_output=True, text=True
        )
        rows.append([f"import {module}" if module else "(nothing)", mib(int(out.stdout))])
    return rows


def imported_sdks(log: str) -> list[str]:
    """Top-level SDK packages in ``python -X importtime`` output."""
    found = set()
    for line in log.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name in SDK_MODULES:
                found.add(name)
    return sorted(found)


def measure_round(
    fakes: FakeNetworks,
    contenders: list[Contender],
    base: Path,
    round_number: int,
    cpu_window: float | None,
) -> None:
    """Start every contender at once, wait until each is idle, sample RSS (and CPU)."""
    running: list[tuple[Contender, subprocess.Popen[bytes]]] = []
    fakes.reset()  # each round's workers publish the same first posts on fresh databases
    try:
        readiness = []
        for contender in contenders:
            folder = base / f"r{round_number}-{contender.name.replace(' ', '_')}"
            folder.mkdir(parents=True)
            process, ready = contender.start(folder)
            running.append((contender, process))
            readiness.append(ready)
        for ready in readiness:
            ready()
        samples: dict[str, list[int]] = {c.name: [] for c in contenders}
        for _ in range(5):
            for contender, process in running:
                samples[contender.name].append(rss_kib(process.pid))
            time.sleep(0.2)
        for contender, _ in running:
            contender.rss.append(int(median(samples[contender.name])))
        if cpu_window is not None:
            before = {c.name: cpu_seconds(p.pid) for c, p in running}
            time.sleep(cpu_window)
            for contender, process in running:
                used = cpu_seconds(process.pid) - before[contender.name]
                contender.cpu_per_minute.append(used * 60.0 / cpu_window)
    finally:
        for _, process in running:
            if process.stdin is not None:
                process.stdin.close()
            stop_process(process)


def probe_mastodon_only(
    fakes: FakeNetworks, base: Path, quick: bool
) -> tuple[str, list[str] | None]:
    """(SDKs after building a Mastodon network in-process, SDKs a real worker imported).

    --quick skips the second probe (None): CI time is short and it starts one more worker.
    """
    env = clean_environment()
    built = subprocess.run(
        [PYTHON, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    if quick:
        return built, None
    folder = base / "probe-worker"
    folder.mkdir()
    config = write_config(
        folder / "config.toml",
        database_url=f"sqlite:///{folder / 'state.db'}",
        accounts=[{"name": "probe-mastodon", "network": "mastodon", **fakes.where("mastodon")}],
        times=utc_times([-5.0, 360.0]),
    )
    process = WorkerProcess(config, folder, python_options=["-X", "importtime"])
    try:
        process.wait_for("published", 1, 60)
    finally:
        process.stop()
    return built, imported_sdks(process.errors.read_text(errors="replace"))


def main() -> int:
    args = parse_args(__doc__ or "", repeats=3, quick_repeats=1)
    cpu_window = 3.0 if args.quick else 60.0
    header("idle footprint: amplifier run vs bare SDK imports", args.quick, args.repeats)
    compile_bytecode()  # amplifier loads compiled, as the libraries it is compared with do
    with FakeNetworks() as fakes, temp_dir("idle") as base:
        contenders = [
            Contender("worker x+mastodon+bluesky", worker(fakes, NETWORKS_ALL, True)),
            Contender("bare import tweepy,mastodon,atproto", bare("tweepy, mastodon, atproto")),
            Contender("worker mastodon only", worker(fakes, ("mastodon",), True)),
            Contender("bare import mastodon", bare("mastodon")),
        ]
        if not args.quick:  # context rows: what the worker holds before any SDK is loaded
            contenders.append(
                Contender(
                    "worker x+mastodon+bluesky, before 1st post", worker(fakes, NETWORKS_ALL, False)
                )
            )
            contenders.append(Contender("bare python (imports nothing)", bare("")))
            contenders.append(Contender(FLOOR_NAME, floor(fakes)))
        with ThreadPoolExecutor(1) as pool:  # the probe runs beside the measured processes
            probe = pool.submit(probe_mastodon_only, fakes, base, args.quick)
            for round_number in range(args.repeats):
                last = round_number == args.repeats - 1
                measure_round(fakes, contenders, base, round_number, cpu_window if last else None)
            built, worker_sdks = probe.result()
    breakdown = [] if args.quick else import_breakdown()

    by_name = {c.name: c for c in contenders}
    rows = [[c.name, mib(median(c.rss)), f"{median(c.cpu_per_minute):.3f}"] for c in contenders]
    print("resident memory (median of repeats) and CPU while idle")
    table(["process", "RSS", f"CPU s/min ({cpu_window:.0f} s window)"], rows)

    def rss(name: str) -> float:
        return median(by_name[name].rss)

    all_ratio = rss("worker x+mastodon+bluesky") / rss("bare import tweepy,mastodon,atproto")
    mastodon_ratio = rss("worker mastodon only") / rss("bare import mastodon")
    worst_cpu = max(median(by_name[n].cpu_per_minute) for n in by_name if n.startswith("worker"))
    # The real worker's imports when probed, else (--quick) the in-process probe's.
    seen = worker_sdks if worker_sdks is not None else built.split()
    others_loaded = [m for m in seen if m != "mastodon"]
    worker_probe = "not run (--quick)" if worker_sdks is None else " ".join(worker_sdks)
    print("Mastodon-only deployment: which SDKs get imported")
    table(
        ["probe", "SDK modules in sys.modules"],
        [
            ["registry builds a Mastodon network (python -c)", built or "(none)"],
            ["real Mastodon-only worker (python -X importtime)", worker_probe or "(none)"],
        ],
    )
    table(
        ["goal", "measured", "verdict"],
        [
            [
                f"3-network worker RSS / bare SDK imports <= {MEMORY_GOAL}",
                f"{all_ratio:.2f}",
                verdict(all_ratio <= MEMORY_GOAL),
            ],
            [
                f"Mastodon-only worker RSS / bare import mastodon <= {MEMORY_GOAL}",
                f"{mastodon_ratio:.2f}",
                verdict(mastodon_ratio <= MEMORY_GOAL),
            ],
            [
                "Mastodon-only worker imports no tweepy/atproto",
                " ".join(others_loaded) or "none imported",
                verdict(not others_loaded and "mastodon" in seen),
            ],
            [
                f"idle CPU of every worker <= {CPU_GOAL} s per minute (no busy polling)",
                f"{worst_cpu:.3f} s/min",
                verdict(worst_cpu <= CPU_GOAL),
            ],
        ],
    )
    if FLOOR_NAME in by_name:
        floor_ratio = rss(FLOOR_NAME) / rss("bare import tweepy,mastodon,atproto")
        print(
            f"floor (the SDKs after import {FLOOR_LIBRARIES}, having posted) / bare SDK imports: "
            f"{floor_ratio:.2f} (context: what no code of amplifier's can go below)"
        )
    if breakdown:
        print("where the worker's own memory goes (a bare python importing one thing)")
        table(["import", "RSS"], breakdown)
    print(ratio_line(all_ratio, MEMORY_GOAL, "3-network worker RSS / bare SDK imports"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
