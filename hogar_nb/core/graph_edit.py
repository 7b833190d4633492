"""The editing half of :class:`~hogar_nb.core.graph.Graph`: every change keeps the model
consistent, checks names and values as the graph language does, and bumps the revision."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import GraphEditError, UDGLError
from .coerce import CoerceError, coerce
from .diagnostics import did_you_mean
from .kinds import EDGE_ATTRS, KINDS, attrs_for_kind
from .model import Edge, Node, Template

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["GraphEditing"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")  # dotted: a subgraph's nodes


def _check_name(name: str, what: str = "node") -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise GraphEditError(
            f"got {name!r} for a {what} name; expected letters, digits and _ not starting with a digit"
        )


class GraphEditing:
    """Editing methods of a Graph (mixed into :class:`~hogar_nb.core.graph.Graph`)."""

    # the graph's data, which Graph.__init__ sets
    name: str
    header: bool
    description: str | None
    params: dict[str, Any]
    defaults: dict[str, Any]
    templates: dict[str, Template]
    nodes: dict[str, Node]
    edges: list[Edge]
    cluster: dict[str, Any] | None
    cluster_spans: dict[str, Any]
    namespace: Mapping[str, Any] | None
    incomplete: set[str]
    revision: int

    if TYPE_CHECKING:  # pragma: no cover - Graph's reading methods
        def node(self, name: str) -> Node: ...
        def edge(self, src: str, dst: str) -> Edge: ...

    # ------------------------------------------------------------------ editing
    _CONTENT = (
        "name", "header", "description", "params", "param_spans", "defaults", "defaults_spans",
        "templates", "nodes", "edges", "cluster", "cluster_spans", "attrs", "attr_spans", "source",
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
        self, src: str, dst: str, *, when: str | None = None, weight: Any = None, mirror: Any = None
    ) -> Edge:
        """Add the edge ``src -> dst`` (cycles are allowed here; :meth:`check` reports them)."""
        self.node(src)
        self.node(dst)
        if any(e.src == src and e.dst == dst for e in self.edges):
            raise GraphEditError(f"the edge `{src} -> {dst}` already exists")
        edge = Edge(src, dst)
        self._set_edge_fields(edge, when=when, weight=weight, mirror=mirror)
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
                    f"edges have no attribute `{key}`; they have `when`, `weight` and `mirror`"
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
