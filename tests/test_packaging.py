"""The pinned versions: the tests run against exactly what Heroku deploys.

requirements.txt is Heroku's install: every runtime distribution pinned, then amplifier itself
(its last line, "."). constraints.txt repeats those pins and adds the test tools' for the
README's two install commands (`pip install -c constraints.txt -e ...`); pip refuses
requirements.txt itself as a constraints file because of that last line. These tests keep
both files in step with pyproject.toml and with the environment the tests run in, and keep CI
running the README's test command.

Run as a script, this file rewrites both files from the environment it runs in. To move every
pin to what pip resolves today (docs/development.md, "Updating pinned versions"):

    python3 -m venv --clear /tmp/pins && /tmp/pins/bin/pip install -e '.[test]' \\
        && /tmp/pins/bin/python tests/test_packaging.py
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
TESTS_WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
POSTS_WORKFLOW = ROOT / ".github" / "workflows" / "check-posts.yml"

REGENERATE = (
    "python3 -m venv --clear /tmp/pins && /tmp/pins/bin/pip install -e '.[test]' "
    "&& /tmp/pins/bin/python tests/test_packaging.py"
)
HOW_TO_FIX = (
    f"to move every pin to what pip resolves today, run from the repository: {REGENERATE}; "
    "to change one pin, edit it in both requirements.txt and constraints.txt "
    "(docs/development.md, 'Updating pinned versions')"
)
REINSTALL = (
    "reinstall with the README's test command: python3 -m venv .venv && "
    ".venv/bin/pip install -c constraints.txt -e '.[test]' && .venv/bin/pytest"
)
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")

REQUIREMENTS_HEADER = """\
# Heroku's Python buildpack installs from this file: every runtime dependency pinned, then
# amplifier itself (the last line). constraints.txt repeats these pins, with the test tools',
# for the README's install commands, so the tests run against what is deployed;
# tests/test_packaging.py keeps both files in step with pyproject.toml. Regenerate both:
#   python3 -m venv --clear /tmp/pins && /tmp/pins/bin/pip install -e '.[test]' \\
#       && /tmp/pins/bin/python tests/test_packaging.py
"""
CONSTRAINTS_HEADER = """\
# The versions the README's install commands use (pip install -c constraints.txt -e ...):
# requirements.txt's runtime pins (what Heroku deploys) and the test tools'. pip refuses
# requirements.txt itself as a constraints file because its last line installs amplifier.
# tests/test_packaging.py keeps both files in step with pyproject.toml. Regenerate both:
#   python3 -m venv --clear /tmp/pins && /tmp/pins/bin/pip install -e '.[test]' \\
#       && /tmp/pins/bin/python tests/test_packaging.py
"""


@dataclass(frozen=True)
class Pin:
    """One `name==version` line of a pin file."""

    name: str
    version: str
    line: int


@dataclass(frozen=True)
class Needed:
    """An installed distribution the package needs, and which distribution asked for it."""

    dist: metadata.Distribution
    wanted_by: str

    @property
    def name(self) -> str:
        name: str = self.dist.metadata["Name"]
        return name


def read_pins(path: Path) -> dict[str, Pin]:
    """The file's pins by canonical name; any other line but a comment or "." is an error."""
    pins: dict[str, Pin] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line == ".":
            continue
        match = PIN.match(line)
        assert match, f"{path.name}:{number}: {raw!r} is not a 'name==version' pin; {HOW_TO_FIX}"
        key = canonicalize_name(match["name"])
        if key in pins:
            raise AssertionError(
                f"{path.name}:{number}: {match['name']} is pinned twice "
                f"(also on line {pins[key].line}); keep one line"
            )
        pins[key] = Pin(match["name"], match["version"], number)
    return pins


def declared(extra: str | None = None) -> list[Requirement]:
    """pyproject.toml's runtime dependencies, or those of one optional extra."""
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in lines]


# Extras Heroku deploys with amplifier (requirements.txt pins them): the console's web process.
DEPLOYED_EXTRAS = ("web",)


def deployed() -> list[Requirement]:
    """What Heroku installs: the runtime dependencies and the deployed extras'."""
    return [*declared(), *(req for extra in DEPLOYED_EXTRAS for req in declared(extra))]


