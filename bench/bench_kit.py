"""The share kit at scale: ``amplifier kit build`` on 10,000 generated posts vs ``amplifier check``.

One campaign shaped like a real one is generated into a temp dir (corpus.py, high overlap:
words drawn from the sample campaign's few dozen most frequent, a third with a link, a
quarter with a hashtag of their own, one file in six a Spanish translation), with the
config bench_check.py uses (X, Mastodon, Bluesky and Spanish Mastodon accounts, a pool of
three rotated hashtags). Both sides are the real commands as subprocesses, on the same
folder, interleaved:

    ours      amplifier kit build OUT --config CONFIG   (every page, the chooser, assets)
    baseline  amplifier check --config CONFIG           (the pre-flight every organizer runs)

The kit renders each post up to three times (its versions) for four composers; check
validates each post for three networks and adds the guards' warnings. An in-process split
of the kit (load, cards, HTML and writing) shows where its time goes. The ratio is of CPU
time (user + system, both commands run in one thread): on a shared machine it moves far less
than wall-clock time, which is printed too.

    .venv/bin/python bench/bench_kit.py [--quick] [--repeats N] [--posts N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from _common import (
    ROOT,
    amplifier_command,
    clean_environment,
    header,
    interleaved,
    median,
    parse_args,
    ratio_line,
    scrub_own_environment,
    seconds,
    table,
    temp_dir,
)
from bench_check import write_check_config
from corpus import generate

GOAL = 2.0  # kit build / check


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--posts", type=int, default=None, help="posts generated (10000)")


CPU: dict[str, list[float]] = {}  # command -> CPU seconds of each run (user + system)


def run(*arguments: str) -> float:
    """Wall seconds of one run; its CPU seconds go to CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        amplifier_command(*arguments),
        env=clean_environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"amplifier {arguments[0]} failed:\n{result.stdout}{result.stderr}")
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(arguments[0], []).append(used)
    return elapsed


def split(config: Path, out: Path) -> list[tuple[str, str]]:
    """The kit's phases, in this process: load, cards (rendering), pages and files."""
    sys.path.insert(0, str(ROOT))
    from amplifier.check import load
    from amplifier.kit import build_kit
    from amplifier.kit.cards import build_pages

    started = time.perf_counter()
    settings, library = load(config, None)
    loaded = time.perf_counter()
    build_pages(settings, library, ["bench"], seed="1", today=date(2026, 12, 5))
    carded = time.perf_counter()
    built = build_kit(
        settings, library, out, campaigns=["bench"], seed="1", today=date(2026, 12, 5)
    )
    written = time.perf_counter()
    cards = built.cards
    size = sum(path.stat().st_size for path in out.iterdir() if path.is_file())
    return [
        ("load and validate the posts", seconds(loaded - started)),
        (f"cards: {cards:,} posts rendered in their versions", seconds(carded - loaded)),
        ("cards again, HTML and files", seconds(written - carded)),
        ("kit size on disk", f"{size / 1024 / 1024:.1f} MiB"),
    ]


def main() -> int:
    args = parse_args(__doc__ or "", repeats=3, quick_repeats=1, options=options)
    scrub_own_environment()
    count = args.posts or (60 if args.quick else 10_000)
    header(f"share kit: amplifier kit build vs amplifier check on {count:,} posts", args.quick,
           args.repeats)  # fmt: skip
    with temp_dir("kit") as base:
        posts = base / "posts"
        generate(posts, count, "high")
        config = write_check_config(base / "config.toml", posts)
        out = base / "site"
        kit_command = ("kit", "build", str(out), "--config", str(config))
        results = interleaved(
            [
                ("amplifier kit build", lambda: run(*kit_command)),
                ("amplifier check", lambda: run("check", "--config", str(config))),
            ],
            args.repeats,
        )
        table(
            ["command", "wall, median", "runs", "CPU, median", "runs"],
            [
                (
                    name,
                    seconds(median(times)),
                    " ".join(seconds(t) for t in times),
                    seconds(median(CPU[name.split()[1]])),
                    " ".join(seconds(t) for t in CPU[name.split()[1]]),
                )
                for name, times in results.items()
            ],
        )
        wall = median(results["amplifier kit build"]) / median(results["amplifier check"])
        print(f"wall-clock ratio: {wall:.2f} (other work on the machine moves it run to run)")
        print()
        table(["kit build, in-process", "time"], split(config, base / "split"))
    # Both commands run in one thread: their CPU time is what each costs, and it moves far
    # less than wall-clock time when other jobs share the cores.
    kit, check = median(CPU["kit"]), median(CPU["check"])
    print(ratio_line(kit / check, GOAL, f"kit build / check, CPU time, on {count:,} posts"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
