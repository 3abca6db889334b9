"""The package's layers: imports point down only, and no module imports itself back.

Layers, lowest first: ``_core`` (pure), ``_files`` (atomic writes), ``_rulebook`` (YAML to a
compiled rule set), ``_fhir`` (FHIR R4 documents to patient records), ``_authoring`` (rule
authors' tools), ``_shell`` (CLI, files, rendering) and, beside it, ``_serve`` (the CDS Hooks
service).
Every ``import`` counts, also those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "mgassist"
RANK = {"_core": 0, "_files": 1, "_rulebook": 2, "_fhir": 3, "_authoring": 4, "_shell": 5,
        "_serve": 5}
TOP = {"mgassist", "mgassist.__main__"}  # the public face: may import any layer


def module_name(path: Path) -> str:
    parts = ["mgassist", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every mgassist module ``path`` imports, as dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    return {f for f in found if f.startswith("mgassist.") or f == "mgassist"}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        # "from pkg import name" may name a module or an attribute: keep what is a module
        edges[name] = {m for m in imports_of(path) if m in modules and m != name}
    return edges


def layer(module: str) -> int | None:
    parts = module.split(".")
    return RANK.get(parts[1]) if len(parts) > 1 else None


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Each import from a lower layer to a higher one, as 'a -> b'."""
    return sorted(f"{a} -> {b}" for a, targets in edges.items() if a not in TOP
                  for b in targets
                  if layer(b) is not None and (layer(a) is None or layer(a) < layer(b)))  # type: ignore[operator]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among modules (package __init__ files excluded: importing a
    submodule runs its package's __init__, which is not a dependency of the code)."""
    plain = {a: {b for b in bs if b not in _packages(edges)} for a, bs in edges.items()
             if a not in _packages(edges)}
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(plain.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(plain):
        if start not in state:
            visit(start, [start])
    return found


def _packages(edges: dict[str, set[str]]) -> set[str]:
    return {"mgassist", *(f"mgassist.{name}" for name in RANK)} & set(edges)


def test_every_module_is_in_a_layer() -> None:
    edges = graph()
    loose = sorted(m for m in edges if m not in TOP and layer(m) is None)
    assert loose == []
    assert {m.split(".")[1] for m in edges if m not in TOP} == set(RANK)


def test_imports_point_down_only() -> None:
    assert upward(graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_see_a_violation() -> None:
    edges = graph()
    edges["mgassist._core.walk"].add("mgassist._shell.render")
    edges["mgassist._shell.render"].add("mgassist._core.walk")
    assert upward(edges) == ["mgassist._core.walk -> mgassist._shell.render"]
    assert ["mgassist._core.walk", "mgassist._shell.render", "mgassist._core.walk"] in cycles(edges)
    # lazy imports count: the shell's lazy import of the rule cache is an edge
    assert "mgassist._rulebook.cache" in graph()["mgassist._shell.commands"]
