"""Content at scale: ``amplifier check`` on 10,000 and 20,000 generated posts vs a bare parse.

Two campaigns are generated into a temp dir (corpus.py): one of low overlap (words drawn
evenly from the ~500 of the sample campaign) and one of high overlap (drawn from its few
dozen most frequent words, as a real campaign's posts share their vocabulary, one post in
fifty rewording an earlier one). Lengths vary, a third have a link, a quarter a hashtag of
their own, one file in six is a Spanish translation; config of X, Mastodon, Bluesky and
Spanish Mastodon accounts. Every file is valid. How alike the posts are is measured and
printed next to the shipped sample posts' figures: the high-overlap campaign must be at
least as alike. Both sides run as subprocesses, so either can be stopped at a time budget:

    ours      amplifier check --config CONFIG          (the real command, imports included)
    baseline  python -c: read every *.md file, split off the front matter, yaml.safe_load it

If ours overruns ``--budget`` seconds it is stopped and the figure printed is a lower bound.
A ladder of small sizes, timed in-process, splits ours into its two phases (loading and
validating the posts; the guard warnings) to show where the time goes and how it grows.

    .venv/bin/python bench/bench_check.py [--quick] [--repeats N] [--budget S] [--sizes A,B]
                                          [--overlap low|high|both]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    PYTHON,
    ROOT,
    amplifier_command,
    clean_environment,
    header,
    median,
    parse_args,
    ratio_line,
    scrub_own_environment,
    seconds,
    table,
    temp_dir,
    timed,
)
from corpus import english_texts, generate, likeness, sample_of, sample_texts

SPEED_GOAL = 3.0  # ours / bare
LINEAR_GOAL = 2.2  # ours at 2n / ours at n

BARE = """
import sys
from pathlib import Path
import yaml
for path in sorted(Path(sys.argv[1]).rglob("*.md")):
    if path.name == "README.md":
        continue
    lines = path.read_text(encoding="utf-8").splitlines()
    closing = lines.index("---", 1)
    front = yaml.safe_load("\\n".join(lines[1:closing]))
    assert isinstance(front, dict) and front["id"]
"""


def write_check_config(path: Path, posts: Path) -> Path:
    accounts = ""
    instance = 'instance = "https://mastodon.example"\n'
    for name, network, extra in (
        ("bench-x", "x", "monthly_budget_usd = 1000\n"),
        ("bench-mastodon", "mastodon", instance),
        ("bench-bluesky", "bluesky", 'handle = "bench.example"\n'),
        ("bench-mastodon-es", "mastodon", instance + 'language = "es"\n'),
    ):
        accounts += (
            f'[[accounts]]\nname = "{name}"\nnetwork = "{network}"\ncampaigns = ["bench"]\n'
            f'schedule = "daily"\n{extra}\n'
        )
    path.write_text(
        f'posts_dir = "{posts}"\ndatabase_url = "sqlite:///{path.parent / "unused.db"}"\n\n'
        '[campaigns.bench]\nlanguage = "en"\n\n[campaigns.bench.hashtags]\n'
        'always = ["Bench"]\npool = ["BenchA", "BenchB", "BenchC"]\n\n'
        '[schedules.daily]\ntimezone = "UTC"\ntimes = ["09:00", "17:00"]\n\n' + accounts,
        encoding="utf-8",
    )
    return path


def run_ours(config: Path, budget: float) -> float | None:
    """Seconds ``amplifier check`` took, or None if stopped at the budget."""
    started = time.perf_counter()
    try:
        result = subprocess.run(
            amplifier_command("check", "--config", str(config)),
            env=clean_environment(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=budget,
        )
    except subprocess.TimeoutExpired:
        return None
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"amplifier check found errors in generated posts:\n{result.stdout}")
    return elapsed


def run_bare(posts: Path) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", BARE, str(posts)], env=clean_environment(), check=True)
    return time.perf_counter() - started


def ladder(base: Path, sizes: list[int], overlap: str) -> list[tuple[int, float, float, float]]:
    """(files, load seconds, guard-warning seconds, bare seconds), in this process."""
    import yaml

    from amplifier.check import guard_warnings, load

    rows = []
    for size in sizes:
        folder = base / f"ladder-{overlap}-{size}"
        generate(folder / "posts", size, overlap)
        config = write_check_config(folder / "config.toml", folder / "posts")
        started = time.perf_counter()
        settings, library = load(config, None)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        guard_warnings(settings, library)
        warned = time.perf_counter() - started

        def bare(posts: Path = folder / "posts") -> None:
            for path in sorted(posts.rglob("*.md")):
                lines = path.read_text(encoding="utf-8").splitlines()
                yaml.safe_load("\n".join(lines[1 : lines.index("---", 1)]))

        rows.append((size, loaded, warned, timed(bare)))
    return rows


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget", type=float, default=None, help="stop one check after S seconds (default 600)"
    )
    parser.add_argument("--sizes", default=None, help="the two sizes, default 10000,20000")
    parser.add_argument(
        "--overlap",
        choices=("low", "high", "both"),
        default="both",
        help="the campaigns measured: words shared little (low), a lot (high), or both",
    )


@dataclass
class Measured:
    """One campaign's figures: subprocess runs per size, what was stopped, the ladder."""

    overlap: str
    ours: dict[int, list[float]]
    bare: dict[int, list[float]]
    stopped: dict[int, str]
    steps: list[tuple[int, float, float, float]]


