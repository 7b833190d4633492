"""What the check before start would say about a graph, without starting it.

``hogar check`` and the console's upload use it so that they say what ``hogar serve``
would: an impl whose module cannot be imported, a bare name that only a notebook can
resolve, a model artifact that does not exist. Python impls are imported (as starting
would); model artifacts are looked for, never loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core.diagnostics import Diagnostic
from .errors import DeploymentConfigError
from .plan import build_plan

__all__ = ["READINESS_CODE", "startup_diagnostics", "startup_problems"]

READINESS_CODE = "W040"


@contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """Impls next to the graph file import, as they do for ``hogar serve``."""
    entry = str(folder.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def startup_problems(doc: Mapping[str, Any], base_dir: str | Path,
                     namespace: Mapping[str, Any] | None = None,
                     load_models: bool = False) -> list[tuple[str | None, str]]:
    """``(node, message)`` for each reason the graph's EARG document would not start.

    Pickled models are read for their types only with ``load_models`` (reading one
    runs code from it); starting always reads them."""
    folder = Path(base_dir)
    with _importable(folder):
        try:
            build_plan(doc, namespace, folder, load_models=load_models)
        except DeploymentConfigError as exc:
            return exc.problems or [(None, str(exc))]
    return []


def startup_diagnostics(graph: Any, base_dir: str | Path,
                        namespace: Mapping[str, Any] | None = None,
                        load_models: bool = False) -> list[Diagnostic]:
    """The problems of :func:`startup_problems` for a checked graph, as warnings at each node."""
    out = []
    for node, message in startup_problems(graph.to_earg(), base_dir, namespace, load_models):
        where = graph.nodes.get(node) if node else None
        out.append(Diagnostic.at(
            READINESS_CODE, f"it would not start: {message}", where.span if where else None,
            severity="warning", node=node,
            hint="hogar serve and run() check this before starting; `hogar check --strict` fails on it"))
    return out
