"""How Bluesky's apps show a link in a post's text: host and the start of the path.

The official app (``toShortUrl`` in its url helpers) drops the scheme and, where the path with
its query and fragment is longer than 15 characters, keeps the host and 13 of them followed
by ``...``; the link facet carries the whole address. The adapter and the renderer both use
this one function, so the text measured is the text sent, and the facet lands on it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_KEPT = 13
_LONGEST = 15
ELLIPSIS = "..."


def shown_link(url: str) -> str:
    """The text Bluesky's apps show for ``url`` (the URL itself if it is not http(s))."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not host:
        return url
    default = 443 if parts.scheme.lower() == "https" else 80
    if port is not None and port != default:
        host = f"{host}:{port}"
    path = "" if parts.path in ("", "/") else parts.path
    path += f"?{parts.query}" if parts.query else ""
    path += f"#{parts.fragment}" if parts.fragment else ""
    if len(path) > _LONGEST:
        return host + path[:_KEPT] + ELLIPSIS
    return host + path
