"""The link-card fetch as a security boundary: only public addresses, checked on every hop and
connected to as checked, within size, type and time limits. Pages are served on 127.0.0.1;
only ``LOOPBACK`` (the tests' policy) lets that address through, and the default refuses it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from ipaddress import ip_address

import pytest

from amplifier.cards import FetchPolicy, FetchRefused, fetch_card, public_address
from amplifier.cards.build import MAX_HTML_BYTES, html_type
from amplifier.cards.fetch import fetch
from amplifier.testing.fake_pages import LOOPBACK, FakePages, og_page


@pytest.fixture
def pages() -> Iterator[FakePages]:
    with FakePages() as server:
        yield server


HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"  # no length: ends at close


def resolver(table: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]

    return resolve


def html(url: str, policy: FetchPolicy) -> bytes:
    return fetch(url, accept=html_type, max_bytes=MAX_HTML_BYTES, policy=policy).body


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1",
     "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:a00:1::", "::"],
)  # fmt: skip
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    """Every private, loopback, link-local, shared, multicast, reserved or unspecified address
    (and a private IPv4 one inside an IPv6 one) is not public."""
    assert not public_address(ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    """The check is not a refusal of everything: public addresses pass."""
    assert public_address(ip_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1"])
def test_default_policy_refuses_a_host_resolving_to_a_private_address(address: str) -> None:
    """A name that resolves to a private address is refused before any connection."""
    policy = FetchPolicy(resolver=resolver({"petition.example": [address]}))
    with pytest.raises(FetchRefused, match="not a public address"):
        html("https://petition.example/sign", policy)


def test_default_policy_refuses_the_local_server(pages: FakePages) -> None:
    """The default policy refuses a real page on 127.0.0.1 that the tests' policy reads."""
    url = pages.page("/p", og_page("Sign"))
    assert b"Sign" in html(url, LOOPBACK)
    pages.received.clear()
    with pytest.raises(FetchRefused, match="not a public address"):
        html(url, FetchPolicy())
    with pytest.raises(FetchRefused, match="not a public address"):
        html(url.replace("127.0.0.1", "[::1]"), FetchPolicy())
    assert pages.received == []  # nothing reached the server


def test_any_private_address_among_several_refuses() -> None:
    """One private address among public ones is enough to refuse: any of them may be used."""
    policy = FetchPolicy(resolver=resolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]}))
    with pytest.raises(FetchRefused, match=r"10\.0\.0\.1"):
        html("https://mixed.example/", policy)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/", "https://user:pw@example.org/",
     "http://[::1", "https:///nohost"],
)  # fmt: skip
def test_addresses_that_are_not_plain_web_addresses_are_refused(url: str) -> None:
    """Only http(s) without credentials is read; a broken address is refused, not raised."""
    policy = FetchPolicy(resolver=resolver({"example.org": ["93.184.216.34"]}))
    with pytest.raises(FetchRefused):
        html(url, policy)


def test_a_port_other_than_the_default_is_refused_on_a_public_address() -> None:
    """Only ports 80 and 443 are read on the internet (no probing of other services)."""
    policy = FetchPolicy(resolver=resolver({"example.org": ["93.184.216.34"]}))
    with pytest.raises(FetchRefused, match="default port"):
        html("http://example.org:6379/", policy)


def test_redirect_to_a_private_address_is_refused(pages: FakePages) -> None:
    """A redirect from an allowed host to a private one is checked and refused."""
    table = {"internal.example": ["192.168.0.10"]}
    policy = replace(LOOPBACK, resolver=_with_loopback(table))
    for target in ("http://10.0.0.7/admin", "http://169.254.169.254/latest/meta-data/",
                   "http://internal.example/"):  # fmt: skip
        url = pages.redirect(f"/r{len(pages.received)}", target)
        with pytest.raises(FetchRefused, match="not a public address"):
            html(url, policy)


def test_redirects_are_followed_at_most_three_times(pages: FakePages) -> None:
    """Three redirects are followed (relative ones included); a fourth is refused."""
    pages.page("/end", og_page("End"))
    pages.redirect("/r3", "/end")
    pages.redirect("/r2", "/r3")
    pages.redirect("/r1", "/r2")
    pages.redirect("/r0", "/r1")
    assert b"End" in html(f"{pages.base_url}/r1", LOOPBACK)
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        html(f"{pages.base_url}/r0", LOOPBACK)


