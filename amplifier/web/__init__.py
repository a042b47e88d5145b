"""The organizers' console: a web page for the calendar, the history, the status, the reviews,
the posts and the pause switch, served by its own process (``amplifier web``) beside the worker.

Starlette, Jinja2 and uvicorn are imported only here: the worker never imports this package.
``create_app`` takes a ``Console`` (settings, posts, store, clock, access) so tests build the
app directly; ``open_console`` makes one from the config as the commands do. Nothing here
decides: the calendar is ``forecast.predict``, the pause switch and the reviews the store's own
operations, post-now the worker's. ``ConsoleWatch`` (watching.py): the console, too, notices a
worker gone silent and sends the alerts' outbox, on a thread of its own. ``AccessEvents``
(access_log.py): uvicorn's request lines as logfmt events, the feed's token redacted.
"""

from __future__ import annotations

from amplifier.web.access_log import AccessEvents
from amplifier.web.app import create_app
from amplifier.web.console import Console, open_console
from amplifier.web.watching import ConsoleWatch

__all__ = ["AccessEvents", "Console", "ConsoleWatch", "create_app", "open_console"]
