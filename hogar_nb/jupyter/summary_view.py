"""The analysis summary under a ``%%udgl`` cell and plain message boxes."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .style import ERROR_COLOUR

if TYPE_CHECKING:  # pragma: no cover
    from ..core.graph import Graph

__all__ = ["AnalysisSummary", "MessageBox"]


class AnalysisSummary:
    """``graph.analyze()`` shown as HTML (headline + tables) or as its plain-text summary."""

    def __init__(self, graph: "Graph") -> None:
        self.graph = graph
        self.analysis = graph.analyze()

    def headline(self) -> str:
        """One line: stages, bottleneck and maximum rate, total resources."""
        from ..core.values import format_size

        a = self.analysis
        parts = [f"{len(a.stages)} stage{'s' * (len(a.stages) != 1)}"]
        if a.bottleneck is not None and a.max_rate_rps is not None:
            parts.append(f"bottleneck {a.bottleneck} at {a.max_rate_rps:,.1f} req/s")
        r = a.resources
        parts.append(f"{r.replicas} replicas, cpu {r.cpu:g}, gpu {r.gpu:g}, memory {format_size(r.memory_bytes) if r.memory_bytes else '0B'}")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return self.analysis.summary()

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        head = self.headline()
        return (
            '<details class="hogar-analysis" open style="font-family:sans-serif;font-size:13px">'
            f"<summary><b>Analysis</b>{': ' + escape(head) if head else ''}</summary>"
            f'<pre style="font-size:12px;line-height:1.3;margin:4px 0">{escape(self.analysis.summary())}</pre>'
            "</details>"
        )


class MessageBox:
    """A short message (e.g. the engine could not start) without any traceback."""

    def __init__(self, title: str, text: str, level: str = "error") -> None:
        self.title, self.text, self.level = title, text, level

    def __repr__(self) -> str:
        return f"{self.title}\n{self.text}" if self.text else self.title

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        colour = ERROR_COLOUR if self.level == "error" else "#2e7d32"
        body = (
            f'<pre style="margin:2px 0;font-size:12px;white-space:pre-wrap">{escape(self.text)}</pre>'
            if self.text
            else ""
        )
        return (
            f'<div class="hogar-message hogar-{escape(self.level)}" style="border-left:6px solid {colour};'
            f'padding:4px 10px;font-family:sans-serif;font-size:13px">'
            f'<b style="color:{colour}">{escape(self.title)}</b>{body}</div>'
        )
