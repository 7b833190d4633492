"""The one graph model every layer shares: the parser builds it, the editor edits it,
the exporter writes it, the runtime runs it and the panels draw it."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ..errors import GraphEditError, UDGLError
from .coerce import CoerceError, coerce
from .diagnostics import Diagnostic, did_you_mean
from .kinds import EDGE_ATTRS, KINDS, attrs_for_kind
from .model import Edge, Node, ResolvedNode, Template
from .resolve import Resolution, resolve_graph

if TYPE_CHECKING:  # pragma: no cover
    from .analysis import Analysis

__all__ = ["DEFAULT_NAME", "Graph"]

DEFAULT_NAME = "graph"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _check_name(name: str, what: str = "node") -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise GraphEditError(
            f"got {name!r} for a {what} name; expected letters, digits and _ not starting with a digit"
        )


class Graph:
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
        self.defaults: dict[str, Any] = {}
        self.defaults_spans: dict[str, Any] = {}
        self.templates: dict[str, Template] = {}
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.cluster: dict[str, Any] | None = None
        self.cluster_spans: dict[str, Any] = {}
        self.source: str | None = None
        self.namespace: Mapping[str, Any] | None = None
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
    def _cached(self, key: str, make):
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
        from .earg.export import graph_to_earg

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
        for attr in ("params", "param_spans", "defaults", "defaults_spans", "cluster_spans", "incomplete"):
            setattr(clone, attr, copy.copy(getattr(self, attr)))  # dicts, and the incomplete set
        clone.templates = {k: copy.deepcopy(v) for k, v in self.templates.items()}
        clone.nodes = {k: copy.deepcopy(v) for k, v in self.nodes.items()}
        clone.edges = [copy.deepcopy(e) for e in self.edges]
        clone.cluster = dict(self.cluster) if self.cluster is not None else None
        clone._cache = {}
        return clone

    # ------------------------------------------------------------------ editing
    _CONTENT = (
        "name", "header", "description", "params", "param_spans", "defaults", "defaults_spans",
        "templates", "nodes", "edges", "cluster", "cluster_spans", "source",
    )

    def _touch(self) -> None:
        self.revision += 1
        self.incomplete = set()  # after an edit the model is what it says

    def restore(self, snapshot: "Graph") -> None:
        """Make this graph equal to ``snapshot`` (an undo step), keeping its identity."""
        clone = snapshot.copy()
        for attr in self._CONTENT:
            setattr(self, attr, getattr(clone, attr))
        self._touch()

    def add_node(
        self,
        name: str,
        kind: str,
        *,
        template: str | None = None,
        position: tuple[float, float] | None = None,
        **attrs: Any,
    ) -> Node:
        """Add a node of a built-in ``kind`` (or a template's name) with attributes."""
        _check_name(name)
        if name in self.nodes:
            raise GraphEditError(f"a node named `{name}` already exists")
        if kind in self.templates:
            template, kind = kind, self.templates[kind].kind
        if kind not in KINDS:
            hint = did_you_mean(kind, [*KINDS, *self.templates])
            raise GraphEditError(f"unknown kind `{kind}`{'; ' + hint if hint else ''}")
        node = Node(name, kind, template=template, position=position)
        self.nodes[name] = node
        try:
            for key, value in attrs.items():
                self._store_attr(node, key, value)
        except GraphEditError:
            del self.nodes[name]
            raise
        self._touch()
        return node

    def remove_node(self, name: str) -> None:
        """Remove a node and every edge touching it."""
        self.node(name)
        del self.nodes[name]
        self.edges = [e for e in self.edges if e.src != name and e.dst != name]
        self._touch()

    def rename_node(self, old: str, new: str) -> None:
        node = self.node(old)
        _check_name(new)
        if new in self.nodes and new != old:
            raise GraphEditError(f"a node named `{new}` already exists")
        self.nodes = {(new if k == old else k): v for k, v in self.nodes.items()}
        node.name = new
        for e in self.edges:
            if e.src == old:
                e.src = new
            if e.dst == old:
                e.dst = new
        self._touch()

    def connect(
        self, src: str, dst: str, *, when: str | None = None, weight: Any = None
    ) -> Edge:
        """Add the edge ``src -> dst`` (cycles are allowed here; :meth:`check` reports them)."""
        self.node(src)
        self.node(dst)
        if any(e.src == src and e.dst == dst for e in self.edges):
            raise GraphEditError(f"the edge `{src} -> {dst}` already exists")
        edge = Edge(src, dst)
        self._set_edge_fields(edge, when=when, weight=weight)
        self.edges.append(edge)
        self._touch()
        return edge

    def disconnect(self, src: str, dst: str) -> None:
        edge = self.edge(src, dst)
        self.edges.remove(edge)
        self._touch()

    def set_edge(self, src: str, dst: str, **fields: Any) -> Edge:
        """Set ``when`` and/or ``weight`` of an edge (None clears)."""
        edge = self.edge(src, dst)
        self._set_edge_fields(edge, **fields)
        self._touch()
        return edge

    def _set_edge_fields(self, edge: Edge, **fields: Any) -> None:
        for key, value in fields.items():
            if key not in EDGE_ATTRS:
                raise GraphEditError(
                    f"edges have no attribute `{key}`; they have `when` and `weight`"
                )
            if value is None:
                setattr(edge, key, None)
                edge.attrs.pop(key, None)
                continue
            value = _parse_text_value(value, EDGE_ATTRS[key].type)
            try:
                setattr(edge, key, coerce(EDGE_ATTRS[key], value))
            except CoerceError as err:
                raise GraphEditError(err.message) from None
            edge.attrs[key] = value

    def set_attr(self, node: str, attr: str, value: Any) -> None:
        """Set one attribute of a node. ``value`` is a Python value or UDGL text such as ``"250ms"``."""
        n = self.node(node)
        self._store_attr(n, attr, value)
        self._touch()

    def unset_attr(self, node: str, attr: str) -> None:
        n = self.node(node)
        n.attrs.pop(attr, None)
        n.attr_spans.pop(attr, None)
        self._touch()

    def _store_attr(self, node: Node, attr: str, value: Any) -> None:
        allowed = attrs_for_kind(node.kind)
        spec = allowed.get(attr)
        if spec is None:
            hint = did_you_mean(attr, allowed)
            raise GraphEditError(
                f"{node.kind} nodes have no attribute `{attr}`{'; ' + hint if hint else ''}"
            )
        node.attrs[attr] = _checked_value(spec, value, f"node `{node.name}`")
        node.attr_spans.pop(attr, None)

    def set_position(self, node: str, x: float, y: float) -> None:
        """Layout metadata only: does not change what the graph means."""
        self.node(node).position = (float(x), float(y))
        self._touch()

    def set_name(self, name: str) -> None:
        """The graph's name (the UDGL header's, and EARG ``name``)."""
        _check_name(name, "graph")
        self.name = name
        self.header = True
        self._touch()

    def adopt_name(self, name: str) -> None:
        """Name a graph that has no header after what holds it (a notebook variable, a
        file's stem); a graph whose name was given keeps it. Not an edit: the UDGL text
        still has no header."""
        if self.header or not isinstance(name, str):
            return
        name = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if name and not name[0].isdigit():
            self.name = name

    def set_description(self, text: str | None) -> None:
        """The header's description; None or "" removes it."""
        self.description = str(text) if text else None
        self._touch()

    def set_param(self, name: str, value: Any) -> None:
        """Set a param's value: a value UDGL can write (not a ``$param`` reference)."""
        from .values import ParamRef, contains, format_value

        _check_name(name, "param")
        if contains(value, ParamRef):
            raise GraphEditError(f"the value of param `{name}` cannot refer to another param")
        try:
            format_value(value)
        except (TypeError, ValueError) as err:
            raise GraphEditError(f"param `{name}`: {err}") from None
        self.params[name] = value
        self._resolve_edges()
        self._touch()

    def _resolve_edges(self) -> None:
        """Edge ``when``/``weight`` values again from what was written (after a param changed)."""
        from .resolve import _Params, substitute
        from .values import ParamRef, contains

        lookup = _Params(self.params, self.namespace)
        for edge in self.edges:
            for key, raw in edge.attrs.items():
                if key in EDGE_ATTRS and contains(raw, ParamRef):
                    try:
                        setattr(edge, key, coerce(EDGE_ATTRS[key], substitute(raw, lookup)))
                    except CoerceError:
                        setattr(edge, key, None)

    def set_default(self, attr: str, value: Any | None) -> None:
        from .kinds import COMMON_ATTRS

        if attr not in COMMON_ATTRS:
            raise GraphEditError(f"`defaults` has no attribute `{attr}`")
        if value is None:
            self.defaults.pop(attr, None)
        else:
            self.defaults[attr] = _checked_value(COMMON_ATTRS[attr], value, "`defaults`")
        self._touch()

    def set_cluster(self, **attrs: Any) -> None:
        """Describe the machines: ``set_cluster(workers=3, cpu=8, gpu=1, memory="32GiB")``."""
        from .kinds import CLUSTER_ATTRS

        cluster: dict[str, Any] = {}
        for key, value in attrs.items():
            if key not in CLUSTER_ATTRS:
                raise GraphEditError(f"`cluster` has no attribute `{key}`")
            cluster[key] = _checked_value(CLUSTER_ATTRS[key], value, "`cluster`")
        self.cluster = cluster or None
        self.cluster_spans = {}
        self._touch()


def _checked_value(spec: Any, value: Any, where: str) -> Any:
    """``value`` (Python or UDGL text) as the model keeps it, refused early when its type,
    unit or range is wrong; ``$param`` references are checked once resolved."""
    from .values import ParamRef, contains

    value = _parse_text_value(value, spec.type)
    if not contains(value, ParamRef):
        try:
            coerce(spec, value)
        except CoerceError as err:
            raise GraphEditError(f"{err.message} ({where})") from None
    return value


def _parse_text_value(value: Any, type_: str) -> Any:
    """Let editors pass UDGL text ("250ms", "restart(max = 3)") for typed attributes."""
    if not isinstance(value, str) or type_ in ("string", "impl", "combine"):
        return value
    from .udgl.values_parser import parse_value

    try:
        return parse_value(value)
    except UDGLError as err:
        raise GraphEditError(f"cannot read {value!r}: {err.diagnostics[0].message}") from None