def closure(roots: list[Requirement]) -> dict[str, Needed]:
    """Every installed distribution the roots need, transitively, markers evaluated here."""
    found: dict[str, Needed] = {}
    extras_seen: dict[str, set[str]] = {}
    missing: list[str] = []
    queue = [(requirement, "pyproject.toml") for requirement in roots]
    while queue:
        requirement, wanted_by = queue.pop()
        key = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if key == "amplifier":  # an extra naming another of ours ("amplifier[web]")
            queue += [(req, f"amplifier[{extra}]") for extra in extras for req in declared(extra)]
            continue
        if key in found and extras <= extras_seen[key]:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{requirement.name} (needed by {wanted_by})")
            continue
        found.setdefault(key, Needed(dist, wanted_by))
        extras_seen[key] = extras_seen.get(key, set()) | extras
        for line in dist.requires or []:
            dependency = Requirement(line)
            marker = dependency.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in {"", *extras_seen[key]}
            ):
                queue.append((dependency, dist.metadata["Name"]))
    assert not missing, f"not installed: {', '.join(sorted(missing))}; {REINSTALL}"
    return found


def _closure_problems(file: str, pins: dict[str, Pin], needed: dict[str, Needed]) -> list[str]:
    problems = [
        f"{file} does not pin {needed[key].name}, which {needed[key].wanted_by} needs: add "
        f"'{needed[key].name}=={needed[key].dist.version}'"
        for key in sorted(needed.keys() - pins.keys())
    ]
    problems += [
        f"{file}:{pins[key].line}: {pins[key].name} is pinned but nothing needs it any more: "
        "remove the line"
        for key in sorted(pins.keys() - needed.keys())
    ]
    return problems


def _specifier_problems(file: str, pins: dict[str, Pin], wanted: list[Requirement]) -> list[str]:
    problems = []
    for requirement in wanted:
        if canonicalize_name(requirement.name) == "amplifier":
            continue  # an extra naming another extra of ours: its own lines are checked
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(
                f"{file} has no pin for {requirement.name} (pyproject.toml: '{requirement}')"
            )
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(
                f"{file}:{pin.line}: {pin.name}=={pin.version} does not satisfy pyproject.toml's "
                f"'{requirement}'"
            )
    return problems


def _report(problems: list[str]) -> str:
    return "\n".join([*problems, HOW_TO_FIX])


def test_requirements_pin_every_runtime_dependency_within_its_specifier() -> None:
    """Each dependency pyproject.toml declares has a pin in requirements.txt that satisfies it."""
    problems = _specifier_problems("requirements.txt", read_pins(REQUIREMENTS), deployed())
    assert not problems, _report(problems)


def test_requirements_pin_the_whole_runtime_closure_then_install_amplifier() -> None:
    """requirements.txt pins every distribution amplifier needs (transitively), nothing else,
    and its last line installs amplifier itself, as Heroku's build needs."""
    problems = _closure_problems("requirements.txt", read_pins(REQUIREMENTS), closure(deployed()))
    assert not problems, _report(problems)
    lines = [line.strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    installs = [line for line in lines if line and not line.startswith("#")]
    assert installs[-1] == ".", "requirements.txt must end with the line '.' (amplifier itself)"


def test_constraints_repeat_the_runtime_pins_and_pin_the_test_tools() -> None:
    """constraints.txt pins every runtime version as requirements.txt does, and every
    distribution the test extra needs, each within pyproject.toml's specifiers."""
    runtime, pins = read_pins(REQUIREMENTS), read_pins(CONSTRAINTS)
    problems = [
        f"constraints.txt:{pins[key].line} pins {pins[key].name}=={pins[key].version} but "
        f"requirements.txt:{pin.line} pins {pin.version}; Heroku installs requirements.txt and "
        "the tests constraints.txt, so the two must agree"
        for key, pin in runtime.items()
        if key in pins and Version(pins[key].version) != Version(pin.version)
    ]
    everything = [*deployed(), *declared("test")]
    problems += _specifier_problems("constraints.txt", pins, everything)
    problems += _closure_problems("constraints.txt", pins, closure(everything))
    assert not problems, _report(problems)


def test_the_tests_run_against_the_pinned_versions() -> None:
    """Every distribution installed for amplifier and its tests is at its pinned version, so
    what passed here is what Heroku deploys."""
    pins = read_pins(CONSTRAINTS)
    wrong = [
        f"{needed.name} {needed.dist.version} is installed, constraints.txt:{pins[key].line} "
        f"pins {pins[key].version}"
        for key, needed in sorted(closure([*deployed(), *declared("test")]).items())
        if key in pins and Version(needed.dist.version) != Version(pins[key].version)
    ]
    assert not wrong, "\n".join(
        ["these tests are not running against the pinned versions:", *wrong, REINSTALL]
    )


def readme_commands() -> list[str]:
    """The quick start's install-and-run commands, as written in README.md."""
    text = README.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("python3 -m venv .venv")]


