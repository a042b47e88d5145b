"""The XRPC side of the Bluesky adapter: facets, records, blobs, ratelimit headers, sessions.

Plain functions over an atproto 0.0.73 ``Client`` or its answers; no policy and no errors of
our own (``amplifier.networks.bluesky`` translates what they raise).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from atproto_client import models
from atproto_client.client.session import Session
from atproto_client.models.utils import get_response_model
from atproto_client.utils.facet_detection import detect_facets

from amplifier.logs import log_event
from amplifier.networks.base import LinkCard, RateLimitWindow, header
from amplifier.networks.links import shown_link
from amplifier.networks.metrics import MetricsAnswer, answer, bluesky_counts

logger = logging.getLogger(__name__)


def facets_for(text: str, link: str | None = None) -> list[Any]:
    """Link and #tag facets (``models.AppBskyRichtextFacet.Main``) with UTF-8 byte offsets.

    atproto's ``detect_facets`` is a port of the official TypeScript detector, makes no request
    and counts bytes, not code points. Mentions are left out: they need a handle lookup, and a
    campaign bot should not @mention anyway. ``$CASHTAGS`` come out as tags, as in the app.

    ``link``, the post's own link: where the text shows it in the apps' short form
    (``shown_link``, a tagged link) rather than whole, that short form, standing as a word of
    its own, gets a link facet to the whole address, in place of what the detector saw there.
    """
    detected = list(detect_facets(text))
    shown = shown_link(link) if link else None
    if link is None or shown is None or shown == link:
        return detected
    pattern = re.compile(r"(?<!\S)" + re.escape(shown) + r"(?!\S)")
    spans = [
        (len(text[: m.start()].encode()), len(text[: m.end()].encode()))
        for m in pattern.finditer(text)
    ]
    if not spans:
        return detected
    kept = [
        facet
        for facet in detected
        if not any(
            facet.index.byte_start < end and start < facet.index.byte_end for start, end in spans
        )
    ]
    linked = [
        models.AppBskyRichtextFacet.Main(
            index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
            features=[models.AppBskyRichtextFacet.Link(uri=link)],
        )
        for start, end in spans
    ]
    return sorted([*kept, *linked], key=lambda facet: facet.index.byte_start)


def get_record(client: Any, repo: str | None, collection: str, rkey: str) -> dict[str, Any]:
    """com.atproto.repo.getRecord: ``{"uri", "cid", "value"}`` (the PDS answers it itself)."""
    params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)
    response = client.invoke_query("com.atproto.repo.getRecord", params=params)
    return response.content if isinstance(response.content, dict) else {}


def rate_limit_windows(headers: Mapping[str, str]) -> tuple[RateLimitWindow, ...]:
    """The ratelimit-* headers of a PDS answer as one RateLimitWindow (none if absent)."""
    names = ("limit", "remaining", "reset")
    limit, remaining, reset = (_int_or_none(header(headers, f"ratelimit-{n}")) for n in names)
    if limit is None and remaining is None and reset is None:
        return ()
    reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
    window = window_name(header(headers, "ratelimit-policy"))
    return (RateLimitWindow(window, limit, remaining, reset_at),)


def window_name(policy: str | None) -> str:
    """Window name of a ratelimit-policy: "5000;w=3600" -> "1h", "30;w=300" -> "5m"."""
    for part in (policy or "").split(",")[0].split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key == "w" and value.isdigit() and int(value) > 0:
            seconds = int(value)
            if seconds % 3600 == 0:
                return f"{seconds // 3600}h"
            return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
    return "unknown"


def graphic_media_label() -> Any:
    """The self-label that has the app blur a post's media (images, a card's thumbnail)."""
    label = models.ComAtprotoLabelDefs.SelfLabel(val="graphic-media")
    return models.ComAtprotoLabelDefs.SelfLabels(values=[label])


def upload_blob(client: Any, data: bytes, mime_type: str) -> Any:
    """uploadBlob: the blob reference a record embeds."""
    # Raw invoke: the SDK's upload_blob hands the bytes to httpx as data= (deprecated there).
    response = client.invoke_procedure(
        "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime_type}
    )
    return get_response_model(response, models.ComAtprotoRepoUploadBlob.Response).blob


def external_embed(card: LinkCard, thumb: Any) -> Any:
    """The app.bsky.embed.external embed of a link card (``thumb``: a blob reference or None)."""
    external = models.AppBskyEmbedExternal.External(
        uri=card.url, title=card.title, description=card.description, thumb=thumb
    )
    return models.AppBskyEmbedExternal.Main(external=external)


def usable_session(session_string: str) -> bool:
    """Whether a stored session string can be imported (the SDK would choke on it otherwise)."""
    try:
        session = Session.decode(session_string)
        return bool(session.refresh_jwt) and session.access_jwt_payload.exp is not None
    except Exception:  # any decoding failure means: log in afresh
        log_event(
            logger,
            "session-unreadable",
            logging.WARNING,
            network="bluesky",
            then="app-password login",
        )
        return False


def xrpc_error(exc: Any) -> tuple[str, str]:
    """The XRPC error name and message of an SDK exception ("" where absent)."""
    content = getattr(exc.response, "content", None)
    return str(getattr(content, "error", "") or ""), str(getattr(content, "message", "") or "")


def timestamp(moment: datetime) -> str:
    """createdAt as the official clients write it: UTC, milliseconds, "Z"."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


def read_post_counts(client: Any, uris: list[str]) -> MetricsAnswer:
    """One ``app.bsky.feed.getPosts`` call: each post's counts; deleted ones are left out."""
    params = models.AppBskyFeedGetPosts.Params(uris=uris)
    response = client.invoke_query("app.bsky.feed.getPosts", params=params)
    posts = get_response_model(response, models.AppBskyFeedGetPosts.Response).posts
    found = {str(view.uri): bluesky_counts(view) for view in posts}
    return answer(uris, found, rate_limits=rate_limit_windows(response.headers))
