"""Check an uploaded or pasted graph with the core: a Graph, or diagnostics to show."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.diagnostics import Diagnostic

__all__ = ["CheckedUpload", "check_upload", "guess_format"]

_EARG_KEYS = re.compile(r"^\s*(earg|version|name|nodes|edges|defaults)\s*:", re.MULTILINE)
_UDGL_START = re.compile(r"^\s*(graph|source|python|model|switch|split|ensemble|sink|param|defaults\s*\{|template)\b",
                         re.MULTILINE)


@dataclass
class CheckedUpload:
    """What the core made of an upload: ``graph`` when it has no errors."""

    text: str
    format: str
    filename: str
    graph: Any = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.graph is not None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def guess_format(text: str, filename: str = "") -> str:
    """"earg" for a .yaml/.yml/.json file or a text that reads like EARG, else "udgl"."""
    from ..core.source import EARG_SUFFIXES

    lowered = filename.lower()
    if lowered.endswith(EARG_SUFFIXES):
        return "earg"
    if lowered.endswith(".udgl"):
        return "udgl"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return "earg"
    earg = _EARG_KEYS.search(text)
    udgl = _UDGL_START.search(text)
    if earg and (not udgl or earg.start() < udgl.start()):
        return "earg"
    return "udgl"


def _diag(code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code, "error", message, hint=hint)


def check_upload(data: bytes, filename: str = "", fmt: str = "auto", max_bytes: int | None = None,
                 size: int | None = None) -> CheckedUpload:
    """Decode and check ``data`` (``size``: the whole upload's, when only its start was read);
    never raises for bad input."""
    from ..core.source import decode_source
    from ..errors import DiagnosticError

    name = filename or "<pasted>"
    size = max(len(data), size or 0)
    if max_bytes is not None and size > max_bytes:
        return CheckedUpload("", fmt, name, diagnostics=[_diag(
            "E001", f"the upload is {size:,} bytes; the largest accepted is {max_bytes:,} bytes",
            "split the graph or raise HOGAR_CONSOLE_MAX_UPLOAD")])
    if not data.strip():
        return CheckedUpload("", fmt, name, diagnostics=[_diag(
            "E001", "the upload is empty", "choose a .udgl, .yaml or .json file, or paste the text")])
    if b"\x00" in data[:8192]:
        return CheckedUpload("", fmt, name, diagnostics=[_diag(
            "E004", "this is a binary file, not a graph",
            "upload a UDGL text (.udgl) or an EARG document (.yaml or .json)")])
    text, diags = decode_source(data)
    if fmt not in ("udgl", "earg"):
        fmt = guess_format(text, filename)
    result = CheckedUpload(text, fmt, name)
    if diags:
        result.diagnostics = diags
        return result
    from ..core.source import without_files

    try:
        with without_files():  # an upload names no file of this machine: no `use`, no artifact read
            if fmt == "earg":
                from ..core.earg import loads_earg

                graph = loads_earg(text, filename=name)  # the text itself, never a path
            else:
                from ..core.udgl import parse_udgl

                graph = parse_udgl(text)
            result.diagnostics = list(graph.check())
    except DiagnosticError as err:
        result.diagnostics = err.diagnostics
        return result
    except RecursionError:
        result.diagnostics = [_diag("E001", "the text nests too deeply to read", "flatten the nesting")]
        return result
    if not any(d.is_error for d in result.diagnostics):
        result.graph = graph
    return result
