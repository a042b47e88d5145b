"""A TCP proxy that loses chosen answers after the server acted on the request: the failure
that makes a write ambiguous, put in front of a real server."""

from __future__ import annotations

import contextlib
import socket
import threading


class AnswerDroppingProxy:
    """A TCP proxy in front of the server that passes everything through, except that for the
    next ``count`` requests starting with one of the given lines it lets the request reach the
    server, waits for the server's answer, and then closes the client's connection without it."""

    def __init__(self, upstream_url: str) -> None:
        self._upstream = ("127.0.0.1", int(upstream_url.rsplit(":", 1)[1]))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._prefixes: tuple[bytes, ...] = ()
        self._to_drop = 0
        self.dropped = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_answers_to(self, *request_starts: bytes, count: int) -> None:
        with self._lock:
            self._prefixes, self._to_drop = request_starts, count

    def __enter__(self) -> AnswerDroppingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(self._upstream)
            dropping = threading.Event()
            threading.Thread(
                target=self._requests, args=(client, upstream, dropping), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(upstream, client, dropping), daemon=True
            ).start()

    def _requests(
        self, client: socket.socket, upstream: socket.socket, drop: threading.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                with self._lock:
                    if self._to_drop and chunk.startswith(self._prefixes or (b"\0",)):
                        self._to_drop -= 1
                        drop.set()
                upstream.sendall(chunk)
        upstream.close()

    def _answers(
        self, upstream: socket.socket, client: socket.socket, drop: threading.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(65536):
                if drop.is_set():  # the server has answered: the status exists; lose the answer
                    with self._lock:
                        self.dropped += 1
                    break
                client.sendall(chunk)
        for end in (client, upstream):  # shutdown, not only close: the other pump is in recv
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
