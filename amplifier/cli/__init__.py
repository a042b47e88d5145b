"""Command line: parse, call the stage that does the work, print. Nothing else lives here.

``main`` (dispatch.py) is the console script ``amplifier``; parser.py holds every command's
arguments and help; each family of commands has a module: check.py, preview.py (preview,
schedule: the forecast), accounts.py (accounts verify), run.py (run, post-now), operator.py
(history, status, pause, resume, review). A command's module is imported only when it runs.
"""

from __future__ import annotations

from amplifier.cli.dispatch import main

__all__ = ["main"]
