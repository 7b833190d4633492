"""Type inference along a graph and its checks: every edge, the branches of a switch
or split where they rejoin, and an ensemble's members under its combine rule.

Types flow from sources (their declared type), model artifacts (their signature) and
annotations (``input``/``output`` on any node) in topological order. A node whose
type is unknown (a python node without annotations, a callable combine) stops the
flow quietly: nothing is reported about what cannot be known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections import deque
from typing import Any

from ..diagnostics import Diagnostic
from .tensor import TensorType, Unifier
from .view import EdgeView, GraphView, NodeView

__all__ = ["NodeTypes", "TypeReport", "infer"]

#: what each code means (docs/udgl.md lists them too)
CODES = {
    "E081": "an edge's producer gives a type its consumer does not take",
    "E082": "branches of a switch or split rejoin with different types",
    "E083": "members of a `mean` or `first` ensemble give different types",
    "E084": "members of a `concat` ensemble cannot be concatenated",
    "E085": "a member of a `vote` ensemble gives no labels",
    "E086": "a declared type contradicts the model artifact's signature",
}


@dataclass(frozen=True)
class NodeTypes:
    """A node's input and output types (None: unknown) and where they came from."""

    input: TensorType | None
    output: TensorType | None
    origin: str | None = None  # "declared", "onnx", "sklearn", "xgboost", "linear", "object"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.input is not None:
            out["input"] = str(self.input)
        if self.output is not None:
            out["output"] = str(self.output)
        if self.origin is not None and out:
            out["origin"] = self.origin
        return out


