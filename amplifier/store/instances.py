"""Each Mastodon instance's limits as last read (0008): the store as an ``InstanceLimitsCache``.

The Mastodon adapter reads an instance's limits (``networks.mastodon_limits``) and keeps them
here, so a worker asks a server at most once a day, and ``check`` and ``preview`` measure
with what the server said. ``stored_instance_limits`` reads them for a command that must never
create a database (``check``): no file, no table or no server reads as "nothing stored".
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError

from amplifier.networks.mastodon_limits import InstanceLimits
from amplifier.store.base import StoreBase, upsert
from amplifier.store.engine import normalise_url
from amplifier.store.schema import instance_limits

_READ = select(instance_limits.c.instance, instance_limits.c.limits)


class InstanceLimitsState(StoreBase):
    """Known instance limits by ``instance_key`` (scheme and host), one JSON document each."""

    def load_instance_limits(self, instance: str) -> InstanceLimits | None:
        """The limits last saved for ``instance``, or None (never saved, or unreadable)."""
        query = select(instance_limits.c.limits).where(instance_limits.c.instance == instance)
        with self._read("load_instance_limits") as conn:
            document = conn.execute(query).scalar_one_or_none()
        return None if document is None else InstanceLimits.from_json(document)

    def save_instance_limits(self, instance: str, limits: InstanceLimits) -> None:
        """Replace what is known of ``instance``."""
        values = {
            "instance": instance,
            "limits": limits.to_json(),
            "fetched_at": limits.fetched_at,
            "updated_at": self._now(),
        }
        with self._write("save_instance_limits") as conn:
            upsert(conn, instance_limits, values, ["instance"])

    def all_instance_limits(self) -> dict[str, InstanceLimits]:
        """Every instance's stored limits (unreadable documents left out)."""
        with self._read("all_instance_limits") as conn:
            rows = conn.execute(_READ).all()
        return _parsed(rows)


def stored_instance_limits(url: str) -> dict[str, InstanceLimits]:
    """The stored limits of every instance, read without creating anything.

    A SQLite file that does not exist is not created; a database without the table (not yet
    migrated to 0008), one that cannot be reached, or a URL that cannot be used reads as
    nothing stored: the caller then measures with the configured defaults.
    """
    try:
        parsed = normalise_url(url)
        if parsed.get_backend_name() == "sqlite":
            name = parsed.database or ""
            if name in ("", ":memory:") or not Path(name).is_file():
                return {}
            parsed = parsed.set(database=f"file:{Path(name).resolve()}?mode=ro")
            parsed = parsed.update_query_dict({"uri": "true"})
            engine = create_engine(parsed)
        else:
            engine = create_engine(parsed, connect_args={"connect_timeout": 3})
    except Exception:
        return {}
    try:
        with engine.connect() as conn:
            return _parsed(conn.execute(_READ).all())
    except (SQLAlchemyError, OSError):
        return {}
    finally:
        engine.dispose()


def _parsed(rows: object) -> dict[str, InstanceLimits]:
    found: dict[str, InstanceLimits] = {}
    for instance, document in rows:  # type: ignore[attr-defined]
        limits = InstanceLimits.from_json(document)
        if limits is not None:
            found[str(instance)] = limits
    return found
