"""A small scriptable HTTP server that plays a social network on localhost.

The adapters are tested through their real SDKs against these servers, and the worker's
process-level tests and the fault soak point real worker processes at them. Each network's
fake (``fake_mastodon``, ``fake_bluesky``, ``fake_x``) registers routes on a ``FakeServer``;
this module gives them the plumbing they share:

* ``faults``: a queue of scripted outcomes consumed one per matching request, e.g.
  ``Fault(status=429, headers={...})``, ``Fault(status=503)``, ``Fault(delay=3.0)`` (answer
  late, after doing the work), ``Fault(drop=True)`` (close the connection without answering,
  after doing the work when ``after_work`` is set, which is what makes a failure ambiguous),
  ``Fault(truncate=True)`` (announce the whole answer, send half of it, close).
* ``received``: every request that reached a handler, in order, for tests to count.
* ``start()`` / ``stop()`` and a context manager, on a free port of 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """What a handler sees of one request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # send the full Content-Length but only half the body, then close

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body).encode(), "application/json; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


@dataclass
class Fault:
    """A scripted outcome for the next request whose method and path prefix match.

    status/body/headers: answer this instead of calling the handler.
    delay: sleep this long before answering (the handler still runs first when after_work).
    drop: close the connection without any answer.
    truncate: send the answer (``status``/``body``, or the handler's) cut in half, then close.
    after_work: run the real handler first (the post is stored), then misbehave.
    """

    method: str = "POST"
    path_prefix: str = "/"
    status: int | None = None
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    truncate: bool = False
    after_work: bool = False


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
    """Ignores clients that hung up first (a timed-out client is a scripted fault, not a bug)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


class FakeServer:
    """An HTTP server on 127.0.0.1 with routes, scripted faults and a log of requests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: list[tuple[str, str, bool, Handler]] = []
        self.faults: deque[Fault] = deque()
        self.received: list[Request] = []
        self.lock = threading.Lock()
        self._httpd = _QuietServer((host, port), self._make_handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- routes -------------------------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler, *, prefix: bool = False) -> None:
        """Register a handler for METHOD PATH (or every path starting with PATH when prefix)."""
        self._routes.append((method.upper(), path, prefix, handler))

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeServer:
        # A short poll interval keeps stop() fast: tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch -----------------------------------------------------------------------
    def _find_handler(self, method: str, path: str) -> Handler | None:
        for route_method, route_path, prefix, handler in self._routes:
            if route_method != method:
                continue
            if path == route_path or (prefix and path.startswith(route_path)):
                return handler
        return None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method.upper() == method and path.startswith(fault.path_prefix):
                    self.faults.remove(fault)
                    return fault
        return None

    def dispatch(self, request: Request) -> Response | None:
        """Answer one request; None means drop the connection without answering."""
        fault = self._take_fault(request.method, request.path)
        handler = self._find_handler(request.method, request.path)
        if fault is not None and not fault.after_work:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                return Response(fault.status, fault.body, dict(fault.headers), fault.truncate)
        if handler is None:
            return Response(404, {"error": f"no fake route for {request.method} {request.path}"})
        with self.lock:
            self.received.append(request)
        response = handler(request)
        if fault is not None and fault.after_work:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                return Response(fault.status, fault.body, dict(fault.headers), fault.truncate)
            response.truncate = fault.truncate
        return response

    def _make_handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read server.received, not stderr

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                )
                response = server.dispatch(request)
                if response is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload, content_type = response.encoded()
                self.send_response(response.status)
                headers = {"Content-Type": content_type, **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if response.truncate:
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return _Handler