def measure(
    base: Path, overlap: str, sizes: tuple[int, int], steps: list[int], args: Any
) -> Measured:
    """Both sizes of one campaign, ours and bare interleaved, then its ladder."""
    small, large = sizes
    budget = args.budget or (60.0 if args.quick else 600.0)
    configs = {}
    for size in sizes:
        posts = base / f"posts-{overlap}-{size}"
        generate(posts, size, overlap)
        configs[size] = write_check_config(base / f"config-{overlap}-{size}.toml", posts)
    run_bare(base / f"posts-{overlap}-{small}")  # warms the file cache; not measured
    result = Measured(overlap, {small: [], large: []}, {small: [], large: []}, {}, [])
    for round_number in range(args.repeats):
        for size in sizes if round_number % 2 == 0 else (large, small):
            result.bare[size].append(run_bare(base / f"posts-{overlap}-{size}"))
            if result.stopped:
                # A larger folder is a superset of the work: it cannot finish sooner.
                result.stopped.setdefault(size, f"not run: {min(result.stopped):,} files overran")
                continue
            elapsed = run_ours(configs[size], budget)
            if elapsed is None:
                result.stopped[size] = f"> {budget:.0f} s (stopped)"
            else:
                result.ours[size].append(elapsed)
    result.steps = ladder(base, steps, overlap)
    return result


