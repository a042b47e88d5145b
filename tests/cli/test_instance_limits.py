"""Issue 12.4: each Mastodon server's own limits, read, stored and used everywhere.

Against a fake Mastodon server whose ``max_characters`` is 150 (and, for images, whose
``image_size_limit`` is 200,000 bytes): ``check`` and ``preview`` measure with what the server
said once ``accounts verify`` stored it, the worker reads it itself on its first pass, a post
that does not fit is replaced by the next or skipped with the reason and is never sent to
fail, and a server whose instance endpoints cannot be read means the defaults, never a failed
post.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amplifier.cli import main
from amplifier.networks import mastodon
from amplifier.store import Store
from amplifier.testing import images
from amplifier.testing.fake_mastodon import FakeMastodon
from amplifier.testing.images import write

SLOT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIG = """
posts_dir = "posts"
seed = "limits"
[campaigns.fbt]
language = "en"
[campaigns.fbt.hashtags]
per_post = 0
[schedules.day]
timezone = "UTC"
times = ["09:00"]
[guards]
no_repeat_days = 0
[[accounts]]
name = "fbt-mastodon"
network = "mastodon"
instance = "{base}"
campaigns = ["fbt"]
schedule = "day"
[accounts.secrets_from_env]
access_token = "FBT_MASTODON_ACCESS_TOKEN"
"""
ENV = ("AMPLIFIER_CONFIG", "AMPLIFIER_DATABASE_URL", "DATABASE_URL", "AMPLIFIER_DRY_RUN", "DYNO")
SHORT = "Families belong together. Children need their parents, and parents their children."
LONG = (
    "Families belong together. Thousands of children were taken from their parents at the "
    "border, and some of them waited months to see their mothers and fathers again. Ask your "
    "representatives to end family separation for good, and to reunite every family now."
)


def post_file(folder: Path, post_id: str, text: str, media: str = "") -> Path:
    head = (
        f"---\nid: {post_id}\ncampaign: fbt\nlanguage: en\nsource: the campaign's toolkit\n"
        f"networks: [mastodon]\n{media}---\n{text}\n"
    )
    return write(folder / "posts" / f"{post_id}.md", head.encode())


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        server.reset(max_characters=150)
        yield server


@pytest.fixture
def project(tmp_path: Path, fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with one live Mastodon account on the fake server, and no posts yet."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "config.toml").write_text(CONFIG.format(base=fake.base_url))
    monkeypatch.chdir(tmp_path)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBT_MASTODON_ACCESS_TOKEN", fake.settings.token)
    return tmp_path


def run(now: datetime, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, clock=lambda: now)
    return code, out.getvalue()


def rows(project: Path) -> list[tuple[str, str, str]]:
    """(status, post, reason) of every delivery, oldest first."""
    store = Store(f"sqlite:///{project / 'amplifier.db'}")
    try:
        found = store.history(account="fbt-mastodon")
    finally:
        store.close()
    return [(r.status, r.template_id, r.last_error or "") for r in reversed(found)]


def test_check_fails_a_post_too_long_for_the_accounts_own_server(project: Path) -> None:
    """Before the server's limits are known, check measures with the default (500) and says
    so, creating no database; once ``accounts verify`` stored 150, the long post is an error
    at its text line, and the limits line says where 150 came from."""
    post_file(project, "short", SHORT)
    long_post = post_file(project, "long", LONG)
    code, out = run(SLOT, "check")
    assert code == 0, out
    assert re.search(r"^limits: fbt-mastodon: 500 characters .*: the default", out, re.M), out
    assert not (project / "amplifier.db").exists()

    code, out = run(SLOT, "accounts", "verify")
    assert code == 0, out
    assert "instance limits: 150 characters" in out
    code, out = run(SLOT, "check")
    assert code == 1, out
    assert f"posts/{long_post.name}:8: too long for mastodon: " in out, out
    assert "of 150" in out and "the server of fbt-mastodon" in out
    assert re.search(r"^limits: fbt-mastodon: 150 characters .*: stored from http://", out, re.M)
    assert "posts/short.md" not in out


def test_preview_measures_with_the_stored_limits(project: Path) -> None:
    """preview shows each post measured against 150 once it is stored (500 before), and the
    long post passed over for that reason, never shown as sent."""
    for name, text in (("short", SHORT), ("other", SHORT.replace("Children", "Kids")),
                       ("long", LONG)):  # fmt: skip
        post_file(project, name, text)
    code, before = run(SLOT - timedelta(hours=1), "preview", "-n", "3")
    assert code == 0, before
    assert re.search(r"sends long \(en\) \d+/500", before), before
    assert run(SLOT - timedelta(hours=1), "accounts", "verify")[0] == 0
    code, out = run(SLOT - timedelta(hours=1), "preview", "-n", "3")
    assert code == 0, out
    sends = re.findall(r"sends (\S+) \(en\) (\d+)/(\d+)", out)
    assert len(sends) == 3 and {limit for _, _, limit in sends} == {"150"}, out
    assert "long" not in {post for post, _, _ in sends}
    assert "instead of 'long', refused by limits: too long for mastodon" in out, out


def test_worker_skips_a_post_too_long_for_the_server_without_sending(
    project: Path, fake: FakeMastodon
) -> None:
    """With no verify ever run, the worker reads the server's 150 itself on its first pass,
    and skips the only post (too long for it) with the reason: nothing is sent, no HTTP
    error is met, and the limits are stored for check and preview."""
    post_file(project, "long", LONG)
    code, out = run(SLOT + timedelta(seconds=20), "run", "--once")
    assert code == 0, out
    start_line = next(line for line in out.splitlines() if "event=next-post" in line)
    assert "256 of 150 characters" in start_line, out  # measured with the server's limit too
    assert fake.statuses == []
    ((status, _, reason),) = rows(project)
    assert status == "skipped" and "'long': too long" in reason
    assert "too long for mastodon" in reason and "of 150" in reason, reason
    code, out = run(SLOT + timedelta(minutes=1), "check")
    assert "limits: fbt-mastodon: 150 characters" in out, out


def test_worker_sends_what_fits_and_skips_only_what_does_not(
    project: Path, fake: FakeMastodon
) -> None:
    """Three days of one slot over two posts that fit and one that does not: three posts go
    out, each within 150, the long one passed over each time the rotation offers it."""
    for name, text in (("short", SHORT), ("other", SHORT.replace("Children", "Kids")),
                       ("long", LONG)):  # fmt: skip
        post_file(project, name, text)
    for day in range(3):
        code, out = run(SLOT + timedelta(days=day, seconds=20), "run", "--once")
        assert code == 0, out
    assert len(fake.statuses) == 3
    assert all(len(status.text) <= 150 for status in fake.statuses)
    assert [status for status, _, _ in rows(project)] == ["published"] * 3
    assert "long" not in {post for _, post, _ in rows(project)}


def test_worker_skips_an_image_over_the_servers_own_size_limit(
    project: Path, fake: FakeMastodon
) -> None:
    """An image of 300,000 bytes passes Mastodon's default 16 MB but not this server's
    200,000: the slot is skipped with that reason, nothing is uploaded or posted."""
    fake.reset(max_characters=150, image_size_limit=200_000)
    write(project / "posts" / "poster.png", images.png(64, 64, size=300_000))
    post_file(project, "poster", SHORT, "media:\n  - file: poster.png\n    alt: A poster\n")
    code, out = run(SLOT + timedelta(seconds=20), "run", "--once")
    assert code == 0, out
    assert fake.statuses == [] and fake.media == {}
    ((status, _, reason),) = rows(project)
    assert status == "skipped" and "at most 200,000 bytes" in reason, reason


def test_check_measures_images_against_the_servers_own_media_limits(
    project: Path, fake: FakeMastodon
) -> None:
    """check passes the 300,000-byte image while only the default is known; once verify
    stored the server's 200,000 bytes and two images, both are errors at the media line."""
    fake.reset(max_characters=150, image_size_limit=200_000, max_media_attachments=2)
    write(project / "posts" / "poster.png", images.png(64, 64, size=300_000))
    post_file(project, "poster", SHORT, "media:\n  - file: poster.png\n    alt: A poster\n")
    entries = "".join(f"  - file: p{i}.png\n    alt: A poster\n" for i in range(3))
    for index in range(3):
        write(project / "posts" / f"p{index}.png", images.png())
    post_file(project, "three", SHORT.replace("Children", "Kids"), f"media:\n{entries}")
    code, out = run(SLOT, "check")
    assert code == 0, out
    assert run(SLOT, "accounts", "verify")[0] == 0
    code, out = run(SLOT, "check")
    assert code == 1, out
    assert "posts/poster.md:7: poster.png is 300,000 bytes; mastodon takes images of" in out
    assert "posts/three.md:7: 3 images; mastodon takes at most 2 here" in out, out
    assert "200,000 bytes" in out


