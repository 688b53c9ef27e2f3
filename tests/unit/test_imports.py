"""The package's layering, read from the source (AST): each layer imports
only from the layers below it, storage stays free of the server, and no
import cycle exists, not even through imports made inside functions."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "s3emu"

# bottom to top; a module may import its own layer and any lower one
LAYERS = [("config", "tls", "version"), ("storage",), ("http",), ("access",), ("protocol", "auth"), ("ops",), ("api",),
          ("app",), ("runtime",), ("faces",)]
FACES = ("__init__", "__main__", "cli", "embedded", "pytest_plugin")  # the public entry points
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["s3emu", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    return "faces" if name in FACES else name


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str) -> list[str]:
    """Every module `module` imports (s3emu's own resolved to a module, others
    by their top-level name), at any depth but under `if TYPE_CHECKING`."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.append(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    resolved = []
    for name in found:
        while name.startswith("s3emu") and name not in MODULES:
            name = name.rpartition(".")[0]
        if name != module:
            resolved.append(name)
    return resolved


GRAPH = {module: sorted(set(_imports(module))) for module in MODULES}


def test_every_module_belongs_to_a_layer() -> None:
    assert {_layer(m) for m in MODULES} <= set(RANK)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_layers(module: str) -> None:
    mine = _layer(module)
    for target in GRAPH[module]:
        if target.startswith("s3emu"):
            theirs = _layer(target)
            assert theirs == mine or RANK[theirs] < RANK[mine], f"{module} imports {target}, a layer above"


def test_storage_imports_nothing_from_the_server() -> None:
    for module in (m for m in MODULES if _layer(m) == "storage"):
        for target in GRAPH[module]:
            assert not target.startswith("s3emu") or _layer(target) == "storage", (module, target)
            assert target.split(".")[0] not in ("aiohttp", "lxml"), (module, target)


def test_protocol_imports_no_aiohttp() -> None:
    for module in (m for m in MODULES if _layer(m) == "protocol"):
        assert not [t for t in GRAPH[module] if t.split(".")[0] == "aiohttp"], module


def test_api_modules_share_only_api_common() -> None:
    for module in (m for m in MODULES if _layer(m) == "api" and m not in ("s3emu.api", "s3emu.api.common")):
        siblings = [t for t in GRAPH[module] if t.startswith("s3emu.api")]
        assert set(siblings) <= {"s3emu.api.common"}, (module, siblings)


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH.get(v, []):
            if w not in MODULES:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            connect(module)
    assert cycles == []
