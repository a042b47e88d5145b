"""A network that shows what would be published instead of publishing it.

Used by every dry run (``--dry-run``, the ``dry_run`` setting, an account without
credentials): the worker plans, renders and guards for real, records the post 'rehearsed'
(never published, counted by nothing live), then hands it here, so an organizer sees exactly
the text each account would post, as one log line like every other event:

    event=dry-run account=fbt-x network=x chars=230 text="Families belong together…" key=…
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from amplifier.logs import log_event, logfmt
from amplifier.networks.base import AccountInfo, NetworkName, OutgoingPost, Receipt

DRY_RUN_NOTE = "dry run: credentials not checked"
LOGGER = logging.getLogger(__name__)


class DryRunNetwork:
    """A ``Network`` that logs each post as one ``event=dry-run`` line and sends nothing.

    ``write`` receives that line instead of the log when given (a test, or a caller that
    prints); by default the line goes to the ``amplifier`` log like every other event.
    """

    def __init__(
        self,
        account: str,
        network: NetworkName = "mastodon",
        *,
        handle: str | None = None,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.account = account
        self.network: NetworkName = network
        self.handle = handle if handle is not None else account
        self._write = write

    def publish(self, post: OutgoingPost) -> Receipt:
        """Show the post (one line) and pretend it went out.

        The receipt's id is made from the delivery's idempotency key: the same delivery always
        gets the same id, and two deliveries never share one."""
        fields = self.fields(post)
        if self._write is not None:
            self._write(logfmt("dry-run", **fields))
        else:
            log_event(LOGGER, "dry-run", **fields)
        return Receipt(remote_id=f"dry-run-{post.idempotency_key}", url=None)

    def verify(self) -> AccountInfo:
        """Return the configured identity; nothing is checked, and the note says so."""
        return AccountInfo(
            network=self.network,
            account=self.account,
            handle=self.handle,
            notes=(DRY_RUN_NOTE,),
        )

    def fields(self, post: OutgoingPost) -> dict[str, object]:
        """What the line shows: account, network, the exact text (its line breaks as \\n),
        its length in characters, and whatever else would go with it."""
        media = "; ".join(f"{item.path.name} (alt: {item.alt})" for item in post.media)
        return {
            "account": self.account,
            "network": self.network,
            "chars": len(post.text),
            "text": post.text,
            "link": post.link,
            "cw": post.content_warning,
            "language": post.language,
            "media": media or None,
            "sensitive": True if post.sensitive else None,
            "key": post.idempotency_key,
        }
