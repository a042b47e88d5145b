"""twitter-text-parser, each part imported when first used, and without ``pkg_resources``.

The package's ``__init__`` imports everything: the emoji pattern (built from a 395 kB table,
~40 ms to compile), the URL patterns (~65 ms) and the tweet parser. Which of them a command
needs depends on its texts: a Mastodon post-now needs no emoji pattern, a text in which no
dot is followed by a letter holds no URL. So the parts are imported one by one, as submodules
of a stand-in for the package (the package's own modules, only its ``__init__`` skipped),
each the first time it is asked for. The stand-in is removed afterwards, so a later
``import twitter_text`` still runs the real ``__init__`` (reusing the parts already loaded).

While a part imports, a stand-in ``pkg_resources`` answers the one call twitter-text makes
(``resource_string`` for ``emoji-test.txt``): the real one (setuptools) costs ~6 MiB and
~0.2 s, and warns that it is deprecated. It is removed afterwards too.

Everything in amplifier reaches twitter-text through this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
import types
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

_PACKAGE = "twitter_text"
_IMPORTING = threading.Lock()  # the stand-ins are process-wide: one import at a time

# Every URL twitter-text finds has a domain, so a dot followed by its next label (a TLD, or
# a label before one). A text without such a dot holds no URL, and needs no URL pattern.
_DOT_BEFORE_LABEL = re.compile(r"\.[^\s.]")


def _resource_string(module_name: str, resource: str) -> bytes:
    """``pkg_resources.resource_string`` for a file beside a module (all twitter_text asks)."""
    module_file = sys.modules[module_name].__file__
    if module_file is None:
        raise FileNotFoundError(f"{module_name} has no folder to read {resource} from")
    return (Path(module_file).parent / resource).read_bytes()


def package_folder() -> Path:
    """The installed twitter_text folder, found without importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{_PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _stand_ins() -> dict[str, types.ModuleType]:
    made: dict[str, types.ModuleType] = {}
    if _PACKAGE not in sys.modules:
        package = types.ModuleType(_PACKAGE)
        package.__path__ = [str(package_folder())]
        made[_PACKAGE] = package
    if "pkg_resources" not in sys.modules:
        resources = types.ModuleType("pkg_resources")
        resources.resource_string = _resource_string  # type: ignore[attr-defined]
        made["pkg_resources"] = resources
    return made


def part(name: str) -> types.ModuleType:
    """The module ``twitter_text.<name>`` (``"parse_tweet"``, ``"regexp.emoji"`` ...)."""
    full_name = f"{_PACKAGE}.{name}"
    loaded = sys.modules.get(full_name)
    if loaded is not None:
        return loaded
    with _IMPORTING:
        stand_ins = _stand_ins()
        sys.modules.update(stand_ins)
        try:
            return importlib.import_module(full_name)
        finally:
            for stand_in_name, module in stand_ins.items():
                if sys.modules.get(stand_in_name) is module:
                    del sys.modules[stand_in_name]


def pattern(name: str) -> re.Pattern[str]:
    """One of twitter-text's compiled patterns, ``twitter_text.regexp.<name>.<name>``."""
    return cast("re.Pattern[str]", getattr(part(f"regexp.{name}"), name))


def may_hold_url(text: str) -> bool:
    """False only when twitter-text can find no URL in ``text`` (no dot before a label)."""
    return _DOT_BEFORE_LABEL.search(text) is not None


def possible_urls(text: str) -> int:
    """At least as many as the URLs twitter-text finds in ``text``: each URL holds a dot
    before a label of its own (URLs never overlap)."""
    return len(_DOT_BEFORE_LABEL.findall(text))


def extract_urls_with_indices(text: str) -> list[dict[str, Any]]:
    """twitter-text's URLs (with or without a protocol), each with its code point indices."""
    if not may_hold_url(text):
        return []
    found = part("extract_urls").extract_urls_with_indices(text)
    return cast("list[dict[str, Any]]", found)


def extract_urls(text: str) -> list[str]:
    """twitter-text's URLs in ``text``, in order."""
    return [entity["url"] for entity in extract_urls_with_indices(text)]


def parse_tweet(text: str, options: dict[str, Any]) -> Any:
    """twitter-text's ``parse_tweet`` (weighted length, validity), the full parser."""
    return part("parse_tweet").parse_tweet(text, options)


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    """twitter-text config v3: the ranges, weights and limits X measures with."""
    return cast("dict[str, Any]", part("config").config["defaults"])


__all__ = [
    "defaults",
    "extract_urls",
    "extract_urls_with_indices",
    "may_hold_url",
    "package_folder",
    "parse_tweet",
    "part",
    "pattern",
    "possible_urls",
]