def report(result: Measured, sizes: tuple[int, int], budget: float) -> list[str]:
    """Print one campaign's tables; return its ratio lines (printed last, together)."""
    ours, bare, stopped = result.ours, result.bare, result.stopped
    small, large = sizes
    rows = []
    for size in sizes:
        shown = stopped.get(size) or seconds(median(ours[size]))
        ratio = median(ours[size]) / median(bare[size]) if ours[size] else None
        if ratio is None and size in stopped and stopped[size].startswith(">"):
            shown_ratio = f"> {budget / median(bare[size]):.0f}"
        else:
            shown_ratio = f"{ratio:.2f}" if ratio is not None else "-"
        rows.append([f"{size:,}", shown, seconds(median(bare[size])), shown_ratio])
    print(f"{result.overlap} overlap: amplifier check (subprocess) vs bare read + yaml.safe_load")
    table(["files", "ours", "bare", "ours/bare"], rows)

    ladder_rows = []
    previous: tuple[int, float] | None = None
    for size, loaded, warned, bare_seconds in result.steps:
        total = loaded + warned
        growth = f"{total / previous[1]:.2f}" if previous else "-"
        ladder_rows.append(
            [
                f"{size:,}",
                seconds(loaded),
                seconds(warned),
                seconds(total),
                seconds(bare_seconds),
                f"{total / bare_seconds:.1f}",
                growth,
            ]
        )
        previous = (size, total)
    print(f"{result.overlap} overlap, where the time goes (in-process, one run each): load =")
    print("parse + validate + lengths; guard warnings = amplifier.check.guard_warnings")
    print("(includes the near-duplicate search)")
    table(["files", "load", "guard warnings", "ours", "bare", "ours/bare", "x prev"], ladder_rows)

    lines = []
    name = f"{result.overlap} overlap"
    if ours[small]:
        speed = median(ours[small]) / median(bare[small])
        lines.append(ratio_line(speed, SPEED_GOAL, f"{name}: ours/bare at {small:,} files"))
    else:
        lower = budget / median(bare[small])
        note = f"{name}: ours/bare at {small:,} files"
        lines.append(ratio_line(lower, SPEED_GOAL, note, bound="> "))
    if ours[small] and ours[large]:
        linear = median(ours[large]) / median(ours[small])
        note = f"{name}: ours {large:,} / ours {small:,} files"
        lines.append(ratio_line(linear, LINEAR_GOAL, note))
    else:
        (size_a, load_a, warn_a, _), (size_b, load_b, warn_b, _) = result.steps[-2:]
        linear = (load_b + warn_b) / (load_a + warn_a)
        note = (
            f"{name}: ours {size_b:,} / ours {size_a:,} files in the ladder, since {small:,} "
            f"overran the {budget:.0f} s budget"
        )
        lines.append(ratio_line(linear, LINEAR_GOAL, note))
    return lines


def print_likeness(base: Path, overlaps: list[str], size: int) -> None:
    """How alike posts are: the sample's, and as many drawn from each generated campaign."""
    sample = likeness(sample_texts("en"))
    rows = [sample.row("shipped sample posts (English)")]
    verdicts = []
    for overlap in overlaps:
        generated = english_texts(base / f"posts-{overlap}-{size}")
        measured = likeness(sample_of(generated, sample.posts))
        rows.append(measured.row(f"{overlap} overlap, {measured.posts} of {size:,} posts"))
        if overlap == "high":
            alike = "at least as alike" if measured.at_least(sample) else "LESS alike"
            verdicts.append(f"high overlap is {alike} as the sample on all three figures")
    print("how alike posts are: similarity of each post to its closest neighbour (mean, 90th")
    print("percentile), and the share of word-pair occurrences in pairs held by 3+ posts")
    table(["posts", "n", "closest mean", "closest p90", "shared word pairs"], rows)
    for verdict in verdicts:
        print(verdict)
    print()


def main() -> int:
    args = parse_args(__doc__ or "", repeats=3, quick_repeats=1, options=options)
    scrub_own_environment()
    small, large = (40, 80) if args.quick else (10_000, 20_000)
    if args.sizes:
        small, large = (int(part) for part in args.sizes.split(","))
    budget = args.budget or (60.0 if args.quick else 600.0)
    steps = [20, 40] if args.quick else [250, 500, 1000]
    overlaps = ["low", "high"] if args.overlap == "both" else [args.overlap]
    title = f"content at scale: amplifier check on {small:,} and {large:,} posts"
    header(title, args.quick, args.repeats)
    print(f"process model: both sides are subprocesses; ours is stopped after {budget:.0f} s")
    print()
    with temp_dir("check") as base:
        measured = [measure(base, overlap, (small, large), steps, args) for overlap in overlaps]
        print_likeness(base, overlaps, small)
    lines = []
    for result in measured:
        lines += report(result, (small, large), budget)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