@pytest.mark.parametrize(
    "fault",
    [
        {"instance_status": 500},  # a server picky about its Host header answers 500
        {"instance_body": "<html>Welcome to nginx</html>"},  # not JSON
        {"instance_versions": ()},  # neither endpoint exists (404)
        {"max_characters": None},  # answers, but publishes no character limit
    ],
    ids=["500", "not-json", "404", "no-limit"],
)
def test_an_unreadable_server_means_the_default_never_a_failed_post(
    project: Path, fake: FakeMastodon, fault: dict[str, object]
) -> None:
    """Whatever goes wrong reading the limits, the worker measures with the default and the
    post goes out; verify still succeeds and stores nothing, check says 'the default'."""
    fake.reset(**fault)
    post_file(project, "short", SHORT)
    code, out = run(SLOT + timedelta(seconds=20), "run", "--once")
    assert code == 0, out
    assert [status for status, _, _ in rows(project)] == ["published"]
    assert len(fake.statuses) == 1
    code, out = run(SLOT + timedelta(minutes=1), "accounts", "verify")
    assert code == 0, out
    code, out = run(SLOT + timedelta(minutes=1), "check")
    assert code == 0, out
    assert re.search(r"^limits: fbt-mastodon: 500 characters .*: the default", out, re.M), out


