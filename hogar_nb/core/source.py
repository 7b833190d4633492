"""Read graph files: bytes to text without ever raising on bad encodings."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import HogarError
from .diagnostics import Diagnostic

__all__ = ["EARG_SUFFIXES", "decode_source", "load_graph_file"]

EARG_SUFFIXES = (".yaml", ".yml", ".json")


def decode_source(data: bytes) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text of ``data``; bytes that are not UTF-8 become U+FFFD and one diagnostic."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        text = data.decode("utf-8", errors="replace")
        before = data[: err.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return text, [Diagnostic(
            "E004", "error", f"the file is not valid UTF-8 (byte 0x{data[err.start]:02x})",
            line, column, line, column + 1, hint="save the file as UTF-8",
        )]


def load_graph_file(
    path: str | Path,
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
):
    """Parse a UDGL file, or load an EARG file (by its suffix); raises DiagnosticError."""
    from ..errors import UDGLError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise HogarError(f"cannot read {path}: {err.strerror or err}") from None
    text, diags = decode_source(data)
    if path.suffix.lower() in EARG_SUFFIXES:
        from .earg import load_earg

        if diags:
            from ..errors import EARGError

            raise EARGError(diags, text, str(path))
        return load_earg(text, filename=str(path))
    from .udgl import parse_udgl

    if diags:
        raise UDGLError(diags, text, str(path))
    try:
        return parse_udgl(text, params=params, namespace=namespace)
    except UDGLError as err:
        raise UDGLError(err.diagnostics, text, str(path)) from None