@dataclass
class TypeReport:
    """Each node's types, each edge's type, and the mismatches found."""

    nodes: dict[str, NodeTypes] = field(default_factory=dict)
    edges: dict[tuple[str, str], TensorType | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _Inference:
    def __init__(self, view: GraphView) -> None:
        self.view = view
        self.u = Unifier()
        self.report = TypeReport()
        self.inputs: dict[str, list[EdgeView]] = {n: [] for n in view.nodes}
        for e in view.edges:
            self.inputs[e.dst].append(e)
        self.out: dict[str, TensorType | None] = {}

    def error(self, code: str, message: str, edge: EdgeView | None, node: NodeView, hint: str | None = None,
              span: Any = None) -> None:
        where = span if span is not None else (edge.span if edge is not None else node.span)
        self.report.diagnostics.append(Diagnostic.at(
            code, message, where, hint=hint, node=node.name, edge=(edge.src, edge.dst) if edge else None))

    def show(self, t: TensorType | None) -> str:
        return str(self.u.show(t)) if t is not None else "an untyped value"

    def run(self) -> TypeReport:
        names = _topological(self.view.nodes, self.inputs)
        if names is None:
            return self.report  # a cycle: reported as E030 by the structural checks
        for name in names:
            self.node(self.view.nodes[name])
        for e in self.view.edges:
            t = self.out.get(e.src)
            self.report.edges[(e.src, e.dst)] = self.u.show(t) if t is not None else None
        self.report.nodes = {n: NodeTypes(self.u.show(t.input) if t.input else None,
                                          self.u.show(t.output) if t.output else None, t.origin)
                             for n, t in self.report.nodes.items()}
        return self.report

    # ---------------------------------------------------------------- a node
    def node(self, node: NodeView) -> None:
        sig = self.view.signature(node)
        origin = "declared" if node.declared_input or node.declared_output else (sig.origin if sig else None)
        expected = node.declared_input
        if sig is not None and sig.input is not None:
            if expected is not None and not self.u.fits(sig.input, expected):
                self.error("E086", f"`{node.name}` is declared to take {expected} but its model "
                           f"takes {self.show(sig.input)}", None, node, span=node.spans.get("input"),
                           hint=f"the artifact {node.impl!r} was trained on this input; fix `input`")
            expected = expected or sig.input
        arriving = [(e, self.out.get(e.src)) for e in self.inputs[node.name]]
        known = [(e, t) for e, t in arriving if t is not None and not t.untyped]
        if node.kind == "ensemble":
            self.out[node.name] = node.declared_output or self.combine(node, arriving)
            first = known[0][1] if known and len(known) == len(arriving) else None
            self.report.nodes[node.name] = NodeTypes(first, self.out[node.name], origin)
            return
        if expected is not None:
            for e, t in known:
                if not self.u.fits(expected, t):
                    self.mismatch(e, node, expected, t)
        elif len(known) > 1:
            first_edge, first = known[0]
            for e, t in known[1:]:
                if not (self.u.fits(first, t) and self.u.fits(t, first)):
                    self.error("E082", f"`{node.name}` receives {self.show(first)} from `{first_edge.src}` "
                               f"but {self.show(t)} from `{e.src}`", e, node,
                               hint="branches that rejoin must give the same type; "
                               "annotate the node's `input` or align the branches")
        received = expected or (known[0][1] if known else None)
        output: TensorType | None
        if node.declared_output is not None:
            output = node.declared_output
            if sig is not None and sig.output(node.method) is not None:
                derived = sig.output(node.method)
                assert derived is not None
                if not self.u.fits(node.declared_output, derived):
                    self.error("E086", f"`{node.name}` is declared to give {node.declared_output} but its "
                               f"model gives {self.show(derived)} with method = {node.method or 'predict'}",
                               None, node, span=node.spans.get("output"), hint=_method_hint(sig, node.declared_output))
        elif node.kind == "model":
            output = sig.output(node.method) if sig is not None else None
        elif node.kind in ("source", "switch", "split", "sink"):
            output = received  # the payload passes on unchanged
        else:
            output = None  # a python node without annotations: unknown, quietly
        self.out[node.name] = output
        self.report.nodes[node.name] = NodeTypes(received, output, origin)

    def mismatch(self, e: EdgeView, node: NodeView, expected: TensorType, got: TensorType) -> None:
        src = self.view.nodes[e.src]
        hint = None
        src_sig = self.view.signature(src)
        if src_sig is not None and src.declared_output is None:
            for method, t in sorted(src_sig.outputs.items()):
                if method != (src.method or "predict") and Unifier().fits(expected, t):
                    hint = f"did you mean method = {method} on `{src.name}` (it gives {t})?"
        if hint is None and expected.rank == got.rank == 2 and all(isinstance(x.shape[1], int)
                                                                   for x in (expected, got)):
            hint = (f"`{node.name}` takes {expected.shape[1]} columns and `{src.name}` gives "
                    f"{got.shape[1]}; put a step between them that maps one to the other")
        self.error("E081", f"`{node.name}` expects {self.show(expected)} but `{src.name}` produces "
                   f"{self.show(got)}", e, node,
                   hint=hint or f"make `{src.name}`'s output and `{node.name}`'s input agree")

    # -------------------------------------------------------------- ensembles
    def combine(self, node: NodeView, arriving: list[tuple[EdgeView, TensorType | None]]) -> TensorType | None:
        rule = node.combine if isinstance(node.combine, str) else "mean"
        if rule not in ("mean", "first", "concat", "vote"):
            return None  # a callable: what it gives is its own business
        if any(t is None or t.untyped for _, t in arriving) or not arriving:
            if rule in ("mean", "first"):
                self.members_agree(node, [(e, t) for e, t in arriving if t is not None and not t.untyped])
            return None
        members = [(e, t) for e, t in arriving if t is not None]
        if rule == "vote":
            for e, t in members:
                if not t.is_labels:
                    self.error("E085", f"ensemble `{node.name}` votes on labels but `{e.src}` produces "
                               f"{self.show(t)}", e, node, hint=self.labels_hint(e.src))
            self.members_agree(node, [(e, t) for e, t in members if t.is_labels])
            return members[0][1] if members[0][1].is_labels else None
        if rule == "concat":
            return self.concat(node, members)
        self.members_agree(node, members)
        return members[0][1]

    def members_agree(self, node: NodeView, members: list[tuple[EdgeView, TensorType]]) -> None:
        if not members:
            return
        first_edge, first = members[0]
        rule = node.combine if isinstance(node.combine, str) else "mean"
        for e, t in members[1:]:
            if not (self.u.fits(first, t) and self.u.fits(t, first)):
                hint = self.labels_hint(e.src) if first.rank > t.rank else None
                self.error("E083", f"ensemble `{node.name}` ({rule}) gets {self.show(first)} from "
                           f"`{first_edge.src}` but {self.show(t)} from `{e.src}`", e, node,
                           hint=hint or f"`{rule}` needs identical member types; use `concat` to join different widths")

    def concat(self, node: NodeView, members: list[tuple[EdgeView, TensorType]]) -> TensorType | None:
        first_edge, first = members[0]
        total: int | str = 0
        ok = True
        for e, t in members:
            lead_a, lead_b = TensorType(first.dtype, first.shape[:-1]), TensorType(t.dtype, t.shape[:-1])
            if t.rank == 0 or t.rank != first.rank or not self.u.fits(lead_a, lead_b):
                ok = False
                self.error("E084", f"ensemble `{node.name}` (concat) cannot join {self.show(first)} from "
                           f"`{first_edge.src}` and {self.show(t)} from `{e.src}`", e, node,
                           hint="concat joins along the last axis: members need the same datatype and "
                           "the same dimensions but the last")
                continue
            last = self.u.resolve(t.shape[-1])
            total = total + last if isinstance(total, int) and isinstance(last, int) else "_"
        return first.with_last(total) if ok and first.rank else None

    def labels_hint(self, src_name: str) -> str | None:
        src = self.view.nodes[src_name]
        sig = self.view.signature(src)
        if sig is not None and sig.classifier and src.method == "predict_proba":
            return f"did you mean method = predict on `{src_name}` (it gives labels)?"
        return None


def _topological(nodes: dict[str, NodeView], inputs: dict[str, list[EdgeView]]) -> list[str] | None:
    """Kahn's order of ``nodes`` (declaration order among the ready ones); None on a cycle.
    (graphlib's sorter looks for a cycle on every call: a third of the inference's time.)"""
    waiting = {n: len(ins) for n, ins in inputs.items()}
    after: dict[str, list[str]] = {n: [] for n in nodes}
    for n, ins in inputs.items():
        for e in ins:
            after[e.src].append(n)
    ready = deque(n for n, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for m in after[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                ready.append(m)
    return order if len(order) == len(nodes) else None


def _method_hint(sig: Any, declared: TensorType) -> str | None:
    for method, t in sorted(sig.outputs.items()):
        if Unifier().fits(declared, t):
            return f"did you mean method = {method}?"
    return None


def infer(view: GraphView) -> TypeReport:
    """Every node's types, every edge's type and the mismatches, for one view."""
    return _Inference(view).run()
