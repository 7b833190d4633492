"""EARG config v1: the deployable form of a graph (its document, JSON Schema, dump, load).

    dump_earg(graph, format="yaml") -> str     YAML or JSON text, deterministic
    load_earg(path) -> Graph                   a file, safely loaded; EARGError with diagnostics
    loads_earg(text) -> Graph                  the same for a document held in a string
    earg_schema() -> dict                      the shipped JSON Schema (Draft 2020-12)
    validate_earg(doc) -> list[Diagnostic]     schema and reference problems of a dict
"""

from __future__ import annotations

from .dump import dump_earg
from .document import graph_to_earg
from .load import load_earg, loads_earg, validate_earg
from .schema import earg_schema

__all__ = ["dump_earg", "earg_schema", "graph_to_earg", "load_earg", "loads_earg", "validate_earg"]
