"""The package's layout: a package per stage, small modules, no cycles, lower never imports higher.

The stages, lowest first (docs/development.md, "The dependency rule"). A module may import
from its own stage and from stages in lower layers, never from its own layer's other stages or
from a higher one. Imports are read from the source (``ast``), at module level and inside
functions alike; only those under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "amplifier"
MAX_LINES = 400

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer)
    for layer in (
        {"amplifier", "errors", "logs"},  # the root package, the exception tree, the log format
        {"networks"},  # the Network protocol and the adapters
        {"config"},  # settings: every stage reads them
        {"store"},  # the state database
        {"content"},  # load, render
        {"cards"},  # link cards: read ahead of the slots, kept in the store
        {"schedule"},  # plan
        {"guards"},  # guard
        {"kit"},  # the supporters' share kit (below check, which warns about its posts)
        {"alerts"},  # events, outbox, sender: below delivery and the worker, which enqueue
        # adapters per account; pre-flight; what becomes of a slot; claim-publish-record;
        # what the posts achieved (collected by the worker, reported by the CLI and the console)
        {"accounts", "check", "forecast", "delivery", "results"},
        {"worker"},  # the loop that runs the flow
        {"web"},  # the organizers' console (its own process; the worker never imports it)
        {"cli"},  # the command line
        {"testing", "__main__"},  # fakes shipped for users and tests; python -m amplifier
    )
)
# Stages whose modules other stages may import directly: networks stays as it is (its adapters
# are imported one by one, so an SDK loads only for an account of its network); the top-level
# modules are their own stage.
OPEN_STAGES = frozenset({"networks", "amplifier", "errors", "logs", "__main__"})


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of amplifier
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer(name: str) -> int:
    return next(index for index, members in enumerate(LAYERS) if name in members)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for rest in child.orelse:
                yield from _import_nodes(rest)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:size]) for size in range(1, len(parts))}


def imports_of(module: str) -> list[Import]:
    """What running ``module`` imports of amplifier, parent packages that run first included."""
    path = MODULES[module]
    found: list[Import] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named = [(alias.name, None) for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            named = [(base, alias.name) for alias in node.names]
        for base, name in named:
            if base != "amplifier" and not base.startswith("amplifier."):
                continue
            targets = set()
            if name is not None and f"{base}.{name}" in MODULES:
                targets.add(f"{base}.{name}")
                if base not in _ancestors(module):
                    targets.add(base)
            else:
                targets.add(base)  # the module itself, or a name its __init__ exports
            for target in list(targets):
                # A parent package runs before its submodule, unless it is the importer's own.
                targets |= _ancestors(target) - _ancestors(module) - {module}
            found += [Import(module, target, node.lineno) for target in sorted(targets)]
    return [found_import for found_import in found if found_import.target in MODULES]


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_belongs_to_a_stage_of_the_rule() -> None:
    """Each top-level package or module of amplifier is named in LAYERS, so none escapes."""
    unknown = sorted({stage(module) for module in MODULES} - set().union(*LAYERS))
    assert unknown == [], f"add these to LAYERS in tests/test_layout.py: {unknown}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    """No module of amplifier is over 400 lines: split it along a seam it already has."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]} has {lines} lines (at most {MAX_LINES})"


def test_no_import_cycle() -> None:
    """No module of amplifier imports, directly or through others, one that imports it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for edge in GRAPH[module]:
            if state.get(edge.target) == 1:
                cycles.append([*path[path.index(edge.target) :], edge.target])
            elif edge.target not in state:
                visit(edge.target, [*path, edge.target])
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_lower_stages_never_import_higher_ones() -> None:
    """Every import goes to the importer's own stage or to a lower layer."""
    wrong = [
        f"{MODULES[edge.importer].relative_to(PACKAGE.parent)}:{edge.line}: "
        f"{stage(edge.importer)} imports {edge.target} ({stage(edge.target)})"
        for edges in GRAPH.values()
        for edge in edges
        if stage(edge.importer) != stage(edge.target)
        and layer(stage(edge.target)) >= layer(stage(edge.importer))
    ]
    assert wrong == [], "\n".join(wrong)


def test_stages_use_each_others_public_names() -> None:
    """Across stages, imports name the package (its __init__ exports), not its modules."""
    wrong = [
        f"{MODULES[edge.importer].relative_to(PACKAGE.parent)}:{edge.line}: imports "
        f"{edge.target}; import from amplifier.{stage(edge.target)} instead"
        for edges in GRAPH.values()
        for edge in edges
        if stage(edge.importer) != stage(edge.target)
        and stage(edge.target) not in OPEN_STAGES
        and edge.target != f"amplifier.{stage(edge.target)}"
    ]
    assert wrong == [], "\n".join(wrong)


def test_no_package_export_hides_a_module() -> None:
    """No package exports a name its own submodule has: ``amplifier.content.render`` would be
    the function for one reader and the module for another."""
    hidden = {}
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        exported = {
            name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom)
            for name in (alias.asname or alias.name for alias in node.names)
        }
        clash = sorted(name for name in exported if f"{module}.{name}" in MODULES)
        if clash:
            hidden[module] = clash
    assert hidden == {}


def test_the_checks_see_every_kind_of_import() -> None:
    """The import reader finds module-level and function-level imports and imports of
    submodules, and leaves out those under TYPE_CHECKING: the other tests cannot pass
    vacuously."""
    passes = {edge.target for edge in GRAPH["amplifier.worker.passes"]}
    assert {"amplifier.delivery", "amplifier.schedule", "amplifier.worker.slot"} <= passes
    slot = {edge.target for edge in GRAPH["amplifier.worker.slot"]}
    assert {"amplifier.guards", "amplifier.store"} <= slot
    dispatch = {edge.target for edge in GRAPH["amplifier.cli.dispatch"]}  # inside a function
    assert {"amplifier.cli.check", "amplifier.cli.run", "amplifier.cli.operator"} <= dispatch
    history = {edge.target for edge in GRAPH["amplifier.guards.history"]}
    assert "amplifier.store" not in history  # only under TYPE_CHECKING
    registry = {edge.target for edge in GRAPH["amplifier.accounts.registry"]}
    assert {"amplifier.networks", "amplifier.networks.x"} <= registry