def test_the_readme_installs_the_pinned_set_and_ci_runs_its_test_command() -> None:
    """The README's two commands install through constraints.txt, and .ci/run runs the second
    one exactly (the GitHub workflow runs .ci/run)."""
    commands = readme_commands()
    assert len(commands) == 2, f"README.md: expected the two quick-start commands, got {commands}"
    run, test = commands
    assert run.endswith("&& .venv/bin/amplifier run"), run
    assert test.endswith("&& .venv/bin/pytest"), test
    for command in commands:
        assert " install -c constraints.txt -e " in command, f"README.md: unpinned: {command}"
    ci_lines = CI_RUN.read_text(encoding="utf-8").splitlines()
    assert test in ci_lines, f".ci/run must run the README's test command exactly: {test}"


def _workflow(path: Path) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    loaded.setdefault("on", loaded.pop(True, None))  # YAML 1.1 reads a bare `on` as true
    return loaded


def test_github_runs_the_tests_on_every_pull_request_as_ci_does() -> None:
    """The tests workflow runs .ci/run on pull requests with CI=true, the Python of
    .python-version, PostgreSQL 15 and npm (the real-PDS tests fail without them in CI)."""
    workflow = _workflow(TESTS_WORKFLOW)
    assert "pull_request" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert str(job["env"]["CI"]).lower() == "true"
    assert job["services"]["postgres"]["image"].startswith("postgres:15")
    uses = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    assert uses["actions/setup-python"]["with"]["python-version-file"] == ".python-version"
    assert "actions/setup-node" in uses
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in job["steps"])


def test_the_posts_check_installs_what_heroku_installs() -> None:
    """The pull requests' posts check installs requirements.txt with .python-version's Python,
    so a volunteer's check runs the deployed code and versions."""
    (job,) = _workflow(POSTS_WORKFLOW)["jobs"].values()
    uses = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    assert uses["actions/setup-python"]["with"]["python-version-file"] == ".python-version"
    runs = [step.get("run", "") for step in job["steps"]]
    assert "pip install -r requirements.txt" in runs
    assert "amplifier check --format github" in runs


def _pin_lines(needed: dict[str, Needed]) -> list[str]:
    ordered = sorted(needed.values(), key=lambda needed: needed.name.lower())
    return [f"{needed.name}=={needed.dist.version}" for needed in ordered]


def write_pin_files() -> None:
    """Rewrite requirements.txt and constraints.txt from this environment's installed versions,
    printing each version that moved."""
    before = {
        key: pin
        for path in (REQUIREMENTS, CONSTRAINTS)
        if path.exists()
        for key, pin in read_pins(path).items()
    }
    runtime = closure(deployed())
    everything = closure([*deployed(), *declared("test")])
    REQUIREMENTS.write_text(REQUIREMENTS_HEADER + "\n".join([*_pin_lines(runtime), "."]) + "\n")
    CONSTRAINTS.write_text(CONSTRAINTS_HEADER + "\n".join(_pin_lines(everything)) + "\n")
    for key, needed in sorted(everything.items()):
        old = before.get(key)
        if old is None or Version(old.version) != Version(needed.dist.version):
            print(f"{needed.name}: {old.version if old else '(new)'} -> {needed.dist.version}")
    for key in sorted(before.keys() - everything.keys()):
        print(f"{before[key].name}: {before[key].version} -> (removed)")
    print(f"requirements.txt: {len(runtime)} pins; constraints.txt: {len(everything)} pins")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(f"usage: python {Path(__file__).name}  (no arguments: rewrites the pin files)")
    write_pin_files()
