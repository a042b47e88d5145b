"""The Pages workflow builds the kit with a command the parser accepts, and deploys it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from amplifier.cli.parser import build_parser

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "kit.yml"


def test_workflow_builds_on_push_to_main_and_deploys_to_pages() -> None:
    """On push to main: install, build into the folder it uploads, deploy with Pages' actions
    and the permissions they need."""
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow[True]  # YAML 1.1 reads the key 'on' as true
    assert triggers["push"]["branches"] == ["main"]
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build = flow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in build]
    assert "actions/upload-pages-artifact" in uses
    [command] = [step["run"] for step in build if "kit build" in step.get("run", "")]
    argv = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "https://org.github.io/repo", command))
    assert argv[0] == "amplifier"
    args = build_parser().parse_args(argv[1:])
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-pages"))
    assert args.out == upload["with"]["path"]
    assert args.base_url == "https://org.github.io/repo/"
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
