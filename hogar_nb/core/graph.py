"""The one graph model every layer shares: the parser builds it, the editor edits it,
the exporter writes it, the runtime runs it and the panels draw it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from ..errors import GraphEditError, UDGLError
from .alerts import Alert
from .diagnostics import Diagnostic, did_you_mean
from .graph_edit import GraphEditing
from .model import Edge, Node, ResolvedNode, Template
from .resolve import Resolution, resolve_graph

if TYPE_CHECKING:  # pragma: no cover
    from .analysis import Analysis

__all__ = ["DEFAULT_NAME", "Graph"]

DEFAULT_NAME = "graph"

class Graph(GraphEditing):
    """A serving graph: params, defaults, templates, nodes, edges and a cluster.

    Build one with :func:`hogar_nb.parse_udgl` or :func:`hogar_nb.load_earg` (a file) /
    :func:`hogar_nb.loads_earg` (text), or by
    hand with the editing methods (:meth:`add_node`, :meth:`connect`, ...). Every
    editing call keeps the model consistent; :meth:`check` reports what is wrong.
    """

    def __init__(self, name: str | None = None, description: str | None = None) -> None:
        #: whether the name was given (a UDGL ``graph`` header, EARG ``name``, :meth:`set_name`);
        #: an unnamed graph is called ``graph`` until :meth:`adopt_name` names it after what holds it
        self.header = name is not None
        self.name = name if name is not None else DEFAULT_NAME
        self.description = description
        self.params: dict[str, Any] = {}
        self.param_spans: dict[str, Any] = {}
        #: values the caller gave for ``$name`` references the graph does not declare (what a
        #: notebook's names would bind), e.g. ``hogar export --param NAME=VALUE``
        self.bound_params: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self.defaults_spans: dict[str, Any] = {}
        self.templates: dict[str, Template] = {}
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.cluster: dict[str, Any] | None = None
        self.cluster_spans: dict[str, Any] = {}
        #: settings of the graph as a whole (``graph NAME { trace_sample = 1% }``; see GRAPH_ATTRS)
        self.attrs: dict[str, Any] = {}
        self.attr_spans: dict[str, Any] = {}
        #: alert rules by name (:mod:`hogar_nb.core.alerts`)
        self.alerts: dict[str, Alert] = {}
        self.source: str | None = None
        self.namespace: Mapping[str, Any] | None = None
        #: the folder relative paths (model artifacts, included graphs) are read from;
        #: None: the working directory
        self.base_dir: Path | None = None
        #: nodes whose statement, or one of whose edges, was lost to an error already
        #: reported ("" when a lost statement named none): checks that would only repeat
        #: that error (reachability, split weights) hold back for them until an edit
        self.incomplete: set[str] = set()
        self.revision = 0
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ reading
    def __repr__(self) -> str:
        return f"<Graph {self.name!r}: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def node(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            hint = did_you_mean(name, self.nodes) or ""
            raise GraphEditError(f"no node named `{name}`{'; ' + hint if hint else ''}") from None

    def edge(self, src: str, dst: str) -> Edge:
        for e in self.edges:
            if e.src == src and e.dst == dst:
                return e
        raise GraphEditError(f"no edge `{src} -> {dst}`")

    def successors(self, name: str) -> list[str]:
        return [e.dst for e in self.edges if e.src == name]

    def predecessors(self, name: str) -> list[str]:
        return [e.src for e in self.edges if e.dst == name]

    def out_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.src == name]

    def in_edges(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == name]

    # --------------------------------------------------------------- resolution
    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        if self._cache.get("_rev") != self.revision:
            self._cache = {"_rev": self.revision}
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def resolution(self) -> Resolution:
        """Every node with defaults, template and params applied (cached until an edit)."""
        return self._cached("resolution", lambda: resolve_graph(self, self.namespace))

    def resolved(self, name: str) -> ResolvedNode:
        return self.resolution().nodes[name]

    @property
    def response(self) -> str | None:
        """The response sink's name, or None when there is none or it is ambiguous."""
        from .checks import response_sink

        return response_sink(self)[0]

    def check(self) -> list[Diagnostic]:
        """Every problem of the graph (errors and warnings), sorted by position."""
        from .checks import check_graph

        return list(self._cached("check", lambda: check_graph(self)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.check() if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def validate(self) -> "Graph":
        """Raise :class:`UDGLError` when :meth:`check` finds errors; return self."""
        errors = self.errors
        if errors:
            raise UDGLError(self.check(), self.source)
        return self

    def analyze(self) -> "Analysis":
        """Stages, critical path, capacity, bottleneck, resources and placement."""
        from .analysis import analyze

        return self._cached("analysis", lambda: analyze(self))

    # ------------------------------------------------------------------ export
    def to_earg(self) -> dict:
        """The EARG v1 document as a dict (raises UDGLError if the graph has errors)."""
        from .earg.document import graph_to_earg

        self.validate()
        return graph_to_earg(self)

    def to_udgl(self) -> str:
        """Canonical UDGL text for this graph.

        A graph read from text and not edited since is its text, formatted: every
        ``$param`` reference, template use and comment is kept. Otherwise the text is
        written from the model (references kept in attributes and edges).
        """
        if self.source is not None and self.revision == 0:
            from .udgl.source_format import format_source

            try:
                return format_source(self.source)
            except UDGLError:  # pragma: no cover - a text that parsed also lexes
                pass
        from .udgl.format import format_graph

        return format_graph(self)

    def edit(self, **options: Any) -> Any:
        """Open this graph in the drag-and-drop editor (in a notebook)."""
        from .._frontends import frontend

        return frontend("edit")(self, **options)

    def copy(self) -> "Graph":
        clone = copy.copy(self)
        for attr in ("params", "param_spans", "bound_params", "defaults", "defaults_spans", "cluster_spans",
                     "attrs", "attr_spans", "incomplete"):
            setattr(clone, attr, copy.copy(getattr(self, attr)))  # dicts, and the incomplete set
        clone.templates = {k: copy.deepcopy(v) for k, v in self.templates.items()}
        clone.nodes = {k: copy.deepcopy(v) for k, v in self.nodes.items()}
        clone.edges = [copy.deepcopy(e) for e in self.edges]
        clone.cluster = dict(self.cluster) if self.cluster is not None else None
        clone.alerts = {k: copy.deepcopy(v) for k, v in self.alerts.items()}
        clone._cache = {}
        return clone
