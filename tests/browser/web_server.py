"""The console on the sample config, served by uvicorn in a thread for the browser tests."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from amplifier.config import hash_password, web_access
from amplifier.web import Console, create_app, open_console

ORGANIZER_PASSWORD = "browser-organizer-pw-1"
VIEWER_PASSWORD = "browser-viewer-pw-2"
ENVIRONMENT = {
    "AMPLIFIER_WEB_ORGANIZER_PASSWORD_HASH": hash_password(ORGANIZER_PASSWORD),
    "AMPLIFIER_WEB_VIEWER_PASSWORD": VIEWER_PASSWORD,
    "AMPLIFIER_WEB_SESSION_SECRET": "browser-session-secret-" + "0" * 20,
    "AMPLIFIER_WEB_CALENDAR_TOKEN": "browser-calendar-token",
    "AMPLIFIER_WEB_TIMEZONE": "America/Los_Angeles",
}


@dataclass
class Served:
    url: str
    console: Console


@contextmanager
def served_sample(folder: Path, repo_root: Path) -> Iterator[Served]:
    """The sample config and posts copied to ``folder``, its SQLite database there, served on
    a free port of 127.0.0.1 until the block ends."""
    shutil.copy(repo_root / "config.example.toml", folder / "config.example.toml")
    shutil.copytree(repo_root / "posts", folder / "posts")
    config = (folder / "config.example.toml").read_text(encoding="utf-8")
    config = config.replace('"sqlite:///amplifier.db"', f'"sqlite:///{folder / "state.db"}"')
    (folder / "config.toml").write_text(config, encoding="utf-8")
    console = open_console(folder / "config.toml", folder / "posts", web_access(ENVIRONMENT))
    try:
        with serve(console) as served:
            yield served
    finally:
        console.close()


@contextmanager
def serve(console: Console) -> Iterator[Served]:
    """``console`` served by uvicorn on a free port of 127.0.0.1 until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(console), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)  # the server starts in its thread; polled with a deadline
    assert server.started, "the console did not start within 30 s"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", console)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
