"""Bluesky session strings, sealed with AES-GCM before they reach the database.

A session string carries the account's access and refresh tokens, so the database only ever
holds ``base64(nonce + ciphertext)``. The key is derived from the account and its app
password: whoever can read the database but not the environment learns nothing, and a
changed app password makes the old value unreadable, which simply costs one fresh login.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from typing import TYPE_CHECKING

from amplifier.logs import log_event
from amplifier.store.sql import Store

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

_NONCE_BYTES = 12  # the size AES-GCM is specified for; random per save


def _key(account: str, secret: str) -> bytes:
    material = b"amplifier-session\0" + account.encode() + b"\0" + secret.encode()
    return hashlib.sha256(material).digest()


class SealedSessions:
    """A SessionStore (amplifier.networks.base) for one account that encrypts what it stores."""

    def __init__(self, store: Store, *, account: str, secret: str) -> None:
        self._store = store
        self._account = account
        # Imported here: only Bluesky accounts keep sessions, and cryptography costs every
        # other command ~10 ms of start-up (and a Mastodon-only worker its memory).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(_key(account, secret))

    def __repr__(self) -> str:
        return f"SealedSessions(account={self._account!r})"  # never the secret

    def _check(self, account: str) -> None:
        # The key belongs to one account's password; sealing another account with it is a bug.
        if account != self._account:
            raise ValueError(f"SealedSessions for {self._account!r} was asked about {account!r}")

    def load_session(self, account: str) -> str | None:
        """The clear session string, or None if none is stored or it no longer decrypts."""
        from cryptography.exceptions import InvalidTag

        self._check(account)
        sealed = self._store.load_session(account)
        if sealed is None:
            return None
        try:
            blob = base64.b64decode(sealed, validate=True)
            if len(blob) <= _NONCE_BYTES:
                raise ValueError("too short")
            clear = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None)
            return clear.decode()
        except (InvalidTag, ValueError, binascii.Error):
            log_event(
                logger,
                "session-unreadable",
                logging.WARNING,
                account=account,
                reason="cannot be decrypted (app password changed?)",
                then="a fresh login replaces it",
            )
            return None

    def save_session(self, account: str, session: str) -> None:
        """Encrypt the session string with a fresh nonce and store it."""
        self._check(account)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, session.encode(), None)
        self._store.save_session(account, base64.b64encode(nonce + sealed).decode("ascii"))
