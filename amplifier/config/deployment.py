"""Where the process runs, as far as the settings care: Heroku, and its database.

Heroku sets ``DYNO`` (``worker.1``, ``run.4521``) in every dyno. A dyno's disk is thrown away
at every restart (daily, and on each deploy), and two overlapping dynos have a disk each: a
SQLite file there loses the record of what was sent, and two workers would each send the
same slot. So on Heroku the database must be PostgreSQL, unless the organizer says
otherwise (``allow_sqlite_on_heroku``, e.g. for a one-off trial).
"""

from __future__ import annotations

import os

from amplifier.config.models import Settings

ATTACH_POSTGRES = "heroku addons:create heroku-postgresql:essential-0"


def heroku_dyno() -> str | None:
    """The dyno's name when running on Heroku (its ``DYNO`` variable), else None."""
    return os.environ.get("DYNO") or None


def database_problem(settings: Settings) -> str | None:
    """Why the configured database cannot keep this deployment's state, or None."""
    dyno = heroku_dyno()
    if dyno is None or settings.allow_sqlite_on_heroku:
        return None
    if not settings.sqlalchemy_url.lower().startswith("sqlite"):
        return None
    return (
        f"on Heroku (dyno {dyno}) the database must be PostgreSQL, and DATABASE_URL is not "
        "set to one: a SQLite file lives on the dyno's own disk, which Heroku wipes at every "
        "restart, and two overlapping dynos would each keep their own and post the same slot "
        f"twice. Attach Heroku Postgres, which sets DATABASE_URL: {ATTACH_POSTGRES} (then "
        "heroku ps:restart). To run on SQLite anyway, losing the state at each restart, set "
        "AMPLIFIER_ALLOW_SQLITE_ON_HEROKU=true"
    )
