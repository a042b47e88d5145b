"""Results: the report against a bare SQL aggregate, and a collection round's requests.

1. ``amplifier results --by template`` as the CLI computes it (``Store.results_totals``,
   ``report_from_totals``, the table) over N published deliveries with three snapshots
   each (1h, 24h, 7d), against one bare SQL statement aggregating the same rows (each post's
   latest snapshot, summed per template) run through the same engine and fetched. SQLite (a
   temp file) and PostgreSQL (a fresh schema, dropped afterwards) when reachable. Goal: the
   report <= 2x the bare SQL. Beside it, for information, ``--by hashtag``, which reads every
   post into Python (``results_rows``, ``build_report``).
2. A collection round over posts published to the fake servers through the real SDKs
   (Mastodon 85, Bluesky 60, X 230 with reads on): the requests it makes against the fewest
   the batch sizes allow (40, 25, 100 a request). Goal: 1.00.

    .venv/bin/python bench/bench_results.py [--quick] [--repeats N] [--rows N]
    PostgreSQL: $BENCH_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import header, median, parse_args, ratio_line, scrub_own_environment, table, temp_dir
from bench_history import DEFAULT_POSTGRES, postgres_schema

REPORT_GOAL = 2.0
START = datetime(2026, 6, 1, tzinfo=UTC)
TEMPLATES = [f"post-{n}" for n in range(45)]
AGES = (("1h", 3600), ("24h", 86400), ("7d", 604800))
BARE_SQL = """
SELECT d.template_id, count(*), count(s.id), sum(s.likes), sum(s.reposts), sum(s.replies),
       sum(s.quotes)
FROM deliveries d
LEFT JOIN (SELECT delivery_id AS did, max(age_seconds) AS most FROM snapshots
           WHERE age <> 'gone' GROUP BY delivery_id) l ON l.did = d.id
