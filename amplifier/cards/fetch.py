"""Reading a web page (or its image) from an address a volunteer wrote: a security boundary.

A post's link is text anyone with write access to ``posts/`` chose, and the worker runs where
private services may answer (a database, a cloud's metadata address). So every request:

* is ``http`` or ``https``, with no user name or password in the address;
* resolves its host once, and is refused if ANY of the addresses is not public (private,
  loopback, link-local, multicast, reserved, shared, unspecified, or an IPv4 address hidden in
  an IPv6 one that is): ``public_address``;
* connects to the address that was checked, never resolving again (no DNS rebinding between
  the check and the connection); TLS still checks the certificate for the host's name;
* follows at most ``MAX_REDIRECTS`` redirects by hand, each new address checked the same way;
* takes a default port only (80, 443), asks for no compression and refuses a compressed
  answer, reads at most ``max_bytes`` of a body of the expected type, within a connect and read
  timeout and a deadline for the whole exchange.

``FetchPolicy.allow`` lets named networks through (and any port on them): the tests' local
servers on 127.0.0.1. Nothing in amplifier sets it; the default refuses loopback.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 3
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "amplifier-link-card/1 (+https://github.com/amplifier; reads Open Graph tags)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]


class FetchRefused(Exception):
    """The page was not read; the message says why, in words for the log."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for ``host``, in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchRefused(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_address(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (and is not one hiding a private one)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not public_address(embedded):
            return False
    return bool(
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of one fetch. ``allow``: networks let through whatever they are (tests only)."""

    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    deadline: float = 10.0  # seconds for a whole exchange, redirects included
    allow: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver)

    def allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allow)


@dataclass(frozen=True)
class Fetched:
    """A body read in full, the address it finally came from, and its media type."""

    url: str
    media_type: str
    charset: str | None
    body: bytes


def fetch(
    url: str,
    *,
    accept: Callable[[str], bool],
    max_bytes: int,
    policy: FetchPolicy,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """GET ``url`` under every rule above; ``accept`` judges the answer's media type.

    Raises ``FetchRefused`` with the reason for anything but a full body of an accepted type.
    """
    deadline = clock() + policy.deadline
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        status, headers, connection, response = _request(current, policy, deadline, clock)
        try:
            if status in (301, 302, 303, 307, 308):
                location = headers.get("location")
                if not location:
                    raise FetchRefused(f"{current}: redirect ({status}) without a Location")
                if hop == MAX_REDIRECTS:
                    raise FetchRefused(f"{url}: more than {MAX_REDIRECTS} redirects")
                current = urljoin(current, location.strip())
                continue
            if status != 200:
                raise FetchRefused(f"{current}: the server answered {status}")
            media_type, charset = _content_type(headers.get("content-type", ""))
            if not accept(media_type):
                raise FetchRefused(f"{current}: not the expected type ({media_type or 'none'})")
            encoding = headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise FetchRefused(f"{current}: compressed answer ({encoding}) refused")
            length = headers.get("content-length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise FetchRefused(f"{current}: {int(length)} bytes, over {max_bytes}")
            body = _read_capped(response, max_bytes, current, deadline, clock)
            return Fetched(current, media_type, charset, body)
        finally:
            connection.close()
    raise FetchRefused(f"{url}: more than {MAX_REDIRECTS} redirects")  # pragma: no cover


def checked_target(url: str, policy: FetchPolicy) -> tuple[str, str, int, str]:
    """(scheme, host, port, the address to connect to) for ``url``, or ``FetchRefused``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"{url}: not a usable address ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(f"{url}: only http and https addresses are read")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(f"{url}: an address with a user name or password is not read")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"{url}: no host")
    port = port if port is not None else DEFAULT_PORTS[scheme]
    resolved = policy.resolver(host, port)
    if not resolved:
        raise FetchRefused(f"{url}: {host} resolves to no address")
    addresses: list[IPAddress] = []
    for text in resolved:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError as exc:
            raise FetchRefused(f"{url}: {host} resolves to {text!r}, not an address") from exc
    for address in addresses:
        if not (public_address(address) or policy.allowed(address)):
            raise FetchRefused(f"{url}: {host} resolves to {address}, not a public address")
    if port != DEFAULT_PORTS[scheme] and not all(policy.allowed(a) for a in addresses):
        raise FetchRefused(f"{url}: only the default port ({DEFAULT_PORTS[scheme]}) is read")
    return scheme, host, port, str(addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a checked address; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._connect_timeout = timeout

    def pin(self, connect_timeout: float, read_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self.timeout = read_timeout

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self._connect_timeout)
        self.sock.settimeout(self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is checked for the host's name (SNI)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address
        self._connect_timeout = timeout

    def pin(self, connect_timeout: float, read_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self.timeout = read_timeout

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self._connect_timeout)
        raw.settimeout(self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _request(
    url: str, policy: FetchPolicy, deadline: float, clock: Callable[[], float]
) -> tuple[int, dict[str, str], http.client.HTTPConnection, http.client.HTTPResponse]:
    scheme, host, port, address = checked_target(url, policy)
    left = deadline - clock()
    if left <= 0:
        raise FetchRefused(f"{url}: out of time")
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(host, port, address, policy.read_timeout)
    connection.pin(min(policy.connect_timeout, left), min(policy.read_timeout, left))
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "GET",
            target,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/html,application/xhtml+xml,image/*;q=0.8",
                "Accept-Encoding": "identity",
            },
        )
        response = connection.getresponse()
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        connection.close()
        raise FetchRefused(f"{url}: {_described(exc)}") from exc
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, headers, connection, response


def _read_capped(
    response: http.client.HTTPResponse,
    max_bytes: int,
    url: str,
    deadline: float,
    clock: Callable[[], float],
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if clock() > deadline:
                raise FetchRefused(f"{url}: out of time while reading")
            chunk = response.read1(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise FetchRefused(f"{url}: more than {max_bytes} bytes")
            chunks.append(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchRefused(f"{url}: {_described(exc)}") from exc


def _content_type(value: str) -> tuple[str, str | None]:
    media_type, _, rest = value.partition(";")
    charset = None
    for param in rest.split(";"):
        name, _, found = param.partition("=")
        if name.strip().lower() == "charset" and found.strip():
            charset = found.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _described(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
