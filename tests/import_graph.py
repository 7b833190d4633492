"""The import graph of hogar_nb, read from the source with :mod:`ast`.

An edge ``a -> b`` is any import of ``b`` written in ``a``: at module level or inside a
function, relative ones resolved, and module paths written as strings (a registry's
``"hogar_nb.backends.ray"``, ``importlib.import_module(".deployment", __name__)``).
Imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "hogar_nb"
#: module paths written as strings that hogar_nb never imports: text it writes for
#: another program (a Ray Serve config's ``import_path``), names that are not modules
NOT_IMPORTS = {("hogar_nb.export.ray_serve", "hogar_nb.backends.ray.app:build_app"),
               # the application's name for its data directory (platformdirs)
               ("hogar_nb.quality.feedback", "hogar_nb")}
_DOTTED = re.compile(rf"^{PACKAGE}(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_.]*)?$")


@dataclass(frozen=True)
class Import:
    """One import written in ``source`` (a module name) of ``target``, at ``line``."""

    source: str
    target: str
    file: str  # the source's path, relative to the root
    line: int
    how: str  # "import", "string", or "type" (under TYPE_CHECKING)

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if "labextension" in path.parts or "node_modules" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


class _Reader(ast.NodeVisitor):
    def __init__(self, module: str, file: str, is_package: bool, known: set[str]) -> None:
        self.module, self.file, self.is_package, self.known = module, file, is_package, known
        self.found: list[Import] = []
        self.typing = False  # inside `if TYPE_CHECKING:`

    def _add(self, target: str, line: int, how: str = "import") -> None:
        if target.split(".")[0] != PACKAGE:  # another distribution: kept as written
            if target:
                self.found.append(Import(self.module, target, self.file, line, "type" if self.typing else how))
            return
        while target and target not in self.known:
            target = target.rpartition(".")[0]
        if target and target != self.module:
            self.found.append(Import(self.module, target, self.file, line, "type" if self.typing else how))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.typing, was = True, self.typing
            for child in node.body:
                self.visit(child)
            self.typing = was
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.module, self.is_package, node.level, node.module)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in self.known else base, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module(".name", __name__ / package=...): relative to this package
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            text = node.args[0].value
            if isinstance(text, str) and text.startswith("."):
                level = len(text) - len(text.lstrip("."))
                package = self.module if self.is_package else self.module.rpartition(".")[0]
                self._add(_resolve(package + ".x", False, level, text.lstrip(".") or None),
                          node.lineno, "string")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if (isinstance(node.value, str) and _DOTTED.match(node.value)
                and (self.module, node.value) not in NOT_IMPORTS):
            target = node.value.partition(":")[0]
            if target in self.known or target.rpartition(".")[0] in self.known:
                self._add(target, node.lineno, "string")


def imports(root: Path = ROOT) -> list[Import]:
    """Every import (and module path written as a string) in the package, of its own
    modules and of other distributions' (``lark``, ``ray``...); those under
    ``TYPE_CHECKING`` have ``how == "type"``."""
    known = modules(root)
    names = set(known)
    found: list[Import] = []
    for module, path in known.items():
        reader = _Reader(module, str(path.relative_to(root)), path.name == "__init__.py", names)
        reader.visit(ast.parse(path.read_text(), str(path)))
        found += reader.found
    return found


def graph(root: Path = ROOT) -> dict[str, dict[str, Import]]:
    """``{module: {imported module: the first import of it}}``, for the imports that run
    (of the package's own modules, TYPE_CHECKING left out)."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules(root)}
    for imp in imports(root):
        if imp.how != "type" and imp.target.split(".")[0] == PACKAGE:
            edges[imp.source].setdefault(imp.target, imp)
    return edges


def cycles(edges: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """One shortest cycle through each strongly connected component of more than one module."""
    import networkx as nx

    g = nx.DiGraph()
    for src, targets in edges.items():
        for dst, imp in targets.items():
            g.add_edge(src, dst, imp=imp)
    found = []
    for component in nx.strongly_connected_components(g):
        if len(component) < 2:
            continue
        sub = g.subgraph(component)
        start = min(component)
        best: list[str] | None = None
        for succ in sub.successors(start):
            path = nx.shortest_path(sub, succ, start)
            if best is None or len(path) < len(best):
                best = path
        assert best is not None
        ring = [start, *best]
        found.append([g.edges[a, b]["imp"] for a, b in zip(ring, ring[1:])])
    return sorted(found, key=lambda c: c[0].source)


def describe(cycle: list[Import]) -> str:
    lines = [f"{cycle[0].source}"]
    for imp in cycle:
        lines.append(f"  -> {imp.target}   ({imp.where()}, {imp.how})")
    return "\n".join(lines)
