"""A graph file read into a Graph: UDGL parsed, EARG (``.yaml``, ``.yml``, ``.json``) loaded;
and the ``NAME=VALUE`` param overrides every command that reads one accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import DiagnosticError, EARGError, HogarError, UDGLError
from .earg import loads_earg
from .graph import Graph
from .source import EARG_SUFFIXES, decode_source, read_limited
from .udgl import parse_udgl

__all__ = ["load_graph_file", "param_overrides"]


def load_graph_file(
    path: str | Path,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
) -> Graph:
    """Parse a UDGL file, or load an EARG file (by its suffix); raises DiagnosticError."""
    path = Path(path)
    data, problems = read_limited(path)
    if data is None:
        if problems[0].code == "E100":
            raise HogarError(problems[0].message) from None
        raise DiagnosticError(problems, None, str(path))
    text, diags = decode_source(data)
    if path.suffix.lower() in EARG_SUFFIXES:
        if diags:
            raise EARGError(diags, text, str(path))
        loaded = loads_earg(text, filename=str(path))
        loaded.base_dir = path.parent
        loaded._cache.clear()  # artifacts are read from the file's folder from now on
        return loaded
    if diags:
        raise UDGLError(diags, text, str(path))
    from .udgl.subgraphs import compiling

    try:
        with compiling(path):
            graph = parse_udgl(text, params=params, namespace=namespace, base_dir=path.parent)
    except UDGLError as err:
        raise UDGLError(err.diagnostics, text, str(path)) from None
    graph.adopt_name(path.stem)
    return graph


def param_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """Params from ``NAME=VALUE`` texts (``--param threshold=0.9``), each value read as a
    UDGL value; a bare word that is not one is taken as text."""
    from .udgl.values_parser import parse_value

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise HogarError(f"got {pair!r} for --param; expected NAME=VALUE, e.g. threshold=0.9")
        try:
            params[key.strip()] = parse_value(raw)
        except DiagnosticError:
            params[key.strip()] = raw
    return params
