"""SealedSessions keeps Bluesky session strings encrypted in the store (both backends)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from amplifier.networks.base import SessionStore
from amplifier.store import SealedSessions, Store

SESSION = "did:plc:abc123:::amp.bsky.social:::eyJhbGciOi.access.jwt:::eyJhbGciOi.refresh.jwt"
SECRET = "abcd-efgh-ijkl-mnop"


def test_round_trip(store: Store) -> None:
    """What is saved loads back unchanged, and nothing is there before the first save."""
    sealed: SessionStore = SealedSessions(store, account="bsky", secret=SECRET)
    assert sealed.load_session("bsky") is None
    sealed.save_session("bsky", SESSION)
    assert sealed.load_session("bsky") == SESSION


def test_stored_value_holds_no_clear_text(store: Store) -> None:
    """The database holds base64(nonce + ciphertext): no session, token or app password."""
    SealedSessions(store, account="bsky", secret=SECRET).save_session("bsky", SESSION)
    stored = store.load_session("bsky")
    assert stored is not None
    for clear in (SESSION, SECRET, "access.jwt", "refresh.jwt", "did:plc:abc123"):
        assert clear not in stored
    blob = base64.b64decode(stored)
    assert len(blob) == 12 + len(SESSION.encode()) + 16  # nonce, ciphertext, GCM tag
    assert SESSION.encode() not in blob


def test_key_is_derived_as_specified(store: Store) -> None:
    """The value decrypts with SHA-256(b"amplifier-session\\0" + account + b"\\0" + password)."""
    SealedSessions(store, account="bsky", secret=SECRET).save_session("bsky", SESSION)
    stored = store.load_session("bsky")
    assert stored is not None
    blob = base64.b64decode(stored)
    key = hashlib.sha256(b"amplifier-session\0bsky\0" + SECRET.encode()).digest()
    assert AESGCM(key).decrypt(blob[:12], blob[12:], None).decode() == SESSION


def test_each_save_uses_a_fresh_nonce(store: Store) -> None:
    """Saving the same session twice stores two different values (nonce never reused)."""
    sealed = SealedSessions(store, account="bsky", secret=SECRET)
    sealed.save_session("bsky", SESSION)
    first = store.load_session("bsky")
    sealed.save_session("bsky", SESSION)
    assert store.load_session("bsky") != first
    assert sealed.load_session("bsky") == SESSION


def test_wrong_secret_or_garbage_loads_as_none(store: Store) -> None:
    """A changed app password, another account's key or a mangled value all load as None."""
    SealedSessions(store, account="bsky", secret=SECRET).save_session("bsky", SESSION)
    assert (
        SealedSessions(store, account="bsky", secret="new-app-password").load_session("bsky")
        is None
    )
    stored = store.load_session("bsky")
    assert stored is not None
    store.save_session("other", stored)  # same bytes under another account: key differs
    assert SealedSessions(store, account="other", secret=SECRET).load_session("other") is None
    for garbage in ("not base64!", base64.b64encode(b"short").decode(), ""):
        store.save_session("bsky", garbage)
        assert SealedSessions(store, account="bsky", secret=SECRET).load_session("bsky") is None


def test_refuses_another_account(store: Store) -> None:
    """A SealedSessions built for one account will not read or write another's session."""
    sealed = SealedSessions(store, account="bsky", secret=SECRET)
    with pytest.raises(ValueError):
        sealed.save_session("someone-else", SESSION)
    with pytest.raises(ValueError):
        sealed.load_session("someone-else")
    assert store.load_session("someone-else") is None
    assert SECRET not in repr(sealed)
