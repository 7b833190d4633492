"""No import circles in hogar_nb, counting imports inside functions and module paths
written as strings (imports under ``if TYPE_CHECKING:`` aside, as they never run)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from import_graph import cycles, describe, graph, imports, modules


def test_the_import_graph_has_no_cycle() -> None:
    found = cycles(graph())
    assert not found, "import circles:\n\n" + "\n\n".join(describe(c) for c in found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "hogar_nb" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_the_graph_sees_function_level_relative_and_string_imports(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "def f():\n    from .b import x\n",
        "b.py": "from . import c\n",
        "c.py": "import importlib\nM = importlib.import_module('.d', __package__)\n",
        "d.py": "REGISTRY = {'x': ('hogar_nb.sub.e', 'run')}\n",
        "sub/__init__.py": "",
        "sub/e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n"
                    "def g():\n    from .. import a\n",
    })
    assert set(modules(root)) == {"hogar_nb", "hogar_nb.a", "hogar_nb.b", "hogar_nb.c", "hogar_nb.d",
                                  "hogar_nb.sub", "hogar_nb.sub.e"}
    edges = {(i.source, i.target, i.how) for i in imports(root)}
    assert edges == {
        ("hogar_nb.a", "hogar_nb.b", "import"),
        ("hogar_nb.b", "hogar_nb.c", "import"),
        ("hogar_nb.c", "importlib", "import"),
        ("hogar_nb.c", "hogar_nb.d", "string"),
        ("hogar_nb.d", "hogar_nb.sub.e", "string"),
        ("hogar_nb.sub.e", "typing", "import"),
        ("hogar_nb.sub.e", "hogar_nb.a", "type"),
        ("hogar_nb.sub.e", "hogar_nb.a", "import"),
    }
    found = cycles(graph(root))
    assert [[i.target for i in c] for c in found] == [
        ["hogar_nb.b", "hogar_nb.c", "hogar_nb.d", "hogar_nb.sub.e", "hogar_nb.a"]]
    assert describe(found[0]).splitlines()[:2] == [
        "hogar_nb.a", "  -> hogar_nb.b   (hogar_nb/a.py:2, import)"]


def test_type_checking_imports_make_no_edge(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "import typing\nif typing.TYPE_CHECKING:\n    from .a import X\nelse:\n    import json\n",
    })
    assert cycles(graph(root)) == []
