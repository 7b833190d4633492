"""The graph model's parts: nodes, edges, templates and their resolved form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .autoscale import AutoscalePolicy
from .diagnostics import Span

__all__ = ["Edge", "Node", "ResolvedNode", "Template"]


@dataclass(eq=False)
class Node:
    """A node as written: its kind, template and own attributes (values unresolved)."""

    name: str
    kind: str
    attrs: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    span: Span | None = None
    kind_span: Span | None = None
    attr_spans: dict[str, Span] = field(default_factory=dict)
    position: tuple[float, float] | None = None
    #: for a node of an included graph: ``{"file", "line", "use"}`` (where it was declared)
    origin: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Node({self.name!r}, kind={self.kind!r}, attrs={self.attrs!r})"


@dataclass(eq=False)
class Edge:
    """A directed edge, with a switch's ``when`` or a split's ``weight`` (a fraction)."""

    src: str
    dst: str
    when: str | None = None
    weight: float | None = None
    span: Span | None = None
    src_span: Span | None = None
    attr_spans: dict[str, Span] = field(default_factory=dict)
    #: ``when``/``weight`` as written (``$param`` references kept); ``when`` and
    #: ``weight`` above are their resolved values (None when unset or invalid)
    attrs: dict[str, Any] = field(default_factory=dict)
    #: shadow traffic: the share of requests copied along this edge (None: a normal edge)
    mirror: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.src, self.dst)

    def __repr__(self) -> str:
        extra = f", when={self.when!r}" if self.when is not None else ""
        extra += f", weight={self.weight!r}" if self.weight is not None else ""
        extra += f", mirror={self.mirror!r}" if self.mirror is not None else ""
        return f"Edge({self.src!r} -> {self.dst!r}{extra})"


@dataclass(eq=False)
class Template:
    """``template NAME = KIND { attrs }``: a named kind with preset attributes."""

    name: str
    kind: str
    attrs: dict[str, Any] = field(default_factory=dict)
    span: Span | None = None
    kind_span: Span | None = None
    attr_spans: dict[str, Span] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResolvedNode:
    """A node with defaults, template and params applied and units normalised."""

    name: str
    kind: str
    impl: str | None
    replicas: int
    cpu: float
    gpu: float
    memory_bytes: int
    batch_size: int
    batch_wait_ms: float
    timeout_ms: float
    retries: int
    recovery: dict
    latency_ms: float | None
    isolation: str = "thread"
    max_queue: int = 1024
    retry_errors: bool = False
    description: str | None = None
    template: str | None = None
    extra: dict = field(default_factory=dict)
    #: with ``replicas = auto(...)``: the policy (``replicas`` is then its minimum)
    autoscale: AutoscalePolicy | None = None

    @property
    def recovery_policy(self) -> str:
        return self.recovery["policy"]

    def to_earg(self) -> dict:
        """This node as an EARG ``nodes`` entry (fixed keys first)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "impl": self.impl,
            "replicas": self.replicas,
            "resources": {"cpu": self.cpu, "gpu": self.gpu, "memory_bytes": self.memory_bytes},
            "batch": {"max_size": self.batch_size, "max_wait_ms": self.batch_wait_ms},
            "timeout_ms": self.timeout_ms,
            "retries": self.retries,
            "recovery": dict(self.recovery),
            "latency_ms": self.latency_ms,
            "isolation": self.isolation,
        }
        if self.max_queue != 1024:  # written only when set, so files stay as they were
            out["max_queue"] = self.max_queue
        if self.retry_errors:
            out["retry_errors"] = True
        if self.description is not None:
            out["description"] = self.description
        if self.autoscale is not None:
            out["autoscale"] = self.autoscale.to_earg()
        for key in sorted(self.extra):
            value = self.extra[key]
            if value is not None:
                out[key] = list(value) if isinstance(value, list) else value
        return out
