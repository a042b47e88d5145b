"""A network that shows what would be published instead of publishing it.

Used by every dry run (``--dry-run``, the ``dry_run`` setting, an account without
credentials): the worker plans, renders and guards for real, records the post 'rehearsed'
(never published), then hands it here to be printed, so an organizer sees exactly the text
each account would post.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from amplifier.networks.base import AccountInfo, NetworkName, OutgoingPost, Receipt

DRY_RUN_NOTE = "dry run: credentials not checked"


class DryRunNetwork:
    """A ``Network`` that writes each post as a readable block and returns a dry-run receipt."""

    def __init__(
        self,
        account: str,
        network: NetworkName = "mastodon",
        *,
        handle: str | None = None,
        write: Callable[[str], None] = print,
    ) -> None:
        self.account = account
        self.network: NetworkName = network
        self.handle = handle if handle is not None else account
        self._write = write
        self._count = 0
        self._lock = threading.Lock()  # the worker may publish from several threads

    def publish(self, post: OutgoingPost) -> Receipt:
        """Write the post through ``write`` (one call per post) and pretend it went out."""
        with self._lock:
            self._count += 1
            number = self._count
        self._write(self.describe(post, number))
        return Receipt(remote_id=f"dry-run-{number}", url=None)

    def verify(self) -> AccountInfo:
        """Return the configured identity; nothing is checked, and the note says so."""
        return AccountInfo(
            network=self.network,
            account=self.account,
            handle=self.handle,
            notes=(DRY_RUN_NOTE,),
        )

    def describe(self, post: OutgoingPost, number: int) -> str:
        """The block shown for one post; the text is indented so its line breaks stay visible."""
        lines = [
            f"--- dry run #{number}: {self.network} account {self.account} ---",
            "text:",
            *(f"  | {line}" for line in post.text.split("\n")),
            f"length: {len(post.text)} characters",
        ]
        if post.link:
            lines.append(f"link: {post.link}")
        if post.content_warning:
            lines.append(f"content warning: {post.content_warning}")
        if post.language:
            lines.append(f"language: {post.language}")
        for item in post.media:
            lines.append(f"media: {item.path.name} (alt: {item.alt})")
        lines.append(f"idempotency key: {post.idempotency_key}")
        return "\n".join(lines)
