"""What every adapter needs to read a failed answer the same way, whatever its SDK kept of it.

* ``server_words``: the server's own text from an error body, JSON, HTML or plain text alike,
  trimmed and bounded, so a message never ends in "HTTP 400 Bad Request:" with nothing after it
  (SDKs drop bodies that are not the JSON they expect: Takahē answers a bad token in plain text).
* ``may_have_landed``: which HTTP statuses are not a definite refusal of a write. Every 5xx is
  one of them (a server can fail after it stored the post), and so are 408 and 425, which ask
  for a retry rather than refuse; only a 4xx refuses for certain.
* ``about_credentials``: whether a 400's words are about the token or login rather than the
  request, so a failed account read is AuthFailed, not a content refusal.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

MAX_WORDS = 200  # characters of server text kept in an error message
_RETRY_4XX = frozenset({408, 425})  # Request Timeout, Too Early: "try again", not "no"
# JSON fields servers put their words in (Mastodon/Doorkeeper, XRPC, RFC 7807 as X uses it):
# a short code or title, and a sentence.
_CODE_FIELDS = ("error", "title")
_SENTENCE_FIELDS = ("error_description", "message", "detail", "msg")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SCRIPT = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CREDENTIALS = re.compile(
    r"token|bearer|unauthori[sz]ed|authenticat|credential|oauth|not logged in|log ?in|password",
    re.IGNORECASE,
)


def may_have_landed(status: int) -> bool:
    """Whether a write answered with ``status`` may still have been carried out.

    Only a definite refusal (a 4xx other than 408/425, which 429 is handled before) proves
    that nothing was stored; a 2xx/3xx we could not use, any 5xx, 408 and 425 do not.
    """
    return not 400 <= status < 500 or status in _RETRY_4XX


def is_refusal(status: int) -> bool:
    """A definite 4xx: the server read the request and said no."""
    return 400 <= status < 500 and status not in _RETRY_4XX


def about_credentials(words: str) -> bool:
    """Whether a server's words speak of the token, the login or the password."""
    return bool(_CREDENTIALS.search(words))


def server_words(body: bytes | str | None, content_type: str | None = None) -> str:
    """The server's own words in an error body, on one line and at most ``MAX_WORDS`` long.

    JSON: "code: sentence" from ``error``/``title`` and ``error_description``/``message``/
    ``detail`` (or X's ``errors[].message``). HTML: the page title and its visible text. Anything
    else: the text itself. "" when the body says nothing (empty, ``{}``, binary).
    """
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return ""
    kind = (content_type or "").lower()
    if "json" in kind or text[:1] in "{[":
        try:
            return _bounded(_json_words(json.loads(text)))
        except ValueError:
            pass  # not JSON after all: read it as text
    if "html" in kind or re.match(r"<(!doctype|html|head|body|title|h1|p)\b", text, re.I):
        return _bounded(_html_words(text))
    if "\x00" in text:
        return ""  # binary: nothing a person could read
    return _bounded(text)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of 4 characters or more) replaced by "[redacted]"."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _json_words(data: Any) -> str:
    """ "code: sentence" from the usual fields, or X's ``errors[].message``."""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "; ".join(filter(None, (_json_words(item) for item in data[:3])))
    if not isinstance(data, dict):
        return ""
    sentence = _first_text(data, _SENTENCE_FIELDS)
    code = _first_text(data, _CODE_FIELDS)
    if not sentence and isinstance(data.get("errors"), list):
        sentence = _json_words(data["errors"])
    if code and sentence and code != sentence:
        return f"{code}: {sentence}"
    return sentence or code


def _first_text(data: dict[str, Any], fields: tuple[str, ...]) -> str:
    for key in fields:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _html_words(page: str) -> str:
    title_match = _TITLE.search(page)
    title = _clean(html.unescape(_TAG.sub(" ", title_match.group(1)))) if title_match else ""
    visible = _clean(html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", page))))
    if title and visible.startswith(title):
        visible = visible[len(title) :].strip()
    return f"{title}: {visible}".strip(": ") if visible and title else title or visible


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _bounded(text: str) -> str:
    text = _clean(text)
    return text if len(text) <= MAX_WORDS else text[: MAX_WORDS - 1].rstrip() + "…"
