"""The shipped fakes: MemoryNetwork (scripted outcomes, platform rules) and DryRunNetwork."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from amplifier.errors import AuthFailed, DuplicatePost, PostRejected, TransientError
from amplifier.logs import parse_logfmt
from amplifier.networks.base import MediaItem, Network, OutgoingPost, Receipt
from amplifier.networks.dryrun import DRY_RUN_NOTE, DryRunNetwork
from amplifier.networks.memory import MemoryNetwork


def make_post(text: str = "Fund the buses #transit", key: str = "k1") -> OutgoingPost:
    return OutgoingPost(account="fbt", text=text, idempotency_key=key)


def test_both_fakes_satisfy_the_network_protocol() -> None:
    """MemoryNetwork and DryRunNetwork can stand wherever a Network is expected."""
    networks: list[Network] = [MemoryNetwork("fbt", "bluesky"), DryRunNetwork("fbt", "x")]
    assert [(n.account, n.network) for n in networks] == [("fbt", "bluesky"), ("fbt", "x")]


def test_default_success_numbers_ids_and_builds_urls() -> None:
    """With nothing scripted, posts go out as mem-1, mem-2 with an .invalid url per network."""
    net = MemoryNetwork("fbt-m", "mastodon")
    first = net.publish(make_post("one"))
    second = net.publish(make_post("two"))
    assert first == Receipt(remote_id="mem-1", url="https://mastodon.invalid/fbt-m/mem-1")
    assert second.remote_id == "mem-2"
    assert [p.text for p in net.sent] == ["one", "two"]
    assert net.attempts == net.sent


def test_scripted_outcomes_are_consumed_in_order() -> None:
    """Each publish call consumes one scripted outcome; then the default behaviour resumes."""
    net = MemoryNetwork("fbt", "mastodon")
    scripted = Receipt(remote_id="scripted-7", url=None)
    rejected = PostRejected("422 from mastodon", reason="Text too long")
    net.enqueue(TransientError("503 from mastodon"), scripted, rejected)
    assert net.queued == 3

    with pytest.raises(TransientError, match="503"):
        net.publish(make_post("a"))
    assert net.publish(make_post("b")) is scripted
    with pytest.raises(PostRejected) as caught:
        net.publish(make_post("c"))
    assert caught.value is rejected
    assert net.publish(make_post("d")).remote_id == "mem-1"

    assert net.queued == 0
    assert [p.text for p in net.attempts] == ["a", "b", "c", "d"]
    assert [p.text for p in net.sent] == ["b", "d"]


def test_scripted_callable_receives_the_post() -> None:
    """A callable outcome is called with the post and its receipt is returned."""
    net = MemoryNetwork("fbt", "bluesky")
    net.enqueue(lambda post: Receipt(remote_id=f"echo-{post.idempotency_key}", url=None))
    assert net.publish(make_post(key="slot-42")).remote_id == "echo-slot-42"
    assert len(net.sent) == 1


def test_x_refuses_a_text_it_already_holds() -> None:
    """On X a second post with the same text raises DuplicatePost and is not sent again."""
    net = MemoryNetwork("fbt-x", "x")
    net.publish(make_post("same words"))
    with pytest.raises(DuplicatePost) as caught:
        net.publish(make_post("same words", key="k2"))
    assert (caught.value.account, caught.value.network) == ("fbt-x", "x")
    assert len(net.sent) == 1
    assert len(net.attempts) == 2
    assert net.publish(make_post("other words")).remote_id == "mem-2"


def test_other_networks_accept_repeated_text() -> None:
    """The duplicate rule is X's alone: Mastodon takes the same text twice."""
    net = MemoryNetwork("fbt-m", "mastodon")
    net.publish(make_post("same words"))
    net.publish(make_post("same words"))
    assert len(net.sent) == 2


def test_ambiguous_transient_counts_the_post_as_sent() -> None:
    """An ambiguous TransientError records the post as sent, so a retry on X meets a duplicate."""
    net = MemoryNetwork("fbt-x", "x")
    net.enqueue(TransientError("read timeout after sending", ambiguous=True))
    with pytest.raises(TransientError):
        net.publish(make_post("landed"))
    assert [p.text for p in net.sent] == ["landed"]
    with pytest.raises(DuplicatePost):
        net.publish(make_post("landed"))


