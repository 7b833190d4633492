"""The one exception tree of hogar_nb.

    HogarError                      root of everything hogar_nb raises on purpose
    ├── DiagnosticError             carries a list of :class:`Diagnostic` (ValueError)
    │   ├── UDGLError               a UDGL text has errors
    │   └── EARGError               an EARG document has errors
    ├── GraphEditError              an editing call on a Graph is invalid (ValueError)
    └── HogarRuntimeError           the embedded engine (see hogar_nb.runtime.errors)

Layers below add their own subclasses; nothing else is raised at users on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .core.diagnostics import Diagnostic

__all__ = [
    "DiagnosticError",
    "EARGError",
    "GraphEditError",
    "HogarError",
    "HogarRuntimeError",
    "UDGLError",
]


class HogarError(Exception):
    """Root of every error hogar_nb raises on purpose."""


class DiagnosticError(HogarError, ValueError):
    """Input had problems; ``.diagnostics`` lists each one with its position."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        source: str | None = None,
        filename: str = "<udgl>",
    ) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.source = source
        self.filename = filename
        n = sum(d.severity == "error" for d in self.diagnostics)
        super().__init__(f"{filename}: {n} error{'s' * (n != 1)}")  # the full report: str(err)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def render(self) -> str:
        from .core.diagnostics import render_text

        return render_text(self.diagnostics, self.source, self.filename)

    def __str__(self) -> str:
        return self.render()


class UDGLError(DiagnosticError):
    """A UDGL text has errors (syntax or meaning)."""


class EARGError(DiagnosticError):
    """An EARG document has errors (shape, types, references or meaning)."""

    def __init__(self, diagnostics: Iterable[Diagnostic], source: str | None = None,
                 filename: str = "<earg>") -> None:
        super().__init__(diagnostics, source, filename)


class GraphEditError(HogarError, ValueError):
    """An editing call on a Graph names something that does not exist or clashes."""


class HogarRuntimeError(HogarError, RuntimeError):
    """Root of the embedded engine's errors."""
