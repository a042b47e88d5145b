"""Content at scale: ``amplifier check`` on 10,000 and 20,000 generated posts vs a bare parse.

Posts are generated into a temp dir (words drawn from the sample campaign, lengths varied,
a third with a link, a quarter with a hashtag of their own, one file in six a Spanish
translation), with a config of X, Mastodon, Bluesky and Spanish Mastodon accounts. Every
file is valid. Both sides run as subprocesses, so either can be stopped at a time budget:

    ours      amplifier check --config CONFIG          (the real command, imports included)
    baseline  python -c: read every *.md file, split off the front matter, yaml.safe_load it

If ours overruns ``--budget`` seconds it is stopped and the figure printed is a lower bound.
A ladder of small sizes, timed in-process, splits ours into its two phases (loading and
validating the posts; the guard warnings) to show where the time goes and how it grows.

    .venv/bin/python bench/bench_check.py [--quick] [--repeats N] [--budget S] [--sizes A,B]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    POSTS_DIR,
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

WORD = re.compile(r"[^\W\d_]{3,}")


def vocabulary(language: str) -> list[str]:
    """Words of the sample campaign's posts in one language (the text after the front matter)."""
    words: set[str] = set()
    for path in POSTS_DIR.glob("*.md"):
        if path.name == "README.md" or path.name.endswith(".es.md") != (language == "es"):
            continue
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        words.update(word.lower() for word in WORD.findall(body))
    return sorted(words)


def _sentence(rng: random.Random, words: list[str], start: str, limit: int) -> str:
    text = start
    for _ in range(rng.randint(12, 30)):
        word = rng.choice(words)
        if len(text) + len(word) + 2 > limit:
            break
        text += " " + word
    return text + "."


def generate(folder: Path, count: int, seed: int = 6) -> None:
    """``count`` valid post files: five originals, then a Spanish translation of the fifth."""
    rng = random.Random(seed)
    english, spanish = vocabulary("en"), vocabulary("es")
    folder.mkdir(parents=True)
    for number in range(count):
        if number % 6 == 5:  # translates the post just written
            original = f"post-{number - 1}"
            text = _sentence(rng, spanish, f"Nota {number}:", 190)
            front = [f"id: {original}-es", f"translation_of: {original}", "language: es"]
            name = f"{original}.es.md"
        else:
            text = _sentence(rng, english, f"Note {number}:", 190)
            front = [f"id: post-{number}", "campaign: bench", "language: en"]
            front.append(f'source: "Generated post {number} for the benchmark"')
            if number % 3 == 0:
                front.append(f"link: https://example.org/bench/{number}")
                text += " More: {link}"
            if number % 4 == 0:
                front.append(f"hashtags: [Topic{number % 13}]")
            name = f"post-{number}.md"
        (folder / name).write_text("---\n" + "\n".join(front) + "\n---\n" + text + "\n")


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


def ladder(base: Path, sizes: list[int]) -> list[tuple[int, float, float, float]]:
    """(files, load seconds, guard-warning seconds, bare seconds), in this process."""
    import yaml

    from amplifier.check import guard_warnings, load

    rows = []
    for size in sizes:
        folder = base / f"ladder-{size}"
        generate(folder / "posts", size)
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


def main() -> int:
    args = parse_args(__doc__ or "", repeats=3, quick_repeats=1, options=options)
    scrub_own_environment()
    small, large = (40, 80) if args.quick else (10_000, 20_000)
    if args.sizes:
        small, large = (int(part) for part in args.sizes.split(","))
    budget = args.budget or (60.0 if args.quick else 600.0)
    steps = [20, 40] if args.quick else [250, 500, 1000]
    title = f"content at scale: amplifier check on {small:,} and {large:,} posts"
    header(title, args.quick, args.repeats)
    print(f"process model: both sides are subprocesses; ours is stopped after {budget:.0f} s")
    print()
    with temp_dir("check") as base:
        configs = {}
        for size in (small, large):
            generate(base / f"posts-{size}", size)
            configs[size] = write_check_config(base / f"config-{size}.toml", base / f"posts-{size}")
        run_bare(base / f"posts-{small}")  # warms the file cache; not measured
        ours: dict[int, list[float]] = {small: [], large: []}
        stopped: dict[int, str] = {}
        bare: dict[int, list[float]] = {small: [], large: []}
        for round_number in range(args.repeats):
            for size in (small, large) if round_number % 2 == 0 else (large, small):
                bare[size].append(run_bare(base / f"posts-{size}"))
                if stopped:
                    # A larger folder is a superset of the work: it cannot finish sooner.
                    stopped.setdefault(size, f"not run: {min(stopped):,} files overran")
                    continue
                elapsed = run_ours(configs[size], budget)
                if elapsed is None:
                    stopped[size] = f"> {budget:.0f} s (stopped)"
                else:
                    ours[size].append(elapsed)
        steps_measured = ladder(base, steps)

    rows = []
    for size in (small, large):
        shown = stopped.get(size) or seconds(median(ours[size]))
        ratio = median(ours[size]) / median(bare[size]) if ours[size] else None
        if ratio is None and size in stopped and stopped[size].startswith(">"):
            shown_ratio = f"> {budget / median(bare[size]):.0f}"
        else:
            shown_ratio = f"{ratio:.2f}" if ratio is not None else "-"
        rows.append([f"{size:,}", shown, seconds(median(bare[size])), shown_ratio])
    print("amplifier check (subprocess) vs bare read + yaml.safe_load (subprocess)")
    table(["files", "ours", "bare", "ours/bare"], rows)

    ladder_rows = []
    previous: tuple[int, float] | None = None
    for size, loaded, warned, bare_seconds in steps_measured:
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
    print("where the time goes (in-process, one run each): load = parse + validate + lengths;")
    print("guard warnings = amplifier.check.guard_warnings (includes every pair of posts)")
    table(["files", "load", "guard warnings", "ours", "bare", "ours/bare", "x prev"], ladder_rows)

    if ours[small]:
        speed = median(ours[small]) / median(bare[small])
        print(ratio_line(speed, SPEED_GOAL, f"ours/bare at {small:,} files"))
    else:
        lower = budget / median(bare[small])
        print(ratio_line(lower, SPEED_GOAL, f"ours/bare at {small:,} files", bound="> "))
    if ours[small] and ours[large]:
        linear = median(ours[large]) / median(ours[small])
        print(ratio_line(linear, LINEAR_GOAL, f"ours {large:,} / ours {small:,} files"))
    else:
        (size_a, load_a, warn_a, _), (size_b, load_b, warn_b, _) = steps_measured[-2:]
        linear = (load_b + warn_b) / (load_a + warn_a)
        note = (
            f"ours {size_b:,} / ours {size_a:,} files in the ladder, since {small:,} "
            f"overran the {budget:.0f} s budget"
        )
        print(ratio_line(linear, LINEAR_GOAL, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
