"""Fault soak: real workers SIGKILLed at random moments against misbehaving fake networks.

    .venv/bin/python bench/soak.py [--kills N] [--seed S] [--database sqlite|postgresql]
                                   [--minutes M] [--keep]

Prints a progress line every ten kills, then the figures: slots due, published once, published
twice (must be 0), lost (must be 0), explained failures, requests sent before a rate-limit
reset (must be 0) and secrets found in the workers' log lines (must be 0). Exits 1 when a
must-be-0 figure is not 0, 2 when PostgreSQL is asked for but cannot be reached. See
bench/SOAK.md; the code is amplifier/testing/soak.py, shared with tests/process.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from amplifier.testing.databases import (
    DEFAULT_POSTGRES_URL,
    POSTGRES_URL_VARIABLE,
    DatabaseUnavailable,
)
from amplifier.testing.soak import SoakSettings, run_soak


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs to make (100)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed (20261123)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="start no kill round after this many minutes, even short of --kills",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (configs, worker logs); a failed run always keeps it",
    )
    args = parser.parse_args(argv)
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    return args


def machine() -> str:
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f", {gib:.0f} GiB RAM"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{memory}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="amplifier-soak-"))
    # The test server for PostgreSQL, as the process tests find it.
    postgres_url = os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)
    settings = SoakSettings(
        workdir=workdir,
        kills=args.kills,
        seed=args.seed,
        database=args.database,
        postgres_url=postgres_url,
        minutes=args.minutes,
    )
    print(f"[soak] {machine()}; work folder {workdir}", flush=True)
    try:
        report = run_soak(settings, progress=lambda line: print(line, flush=True))
    except DatabaseUnavailable as error:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"[soak] {error}; set {POSTGRES_URL_VARIABLE}", file=sys.stderr)
        return 2
    print(report.render())
    failed = bool(report.failures())
    if args.keep or failed:  # a failed run keeps its evidence
        print(f"[soak] configs and worker logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
