"""``amplifier kit build`` as a command: its folder rules, its errors and exit statuses, the
images, and the posts a composer cannot take (no button, and a warning from check)."""

from __future__ import annotations

from pathlib import Path

from amplifier.testing.images import mp4, png, write

from .pages import campaign_pages
from .run import amplifier

CONFIG = """
posts_dir = "posts"
[networks.mastodon]
max_length = 1000
[campaigns.demo]
name = "Demo campaign"
language = "en"
[campaigns.demo.hashtags]
always = ["Demo"]
pool = ["One", "Two", "Three", "Four"]
[schedules.s]
timezone = "UTC"
times = ["09:00"]
[[accounts]]
name = "demo-mastodon"
network = "mastodon"
instance = "https://social.example"
campaigns = ["demo"]
schedule = "s"
[accounts.secrets_from_env]
access_token = "DEMO_TOKEN"
"""
POST = "---\nid: {id}\ncampaign: demo\nlanguage: en\nsource: 'A test'\n{extra}---\n{text}\n"


def project(root: Path) -> Path:
    (root / "posts" / "media").mkdir(parents=True)
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    posts = {
        "short": ("Families belong together.", "networks: [mastodon]\n"),
        "long": ("word " * 119 + "end.", "networks: [mastodon]\n"),  # 599: over 500
        "pictured": (
            "A poster for the rally.",
            "networks: [mastodon]\nmedia:\n  - file: media/poster one.png\n"
            "    alt: A hand-painted poster reading Families Belong Together\n",
        ),
    }
    for post_id, (text, extra) in posts.items():
        (root / "posts" / f"{post_id}.md").write_text(
            POST.format(id=post_id, extra=extra, text=text), encoding="utf-8"
        )
    write(root / "posts" / "media" / "poster one.png", png(20, 10))
    return root


def test_build_writes_pages_assets_and_images(tmp_path: Path) -> None:
    """The kit holds an index, the campaign's page, the chooser, its CSS and JS, and each
    image copied, shown with its alt text and offered for download."""
    root = project(tmp_path)
    ran = amplifier(root, "kit", "build", "site")
    assert ran.code == 0, ran.both
    assert "demo [en]: 3 posts" in ran.out
    site = root / "site"
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "demo.en.html", "mastodon.en.html", "kit.css", "kit.js"} <= names
    assert "images/media/poster one.png" in names
    assert (site / "images" / "media" / "poster one.png").read_bytes() == png(20, 10)
    html = (site / "demo.en.html").read_text(encoding="utf-8")
    assert 'src="images/media/poster%20one.png" alt="A hand-painted poster reading Families' in html
    assert '<a href="images/media/poster%20one.png" download>' in html
    assert "A hand-painted poster reading Families Belong Together <a" in html  # shown too
    assert "og:url" not in html  # no --base-url: no address to claim


def test_a_video_is_shown_playable_with_its_description_and_offered_for_download(
    tmp_path: Path,
) -> None:
    """A post's video is copied, shown in a <video> (the page's policy lets its own media
    play) with its description, and offered for download; never an <img>."""
    root = project(tmp_path)
    write(root / "posts" / "media" / "march.mp4", mp4(5))
    extra = "networks: [mastodon]\nmedia:\n  - file: media/march.mp4\n    alt: Marchers at dawn\n"
    text = POST.format(id="clip", extra=extra, text="Walk with us.")
    (root / "posts" / "clip.md").write_text(text, encoding="utf-8")
    ran = amplifier(root, "kit", "build", "site")
    assert ran.code == 0, ran.both
    html = (root / "site" / "demo.en.html").read_text(encoding="utf-8")
    assert '<video controls preload="metadata" src="images/media/march.mp4" ' in html
    assert 'aria-label="Marchers at dawn"' in html
    assert "Video description:</strong> Marchers at dawn <a" in html
    assert '<a href="images/media/march.mp4" download>Download the video</a>' in html
    assert '<img src="images/media/march.mp4"' not in html
    assert "media-src 'self'" in html
    assert (root / "site" / "images" / "media" / "march.mp4").read_bytes() == mp4(5)