LEFT JOIN snapshots s ON s.delivery_id = d.id AND s.age_seconds = l.most AND s.age <> 'gone'
WHERE d.status = 'published'
GROUP BY d.template_id
"""


def load(store: Any, total: int) -> float:
    """``total`` published deliveries and three snapshots each, in bulk; seconds taken."""
    from sqlalchemy import insert

    from amplifier.store.schema import deliveries, snapshots

    rng = random.Random(7)
    began = time.perf_counter()
    networks = ("mastodon", "bluesky", "x")
    with store.engine.begin() as conn:
        for first in range(0, total, 5000):
            rows, snaps = [], []
            for n in range(first, min(total, first + 5000)):
                sent = START + timedelta(minutes=37 * n)
                network = networks[n % 3]
                rows.append(
                    {
                        "id": n + 1, "account": f"bench-{network}", "network": network,
                        "slot_key": f"s{n}", "due_at": sent, "template_id": rng.choice(TEMPLATES),
                        "campaign": "fbt", "text": f"Post {n} #Vigil #Asylum", "language": "en",
                        "media": "[]", "idempotency_key": f"k{n}", "status": "published",
                        "attempts": 1, "remote_id": f"r{n}", "sent_at": sent,
                        "created_at": sent, "updated_at": sent,
                    }
                )  # fmt: skip
                likes = rng.randrange(50)
                for label, seconds in AGES:
                    snaps.append(
                        {
                            "delivery_id": n + 1, "account": f"bench-{network}",
                            "network": network, "age": label, "age_seconds": seconds,
                            "taken_at": sent + timedelta(seconds=seconds),
                            "likes": likes * seconds // 604800, "reposts": likes // 4,
                            "replies": likes // 9, "quotes": None if network == "x" else 0,
                            "cost_micros": 5000 if network == "x" else 0,
                        }
                    )  # fmt: skip
            conn.execute(insert(deliveries), rows)
            conn.execute(insert(snapshots), snaps)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def report_times(url: str, total: int, repeats: int) -> tuple[float, float, float]:
    """(report by template, bare SQL, report by hashtag: every row through Python), seconds,
    medians of interleaved repeats."""
    from amplifier.results import FORMATS, build_report, report_from_totals
    from amplifier.store import Store

    store = Store(url)
    store.migrate()
    try:
        load(store, total)
        ours, bare, python = [], [], []
        for _ in range(repeats):
            began = time.perf_counter()
            totals = store.results_totals("template_id", campaign=None, since=None, age=None,
                                          final_age_seconds=604800)  # fmt: skip
            built = report_from_totals(totals, "template", None)
            FORMATS["table"](built)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            rows = store.results_rows(campaign=None, since=None, age=None)
            by_hashtag = build_report(rows, "hashtag", final_age_seconds=604800,
                                      gone=store.gone_deliveries())  # fmt: skip
            FORMATS["table"](by_hashtag)
            python.append(time.perf_counter() - began)
            began = time.perf_counter()
            with store.engine.connect() as conn:
                conn.exec_driver_sql(BARE_SQL).all()
            bare.append(time.perf_counter() - began)
        assert len(built.groups) == len(TEMPLATES) and sum(g.posts for g in built.groups) == total
        return median(ours), median(bare), median(python)
    finally:
        store.close()


def collection_round(base: Path, quick: bool) -> tuple[int, int, dict[str, int]]:
    """(requests made, fewest possible, posts per network) for one round over the fakes."""
    from amplifier.check import load as load_project
    from amplifier.networks.base import HttpSettings, MemorySessionStore, OutgoingPost
    from amplifier.networks.bluesky import BlueskyNetwork
    from amplifier.networks.mastodon import MastodonNetwork
    from amplifier.networks.metrics import BATCH
    from amplifier.networks.x import XNetwork
    from amplifier.results import Collector
    from amplifier.store import DeliveryDraft, Store
    from amplifier.testing.fake_bluesky import FakeBluesky
    from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
    from amplifier.testing.fake_x import make_fake_x

    counts = {"mastodon": 85, "bluesky": 60, "x": 230} if not quick else {
        "mastodon": 45, "bluesky": 30, "x": 110}  # fmt: skip
    http = HttpSettings(connect_timeout=2.0, read_timeout=10.0)
    (base / "posts").mkdir()
    config = base / "config.toml"
    with (
        FakeMastodon(FakeMastodonSettings(token="t", api_limit=10_000)) as masto,
        FakeBluesky(handle="bench.test", password="pw") as bsky,
        make_fake_x() as fake_x,
    ):
        config.write_text(
            f'database_url = "sqlite:///{base / "r.db"}"\nposts_dir = "{base / "posts"}"\n'
            '[campaigns.fbt]\nlanguage = "en"\n[schedules.s]\ntimezone = "UTC"\n'
            'times = ["00:00"]\n'
            + "".join(
                f'[[accounts]]\nname = "b-{n}"\nnetwork = "{n}"\ncampaigns = ["fbt"]\n'
                f'schedule = "s"\nresults = true\n{extra}\n'
                for n, extra in (
                    ("mastodon", f'instance = "{masto.base_url}"'),
                    ("bluesky", f'handle = "bench.test"\nservice = "{bsky.base_url}"'),
                    ("x", f'api_base = "{fake_x.base_url}"'),
                )
            )
        )
        settings, library = load_project(config, None)
        store = Store(settings.sqlalchemy_url, clock=lambda: START)
        store.migrate()

        def adapter(network: str) -> Any:
            if network == "mastodon":
                return MastodonNetwork("b-mastodon", instance_url=masto.base_url,
                                       access_token="t", http=http)  # fmt: skip
            if network == "bluesky":
                return BlueskyNetwork("b-bluesky", handle="bench.test", app_password="pw",
                                      sessions=MemorySessionStore(), service_url=bsky.base_url,
                                      http=http)  # fmt: skip
            return XNetwork("b-x", consumer_key="k", consumer_secret="s", access_token="a",
                            access_token_secret="t", api_base=fake_x.base_url,
                            upload_base=fake_x.base_url, http=http)  # fmt: skip

        for network, count in counts.items():
            net = adapter(network)
            for n in range(count):
                text = f"Families belong together, {network} post {n}"
                receipt = net.publish(OutgoingPost(f"b-{network}", text, f"{network}-{n}",
                                                   due_at=START))  # fmt: skip
                draft = DeliveryDraft(f"b-{network}", network, f"s{n}", START, "post-1", "fbt",
                                      text)  # fmt: skip
                row = store.claim_slot(draft, worker_id="bench")
                assert row is not None
                store.mark_published(row.id, worker_id="bench", remote_id=receipt.remote_id,
                                     url=None)  # fmt: skip
        readers: dict[str, Any] = {}
        collector = Collector(
            settings, library, store,
            lambda account: readers.setdefault(account.name, adapter(account.network)),
            may_run=lambda _now: None,
        )  # fmt: skip
        done = collector.run_round(START + timedelta(hours=1))
        store.close()
        for reader in readers.values():
            if isinstance(reader, BlueskyNetwork):
                reader.close()
    fewest = sum(math.ceil(count / BATCH[network]) for network, count in counts.items())  # type: ignore[index]
    assert done.read == sum(counts.values()), done
    return done.requests, fewest, counts


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=None, help="deliveries (default 100,000)")


def main() -> int:
    args = parse_args(__doc__ or "", repeats=5, quick_repeats=1, options=options)
    postgres_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    scrub_own_environment()
    total = args.rows or (2_000 if args.quick else 100_000)
    header(f"results: report over {total:,} deliveries x 3 snapshots; a round's requests",
           args.quick, args.repeats)  # fmt: skip
    rows = []
    worst = 0.0
    with temp_dir("bench-results-") as base:
        ours, bare, py = report_times(f"sqlite:///{base / 'bench.db'}", total, args.repeats)
        rows.append(["SQLite", f"{ours:.3f}", f"{bare:.3f}", f"{ours / bare:.2f}", f"{py:.3f}"])
        worst = max(worst, ours / bare)
        made = postgres_schema(postgres_url)
        if isinstance(made, str):
            rows.append(["PostgreSQL", made, "", "", ""])
        else:
            url, drop = made
            try:
                ours, bare, py = report_times(url, total, args.repeats)
                rows.append(
                    ["PostgreSQL", f"{ours:.3f}", f"{bare:.3f}", f"{ours / bare:.2f}", f"{py:.3f}"]
                )
                worst = max(worst, ours / bare)
            finally:
                drop()
        table(["database", "report s", "bare SQL s", "ratio", "by hashtag s"], rows)
        print()
        requests, fewest, counts = collection_round(base, args.quick)
        shown = ", ".join(f"{network} {count}" for network, count in counts.items())
        table(["round", "requests", "fewest", "ratio"],
              [[shown, requests, fewest, f"{requests / fewest:.2f}"]])  # fmt: skip
        print()
        passed = requests == fewest
        print(f"requests per round against the batch minimum: {requests / fewest:.2f} "
              f"(goal 1.00) {'PASS' if passed else 'FAIL'}")  # fmt: skip
    print(ratio_line(worst, REPORT_GOAL, "the report against a bare SQL aggregate, worst database"))
    return 0  # the verdicts are printed; a failed round raises


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