def test_the_checked_address_is_the_one_connected_to(pages: FakePages) -> None:
    """A host is resolved once per request and the connection goes to the address checked:
    a resolver that answers a private address the second time is never asked again."""
    port = pages.base_url.rsplit(":", 1)[1]
    answers = [["127.0.0.1"], ["10.0.0.1"]]
    asked: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return answers[min(len(asked), 2) - 1]

    pages.page("/p", og_page("Pinned"))
    policy = replace(LOOPBACK, resolver=rebinding)
    assert b"Pinned" in html(f"http://rebind.example:{port}/p", policy)
    assert asked == ["rebind.example"]
    assert pages.received[-1].header("Host") == f"rebind.example:{port}"  # the name, not the IP
    with pytest.raises(FetchRefused, match="not a public address"):
        html(f"http://rebind.example:{port}/p", policy)  # the next request checks again


def test_a_page_over_one_megabyte_is_refused(pages: FakePages) -> None:
    """A page announcing more than the cap is refused; so is one that sends more without
    announcing its length."""
    url = pages.page("/big", "<html>" + "x" * (MAX_HTML_BYTES + 1))
    with pytest.raises(FetchRefused, match="over 1000000"):
        html(url, LOOPBACK)
    with (
        _raw_server(HEAD, 64 * 1024, 40) as base,
        pytest.raises(FetchRefused, match="more than 1000000 bytes"),
    ):
        html(f"{base}/stream", LOOPBACK)


def test_only_html_is_read(pages: FakePages) -> None:
    """An answer that is not HTML (JSON, an image, no type at all) is not read as a page."""
    for path, kind in (("/j", "application/json"), ("/i", "image/png"), ("/n", "")):
        url = pages.page(path, og_page("Not a page"), content_type=kind)
        with pytest.raises(FetchRefused, match="not the expected type"):
            html(url, LOOPBACK)


def test_a_compressed_answer_is_refused(pages: FakePages) -> None:
    """No decompression (no zip bomb): a compressed answer sent anyway is refused."""
    url = pages.page("/gz", b"\x1f\x8b....", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchRefused, match="compressed"):
        html(url, LOOPBACK)
    assert pages.received[-1].header("Accept-Encoding") == "identity"


def test_a_slow_server_is_given_up(pages: FakePages) -> None:
    """A server that does not answer within the read timeout, or drips its page past the
    deadline, is given up with a reason."""
    from amplifier.testing.fakeserver import Fault

    url = pages.page("/slow", og_page("Slow"))
    pages.add_fault(Fault(method="GET", path_prefix="/slow", delay=1.5))
    quick = replace(LOOPBACK, read_timeout=0.3, deadline=1.0)
    with pytest.raises(FetchRefused, match="timed out"):
        html(url, quick)
    with _raw_server(HEAD, 10, 100, 0.1) as base, pytest.raises(FetchRefused, match="out of time"):
        html(f"{base}/drip", quick)


def test_a_failed_page_is_an_outcome_not_an_exception(pages: FakePages) -> None:
    """fetch_card turns every refusal into a failure with its reason (never raises)."""
    outcome = fetch_card("http://127.0.0.1:9/none")
    assert outcome.card is None and "not a public address" in (outcome.failure or "")
    url = pages.page("/notitle", "<html><head></head><body>hi</body></html>")
    outcome = fetch_card(url, LOOPBACK)
    assert outcome.card is None and "no title" in (outcome.failure or "")


def _with_loopback(table: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    def resolve(host: str, port: int) -> Sequence[str]:
        return table.get(host) or [host if host[0].isdigit() else "127.0.0.1"]

    return resolve


class _raw_server:
    """A socket server that sends ``head`` then ``count`` chunks of ``size`` bytes, each after
    ``pause`` seconds, without a Content-Length (the body ends when it closes)."""

    def __init__(self, head: bytes, size: int, count: int, pause: float = 0.0) -> None:
        self.head, self.size, self.count, self.pause = head, size, count, pause
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.done = threading.Event()

    def __enter__(self) -> str:
        threading.Thread(target=self._serve, daemon=True).start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.sock.close()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.head)
                for _ in range(self.count):
                    if self.done.wait(self.pause):
                        return
                    conn.sendall(b"x" * self.size)
            except OSError:
                return
