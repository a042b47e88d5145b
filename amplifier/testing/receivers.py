"""Local alert receivers for tests and trials: a webhook for Apprise's ``json://`` and a tiny
SMTP server for its ``mailto://``, each on 127.0.0.1 in a thread of its own.

``WebhookReceiver(mode=...)``: "ok" answers 200, "fail" 500, "hang" reads the request and
never answers (until ``close``); every request's JSON body is kept in ``received``.
``SmtpReceiver``: speaks enough SMTP (HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS,
no AUTH) for Apprise's email plugin; every message's text is kept in ``received``.
Run ``python -m amplifier.testing.receivers`` to start a webhook and print its URL.
"""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "fail", "hang"]


class WebhookReceiver:
    """An HTTP endpoint taking Apprise's JSON notifications."""

    def __init__(self, mode: Mode = "ok") -> None:
        self.mode: Mode = mode
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self.arrived = threading.Event()  # set at each request's arrival
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests += 1
                receiver.arrived.set()
                if receiver.mode == "hang":
                    receiver._release.wait()
                    return
                if receiver.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"receiver down")
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                with receiver._lock:
                    receiver.received.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The Apprise URL of this receiver."""
        return f"json://127.0.0.1:{self.port}/hook"

    def messages(self) -> list[str]:
        """Each notification's title and body, as one text."""
        with self._lock:
            return [f"{item.get('title', '')}\n{item.get('message', '')}" for item in self.received]

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SmtpReceiver:
    """A minimal SMTP server keeping each message it is given."""

    def __init__(self) -> None:
        self.received: list[str] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 localhost amplifier test SMTP")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    verb = raw.decode("utf-8", "replace").strip().split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-localhost")
                        self.reply("250 8BITMIME")
                    elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines: list[str] = []
                        while True:
                            line = self.rfile.readline()
                            if not line or line in (b".\r\n", b".\n"):
                                break
                            text = line.decode("utf-8", "replace").rstrip("\r\n")
                            lines.append(text[1:] if text.startswith("..") else text)
                        receiver.received.append("\n".join(lines))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, to: str = "team@example.org") -> str:
        """The Apprise ``mailto://`` URL of this server (no TLS, no login)."""
        return (
            f"mailto://127.0.0.1:{self.port}?from=alerts@example.org&to={to}"
            f"&smtp=127.0.0.1&mode=insecure"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SmtpReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # pragma: no cover - a manual trial
    hook = WebhookReceiver()
    print(f"ALERT_URLS='{hook.url}'  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hook.close()
