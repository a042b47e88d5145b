"""Real-browser testing: Debian's Chromium driven by Playwright, and axe-core run in the page.

Chromium is the system's (``chromium`` on PATH, or $AMPLIFIER_CHROMIUM): Playwright downloads
no browser. axe-core comes from npm (axe/package.json), installed on first use into a cache
outside the repository (~/.cache/amplifier-test-axe/<hash of package.json>, or
$AMPLIFIER_AXE_CACHE), and later runs reuse it.

Where Chromium, npm or the npm registry is missing, the browser tests skip and say how to get
them; in CI (CI=true) they fail instead, so CI can never pass them silently.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from playwright.sync_api import Browser, Page

AXE_DIR = Path(__file__).resolve().parent / "axe"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
# What the pages must pass: WCAG 2.1 A and AA and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
HOW_TO_ENABLE = (
    "install Debian's chromium (apt-get install chromium) and Node.js with npm, and let npm "
    "reach its registry"
)


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, so a broken browser setup cannot pass unnoticed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests", pytrace=False)
    pytest.skip(f"{reason}; to run the browser tests {HOW_TO_ENABLE}")


def chromium_path() -> str:
    """The system Chromium: $AMPLIFIER_CHROMIUM, else chromium on PATH."""
    configured = os.environ.get("AMPLIFIER_CHROMIUM")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        unavailable("no chromium binary found")
    return found


def axe_source() -> str:
    """axe.min.js from the npm package, installed into the cache on first use."""
    if shutil.which("npm") is None:
        unavailable("npm is not installed (axe-core comes from npm)")
    digest = hashlib.sha256((AXE_DIR / "package.json").read_bytes()).hexdigest()[:16]
    user_cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    root = Path(os.environ.get("AMPLIFIER_AXE_CACHE") or Path(user_cache) / "amplifier-test-axe")
    root.mkdir(parents=True, exist_ok=True)
    target = root / digest
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    with open(root / f"{digest}.lock", "w") as lock:  # parallel sessions install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not script.exists():
            _npm_install(target)
    return script.read_text(encoding="utf-8")


def _npm_install(target: Path) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(AXE_DIR / "package.json", staging / "package.json")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(
            command, cwd=staging, env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        unavailable("npm install axe-core took over 300 s")
    if done.returncode != 0:
        unavailable(f"npm install axe-core failed: {(done.stdout + done.stderr).strip()[-500:]}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


@contextmanager
def new_page(browser: Browser, viewport: dict[str, int] = LAPTOP, **options: Any) -> Iterator[Page]:
    """A page in a fresh context (its own cookies and storage) at this viewport size."""
    context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


def run_axe(page: Page, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    Evaluated through the DevTools protocol, so the page's own Content-Security-Policy (which
    rightly refuses inline scripts) does not stop it.
    """
    page.evaluate(source)
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node: rule, impact, the element, axe's summary."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {node['target']} "
                f"{node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)