def test_plain_transient_and_permanent_errors_send_nothing() -> None:
    """Non-ambiguous transient errors and permanent errors leave `sent` empty."""
    net = MemoryNetwork("fbt", "mastodon")
    net.enqueue(TransientError("503"), AuthFailed("401 token revoked"))
    for _ in range(2):
        with pytest.raises((TransientError, AuthFailed)):
            net.publish(make_post())
    assert net.sent == []
    assert len(net.attempts) == 2


def test_callable_raising_ambiguous_transient_counts_as_sent() -> None:
    """A scripted callable that raises an ambiguous TransientError also records the post."""

    def lost_answer(post: OutgoingPost) -> Receipt:
        raise TransientError("connection reset", ambiguous=True)

    net = MemoryNetwork("fbt", "bluesky")
    net.enqueue(lost_answer)
    with pytest.raises(TransientError):
        net.publish(make_post())
    assert len(net.sent) == 1


def test_verify_reports_the_account() -> None:
    """verify() names the network, account and handle without sending anything."""
    info = MemoryNetwork("fbt-b", "bluesky", handle="fbt.bsky.social").verify()
    assert (info.network, info.account, info.handle) == ("bluesky", "fbt-b", "fbt.bsky.social")
    assert MemoryNetwork("fbt-m").verify().handle == "fbt-m"


def test_concurrent_publishes_are_all_counted_with_unique_ids() -> None:
    """Eight threads publishing 100 posts each lose no post and reuse no id."""
    net = MemoryNetwork("fbt", "mastodon")
    receipts: list[Receipt] = []
    receipts_lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(thread: int) -> None:
        start.wait()
        for i in range(100):
            receipt = net.publish(make_post(f"post {thread}-{i}"))
            with receipts_lock:
                receipts.append(receipt)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(net.sent) == len(net.attempts) == 800
    assert {r.remote_id for r in receipts} == {f"mem-{n}" for n in range(1, 801)}


def test_concurrent_same_text_on_x_goes_out_once() -> None:
    """When eight threads race the same text on X, exactly one wins and seven get DuplicatePost."""
    net = MemoryNetwork("fbt-x", "x")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        try:
            net.publish(make_post("racing text"))
            outcomes.append("sent")
        except DuplicatePost:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["duplicate"] * 7 + ["sent"]
    assert len(net.sent) == 1


def test_dry_run_writes_one_logfmt_line_per_post() -> None:
    """DryRunNetwork writes one logfmt line per post (account, network, the exact text with its
    line breaks, its length, link, alt texts, language), sends nothing, and gives each
    delivery a receipt id of its own (never the same "#1" for every post)."""
    written: list[str] = []
    net = DryRunNetwork("fbt-b", "bluesky", write=written.append)
    post = OutgoingPost(
        account="fbt-b",
        text="Buses now!\nJoin us #transit",
        idempotency_key="slot-1",
        link="https://example.org/join",
        media=(MediaItem(path=Path("posts/img/rally.jpg"), alt="Crowd at the depot"),),
        language="en",
    )
    first = net.publish(post)
    again = net.publish(post)
    other = net.publish(make_post("Other", key="slot-2"))

    assert first == again == Receipt(remote_id="dry-run-slot-1", url=None)
    assert other.remote_id == "dry-run-slot-2"
    assert len(written) == 3 and all("\n" not in line for line in written)
    assert parse_logfmt(written[0]) == {
        "event": "dry-run",
        "account": "fbt-b",
        "network": "bluesky",
        "chars": "27",
        "text": "Buses now!\nJoin us #transit",
        "link": "https://example.org/join",
        "language": "en",
        "media": "rally.jpg (alt: Crowd at the depot)",
        "key": "slot-1",
    }


def test_dry_run_logs_by_default(caplog: pytest.LogCaptureFixture) -> None:
    """Without an injected writer the line goes to the amplifier log, at INFO."""
    with caplog.at_level(logging.INFO, logger="amplifier"):
        DryRunNetwork("fbt-x", "x").publish(make_post("hello"))
    [record] = caplog.records
    assert record.name == "amplifier.networks.dryrun" and record.levelno == logging.INFO
    assert parse_logfmt(record.getMessage())["text"] == "hello"


def test_dry_run_verify_says_credentials_were_not_checked() -> None:
    """verify() on a dry run returns the identity with a note that nothing was checked."""
    info = DryRunNetwork("fbt-m", "mastodon", handle="@fbt@example.social").verify()
    assert info.handle == "@fbt@example.social"
    assert info.notes == (DRY_RUN_NOTE,)
    assert "credentials not checked" in DRY_RUN_NOTE