def test_a_post_too_long_for_a_composer_gets_no_button_and_check_warns(tmp_path: Path) -> None:
    """The campaign's server takes 1000, a supporter's composer 500: the 599-character post
    gets no Mastodon (and no Threads) button, the card says why, and check warns at its line."""
    root = project(tmp_path)
    assert amplifier(root, "kit", "build", "site").code == 0
    [page] = campaign_pages(root / "site")
    by_card: dict[str, set[str]] = {}
    for group in page.groups:
        by_card.setdefault(group.card, set()).update(b.network for b in group.buttons)
    assert by_card["post-short"] == {"mastodon", "threads"}
    assert "post-long" not in by_card  # no text group: no network takes it
    html = (root / "site" / "demo.en.html").read_text(encoding="utf-8")
    assert "No Mastodon button: too long for its composer: 599 of 500 characters." in html
    checked = amplifier(root, "check")
    assert checked.code == 0, checked.both
    assert (
        "posts/long.md:8: warning: share kit: no Mastodon button for post 'long': too long "
        "for its composer: 599 of 500 characters" in checked.out
    )
    assert "posts/long.md:8: warning: share kit: no Threads button" in checked.out
    assert "short.md" not in checked.out


def test_an_unknown_campaign_is_refused_with_the_names(tmp_path: Path) -> None:
    """--campaign names a campaign the config lacks: exit 2, the closest name, nothing built."""
    root = project(tmp_path)
    ran = amplifier(root, "kit", "build", "site", "--campaign", "dmeo")
    assert ran.code == 2
    assert "no campaign 'dmeo' in the config; did you mean 'demo'? Campaigns: demo" in ran.err
    assert not (root / "site").exists()


def test_bad_arguments_are_refused_at_parse_time(tmp_path: Path) -> None:
    """A base URL that is not http(s), a seed that is not a number: exit 2, with the reason."""
    root = project(tmp_path)
    ran = amplifier(root, "kit", "build", "site", "--base-url", "javascript:alert(1)")
    assert ran.code == 2 and "is not an http(s) address" in ran.err
    ran = amplifier(root, "kit", "build", "site", "--base-url", "https://a.example/?x=1")
    assert ran.code == 2 and "has a query, a fragment or a space" in ran.err
    ran = amplifier(root, "kit", "build", "site", "--seed", "-1")
    assert ran.code == 2 and "is not a whole number from 0" in ran.err
    ran = amplifier(root, "kit", "build")
    assert ran.code == 2 and "OUT" in ran.err


def test_a_folder_holding_other_files_is_never_emptied(tmp_path: Path) -> None:
    """OUT that is a file, or a folder of other files: exit 1, a message, nothing touched;
    a folder holding an earlier kit is built again, and what the old kit had is gone."""
    root = project(tmp_path)
    (root / "notes").mkdir()
    (root / "notes" / "keep.txt").write_text("mine", encoding="utf-8")
    ran = amplifier(root, "kit", "build", "notes")
    assert ran.code == 1
    assert "notes is not empty and holds no kit built before" in ran.err
    assert (root / "notes" / "keep.txt").read_text(encoding="utf-8") == "mine"
    ran = amplifier(root, "kit", "build", "config.toml")
    assert ran.code == 1 and "is a file" in ran.err
    assert amplifier(root, "kit", "build", "site").code == 0
    (root / "posts" / "pictured.md").unlink()
    assert amplifier(root, "kit", "build", "site").code == 0
    assert not (root / "site" / "images").exists()
    assert "post-pictured" not in (root / "site" / "demo.en.html").read_text(encoding="utf-8")


def test_the_same_seed_builds_the_same_kit(tmp_path: Path) -> None:
    """Two builds with one --seed are byte for byte equal; the first versions shown move with
    the seed."""
    root = project(tmp_path)
    pages = []
    for out, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert amplifier(root, "kit", "build", out, "--seed", seed).code == 0
        pages.append((root / out / "demo.en.html").read_text(encoding="utf-8"))
    assert pages[0] == pages[1]
    assert pages[0] != pages[2]
