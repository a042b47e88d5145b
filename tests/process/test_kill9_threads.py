"""kill -9 a real worker again and again while it publishes threads, then count.

Three posts of three parts each, one per slot, on the fake X, Mastodon and Bluesky, every
publish request slowed and some answered late, never, or with 503 or 429 after the post was
stored. SIGKILLs land before, during and between parts. A final worker then runs on prompt
servers until every slot and every thread is settled. The servers are the witnesses: no text
twice; on every network every thread whole, in order, each part a reply to the one before it
(Bluesky: root and parent). On X a part whose answer was lost is found on the account's
timeline with its id before anything is sent again, so its thread goes on; no part fails.
"""

from __future__ import annotations

import os
import random
from itertools import pairwise
from pathlib import Path

import pytest

from amplifier.store import Delivery

from .harness import POSTS_DIR, Rig, Schedule, chaos_fault, database
from .test_kill9 import kill_at_random

SEED = int(os.environ.get("AMPLIFIER_PROCESS_SEED", "20261206"))
KILLS = int(os.environ.get("AMPLIFIER_PROCESS_KILLS", "8"))
DATABASE = os.environ.get("AMPLIFIER_PROCESS_DB", "sqlite")
TOPICS = ("detention", "separation", "asylum")


def _write_threads(folder: Path) -> dict[str, list[str]]:
    """Three thread posts; each one's parts as written, by post id."""
    folder.mkdir()
    written: dict[str, list[str]] = {}
    for topic in TOPICS:
        parts = [f"What we know about family {topic}, in three parts.",
                 f"One: the record on family {topic} is public and long.",
                 f"Two: you can ask Congress to end family {topic} today."]  # fmt: skip
        body = "\n+++\n".join(parts)
        (folder / f"{topic}.md").write_text(
            f"---\nid: {topic}\ncampaign: families-belong-together\nlanguage: en\n"
            f"source: test\n---\n{body}\n"
        )
        written[topic] = parts
    return written


def _chain(rig: Rig, network: str) -> list[tuple[str, str, str | None]]:
    """(id, text, the id it replies to) of each post the server holds, in order."""
    fakes = rig.fakes
    if network == "x":
        return [(p.id, p.text, p.in_reply_to) for p in fakes.x.posts]
    if network == "mastodon":
        return [(s.id, s.text, s.in_reply_to_id) for s in fakes.mastodon.statuses]
    return [
        (r.uri, r.text, (r.value.get("reply") or {}).get("parent", {}).get("uri"))
        for r in fakes.bluesky.records
        if "/app.bsky.feed.post/" in r.uri
    ]


@pytest.mark.slow
def test_kill9_while_threads_go_out_leaves_each_thread_whole_and_in_order(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    written = _write_threads(tmp_path / "threads")
    schedule = Schedule.minutes_ago([1, 2, 3])
    with (
        database(DATABASE, tmp_path) as url,
        Rig(tmp_path, database_url=url, schedule=schedule) as rig,
    ):
        text = rig.config_path.read_text(encoding="utf-8")
        rig.config_path.write_text(text.replace(str(POSTS_DIR), str(tmp_path / "threads")))
        feeder = rig.feed_faults(rng, chaos_fault)
        moments = [kill_at_random(rig, rig.spawn(), rng) for _ in range(KILLS)]
        feeder.stop()
        rig.fakes.clear_faults()
        final = rig.spawn("final")
        outcome = rig.wait_settled(timeout=120, watch=final)
        code, _ = final.stop()
        print(f"\n{DATABASE} seed={SEED} kills={KILLS} {sorted(moments)}")
        print(outcome.summary("threads, kill -9"))
        assert outcome.problems() == []
        assert code == 0, final.tail()
        rows: list[Delivery] = list(outcome.rows.values())
        for network in ("x", "mastodon", "bluesky"):
            chain = _chain(rig, network)
            by_id = {post_id: (body, target) for post_id, body, target in chain}
            for topic, parts in written.items():
                mine = [(i, b, t) for i, b, t in chain if topic in b]
                texts = [b.split("\n\n#")[0] for _, b, _ in mine]
                assert texts == parts, (network, topic, texts)  # whole, in order, once
                assert mine[0][2] is None, (network, topic)
                for (earlier, _, _), (_, _, target) in pairwise(mine):
                    assert target == earlier and target in by_id, (network, topic)
                mine_rows = [r for r in rows if r.network == network and r.template_id == topic]
                assert [r.status for r in mine_rows] == ["published"] * 3, (network, topic)
                # Each part's row holds the id of the post it made (X: found if need be).
                assert sorted(r.remote_id or "" for r in mine_rows) == sorted(
                    i for i, _, _ in mine
                ), (network, topic)
        records = [r for r in rig.fakes.bluesky.records if "/app.bsky.feed.post/" in r.uri]
        roots = {r.uri: r for r in records if "reply" not in r.value}
        for record in records:
            if "reply" in record.value:
                root = record.value["reply"]["root"]
                assert root["cid"] == roots[root["uri"]].cid
