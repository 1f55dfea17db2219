"""The package's architecture, as docs/contributing.md draws it: commands over machinery,
layers that import downward only, no import cycle, folders that say what they hold, and
modules a reader can take in. Read from the source with `ast`; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import TESTS

PACKAGE = TESTS.parent / "src" / "awsrun"

# Lowest first: a module may import its own layer and those below it, never one above.
LAYERS = {
    "leaves": 0,  # awsrun.errors, durations, report, deadline, internal
    "config": 1,
    "credentials": 2,
    "handoff": 3,
    "commands": 4,
    "cli": 5,  # awsrun.cli, helptext, __main__
}
TOP_LEVEL = {"cli": "cli", "helptext": "cli", "__main__": "cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    assert "awsrun.cli" in found, f"no package at {PACKAGE}: every check here would pass"
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:  # the package's own face: awsrun.__version__
        return "leaves"
    if parts[1] in LAYERS:
        return parts[1]
    return TOP_LEVEL.get(parts[1], "leaves")


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def awsrun_imports(path: Path, *, at_import_time: bool) -> set[str]:
    """The awsrun modules `path` imports: every one, or only those its top level runs when
    it is imported (not inside a function, not for annotations)."""
    tree = ast.parse(path.read_text())
    known = modules()
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "awsrun":
                    for alias in node.names:
                        submodule = f"{node.module}.{alias.name}"
                        found.add(submodule if submodule in known else node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == "awsrun")
            elif at_import_time:
                if isinstance(node, ast.If) and not _is_type_checking(node):
                    visit(node.body)
                    visit(node.orelse)
                elif isinstance(node, ast.Try):
                    visit(node.body)
            else:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child])

    visit(tree.body)
    return found


def test_layers_import_downward_only() -> None:
    upward = []
    for module, path in modules().items():
        for imported in awsrun_imports(path, at_import_time=False):
            if LAYERS[layer_of(imported)] > LAYERS[layer_of(module)]:
                upward.append(f"{module} -> {imported}")
    assert upward == []


def test_no_import_cycle_when_modules_load() -> None:
    graph = {
        module: awsrun_imports(path, at_import_time=True) for module, path in modules().items()
    }
    cycles = []

    def walk(module: str, trail: list[str]) -> None:
        for imported in graph.get(module, ()):
            if imported in trail:
                cycles.append(" -> ".join([*trail[trail.index(imported) :], imported]))
            elif imported != "awsrun":
                walk(imported, [*trail, imported])

    for module in graph:
        walk(module, [module])
    assert cycles == []


@pytest.mark.parametrize("folder", ["commands", "config", "credentials", "handoff"])
def test_each_folder_says_what_it_holds_and_what_it_may_import(folder: str) -> None:
    init = PACKAGE / folder / "__init__.py"
    tree = ast.parse(init.read_text())
    docstring = ast.get_docstring(tree) or ""

    assert "import" in docstring, "the docstring says what the folder may import"
    # An empty face: each import here would be paid on every cache hit.
    assert [node for node in tree.body if not isinstance(node, ast.Expr)] == []


def test_cli_parses_and_dispatches_only() -> None:
    cli = PACKAGE / "cli.py"
    imported = awsrun_imports(cli, at_import_time=False)

    assert len(cli.read_text().splitlines()) < 300
    assert {layer_of(module) for module in imported} <= {"commands", "leaves", "cli"}
    # Dispatch imports the one command it runs: at load, cli has the parsed form only.
    at_load = awsrun_imports(cli, at_import_time=True)
    assert {m for m in at_load if m.startswith("awsrun.commands.")} == {
        "awsrun.commands.invocation"
    }


def test_no_module_is_a_wall_of_text() -> None:
    long = {
        module: lines
        for module, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > 500
    }
    assert long == {}


def test_the_probe_sees_what_it_should() -> None:
    # The checks above are only as good as the import reader: it finds a top-level import,
    # one inside a function, and one for annotations, and tells them apart.
    run = PACKAGE / "commands" / "run.py"
    everything = awsrun_imports(run, at_import_time=False)
    at_load = awsrun_imports(run, at_import_time=True)

    assert "awsrun.commands.invocation" in at_load
    assert "awsrun.credentials.broker" in everything - at_load  # inside _fetch
    assert "awsrun.report" in everything - at_load  # for annotations only


def test_only_the_modules_that_talk_to_aws_import_botocore() -> None:
    talking = {
        "awsrun.credentials.sts",
        "awsrun.credentials.sso_oidc",
        "awsrun.credentials.sso_accounts",
        "awsrun.credentials.federation",
        "awsrun.credentials.iam",
    }
    importing = set()
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] in ("botocore", "boto3") for name in names):
                importing.add(module)
    assert importing == talking
