"""twitter-text-parser, imported without ``pkg_resources``.

At import time the package reads one data file (``emoji-test.txt``) with
``pkg_resources.resource_string``. Importing ``pkg_resources`` (setuptools) for that one call
costs every worker ~6 MiB of resident memory and ~0.2 s of start-up, and warns that the API is
deprecated. While twitter_text imports, a stand-in that answers only that call is registered,
then removed: the real ``pkg_resources`` stays importable for anything that needs it.

Everything in amplifier reaches twitter-text through this module.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path


def _resource_string(module_name: str, resource: str) -> bytes:
    """``pkg_resources.resource_string`` for a file beside a module (all twitter_text asks)."""
    module_file = sys.modules[module_name].__file__
    if module_file is None:
        raise FileNotFoundError(f"{module_name} has no folder to read {resource} from")
    return (Path(module_file).parent / resource).read_bytes()


def _import_without_pkg_resources() -> None:
    if "twitter_text" in sys.modules or "pkg_resources" in sys.modules:
        return  # already imported, or the real pkg_resources is loaded anyway: nothing to save
    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_string = _resource_string  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        import twitter_text  # noqa: F401
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]


_import_without_pkg_resources()

# The stand-in has done its work; these imports find twitter_text already loaded.
from twitter_text import extract_urls, parse_tweet  # noqa: E402
from twitter_text.config import config  # noqa: E402
from twitter_text.extract_urls import extract_urls_with_indices  # noqa: E402
from twitter_text.regexp.emoji import emoji  # noqa: E402
from twitter_text.regexp.invalid_chars import invalid_chars  # noqa: E402
from twitter_text.regexp.latin_accent_chars import latin_accent_chars  # noqa: E402
from twitter_text.regexp.valid_domain import valid_domain  # noqa: E402
from twitter_text.regexp.valid_tco_url import valid_tco_url  # noqa: E402
from twitter_text.regexp.valid_url_balanced_parens import valid_url_balanced_parens  # noqa: E402
from twitter_text.regexp.valid_url_preceding_chars import valid_url_preceding_chars  # noqa: E402

__all__ = [
    "config",
    "emoji",
    "extract_urls",
    "extract_urls_with_indices",
    "invalid_chars",
    "latin_accent_chars",
    "parse_tweet",
    "valid_domain",
    "valid_tco_url",
    "valid_url_balanced_parens",
    "valid_url_preceding_chars",
]
