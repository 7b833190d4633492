"""Lint and format UDGL texts for editors: what the server extension's handlers answer.

Pure functions over the core (no Jupyter import). A text is a ``.udgl`` file or a
notebook cell; for a cell (``cell=True``) the first line is the ``%%udgl``
magic line: it is blanked before parsing, so reported lines are the editor's lines,
and ``$name`` parameters the cell does not declare are not errors (the magic takes
them from the notebook's variables when the cell runs).
"""

from __future__ import annotations

import functools
from typing import Any

from ...core.diagnostics import Diagnostic

__all__ = ["MAGIC", "editor_source", "format_text", "lint", "split_magic"]

MAGIC = "%%udgl"
_UNDEFINED_PARAM = "E023"


def split_magic(text: str) -> tuple[str, str]:
    """``(magic_line, body)`` of a cell's text; the magic line is "" when there is none."""
    if text.startswith("%%"):
        head, sep, body = text.partition("\n")
        return head, body
    return "", text


def editor_source(text: str, cell: bool) -> str:
    """The text the core reads: a cell's magic line becomes an empty line."""
    if cell:
        magic, body = split_magic(text)
        if magic:
            return "\n" + body
    return text


def _to_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "hint": d.hint,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "node": d.node,
    }


@functools.lru_cache(maxsize=1)
def _statement_cache() -> Any:
    """The statements every lint shares: an edit re-parses only what it changed."""
    from ...core.udgl.statement_cache import StatementCache

    return StatementCache()


def lint(text: str, cell: bool = False) -> dict[str, Any]:
    """Every diagnostic of ``text`` as JSON-ready dicts, sorted by position.

    Positions are 1-based, columns in characters, the end column exclusive; a
    diagnostic about the whole graph has ``line`` None. ``types`` gives each node's
    known input and output types (what a hover shows); pickled models are never read.
    Statements unchanged since an earlier lint are not parsed again.
    """
    from ...core.types import infer_types
    from ...core.udgl import compile_udgl

    graph, diags = compile_udgl(editor_source(text, cell), statements=_statement_cache())
    if cell:
        diags = [d for d in diags if d.code != _UNDEFINED_PARAM]
    types: dict[str, dict[str, str]] = {}
    if graph is not None:
        try:
            shown = ((name, t.to_dict()) for name, t in infer_types(graph).nodes.items())
            types = {name: t for name, t in shown if t}
        except Exception:  # noqa: BLE001 - a graph too broken to resolve has no types to show
            types = {}
    return {
        "diagnostics": [_to_json(d) for d in diags],
        "errors": sum(d.is_error for d in diags),
        "parsed": graph is not None,
        "types": types,
    }


def format_text(text: str, cell: bool = False) -> dict[str, Any]:
    """The canonical text (the core's formatter), or None with the errors that prevent it.

    A text that does not parse cannot be formatted; semantic errors do not stop it.
    A cell keeps its magic line; the rest is what ``hogar fmt`` prints.
    """
    from ...core.udgl import compile_udgl

    magic, body = split_magic(text) if cell else ("", text)
    graph, diags = compile_udgl(editor_source(text, cell))
    if graph is None:
        errors = [d for d in diags if d.is_error]
        return {"text": None, "changed": False, "diagnostics": [_to_json(d) for d in errors]}
    formatted = graph.to_udgl()
    if magic:
        formatted = magic + "\n" + formatted
    return {"text": formatted, "changed": formatted != text, "diagnostics": []}
