"""The README's code runs as written: its notebook cells and Python blocks, in order,
in one headless IPython shell, and every name it imports from hogar_nb exists.

A block the README marks ``<!-- not run headless -->`` (one that needs a browser or a
server of its own) is left out. The README's own cells make the ``build_features``
function and the model file its graph names, so it runs as a reader types it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_FENCE = re.compile(r"(<!-- not run headless -->\s*)?```(\w+)\n(.*?)```", re.S)


def _cells() -> list[str]:
    cells = []
    for skip, lang, body in _FENCE.findall(README):
        if skip:
            continue
        if lang == "python" or (lang == "text" and body.startswith("%%")):
            cells.append(body)
    return cells


def _udgl_cell() -> str:
    return next(c for c in _cells() if c.startswith("%%udgl"))


def test_every_documented_import_exists() -> None:
    import hogar_nb

    names = set(re.findall(r"from hogar_nb import ([\w, ]+)", README))
    names = {n.strip() for group in names for n in group.split(",")}
    names |= set(re.findall(r"hogar_nb\.(\w+)\(", README))
    assert {"monitor", "run", "parse_udgl", "dump_earg", "load_earg", "edit"} <= names
    for name in names:
        assert name in hogar_nb.__all__ and callable(getattr(hogar_nb, name)), name


def test_readme_cells_run_in_order(ip, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    # the README's "From Python" reads the graph of its notebook cell from a file
    (tmp_path / "scoring.udgl").write_text(_udgl_cell().split("\n", 1)[1])
    cells = _cells()
    assert len(cells) >= 4
    try:
        for cell in cells:
            result = ip.run_cell(cell, silent=True)
            assert result.success, f"README cell failed:\n{cell}\n{result.error_in_exec or result.error_before_exec!r}"
        ns = ip.user_ns
        assert (tmp_path / "scoring.earg.yaml").exists() and (tmp_path / "scoring.yaml").exists()
        assert ns["same"].to_earg() == ns["g"].to_earg()
        assert ns["report"].ok > 0 and not ns["report"].errors
    finally:
        _stop_everything(ip.user_ns)


def _stop_everything(ns: dict) -> None:
    from hogar_nb.runtime.deployment import Deployment

    for key in list(ns):
        value = ns[key]
        if type(value).__name__ == "Dashboard":
            value.close()
        elif isinstance(value, Deployment) and value.running:
            value.stop()


@pytest.fixture
def ip():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or InteractiveShell.instance()
    before = set(shell.user_ns)
    yield shell
    for key in set(shell.user_ns) - before:
        shell.user_ns.pop(key, None)
