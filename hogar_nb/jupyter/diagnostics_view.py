"""Diagnostics as a readable box: HTML for JupyterLab / Notebook, plain text elsewhere."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Iterable

from .style import ERROR_COLOUR, WARNING_COLOUR

if TYPE_CHECKING:  # pragma: no cover
    from ..core.diagnostics import Diagnostic

__all__ = ["DIAGNOSTICS_CLASS", "DiagnosticsBox"]

#: CSS class of the HTML box (one ``.hogar-diagnostic`` element per problem inside).
DIAGNOSTICS_CLASS = "hogar-diagnostics"


class DiagnosticsBox:
    """Every diagnostic with its position, source line, caret and hint.

    Displayed by IPython: frontends that render HTML get the box, others the same
    text ``hogar check`` prints.
    """

    def __init__(
        self,
        diagnostics: Iterable["Diagnostic"],
        source: str | None = None,
        filename: str = "<udgl>",
    ) -> None:
        from ..core.diagnostics import sort_key

        self.diagnostics = sorted(diagnostics, key=sort_key)
        self.source = source
        self.filename = filename

    @property
    def errors(self) -> list["Diagnostic"]:
        return [d for d in self.diagnostics if d.is_error]

    def summary(self) -> str:
        n_err = len(self.errors)
        n_warn = sum(d.severity == "warning" for d in self.diagnostics)
        text = f"{n_err} error{'s' * (n_err != 1)}"
        if n_warn:
            text += f", {n_warn} warning{'s' * (n_warn != 1)}"
        return text

    def __repr__(self) -> str:
        from ..core.diagnostics import render_text

        return render_text(self.diagnostics, self.source, self.filename)

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython's plain-text printer
        p.text(repr(self))

    def _repr_html_(self) -> str:
        colour = ERROR_COLOUR if self.errors else WARNING_COLOUR
        items = "".join(self._item_html(d) for d in self.diagnostics)
        return (
            f'<div class="{DIAGNOSTICS_CLASS}" style="border:1px solid {colour};'
            f"border-left:6px solid {colour};border-radius:4px;padding:6px 10px;margin:4px 0;"
            f'font-family:sans-serif;font-size:13px;background:#fff">'
            f'<div style="font-weight:bold;color:{colour};margin-bottom:4px">'
            f"{escape(self.summary())}</div>{items}</div>"
        )

    def _item_html(self, d: "Diagnostic") -> str:
        colour = ERROR_COLOUR if d.is_error else WARNING_COLOUR
        where = f"line {d.line}, column {d.column}" if d.line is not None else escape(self.filename)
        head = (
            f'<span style="color:{colour};font-weight:bold">{escape(d.severity)}[{escape(d.code)}]</span> '
            f'<span style="color:#555">{where}</span>: {escape(d.message)}'
        )
        snippet = d.snippet(self.source)
        body = (
            f'<pre class="hogar-snippet" style="margin:2px 0 2px 0;padding:4px 6px;background:#f6f6f6;'
            f'border-radius:3px;font-size:12px;line-height:1.3">{escape(snippet)}</pre>'
            if snippet
            else ""
        )
        hint = (
            f'<div class="hogar-hint" style="color:#2e7d32">hint: {escape(d.hint)}</div>' if d.hint else ""
        )
        return (
            f'<div class="hogar-diagnostic" data-code="{escape(d.code)}" '
            f'data-severity="{escape(d.severity)}" style="margin:4px 0">{head}{body}{hint}</div>'
        )
