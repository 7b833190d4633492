"""UDGL v1: the User Defined Graph Language (parser, builder, formatter)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ...errors import UDGLError
from ..diagnostics import Diagnostic, limit, sort_key
from ..graph import Graph

if TYPE_CHECKING:  # pragma: no cover
    from .statement_cache import StatementCache

__all__ = ["compile_udgl", "parse_udgl", "parse_value"]


def _decode(text: str | bytes) -> tuple[str, list[Diagnostic]]:
    """Text as the parser reads it: bytes as UTF-8, exactly as the command line reads a
    file (bad bytes are an E004, never silently replaced); input over the size limit is
    an E007 and is not read at all."""
    from ..source import MAX_SOURCE_BYTES, decode_source, too_large

    if len(text) > MAX_SOURCE_BYTES:
        return "", [too_large(len(text))]
    if isinstance(text, (bytes, bytearray)):
        return decode_source(bytes(text))
    return text, []


def compile_udgl(
    text: str | bytes,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    base_dir: str | Path | None = None,
    statements: "StatementCache | None" = None,
) -> tuple[Graph | None, list[Diagnostic]]:
    """Parse and check ``text``; the graph comes back even when it has semantic errors.

    The graph is None only when the text could not be read into one (syntax errors).
    Diagnostics are sorted by position and include warnings. Relative paths (model
    artifacts, included graphs) are read from ``base_dir`` (default: the working
    directory). An editor that compiles its text after every change passes the same
    ``statements`` cache each time: only the statements that changed are parsed again.
    """
    from .builder import build_graph
    from .grammar import parse_statements

    text, diags = _decode(text)
    if diags:
        return None, diags
    broken: set[str] = set()
    if statements is not None:
        records = statements.parse(text, diags, broken)
    else:
        records = parse_statements(text, diags, broken)
    syntax_failed = any(d.is_error for d in diags)
    graph, build_diags = build_graph(records, params, namespace, broken,
                                     Path(base_dir) if base_dir is not None else None, compile_udgl)
    diags.extend(build_diags)
    graph.source = text
    graph.base_dir = Path(base_dir) if base_dir is not None else None
    graph.incomplete |= broken  # statements dropped whole ("" when they declared nothing)
    if any(d.code in ("E006", "E007") for d in diags):
        graph.incomplete.add("")  # reading stopped early: the rest is unknown
    # Statements that failed to parse left what they clearly said (see salvage) and
    # marked the rest incomplete, so the structural checks run on what is there
    # without repeating the syntax errors.
    diags.extend(graph.check())
    diags.sort(key=sort_key)
    return (None if syntax_failed else graph), limit(diags)


def parse_udgl(
    text: str | bytes,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> Graph:
    """Parse a UDGL text into a checked :class:`Graph`.

    ``params`` override the text's ``param`` defaults; ``namespace`` (a notebook's
    variables) supplies ``$name`` values the text does not declare and the functions
    bare-name ``impl``\\ s refer to. Raises :class:`UDGLError` listing every problem.
    """
    graph, diags = compile_udgl(text, params, namespace, base_dir)
    if graph is None or any(d.is_error for d in diags):
        raise UDGLError(diags, graph.source if graph is not None else _decode(text)[0])
    return graph


def parse_value(text: str) -> Any:
    from .values_parser import parse_value as _parse_value

    return _parse_value(text)
