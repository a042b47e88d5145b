"""A live post's address, as an organizer copies it from the app, read back as the network's id.

``amplifier review ID --published --url URL`` (and the console's review form) record the id of
a post found by hand, so a thread whose part was settled that way goes on replying to it:
* X: ``https://x.com/<user>/status/<id>`` (twitter.com, mobile. and www. alike): the id;
* Mastodon: ``https://<instance>/@<user>/<id>`` (also ``/users/<user>/statuses/<id>``): the id,
  which is the status id on the account's own instance (where the review looks);
* Bluesky: ``https://bsky.app/profile/<handle or DID>/post/<rkey>``: the post's AT URI,
  ``at://<handle or DID>/app.bsky.feed.post/<rkey>`` (the PDS resolves a handle there).
"""

from __future__ import annotations

import re

_REST = r"/?(?:[?#]\S*)?"  # a share link's "?s=20&t=…", a fragment
_X = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/\w{1,15}/status/(\d{1,20})" + _REST
)
_MASTODON = re.compile(r"https?://[^/\s]+/(?:@[^/\s]+|users/[^/\s]+/statuses)/(\d{1,20})" + _REST)
_BLUESKY = re.compile(
    r"https?://bsky\.app/profile/([A-Za-z0-9.:-]{1,253})/post/([a-z2-7]{13})" + _REST
)

SHAPES: dict[str, str] = {
    "x": "https://x.com/<user>/status/<number>",
    "mastodon": "https://<instance>/@<user>/<number>",
    "bluesky": "https://bsky.app/profile/<handle>/post/<id>",
}


def remote_id_of(network: str, url: str) -> str | None:
    """The network's id of the post at ``url``; None when ``url`` is no post link of it."""
    url = url.strip()
    if network == "x":
        found = _X.fullmatch(url)
        return found.group(1) if found else None
    if network == "mastodon":
        found = _MASTODON.fullmatch(url)
        return found.group(1) if found else None
    if network == "bluesky":
        found = _BLUESKY.fullmatch(url)
        return f"at://{found.group(1)}/app.bsky.feed.post/{found.group(2)}" if found else None
    return None


def not_a_post_link(network: str, url: str) -> str:
    """What to tell someone whose ``url`` is no post link of ``network`` (CLI and console)."""
    shape = SHAPES.get(network, "")
    return f"{url!r} is not the link of a {network} post: copy it from the post itself ({shape})"
