"""Each command imports what it uses, and no more: probed in a fresh interpreter.

A command runs in a subprocess through ``amplifier.cli.main``; afterwards the subprocess
prints which of the heavy packages ``sys.modules`` holds. What a command loads is what every
one of its runs pays at start (issue 20: every command starts fast).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from amplifier.testing.fake_bluesky import FakeBluesky
from amplifier.testing.fake_mastodon import FakeMastodon, FakeMastodonSettings
from amplifier.testing.fake_x import FakeX

from .conftest import clean_env

SDKS = ("tweepy", "mastodon", "atproto", "atproto_client")
DATABASE = ("sqlalchemy", "sqlite3", "_sqlite3", "psycopg", "psycopg2")
POSTGRESQL = ("sqlalchemy.dialects.postgresql", "psycopg", "psycopg2")
TOKEN = "imports-token"
# The console's packages: only `amplifier web` loads them, never the worker (issue 15).
WEB = ("amplifier.web", "starlette", "jinja2", "uvicorn", "icalendar", "itsdangerous", "multipart")

# What only `amplifier check` (and the share kit) use: the report, its warnings, near-duplicates.
CHECK_REPORT = ("amplifier.check.report", "amplifier.check.warnings", "amplifier.guards.neardup")
# The link-card reader (fetcher, HTML parser, Pillow's door): Bluesky link posts' alone.
CARD_READER = ("amplifier.cards", "amplifier.check.cards", "html.parser")
# The results' reports: the worker collects results, only `results` and the console report them.
RESULTS_REPORTS = tuple(f"amplifier.results.{name}" for name in ("report", "formats", "reading"))

PROBE = """
import json, sys
from amplifier.cli import main
code = main(sys.argv[1:])
print("LOADED " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(cwd: Path, *argv: str, **env: str) -> tuple[int, set[str], str]:
    """(exit status, modules loaded, output) of one command run in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    [line] = [line for line in result.stdout.splitlines() if line.startswith("LOADED ")]
    found = json.loads(line.removeprefix("LOADED "))
    return found["code"], set(found["modules"]), result.stdout + result.stderr


def test_check_loads_no_sdk_and_no_database(sample: Path) -> None:
    """``amplifier check`` validates files: no network SDK, no SQL toolkit, no driver."""
    code, modules, output = loaded_by(sample, "check")
    assert code == 0, output
    assert modules.isdisjoint(SDKS), modules & set(SDKS)
    assert modules.isdisjoint(DATABASE), modules & set(DATABASE)


def test_post_now_to_mastodon_loads_only_mastodons_sdk(sample: Path) -> None:
    """A real post to a (fake) Mastodon: Mastodon.py is loaded, tweepy and atproto are not,
    nor the PostgreSQL dialect on the SQLite database, nor the scheduler, nor the X-only
    parts of twitter-text (its emoji table)."""
    with FakeMastodon(FakeMastodonSettings(token=TOKEN)) as server:
        config = sample / "config.example.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace("https://mastodon.social", server.base_url),
            encoding="utf-8",
        )
        code, modules, output = loaded_by(
            sample, "post-now", "fbt-mastodon", FBT_MASTODON_ACCESS_TOKEN=TOKEN
        )
        assert code == 0, output
        assert len(server.statuses) == 1, output
    assert "mastodon" in modules
    assert modules.isdisjoint({"tweepy", "atproto", "atproto_client"}), output
    assert modules.isdisjoint(POSTGRESQL)
    assert "apscheduler" not in modules
    assert "twitter_text.regexp.emoji" not in modules
    # Nor check's report and the near-duplicate search: it loads its posts, decides one slot.
    assert modules.isdisjoint(CHECK_REPORT), modules & set(CHECK_REPORT)
    # Nor the card reader (a Mastodon post takes no card from us), nor the results' reports.
    assert modules.isdisjoint(CARD_READER), modules & set(CARD_READER)
    assert modules.isdisjoint(RESULTS_REPORTS), modules & set(RESULTS_REPORTS)
    # Nor what only `run` drives (the pass loop, the scheduler, the card job), nor verify.
    drivers = ("amplifier.worker.once", "amplifier.worker.scheduler", "amplifier.worker.cards")
    assert modules.isdisjoint(drivers), modules & set(drivers)
    assert "amplifier.accounts.verify" not in modules


def test_sqlite_store_loads_no_postgresql(tmp_path: Path) -> None:
    """A SQLite store, migrated and written to, never imports the PostgreSQL dialect, nor
    cryptography (it seals Bluesky sessions only; Mastodon.py imports it on its own)."""
    code = (
        "import sys\n"
        "from amplifier.store import Store\n"
        f"store = Store('sqlite:///{tmp_path / 'state.db'}')\n"
        "store.migrate()\n"
        "store.set_paused(True, by='ana')\n"
        "store.save_session('acct', 'sealed')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy.dialects', 'psyco'))))\n"
        "print('cryptography' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded, cryptography = result.stdout.strip().splitlines()
    assert cryptography == "False"
    assert "sqlalchemy.dialects.sqlite" in loaded
    assert "postgresql" not in loaded and "psycopg" not in loaded


def test_worker_start_loads_no_sdk_before_a_post_is_due(tmp_path: Path, repo_root: Path) -> None:
    """``run --once`` with live X and Bluesky accounts and nothing due: their SDKs load on
    first use, not at start (only Mastodon accounts read their server's limits there)."""
    shutil.copytree(repo_root / "posts", tmp_path / "posts")
    later = (datetime.now(UTC) + timedelta(hours=6)).strftime("%H:%M")
    with FakeX() as x, FakeBluesky(handle="imports.test", password="app-pw") as bluesky:
        (tmp_path / "config.toml").write_text(
            'posts_dir = "posts"\ndatabase_url = "sqlite:///state.db"\n'
            '[campaigns.families-belong-together]\nlanguage = "en"\n'
            f'[schedules.later]\ntimezone = "UTC"\ntimes = ["{later}"]\n'
            '[[accounts]]\nname = "live-x"\nnetwork = "x"\n'
            f'api_base = "{x.base_url}"\ncampaigns = ["families-belong-together"]\n'
            'schedule = "later"\n[accounts.secrets_from_env]\n'
            'consumer_key = "FBT_X_CONSUMER_KEY"\nconsumer_secret = "FBT_X_CONSUMER_SECRET"\n'
            'access_token = "FBT_X_ACCESS_TOKEN"\n'
            'access_token_secret = "FBT_X_ACCESS_TOKEN_SECRET"\n'
            '[[accounts]]\nname = "live-bluesky"\nnetwork = "bluesky"\n'
            f'handle = "imports.test"\nservice = "{bluesky.base_url}"\n'
            'campaigns = ["families-belong-together"]\nschedule = "later"\n'
            '[accounts.secrets_from_env]\napp_password = "FBT_BLUESKY_APP_PASSWORD"\n',
            encoding="utf-8",
        )
        secrets = {
            "FBT_X_CONSUMER_KEY": "k",
            "FBT_X_CONSUMER_SECRET": "s",
            "FBT_X_ACCESS_TOKEN": "t",
            "FBT_X_ACCESS_TOKEN_SECRET": "ts",
            "FBT_BLUESKY_APP_PASSWORD": "app-pw",
        }
        code, modules, output = loaded_by(tmp_path, "run", "--once", **secrets)
    assert code == 0, output
    assert "nothing was due" in output
    assert modules.isdisjoint(WEB), modules & set(WEB)
    assert "live=live-x,live-bluesky" in output  # live accounts, not dry-run ones
    assert modules.isdisjoint(SDKS), modules & set(SDKS)
    assert modules.isdisjoint(CHECK_REPORT), modules & set(CHECK_REPORT)
    assert modules.isdisjoint(RESULTS_REPORTS), modules & set(RESULTS_REPORTS)
    # The share kit is a tool for organizers: the worker never loads it.
    assert not {m for m in modules if m.startswith("amplifier.kit")}, output


def test_the_worker_loads_pillow_only_to_make_a_thumbnail() -> None:
    """Link cards are part of the worker, but Pillow loads only when an image is re-encoded."""
    probe = (
        "import sys, amplifier.worker, amplifier.worker.cards, amplifier.cards\n"
        "from amplifier.cards import fetch_card\n"
        "before = 'PIL' in sys.modules\n"
        "from amplifier.cards.thumbnail import reencode\n"
        "from amplifier.testing.images import png\n"
        "reencode(png())\n"
        "print(before, 'PIL' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "True"], result.stdout + result.stderr


def test_settings_skip_pydantics_plugin_search(tmp_path: Path) -> None:
    """pydantic reads every installed package's entry points when it builds its first model,
    looking for plugins amplifier does not use: switched off with pydantic's own variable,
    unless the operator set it (``""``: search)."""
    probe = (
        "import amplifier.config, pydantic.plugin._loader as loader; print(loader._plugins is None)"
    )

    def searched(**env: str) -> bool:
        # This process imported amplifier.config too: its own setting is not passed on.
        inherited = {k: v for k, v in clean_env().items() if k != "PYDANTIC_DISABLE_PLUGINS"}
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp_path, env=inherited | env,
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return result.stdout.strip() == "False"

    assert not searched()
    assert searched(PYDANTIC_DISABLE_PLUGINS="")
