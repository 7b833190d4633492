"""Live validation: the graph's own ``check()`` turned into canvas marks, a list and a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ...core.diagnostics import Diagnostic
    from ...core.graph import Graph

__all__ = ["Validation", "summary_html", "summary_text", "validate"]

EdgeKey = tuple[str, str]
CYCLE = "E030"  # the check's code for a cycle


@dataclass
class Validation:
    """What ``graph.check()`` said, indexed by node and edge for the canvas."""

    diagnostics: list["Diagnostic"]
    where: str = "graph"
    node_messages: dict[str, list["Diagnostic"]] = field(default_factory=dict)
    edge_messages: dict[EdgeKey, list["Diagnostic"]] = field(default_factory=dict)

    @property
    def errors(self) -> list["Diagnostic"]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def graph_messages(self) -> list["Diagnostic"]:
        """Problems of the graph as a whole (naming no node or edge), e.g. no response sink."""
        return [d for d in self.diagnostics if d.node is None and d.edge is None]

    def node_level(self, name: str) -> str | None:
        return _level(self.node_messages.get(name, []))

    def edge_level(self, key: EdgeKey) -> str | None:
        return _level(self.edge_messages.get(key, []))

    def node_problems(self, name: str) -> str:
        return "\n".join(_line(d) for d in self.node_messages.get(name, []))

    def edge_problems(self, key: EdgeKey) -> str:
        return "\n".join(_line(d) for d in self.edge_messages.get(key, []))

    def list_html(self) -> str:
        """Every problem as a list (or a green "valid" line)."""
        if not self.diagnostics:
            return '<div class="hogar-editor-valid" style="color:#2e7d32;font-size:13px">✓ valid graph</div>'
        from ..diagnostics_view import DiagnosticsBox

        # no source text: the graph was edited, line numbers would point at the old text
        return DiagnosticsBox(self.diagnostics, filename=self.where)._repr_html_()


def _level(diags: list["Diagnostic"]) -> str | None:
    if not diags:
        return None
    return "error" if any(d.is_error for d in diags) else "warning"


def _line(d: "Diagnostic") -> str:
    text = f"{d.severity}[{d.code}]: {d.message}"
    return f"{text} (hint: {d.hint})" if d.hint else text


def validate(graph: "Graph") -> Validation:
    """Check ``graph`` and index the diagnostics by the node or edge they name."""
    result = Validation(graph.check(), f"graph {graph.name}")
    for d in result.diagnostics:
        if d.node is not None:
            result.node_messages.setdefault(d.node, []).append(d)
        if d.edge is not None:
            result.edge_messages.setdefault(tuple(d.edge), []).append(d)
        if d.code == CYCLE:
            for key in _cycle_edges(graph):
                if d not in result.edge_messages.setdefault(key, []):
                    result.edge_messages[key].append(d)
    return result


def _cycle_edges(graph: "Graph") -> list[EdgeKey]:
    """Every edge on a cycle: the check names one edge per cycle, the canvas marks them all
    (so the edge the user just drew is marked whichever one the check picked)."""
    import networkx as nx

    g = nx.DiGraph(e.key for e in graph.edges)
    where = {n: i for i, comp in enumerate(nx.strongly_connected_components(g)) for n in comp}
    return [e.key for e in graph.edges if where.get(e.src) == where.get(e.dst) is not None]


def summary_html(graph: "Graph", validation: Validation) -> str:
    """The analysis summary of a valid graph (bottleneck, max rate, resources)."""
    if not validation.ok:
        n = len(validation.errors)
        return f'<div style="color:#d32f2f;font-size:13px">{n} error{"s" * (n != 1)}: fix them to see the analysis</div>'
    from ..summary_view import AnalysisSummary

    # folded: the headline (stages, bottleneck, max rate, resources) is what a glance needs
    return AnalysisSummary(graph)._repr_html_().replace('class="hogar-analysis" open', 'class="hogar-analysis"', 1)


def summary_text(graph: "Graph", validation: Validation) -> str:
    """Plain-text form of :func:`summary_html` (for tests and text frontends)."""
    import re

    return re.sub(r"<[^>]+>", "", summary_html(graph, validation))
