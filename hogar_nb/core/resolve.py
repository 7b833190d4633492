"""Apply defaults, templates and params to every node; normalise units.

Problems found on the way (unknown attributes, wrong types, ranges, undefined params)
become diagnostics; a node with a bad attribute still resolves, using the default
for that attribute, so the rest of the checks can run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from .coerce import CoerceError, coerce
from .diagnostics import Diagnostic, Span, did_you_mean
from .autoscale import AutoscalePolicy
from .kinds import CLUSTER_ATTRS, COMMON_ATTRS, GRAPH_ATTRS, KINDS, QUALITY_ATTRS, WORKER_KINDS, attrs_for_kind, default_value
from .model import ResolvedNode
from .values import BadValue, Call, ParamRef, contains

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["ClusterSpec", "Resolution", "resolve_graph", "substitute"]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """The machines available: ``workers`` identical workers of this size."""

    workers: int
    cpu: float
    gpu: float
    memory_bytes: int | None

    def to_earg(self) -> dict:
        return {"workers": self.workers, "cpu": self.cpu, "gpu": self.gpu, "memory_bytes": self.memory_bytes}


@dataclass
class Resolution:
    nodes: dict[str, ResolvedNode]
    cluster: ClusterSpec | None
    params: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the graph's own settings, checked (``trace_sample``...)
    graph_attrs: dict[str, Any] = field(default_factory=dict)


class _Params:
    def __init__(self, params: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> None:
        self.params = params
        self.namespace = namespace or {}

    def lookup(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        if name in self.namespace:
            return self.namespace[name]
        return _MISSING

    def names(self) -> list[str]:
        return [*self.params, *(k for k in self.namespace if not k.startswith("_"))]


def substitute(value: Any, lookup) -> Any:
    """Replace every ``$name`` inside ``value``; raise CoerceError(E023) if one is undefined."""
    if isinstance(value, ParamRef):
        found = lookup.lookup(value.name)
        if found is _MISSING:
            raise CoerceError(
                "E023",
                f"parameter `${value.name}` is not defined",
                did_you_mean(value.name, lookup.names())
                or f"declare it: `param {value.name} = ...`",
            )
        return found
    if isinstance(value, list):
        return [substitute(v, lookup) for v in value]
    if isinstance(value, Call):
        return Call(value.name, tuple((k, substitute(v, lookup)) for k, v in value.kwargs))
    return value


def _normalise_layer(
    attrs: Mapping[str, Any],
    spans: Mapping[str, Span],
    allowed: Mapping[str, Any],
    lookup: _Params,
    diags: list[Diagnostic],
    where: str,
    node: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in attrs.items():
        span = spans.get(name)
        spec = allowed.get(name)
        if contains(raw, BadValue):
            continue  # already reported where it was written
        if spec is None:
            diags.append(
                Diagnostic.at(
                    "E012",
                    f"unknown attribute `{name}` {where}",
                    span,
                    hint=did_you_mean(name, allowed) or "known attributes: " + ", ".join(sorted(allowed)),
                    node=node,
                )
            )
            continue
        try:
            value = substitute(raw, lookup)
            if contains(value, BadValue):
                continue  # a param whose own statement is broken: reported there
            out[name] = coerce(spec, value)
        except CoerceError as err:
            marker = f"for `{name}`;"
            if marker in err.message:
                msg = err.message.replace(marker, f"for `{name}` {where};", 1)
            elif err.code in ("E023", "E012"):
                msg = err.message
            else:
                msg = f"{err.message} ({where})"
            diags.append(Diagnostic.at(err.code, msg, span, hint=err.hint, node=node))
    return out


def resolve_graph(graph: "Graph", namespace: Mapping[str, Any] | None = None) -> Resolution:
    """Resolve every node of ``graph``; problems go to ``Resolution.diagnostics``."""
    diags: list[Diagnostic] = []
    lookup = _Params({**graph.bound_params, **graph.params}, namespace)
    defaults = _normalise_layer(
        graph.defaults, graph.defaults_spans, COMMON_ATTRS, lookup, diags, "in `defaults`"
    )
    templates: dict[str, dict[str, Any]] = {}
    for tpl in graph.templates.values():
        if tpl.kind not in KINDS:
            continue  # reported by the builder
        templates[tpl.name] = _normalise_layer(
            tpl.attrs, tpl.attr_spans, attrs_for_kind(tpl.kind), lookup, diags,
            f"in template `{tpl.name}` (kind `{tpl.kind}`)",
        )
    nodes: dict[str, ResolvedNode] = {}
    for node in graph.nodes.values():
        allowed = attrs_for_kind(node.kind)
        own = _normalise_layer(
            node.attrs, node.attr_spans, allowed, lookup, diags,
            f"of {node.kind} node `{node.name}`", node.name,
        )
        merged = {k: v for k, v in defaults.items() if k in allowed}
        merged.update(templates.get(node.template or "", {}))
        merged.update(own)
        written = {*graph.defaults, *node.attrs}
        if node.template in graph.templates:
            written.update(graph.templates[node.template].attrs)
        for name, spec in allowed.items():
            if spec.required and name not in written and node.name not in graph.incomplete:
                diags.append(
                    Diagnostic.at(
                        "E016",
                        f"{node.kind} node `{node.name}` needs `{name}`",
                        node.span,
                        hint=f'add {{ {name} = "module:function" }}' if node.kind != "model"
                        else f'add {{ {name} = "path/to/model.onnx" }}',
                        node=node.name,
                    )
                )
        nodes[node.name] = _resolved(node.name, node.kind, node.template, merged)
    cluster = None
    if graph.cluster is not None:
        c = _normalise_layer(
            graph.cluster, graph.cluster_spans, CLUSTER_ATTRS, lookup, diags, "in `cluster`"
        )
        cluster = ClusterSpec(
            workers=c.get("workers", 1),
            cpu=c.get("cpu", 1),
            gpu=c.get("gpu", 0),
            memory_bytes=c.get("memory"),
        )
    graph_attrs = _normalise_layer(graph.attrs, graph.attr_spans, GRAPH_ATTRS, lookup, diags, "of `graph`")
    params = {k: _plain_param(v) for k, v in graph.params.items()}
    return Resolution(nodes, cluster, params, diags, graph_attrs)


def _resolved(name: str, kind: str, template: str | None, merged: dict[str, Any]) -> ResolvedNode:
    def get(attr: str) -> Any:
        return merged[attr] if attr in merged else default_value(kind, attr)

    extra: dict[str, Any] = {"input": get("input"), "output": get("output")}
    if kind == "source":
        extra["route"] = get("route")
    elif kind == "model":
        extra["loader"] = get("loader")
        extra["method"] = get("method")
        extra["quality"] = quality_entry(merged)
    elif kind == "ensemble":
        extra["combine"] = get("combine")
        extra["weights"] = get("weights")
    elif kind == "sink":
        extra["response"] = get("response")
    replicas, autoscale = get("replicas"), None
    if isinstance(replicas, dict):  # auto(min, max): start at the minimum
        replicas = replicas["min"]
        if kind in WORKER_KINDS:
            hi = merged["replicas"]["max"]
            autoscale = AutoscalePolicy(replicas, hi, get("target_ongoing"), get("scale_up_delay"),
                                        get("scale_down_delay"))
    return ResolvedNode(
        name=name,
        kind=kind,
        impl=get("impl"),
        replicas=replicas,
        cpu=get("cpu"),
        gpu=get("gpu"),
        memory_bytes=get("memory"),
        batch_size=get("batch"),
        batch_wait_ms=get("batch_wait"),
        timeout_ms=get("timeout"),
        retries=get("retries"),
        recovery=get("recovery"),
        latency_ms=get("latency"),
        isolation=get("isolation"),
        max_queue=get("max_queue"),
        retry_errors=get("retry_errors"),
        description=get("description"),
        template=template,
        extra=extra,
        autoscale=autoscale,
    )


def quality_entry(attrs: Mapping[str, Any]) -> dict[str, Any] | None:
    """A model node's quality attributes as its EARG ``quality`` object (None when none
    is set): ``reference`` becomes ``{"path": ...}`` (the sha256 is added where the file
    is known), ``feedback_horizon`` is in ``feedback_horizon_ms``."""
    out: dict[str, Any] = {}
    for name in QUALITY_ATTRS:
        if attrs.get(name) is None:
            continue
        if name == "reference":
            out["reference"] = {"path": attrs[name]}
        elif name == "feedback_horizon":
            out["feedback_horizon_ms"] = float(attrs[name])
        else:
            out[name] = attrs[name]
    return out or None


def _plain_param(value: Any) -> Any:
    """A param value as EARG stores it: units normalised, identifiers as strings."""
    from .values import Duration, Ident, Percent, Shaped, Size

    if isinstance(value, Duration):
        return float(value.ms)
    if isinstance(value, Size):
        return int(value.bytes)
    if isinstance(value, Percent):
        return value.fraction
    if isinstance(value, Ident):
        return value.name
    if isinstance(value, (Call, Shaped)):
        return str(value)
    if isinstance(value, list):
        return [_plain_param(v) for v in value]
    return value