def test_a_server_that_answers_too_late_means_the_default(
    project: Path, fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Instance endpoints slower than the limits' own timeout (5 s, shortened here) mean the
    default: the post goes out, held up by no more than those two timeouts."""
    monkeypatch.setattr(mastodon, "LIMITS_TIMEOUT", 0.3)
    fake.reset(max_characters=500, instance_delay=2.0)
    post_file(project, "long", LONG)
    started = time.monotonic()
    code, out = run(SLOT + timedelta(seconds=20), "run", "--once")
    took = time.monotonic() - started
    assert code == 0, out
    assert [status for status, _, _ in rows(project)] == ["published"]
    assert fake.statuses[0].text == LONG
    assert took < 5, took


def test_check_measures_a_video_against_the_servers_own_video_limit(
    project: Path, fake: FakeMastodon
) -> None:
    """A 5,000-byte video passes Mastodon's default 99 MB; once verify stored this server's
    video_size_limit of 4,000 bytes, check names it at its media entry's line."""
    fake.reset(max_characters=150, video_size_limit=4000)
    write(project / "posts" / "march.mp4", images.mp4(6, size=5000))
    post_file(project, "march", SHORT, "media:\n  - file: march.mp4\n    alt: Marchers\n")
    code, out = run(SLOT, "check")
    assert code == 0, out
    assert run(SLOT, "accounts", "verify")[0] == 0
    code, out = run(SLOT, "check")
    assert code == 1, out
    assert "posts/march.md:7: march.mp4 is 5,000 bytes; mastodon takes videos of at most " in out
    assert "4,000 bytes" in out
