"""The builder's part for edges: an edge statement's attributes, and each edge of its
chain checked against the declared nodes (an instance's ends mapped to its ports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lark import Token

from ..coerce import CoerceError, coerce
from ..diagnostics import Diagnostic, Span, close_match, did_you_mean
from ..kinds import EDGE_ATTRS
from ..model import Edge
from ..resolve import _Params, substitute
from ..values import BAD_VALUE, BadValue, contains
from .transform import Record

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph
    from .subgraphs import Instance

__all__ = ["EdgeBuilding"]


def _sp(tok: Token) -> Span:
    return Span.of_token(tok)


def _named(tok: Token, name: str) -> Token:
    """``tok`` standing for ``name`` (an instance's node), at the same place."""
    return tok if str(tok) == name else Token.new_borrow_pos(tok.type, name, tok)


class EdgeBuilding:
    """Mixed into the builder: what it does with edge statements."""

    graph: "Graph"
    diags: list[Diagnostic]
    namespace: Any
    instances: "dict[str, Instance]"
    bad_names: set[str]
    reported: set[tuple[int | None, int | None]]
    edge_first: dict[tuple[str, str], Span]
    dropped: int

    @property
    def full(self) -> bool:
        raise NotImplementedError  # pragma: no cover - the builder's

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None, **kw: Any) -> None:
        raise NotImplementedError  # pragma: no cover - the builder's

    def attr_dict(self, attrs: Any, where: str) -> tuple[dict[str, Any], dict[str, Span]]:
        raise NotImplementedError  # pragma: no cover - the builder's

    def undeclared_overrides(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - the builder's

    def ports(self, tok: Token, into: bool) -> list[str] | None:
        raise NotImplementedError  # pragma: no cover - the subgraphs'

    def connect(self, rec: Record) -> None:
        values, spans = self.attr_dict(rec.attrs, "of this edge")
        fields: dict[str, Any] = {}
        written: dict[str, Any] = {}
        lookup = _Params({**self.undeclared_overrides(), **self.graph.params}, self.namespace)
        for key, raw in values.items():
            spec = EDGE_ATTRS.get(key)
            if spec is None:
                if raw is not BAD_VALUE:
                    self.error("E012", f"unknown edge attribute `{key}`", spans[key],
                               hint=did_you_mean(key, EDGE_ATTRS) or "edges take `when` (after a switch), `weight` (after a split) and `mirror`")
                continue
            written[key] = raw  # kept even when wrong: the edge has a `weight`, a bad one
            if contains(raw, BadValue):
                continue
            try:
                value = substitute(raw, lookup)
                if contains(value, BadValue):
                    continue  # a param whose own statement is broken
                fields[key] = coerce(spec, value)
            except CoerceError as err:
                self.error(err.code, err.message, spans[key], hint=err.hint)
        for left, right in zip(rec.chain, rec.chain[1:]):
            for a in left:
                for b in right:
                    self.add_edge(a, b, fields, spans, written)

    def add_edge(
        self, a: Token, b: Token, fields: dict[str, Any], spans: dict[str, Span], written: dict[str, Any],
    ) -> None:
        if self.instances and not (str(a) in self.graph.nodes and str(b) in self.graph.nodes):
            froms, tos = self.ports(a, into=False), self.ports(b, into=True)
            if froms is not None or tos is not None:
                if froms == [] or tos == []:  # a bad port (reported): the other end lost this edge
                    self.graph.incomplete.update(str(t) for t in (a, b) if str(t) in self.graph.nodes)
                for src in froms if froms is not None else [str(a)]:
                    for dst in tos if tos is not None else [str(b)]:
                        self.add_edge(_named(a, src), _named(b, dst), fields, spans, written)
                return
        ok = True
        for tok in (a, b):
            name = str(tok)
            if name not in self.graph.nodes:
                ok = False
                where = (tok.line, tok.column)
                if name in self.bad_names or where in self.reported:
                    continue
                self.reported.add(where)
                if self.full:
                    self.dropped += 1  # counted; past the report's cap no hint is worked out
                    continue
                guess = close_match(name, self.graph.nodes)
                if guess is not None:
                    self.graph.incomplete.add(guess)  # the edge was most likely meant for it
                self.error("E011", f"unknown node `{name}`", _sp(tok),
                           hint=f"did you mean `{guess}`?" if guess is not None
                           else f'declare it first, e.g. `python {name} {{ impl = "module:function" }}`')
        if not ok:
            # The edge is lost, and with it what it meant to its known end: checks that
            # depend on it (reachability, split weights) hold back for that node.
            self.graph.incomplete.update(str(t) for t in (a, b) if str(t) in self.graph.nodes)
            return
        key = (str(a), str(b))
        if key in self.edge_first:
            self.error("E017", f"the edge `{a} -> {b}` is declared twice", _sp(b),
                       hint=f"it is first declared on line {self.edge_first[key].line}", edge=key)
            return
        self.edge_first[key] = _sp(b)
        self.graph.edges.append(Edge(
            key[0], key[1], fields.get("when"), fields.get("weight"), _sp(b), _sp(a), dict(spans),
            dict(written), fields.get("mirror"),
        ))
